from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.dense.linear import Linear
from torch_geometric.nn.inits import glorot, zeros
from torch_geometric.utils import scatter


def circular_correlation(a: Tensor, b: Tensor) -> Tensor:
    r"""The circular correlation :math:`(\mathbf{a} \star \mathbf{b})_k =
    \sum_{i=0}^{d-1} a_i \, b_{(i + k) \bmod d}` along the last dimension,
    computed in :math:`O(d \log d)` as
    :math:`\mathcal{F}^{-1}(\overline{\mathcal{F}(\mathbf{a})} \odot
    \mathcal{F}(\mathbf{b}))` (HolE, CompGCN).

    Args:
        a (torch.Tensor): The first operand [..., d].
        b (torch.Tensor): The second operand [..., d].
    """
    d, dtype = a.size(-1), torch.promote_types(a.dtype, b.dtype)
    # FFTs need float32/float64 (no bfloat16, half only on some devices):
    work = dtype if dtype in (torch.float32, torch.float64) else torch.float
    fa = torch.fft.rfft(a.to(work), dim=-1)
    fb = torch.fft.rfft(b.to(work), dim=-1)
    return torch.fft.irfft(torch.conj(fa) * fb, n=d, dim=-1).to(dtype)


def compose(x: Tensor, rel: Tensor, comp: str) -> Tensor:
    r"""The entity-relation composition :math:`\phi(\mathbf{x},
    \mathbf{z})` of CompGCN: :obj:`"sub"` (:math:`\mathbf{x} - \mathbf{z}`),
    :obj:`"mult"` (:math:`\mathbf{x} \odot \mathbf{z}`) or :obj:`"corr"`
    (:math:`\mathbf{x} \star \mathbf{z}`).

    Args:
        x (torch.Tensor): Entity representations [..., d].
        rel (torch.Tensor): Relation representations [..., d].
        comp (str): :obj:`'sub'`, :obj:`'mult'` or :obj:`'corr'`.
    """
    if comp == 'sub':
        return x - rel
    if comp == 'mult':
        return x * rel
    if comp == 'corr':
        return circular_correlation(x, rel)
    raise ValueError(f"Unknown composition '{comp}' (expected 'sub', "
                     f"'mult' or 'corr')")


class CompGCNConv(MessagePassing):
    r"""The composition-based multi-relational graph convolution from the
    `"Composition-based Multi-Relational Graph Convolutional Networks"
    <https://arxiv.org/abs/1911.03082>`_ paper:

    .. math::
        \mathbf{x}^{\prime}_v = \frac{1}{3} \Big(
        \sum_{(u, r) \in \mathcal{N}(v)} c_{uv}
        \mathbf{W}_{\lambda(r)} \phi(\mathbf{x}_u, \mathbf{z}_r)
        + \mathbf{W}_S \phi(\mathbf{x}_v, \mathbf{z}_{\textrm{loop}})
        \Big) + \mathbf{b}, \qquad
        \mathbf{z}^{\prime}_r = \mathbf{W}_{\textrm{rel}} \mathbf{z}_r

    where :math:`\mathbf{W}_{\lambda(r)}` is :math:`\mathbf{W}_O` for
    original and :math:`\mathbf{W}_I` for inverse edges,
    :math:`\mathbf{W}_S` is applied to a self-loop with a learned relation
    :math:`\mathbf{z}_{\textrm{loop}}`, :math:`\phi` is the composition
    (see :func:`compose`) and :math:`c_{uv} = 1 / \sqrt{d^{\lambda}_{u}
    d^{\lambda}_{v}}` is the symmetric degree normalisation computed
    separately over the original and the inverse edges. The factor
    :math:`1/3` follows the official code.

    Messages flow along :obj:`edge_index` (source to target). Edge types
    :math:`[0, R)` are original relations, :math:`[R, 2R)` their inverses
    (so :obj:`num_relations` :math:`= 2R` must be even), matching
    :func:`pyg_mmkg.data.train_graph`.

    .. note::
        The official code applies dropout to the original and inverse
        aggregations separately; here one dropout is applied to their sum.

    Args:
        in_channels (int): Size of input entity and relation
            representations.
        out_channels (int): Size of output representations.
        num_relations (int): Number of edge types :math:`2R`.
        comp (str, optional): The composition :obj:`"sub"`, :obj:`"mult"`
            or :obj:`"corr"`. (default: :obj:`"sub"`)
        dropout (float, optional): Dropout on the aggregated neighbour
            messages. (default: :obj:`0.0`)
        bias (bool, optional): Whether to learn a bias. (default: :obj:`True`)
        **kwargs (optional): Additional arguments of
            :class:`torch_geometric.nn.conv.MessagePassing`.
    """
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_relations: int,
        comp: str = 'sub',
        dropout: float = 0.0,
        bias: bool = True,
        **kwargs,
    ):
        kwargs.setdefault('aggr', 'add')
        super().__init__(node_dim=0, **kwargs)
        if num_relations % 2 != 0:
            raise ValueError(f"'num_relations' counts original and inverse "
                             f"edge types and must be even "
                             f"(got {num_relations})")
        compose(torch.zeros(1), torch.zeros(1), comp)  # Validates `comp`.
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_relations = num_relations
        self.comp = comp
        self.dropout = dropout

        self.lin_orig = Linear(in_channels, out_channels, bias=False,
                               weight_initializer='glorot')
        self.lin_inv = Linear(in_channels, out_channels, bias=False,
                              weight_initializer='glorot')
        self.lin_loop = Linear(in_channels, out_channels, bias=False,
                               weight_initializer='glorot')
        self.lin_rel = Linear(in_channels, out_channels, bias=False,
                              weight_initializer='glorot')
        self.loop_rel = Parameter(torch.empty(1, in_channels))
        if bias:
            self.bias = Parameter(torch.empty(out_channels))
        else:
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        r"""Resets all learnable parameters of the module."""
        super().reset_parameters()
        self.lin_orig.reset_parameters()
        self.lin_inv.reset_parameters()
        self.lin_loop.reset_parameters()
        self.lin_rel.reset_parameters()
        glorot(self.loop_rel)
        zeros(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Tensor,
                rel: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Runs the layer.

        Args:
            x (torch.Tensor): Entity representations :obj:`[N, in_channels]`.
            edge_index (torch.Tensor): Edges :obj:`[2, E]`.
            edge_type (torch.Tensor): Edge types :obj:`[E]` in
                :math:`[0, 2R)`.
            rel (torch.Tensor): Relation representations
                :obj:`[2R, in_channels]`.

        Returns:
            :obj:`(x, rel)` of shapes :obj:`[N, out_channels]` and
            :obj:`[2R, out_channels]`.
        """
        if rel.size(0) != self.num_relations:
            raise ValueError(f"'rel' needs one row per edge type "
                             f"({self.num_relations}), got {rel.size(0)}")
        num_nodes = x.size(0)
        src, dst = edge_index[0], edge_index[1]
        inverse = edge_type >= self.num_relations // 2

        # Symmetric degree normalisation, per direction:
        shift = inverse.long() * num_nodes
        ones = x.new_ones(src.numel())
        deg_out = scatter(ones, shift + src, 0, 2 * num_nodes, reduce='sum')
        deg_in = scatter(ones, shift + dst, 0, 2 * num_nodes, reduce='sum')
        norm = (deg_out[shift + src] * deg_in[shift + dst]).rsqrt()

        out = self.propagate(edge_index, x=x, rel=rel, edge_type=edge_type,
                             inverse=inverse, norm=norm,
                             size=(num_nodes, num_nodes))
        out = F.dropout(out, p=self.dropout, training=self.training)
        loop = self.lin_loop(compose(x, self.loop_rel, self.comp))
        out = (out + loop) / 3.0
        if self.bias is not None:
            out = out + self.bias
        return out, self.lin_rel(rel)

    def message(self, x_j: Tensor, rel: Tensor, edge_type: Tensor,
                inverse: Tensor, norm: Tensor) -> Tensor:
        r"""The message of each edge: the composition of the source
        entity with the edge's relation, transformed by :obj:`lin_orig`
        (original edges) or :obj:`lin_inv` (inverse edges), times the edge's
        normalization.

        Args:
            x_j (torch.Tensor): Source entity representations :obj:`[E, D]`.
            rel (torch.Tensor): Relation representations, one row per edge
                type.
            edge_type (torch.Tensor): The edge types :obj:`[E]`.
            inverse (torch.Tensor): Boolean :obj:`[E]`, :obj:`True` for
                inverse edges.
            norm (torch.Tensor): The normalization of each edge :obj:`[E]`.
        """
        phi = compose(x_j, rel[edge_type], self.comp)
        out = phi.new_empty(phi.size(0), self.out_channels)
        out[~inverse] = self.lin_orig(phi[~inverse])
        out[inverse] = self.lin_inv(phi[inverse])
        return out * norm.view(-1, 1)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels}, num_relations={self.num_relations}, '
                f'comp={self.comp})')
