from typing import Any, Dict, Optional, Tuple, Union

import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.resolver import activation_resolver

from pyg_mmkg.nn.encoders.base import RelationalEncoder
from pyg_mmkg.nn.encoders.compgcn_conv import CompGCNConv


class CompGCNEncoder(RelationalEncoder):
    r"""A stack of :class:`CompGCNConv` layers from the `"Composition-based
    Multi-Relational Graph Convolutional Networks"
    <https://arxiv.org/abs/1911.03082>`_ paper, which jointly refines entity
    and relation representations over the training graph (with inverse
    edges). The refined representations are then scored by a KGE decoder
    (TransE with :obj:`"sub"`, DistMult with :obj:`"mult"`, ConvE, ...).

    Every layer computes :math:`(\mathbf{X}, \mathbf{Z}) \mapsto
    (\sigma(\mathrm{CompGCN}(\mathbf{X}, \mathbf{Z})),
    \mathbf{W}_{\textrm{rel}} \mathbf{Z})`. As in the official code, the
    activation (:obj:`tanh` by default) is also applied after the last layer
    (:obj:`act_last=True`), and relation representations are not activated.

    Args:
        in_channels (int): Size of the input entity and relation
            representations.
        hidden_channels (int): Size of the hidden representations.
        num_relations (int): Number of edge types :math:`2R` (original and
            inverse relations).
        num_layers (int, optional): Number of layers. (default: :obj:`1`)
        out_channels (int, optional): Output size. (default: :obj:`None`,
            :obj:`hidden_channels`)
        comp (str, optional): The composition :obj:`"sub"`, :obj:`"mult"`
            or :obj:`"corr"`. (default: :obj:`"sub"`)
        act (str or Callable, optional): Activation. (default: :obj:`"tanh"`)
        act_kwargs (Dict[str, Any], optional): Arguments of the activation.
            (default: :obj:`None`)
        act_last (bool, optional): Whether to apply the activation (and
            hidden dropout) after the last layer. (default: :obj:`True`)
        dropout (float, optional): Dropout on aggregated messages in each
            layer. (default: :obj:`0.0`)
        hidden_dropout (float, optional): Dropout on each layer's entity
            output. (default: :obj:`0.0`)
        residual (bool, optional): If set to :obj:`True`, adds each layer's
            input entity representations (linearly projected if sizes
            differ) to its output. (default: :obj:`False`)
        bias (bool, optional): Whether the layers learn a bias.
            (default: :obj:`True`)
    """
    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        num_relations: int,
        num_layers: int = 1,
        out_channels: Optional[int] = None,
        comp: str = 'sub',
        act: Union[str, Any, None] = 'tanh',
        act_kwargs: Optional[Dict[str, Any]] = None,
        act_last: bool = True,
        dropout: float = 0.0,
        hidden_dropout: float = 0.0,
        residual: bool = False,
        bias: bool = True,
    ):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"'num_layers' must be positive "
                             f"(got {num_layers})")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels or hidden_channels
        self.num_relations = num_relations
        self.num_layers = num_layers
        self.comp = comp
        self.act = activation_resolver(act, **(act_kwargs or {}))
        self.act_last = act_last
        self.hidden_dropout = hidden_dropout
        self.residual = residual

        self._build_stack(
            in_channels, hidden_channels, self.out_channels, num_layers,
            residual, lambda i, o: CompGCNConv(i, o, num_relations, comp=comp,
                                               dropout=dropout, bias=bias))
        self.reset_parameters()

    def encode(self, x: Tensor, edge_index: Tensor, edge_type: Tensor,
               rel: Optional[Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
        if rel is None:
            raise ValueError(f"'{self.__class__.__name__}' needs relation "
                             f"representations 'rel' of shape "
                             f"[{self.num_relations}, {self.in_channels}]")
        for i, conv in enumerate(self.convs):
            out, rel = conv(x, edge_index, edge_type, rel)
            if self.residual:
                out = out + self.res[i](x)
            if i < self.num_layers - 1 or self.act_last:
                if self.act is not None:
                    out = self.act(out)
                out = F.dropout(out, p=self.hidden_dropout,
                                training=self.training)
            x = out
        return x, rel

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels}, num_relations={self.num_relations}, '
                f'num_layers={self.num_layers}, comp={self.comp})')
