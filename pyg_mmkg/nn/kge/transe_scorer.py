from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from pyg_mmkg.nn.kge.scorer import Scorer, _distance_sampled


class TransEScorer(Scorer):
    r"""The TransE scoring function from the `"Translating Embeddings for
    Modeling Multi-Relational Data" <https://proceedings.neurips.cc/paper/
    2013/file/1cecc7a77928ca8133fa24680a88d2f9-Paper.pdf>`_ paper, with the
    math of :class:`torch_geometric.nn.kge.TransE`.

    Head and tail representations are :math:`L_p`-normalized before the
    translation is measured:

    .. math::
        f(h, r, t) = - {\left\| \frac{\mathbf{e}_h}{\|\mathbf{e}_h\|_p} +
        \mathbf{e}_r - \frac{\mathbf{e}_t}{\|\mathbf{e}_t\|_p} \right\|}_p

    The defaults give exactly PyG's score. Optionally (*e.g.*, for the
    VL-KGE variant :math:`\gamma - \| \bar{\mathbf{e}}_h +
    \bar{\mathbf{e}}_r - \bar{\mathbf{e}}_t \|_1` with :math:`L_2`-
    normalized :math:`\bar{\cdot}`), a margin :math:`\gamma` is added, the
    normalization order differs from the distance order, and relations are
    normalized too.

    1-N scoring uses :meth:`torch.cdist`, which for :math:`p = 2` computes
    distances via matrix products.

    Args:
        p_norm (float, optional): The order :math:`p` of the distance (and of
            the normalization unless :obj:`norm_p` is given).
            (default: :obj:`1.0`)
        margin (float, optional): The margin :math:`\gamma` added to the
            negative distance. (default: :obj:`0.0`)
        norm_p (float, optional): The order of the normalization of entity
            (and relation) representations; :obj:`None` uses
            :obj:`p_norm`. (default: :obj:`None`)
        normalize_relations (bool, optional): Whether to normalize relation
            representations as well. (default: :obj:`False`)
    """
    def __init__(self, p_norm: float = 1.0, margin: float = 0.0,
                 norm_p: Optional[float] = None,
                 normalize_relations: bool = False):
        super().__init__()
        self.p_norm = p_norm
        self.margin = margin
        self.norm_p = norm_p
        self.normalize_relations = normalize_relations

    def _normalize(self, x: Tensor) -> Tensor:
        p = self.p_norm if self.norm_p is None else self.norm_p
        return F.normalize(x, p=p, dim=-1)

    def _rel(self, rel: Tensor) -> Tensor:
        return self._normalize(rel) if self.normalize_relations else rel

    def forward(self, head: Tensor, rel: Tensor, tail: Tensor) -> Tensor:
        head, tail = self._normalize(head), self._normalize(tail)
        dist = ((head + self._rel(rel)) - tail).norm(p=self.p_norm, dim=-1)
        return self.margin - dist

    def normalize_entities(self, x: Tensor) -> Tensor:
        r"""The :math:`L_p` normalization that :meth:`forward` applies to
        every head and tail representation (row-wise).

        Args:
            x (torch.Tensor): Entity representations :obj:`[..., D]`.
        """
        return self._normalize(x)

    def score_sampled(self, head: Tensor, rel: Tensor, tail: Tensor,
                      cand: Tensor, cand_is_head: Tensor,
                      normalized: bool = False) -> Tuple[Tensor, Tensor]:
        r"""Positive scores :obj:`[B]` and scores :obj:`[B, k]` of negatives
        that replace the head (where :obj:`cand_is_head`) or the tail with
        the candidates :obj:`cand` :obj:`[B, k, D]`.
        With :obj:`normalized=True`, :obj:`head`, :obj:`tail` and
        :obj:`cand` have passed :meth:`normalize_entities` already.

        Args:
            head (torch.Tensor): Head representations :obj:`[B, D]`.
            rel (torch.Tensor): Relation representations :obj:`[B, D_r]`.
            tail (torch.Tensor): Tail representations :obj:`[B, D]`.
            cand (torch.Tensor): Candidate entities :obj:`[B, k, D]`.
            cand_is_head (torch.Tensor): Boolean mask broadcastable to
                :obj:`[B, k]`: whether a candidate replaces the head
                (otherwise the tail).
            normalized (bool, optional): If set to :obj:`True`, the inputs
                are taken as normalized already. (default: :obj:`False`)
        """
        # ||h + r - c|| for tail candidates, ||c + r - t|| = ||c - (t - r)||
        # for head candidates:
        if not normalized:
            head, tail = self._normalize(head), self._normalize(tail)
            cand = self._normalize(cand)
        rel = self._rel(rel)
        tail_query = head + rel
        pos = self.margin - (tail_query - tail).norm(p=self.p_norm, dim=-1)
        return pos, self.margin - _distance_sampled(
            tail_query, tail - rel, cand, cand_is_head, self.p_norm)

    def score_tails(self, head: Tensor, rel: Tensor,
                    tail_all: Tensor) -> Tensor:
        query = self._normalize(head) + self._rel(rel)
        return self.margin - torch.cdist(query, self._normalize(tail_all),
                                         p=self.p_norm)

    def score_heads(self, rel: Tensor, tail: Tensor,
                    head_all: Tensor) -> Tensor:
        # ||h + r - t|| = ||h - (t - r)||:
        query = self._normalize(tail) - self._rel(rel)
        return self.margin - torch.cdist(query, self._normalize(head_all),
                                         p=self.p_norm)

    def extra_repr(self) -> str:
        out = f'p_norm={self.p_norm}'
        if self.margin != 0.0:
            out += f', margin={self.margin}'
        if self.norm_p is not None:
            out += f', norm_p={self.norm_p}'
        if self.normalize_relations:
            out += ', normalize_relations=True'
        return out
