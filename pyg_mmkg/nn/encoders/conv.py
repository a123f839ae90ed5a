import inspect
from typing import Any, Optional, Tuple

import torch
from torch import Tensor

from pyg_mmkg.nn.encoders.base import RelationalEncoder


def takes_edge_type(conv: torch.nn.Module) -> bool:
    r"""Whether :obj:`conv.forward` has an :obj:`edge_type` argument (PyG's
    relational convolutions: :class:`~torch_geometric.nn.conv.RGCNConv`,
    :class:`~torch_geometric.nn.conv.FastRGCNConv`,
    :class:`~torch_geometric.nn.conv.RGATConv`, ...)."""
    try:
        return 'edge_type' in inspect.signature(conv.forward).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return False


class ConvEncoder(RelationalEncoder):
    r"""Makes one plain PyG convolution a relational encoder over the stored
    training graph: :obj:`conv(x, edge_index, edge_type)` for relational
    convolutions, :obj:`conv(x, edge_index)` for the others (*e.g.*
    :class:`~torch_geometric.nn.conv.GCNConv`, which ignores the relation
    types). Relation representations are passed through unchanged.

    The multimodal models wrap a convolution passed as :obj:`encoder=` to
    their :meth:`from_data` in this class, after checking its sizes and its
    number of relations against the model and the graph.

    Args:
        conv (torch.nn.Module): The convolution.
        num_relations (int, optional): The number of edge types of the graph
            (:math:`2R` with inverse edges). (default: :obj:`None`)
    """
    def __init__(self, conv: torch.nn.Module,
                 num_relations: Optional[int] = None):
        super().__init__()
        self.conv = conv
        self.relational = takes_edge_type(conv)
        self.num_relations = num_relations

    def encode(self, x: Tensor, edge_index: Tensor, edge_type: Tensor,
               rel: Optional[Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
        if self.relational:
            return self.conv(x, edge_index, edge_type), rel
        return self.conv(x, edge_index), rel

    def reset_parameters(self):
        r"""Resets the parameters of the convolution."""
        if hasattr(self.conv, 'reset_parameters'):
            self.conv.reset_parameters()

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.conv})'


def check_encoder_module(encoder: torch.nn.Module) -> None:
    r"""Refuses, with a message saying what to do, a module a multimodal
    model cannot call as its encoder (:obj:`encoder(x, rel=rel)` returning
    :obj:`(x, rel)`): plain convolutions need the graph, which only
    :meth:`from_data` can give them.

    Args:
        encoder (torch.nn.Module): The module passed as :obj:`encoder=`.
    """
    if isinstance(encoder, RelationalEncoder):
        return
    from torch_geometric.nn.conv import MessagePassing
    name = type(encoder).__name__
    if isinstance(encoder, MessagePassing):
        raise ValueError(
            f"encoder={name}(...) is a plain PyG convolution, which needs the "
            f"training graph: pass it to the model's from_data(data, "
            f"encoder=...) (which wraps it in ConvEncoder over the train "
            f"graph), or wrap it yourself: ConvEncoder(conv).set_graph("
            f"*train_graph(data)), or use encoder='rgcn' / 'compgcn'")
    try:
        params = inspect.signature(encoder.forward).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return
    if 'rel' not in params and not any(
            p.kind == p.VAR_KEYWORD for p in params.values()):
        raise ValueError(
            f"encoder={name}(...) cannot serve as a relational encoder: it "
            f"is called as encoder(x, rel=rel) and must return (x, rel) "
            f"(subclass pyg_mmkg.nn.encoders.RelationalEncoder, or pass a "
            f"PyG convolution to from_data)")


def wrap_conv(conv: torch.nn.Module, data: Any,
              channels: int) -> ConvEncoder:
    r"""Wraps a PyG convolution in :class:`ConvEncoder` over the training
    graph of :obj:`data` (with inverse edges), after checking its sizes
    against :obj:`channels` and its number of relations against the graph.

    Args:
        conv (torch.nn.Module): The convolution.
        data (HeteroData): The graph.
        channels (int): The model's entity representation size.
    """
    name = type(conv).__name__
    edge_index, edge_type, num_types = ConvEncoder.train_graph(data)
    for attr in ('in_channels', 'out_channels'):
        size = getattr(conv, attr, None)
        if isinstance(size, int) and size > 0 and size != channels:
            raise ValueError(f"encoder={name}: {attr}={size}, but this "
                             f"model's entity representations have "
                             f"{channels} channels")
    wrapped = ConvEncoder(conv, num_types)
    rels = getattr(conv, 'num_relations', None)
    if wrapped.relational and isinstance(rels, int) and rels != num_types:
        raise ValueError(f"encoder={name}: num_relations={rels}, but the "
                         f"training graph has {num_types} edge types (each "
                         f"relation and its inverse)")
    return wrapped.set_graph(edge_index, edge_type)
