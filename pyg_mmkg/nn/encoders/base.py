from typing import Any, Callable, Optional, Tuple

import torch
from torch import Tensor


class RelationalEncoder(torch.nn.Module):
    r"""Base class of relational message passing encoders, which refine
    entity (and relation) representations over the *training* graph.

    Subclasses implement :meth:`encode`. The public :meth:`forward` takes
    the graph explicitly or, if :obj:`edge_index` is :obj:`None`, uses the
    graph stored by :meth:`set_graph` (or :meth:`from_data`). The stored
    graph is kept in non-persistent buffers: it follows :meth:`to` but is not
    written to checkpoints.

    The graph holds training edges :math:`(h, r, t)` plus inverse edges
    :math:`(t, r + R, h)`, so :obj:`num_relations` counts edge *types*
    (:math:`2R` with inverses). Use :meth:`train_graph` to build it from a
    :class:`~torch_geometric.data.HeteroData` via
    :func:`pyg_mmkg.data.train_graph`, which never includes validation or
    test edges.
    """
    edge_index: Optional[Tensor]
    edge_type: Optional[Tensor]

    def __init__(self):
        super().__init__()
        self.register_buffer('edge_index', None, persistent=False)
        self.register_buffer('edge_type', None, persistent=False)

    @staticmethod
    def train_graph(data: Any,
                    add_inverse: bool = True) -> Tuple[Tensor, Tensor, int]:
        r"""Returns :obj:`(edge_index, edge_type, num_relations)` of the
        training graph of :obj:`data` (with inverse edges of type
        :math:`r + R` if :obj:`add_inverse=True`, in which case
        :obj:`num_relations` is :math:`2R`).

        Args:
            data (torch_geometric.data.HeteroData): The knowledge graph.
            add_inverse (bool, optional): If set to :obj:`True`, inverse
                edges are added. (default: :obj:`True`)
        """
        from pyg_mmkg.data import train_graph  # Lazy: owned by `data`.
        edge_index, edge_type = train_graph(data, add_inverse=add_inverse)
        num_relations = int(data['relation'].num_nodes)
        if add_inverse:
            num_relations *= 2
        return edge_index, edge_type, num_relations

    @classmethod
    def from_data(cls, data: Any, *args: Any, add_inverse: bool = True,
                  **kwargs: Any) -> 'RelationalEncoder':
        r"""Creates the encoder for the training graph of :obj:`data` and
        stores that graph (see :meth:`set_graph`). Positional and keyword
        arguments are passed to the constructor, with :obj:`num_relations`
        taken from :obj:`data`.

        Args:
            data (torch_geometric.data.HeteroData): The knowledge graph.
            *args: Positional arguments of the constructor.
            add_inverse (bool, optional): If set to :obj:`True`, the graph
                has inverse edges of type :math:`r + R` (and the encoder
                :math:`2R` edge types). (default: :obj:`True`)
            **kwargs: Keyword arguments of the constructor.
        """
        edge_index, edge_type, num_relations = cls.train_graph(
            data, add_inverse=add_inverse)
        encoder = cls(*args, num_relations=num_relations, **kwargs)
        encoder.set_graph(edge_index, edge_type)
        return encoder

    def set_graph(self, edge_index: Tensor,
                  edge_type: Tensor) -> 'RelationalEncoder':
        r"""Stores the message passing graph used when :meth:`forward` is
        called without one, and returns the encoder.

        Args:
            edge_index (torch.Tensor): The graph :obj:`[2, E]`.
            edge_type (torch.Tensor): The edge types :obj:`[E]`, below the
                encoder's :obj:`num_relations`.
        """
        if edge_index.size(1) != edge_type.numel():
            raise ValueError("'edge_index' and 'edge_type' hold different "
                             "numbers of edges")
        num_relations = getattr(self, 'num_relations', None)
        if (num_relations is not None and edge_type.numel() > 0
                and int(edge_type.max()) >= num_relations):
            raise ValueError(f"'edge_type' holds types up to "
                             f"{int(edge_type.max())} but the encoder was "
                             f"built for {num_relations} edge types")
        self.edge_index = edge_index
        self.edge_type = edge_type
        return self

    def forward(
        self,
        x: Tensor,
        edge_index: Optional[Tensor] = None,
        edge_type: Optional[Tensor] = None,
        rel: Optional[Tensor] = None,
    ) -> Tuple[Tensor, Optional[Tensor]]:
        r"""Refines the representations.

        Args:
            x (torch.Tensor): Entity representations :obj:`[N, D]`.
            edge_index (torch.Tensor, optional): The training graph
                :obj:`[2, E]` (default: :obj:`None`, the stored graph).
            edge_type (torch.Tensor, optional): The edge types :obj:`[E]`.
                (default: :obj:`None`, the stored graph)
            rel (torch.Tensor, optional): Relation representations, one row
                per edge type. (default: :obj:`None`)

        Returns:
            A tuple :obj:`(x, rel)` of refined entity and relation
            representations (:obj:`rel` is passed through by encoders that
            do not update relations).
        """
        if edge_index is None:
            if self.edge_index is None:
                raise ValueError(f"No graph given to '{self}' and none "
                                 f"stored (call 'set_graph' first)")
            edge_index, edge_type = self.edge_index, self.edge_type
        elif edge_type is None:
            raise ValueError("'edge_type' is required with 'edge_index'")
        return self.encode(x, edge_index, edge_type, rel)

    def encode(self, x: Tensor, edge_index: Tensor, edge_type: Tensor,
               rel: Optional[Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
        r"""Refines the representations on the given graph (what
        :meth:`forward` calls once it has resolved the graph); subclasses
        implement it.

        Args:
            x (torch.Tensor): Entity representations :obj:`[N, D]`.
            edge_index (torch.Tensor): The graph :obj:`[2, E]`.
            edge_type (torch.Tensor): The edge types :obj:`[E]`.
            rel (torch.Tensor, optional): Relation representations, one row
                per edge type, or :obj:`None`.

        Returns:
            A tuple :obj:`(x, rel)`, as :meth:`forward`.
        """
        raise NotImplementedError

    def _build_stack(self, in_channels: int, hidden_channels: int,
                     out_channels: int, num_layers: int, residual: bool,
                     make_conv: Callable[[int, int], torch.nn.Module]):
        r"""Creates :obj:`self.convs` (one :obj:`make_conv(in, out)` per
        layer, sizes :obj:`in -> hidden -> ... -> out`) and :obj:`self.res`
        (a bias-free linear residual projection where a layer changes the
        size and :obj:`residual=True`, the identity otherwise)."""
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1)
        sizes += [out_channels]
        self.convs = torch.nn.ModuleList()
        self.res = torch.nn.ModuleList()
        for i in range(num_layers):
            self.convs.append(make_conv(sizes[i], sizes[i + 1]))
            if residual and sizes[i] != sizes[i + 1]:
                self.res.append(
                    torch.nn.Linear(sizes[i], sizes[i + 1], bias=False))
            else:
                self.res.append(torch.nn.Identity())

    def reset_parameters(self):
        r"""Resets all learnable parameters of the module."""
        for conv in getattr(self, 'convs', []):
            conv.reset_parameters()
        for res in getattr(self, 'res', []):
            if hasattr(res, 'reset_parameters'):
                res.reset_parameters()
