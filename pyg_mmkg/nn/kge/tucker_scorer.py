from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.nn import BatchNorm1d, Dropout, Parameter

from pyg_mmkg.nn.kge.scorer import Scorer


class TuckERScorer(Scorer):
    r"""The TuckER scoring function from the `"TuckER: Tensor Factorization
    for Knowledge Graph Completion" <https://arxiv.org/abs/1901.09590>`_
    paper.

    A learnable core tensor
    :math:`\mathcal{W} \in \mathbb{R}^{d_r \times d_e \times d_e}` turns each
    relation into a matrix :math:`\mathcal{W} \times_1 \mathbf{e}_r`, and

    .. math::
        f(h, r, t) = \mathrm{BN}_1\left(\mathrm{BN}_0(\mathbf{e}_h)
        (\mathcal{W} \times_1 \mathbf{e}_r)\right) \cdot \mathbf{e}_t

    with batch normalizations :math:`\mathrm{BN}_0, \mathrm{BN}_1` and dropout
    on the normalized head (:obj:`input_dropout`), on the relation matrix
    (:obj:`hidden_dropout1`) and on the query (:obj:`hidden_dropout2`), as in
    the official implementation.
    The score is a logit (the official code applies a sigmoid inside the
    model).
    1-N tail scoring is a single matrix product with the candidates.

    .. note::

        In training mode, batch normalization uses the statistics of the
        query batch, so :meth:`forward` and :meth:`score_tails` agree only in
        evaluation mode (and up to dropout).
        :meth:`score_heads` folds the batch normalizations into the query and
        therefore requires evaluation mode; train head queries through
        reciprocal relations instead, as TuckER does.

    Args:
        entity_channels (int): The entity representation size :math:`d_e`.
        relation_channels (int, optional): The relation representation size
            :math:`d_r`. If set to :obj:`None`, will use
            :obj:`entity_channels`. (default: :obj:`None`)
        input_dropout (float, optional): Dropout probability on the
            normalized head. (default: :obj:`0.3`)
        hidden_dropout1 (float, optional): Dropout probability on the
            relation matrix. (default: :obj:`0.4`)
        hidden_dropout2 (float, optional): Dropout probability on the
            normalized query. (default: :obj:`0.5`)
    """
    def __init__(
        self,
        entity_channels: int,
        relation_channels: Optional[int] = None,
        input_dropout: float = 0.3,
        hidden_dropout1: float = 0.4,
        hidden_dropout2: float = 0.5,
    ):
        super().__init__()
        self.entity_channels = entity_channels
        self.relation_channels = relation_channels or entity_channels

        d_e, d_r = self.entity_channels, self.relation_channels
        self.core = Parameter(torch.empty(d_r, d_e, d_e))
        self.bn0 = BatchNorm1d(d_e)
        self.bn1 = BatchNorm1d(d_e)
        self.input_dropout = Dropout(input_dropout)
        self.hidden_dropout1 = Dropout(hidden_dropout1)
        self.hidden_dropout2 = Dropout(hidden_dropout2)

        self.reset_parameters()

    def reset_parameters(self):
        torch.nn.init.uniform_(self.core, -1.0, 1.0)
        self.bn0.reset_parameters()
        self.bn1.reset_parameters()

    def entity_dim(self, hidden_channels: int) -> int:
        return self.entity_channels

    def relation_dim(self, hidden_channels: int) -> int:
        return self.relation_channels

    def _relation_matrix(self, rel: Tensor) -> Tensor:
        d_e, d_r = self.entity_channels, self.relation_channels
        return (rel @ self.core.view(d_r, -1)).view(-1, d_e, d_e)

    def query(self, head: Tensor, rel: Tensor) -> Tensor:
        r"""Returns the query vector
        :math:`\mathrm{BN}_1(\mathrm{BN}_0(\mathbf{e}_h)
        (\mathcal{W} \times_1 \mathbf{e}_r))` of shape :obj:`[B, d_e]`.

        Args:
            head (torch.Tensor): Head representations :obj:`[B, d_e]`.
            rel (torch.Tensor): Relation representations :obj:`[B, d_r]`.
        """
        x = self.input_dropout(self.bn0(head))
        mat = self.hidden_dropout1(self._relation_matrix(rel))
        x = torch.bmm(x.unsqueeze(1), mat).squeeze(1)
        return self.hidden_dropout2(self.bn1(x))

    def forward(self, head: Tensor, rel: Tensor, tail: Tensor) -> Tensor:
        return (self.query(head, rel) * tail).sum(dim=-1)

    def score_tails(self, head: Tensor, rel: Tensor,
                    tail_all: Tensor) -> Tensor:
        return self.query(head, rel) @ tail_all.t()

    def score_heads(self, rel: Tensor, tail: Tensor,
                    head_all: Tensor) -> Tensor:
        if self.training:
            raise RuntimeError(
                f"'{self.__class__.__name__}.score_heads' requires "
                f"evaluation mode (batch normalization over candidate heads "
                f"is undefined in training); call 'eval()' first, or score "
                f"head queries with reciprocal relations")
        # In evaluation mode, BN(x) = a * x + c per feature, so that
        # f(h, r, t) = (a0 * h + c0) W_r (a1 * t) + c1 . t is linear in h:
        a0, c0 = _bn_affine(self.bn0)
        a1, c1 = _bn_affine(self.bn1)
        mat = self._relation_matrix(rel)
        query = torch.bmm(mat, (a1 * tail).unsqueeze(-1)).squeeze(-1)
        bias = (c1 * tail).sum(dim=-1, keepdim=True)
        return (query @ (a0 * head_all + c0).t()) + bias

    def extra_repr(self) -> str:
        return (f'{self.entity_channels}, '
                f'relation_channels={self.relation_channels}')


def _bn_affine(bn: BatchNorm1d) -> Tuple[Tensor, Tensor]:
    r"""Returns :obj:`(a, c)` such that :obj:`bn(x) == a * x + c` in
    evaluation mode.
    """
    if bn.running_var is None or bn.running_mean is None:
        raise RuntimeError("Batch normalization without running statistics "
                           "cannot be folded into a linear map")
    a = torch.rsqrt(bn.running_var + bn.eps)
    if bn.weight is not None:
        a = a * bn.weight
    c = -bn.running_mean * a
    if bn.bias is not None:
        c = c + bn.bias
    return a, c
