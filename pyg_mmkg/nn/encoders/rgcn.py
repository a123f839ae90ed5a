from typing import Any, Dict, Optional, Tuple, Union

import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import FastRGCNConv, RGCNConv
from torch_geometric.nn.resolver import activation_resolver

from pyg_mmkg.nn.encoders.base import RelationalEncoder


class RGCNEncoder(RelationalEncoder):
    r"""A stack of relational graph convolutions from the `"Modeling
    Relational Data with Graph Convolutional Networks"
    <https://arxiv.org/abs/1703.06103>`_ paper, used as the encoder of a
    KGE model (the R-GCN link prediction setting: refined entity
    representations are scored by a decoder such as DistMult):

    .. math::
        \mathbf{x}^{(\ell+1)}_i = \sigma\Big(\mathbf{\Theta}_{\textrm{root}}
        \mathbf{x}^{(\ell)}_i + \sum_{r} \sum_{j \in \mathcal{N}_r(i)}
        \frac{1}{|\mathcal{N}_r(i)|} \mathbf{\Theta}_r \mathbf{x}^{(\ell)}_j
        \Big)

    Each layer is PyG's :class:`~torch_geometric.nn.conv.RGCNConv` (or
    :class:`~torch_geometric.nn.conv.FastRGCNConv`), with optional basis or
    block-diagonal decomposition. Relation representations are passed
    through unchanged.

    Args:
        in_channels (int): Size of the input entity representations.
        hidden_channels (int): Size of the hidden representations.
        num_relations (int): Number of edge types (:math:`2R` with inverse
            edges).
        num_layers (int, optional): Number of layers. (default: :obj:`2`)
        out_channels (int, optional): Output size. (default: :obj:`None`,
            :obj:`hidden_channels`)
        num_bases (int, optional): Number of bases of the basis
            decomposition. (default: :obj:`None`)
        num_blocks (int, optional): Number of blocks of the block-diagonal
            decomposition. (default: :obj:`None`)
        conv (str, optional): :obj:`"rgcn"` (:class:`RGCNConv`, loops over
            relations, memory-lean) or :obj:`"fast"` (:class:`FastRGCNConv`,
            gathers a weight matrix per edge: faster on small graphs, but
            needs :math:`O(E \cdot d_{in} \cdot d_{out})` memory).
            (default: :obj:`"rgcn"`)
        aggr (str, optional): Neighbourhood aggregation. (default:
            :obj:`"mean"`)
        act (str or Callable, optional): Activation. (default: :obj:`"relu"`)
        act_kwargs (Dict[str, Any], optional): Arguments of the activation.
            (default: :obj:`None`)
        act_last (bool, optional): Whether to apply the activation (and
            dropout) after the last layer. (default: :obj:`False`)
        dropout (float, optional): Dropout on hidden representations.
            (default: :obj:`0.0`)
        residual (bool, optional): If set to :obj:`True`, adds each layer's
            input (linearly projected if sizes differ) to its output.
            (default: :obj:`False`)
        bias (bool, optional): Whether the convolutions learn a bias.
            (default: :obj:`True`)
    """
    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        num_relations: int,
        num_layers: int = 2,
        out_channels: Optional[int] = None,
        num_bases: Optional[int] = None,
        num_blocks: Optional[int] = None,
        conv: str = 'rgcn',
        aggr: str = 'mean',
        act: Union[str, Any, None] = 'relu',
        act_kwargs: Optional[Dict[str, Any]] = None,
        act_last: bool = False,
        dropout: float = 0.0,
        residual: bool = False,
        bias: bool = True,
    ):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"'num_layers' must be positive "
                             f"(got {num_layers})")
        if conv not in ('rgcn', 'fast'):
            raise ValueError(f"Unknown convolution '{conv}' (expected "
                             f"'rgcn' or 'fast')")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels or hidden_channels
        self.num_relations = num_relations
        self.num_layers = num_layers
        self.act = activation_resolver(act, **(act_kwargs or {}))
        self.act_last = act_last
        self.dropout = dropout
        self.residual = residual

        cls = RGCNConv if conv == 'rgcn' else FastRGCNConv
        self._build_stack(
            in_channels, hidden_channels, self.out_channels, num_layers,
            residual, lambda i, o: cls(i, o, num_relations,
                                       num_bases=num_bases,
                                       num_blocks=num_blocks, aggr=aggr,
                                       bias=bias))
        self.reset_parameters()

    def encode(self, x: Tensor, edge_index: Tensor, edge_type: Tensor,
               rel: Optional[Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
        for i, conv in enumerate(self.convs):
            out = conv(x, edge_index, edge_type)
            if self.residual:
                out = out + self.res[i](x)
            if i < self.num_layers - 1 or self.act_last:
                if self.act is not None:
                    out = self.act(out)
                out = F.dropout(out, p=self.dropout, training=self.training)
            x = out
        return x, rel

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels}, num_relations={self.num_relations}, '
                f'num_layers={self.num_layers})')
