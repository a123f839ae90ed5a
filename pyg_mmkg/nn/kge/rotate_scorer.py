from typing import Tuple

import torch
from torch import Tensor

from pyg_mmkg.nn.kge.scorer import Scorer, _distance_sampled


class RotatEScorer(Scorer):
    r"""The RotatE scoring function from the `"RotatE: Knowledge Graph
    Embedding by Relational Rotation in Complex Space"
    <https://arxiv.org/abs/1902.10197>`_ paper, with the math of
    :class:`torch_geometric.nn.kge.RotatE`:

    .. math::
        f(h, r, t) = \gamma - {\left\| \mathbf{e}_h \circ
        e^{i \boldsymbol{\theta}_r} - \mathbf{e}_t \right\|}_2

    where the norm is the Euclidean norm over all real and imaginary parts
    (as in PyG; the original paper sums the moduli of the complex
    coordinates instead).
    Entity representations are real tensors of size :obj:`2 * hidden_channels`
    holding :math:`[\mathrm{Re}(\mathbf{e}) \, \| \, \mathrm{Im}(\mathbf{e})]`;
    relation representations are the phases :math:`\boldsymbol{\theta}_r` of
    size :obj:`hidden_channels`.
    1-N scoring uses :meth:`torch.cdist` (matrix products); head scoring uses
    that a rotation is an isometry:
    :math:`\| \mathbf{e}_h \circ \mathbf{r} - \mathbf{e}_t \| =
    \| \mathbf{e}_h - \mathbf{e}_t \circ \overline{\mathbf{r}} \|`.

    Args:
        margin (float, optional): The margin :math:`\gamma` added to the
            negative distance. (default: :obj:`1.0`)
    """
    def __init__(self, margin: float = 1.0):
        super().__init__()
        self.margin = margin

    def entity_dim(self, hidden_channels: int) -> int:
        return 2 * hidden_channels

    @staticmethod
    def _rotate(x: Tensor, rel: Tensor, conj: bool = False) -> Tensor:
        x_re, x_im = x.chunk(2, dim=-1)
        rel_re, rel_im = torch.cos(rel), torch.sin(rel)
        if conj:
            rel_im = -rel_im
        return torch.cat([
            rel_re * x_re - rel_im * x_im,
            rel_re * x_im + rel_im * x_re,
        ], dim=-1)

    def forward(self, head: Tensor, rel: Tensor, tail: Tensor) -> Tensor:
        diff = self._rotate(head, rel) - tail
        return self.margin - torch.linalg.vector_norm(diff, dim=-1)

    def score_sampled(self, head: Tensor, rel: Tensor, tail: Tensor,
                      cand: Tensor,
                      cand_is_head: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Positive scores :obj:`[B]` and scores :obj:`[B, k]` of negatives
        that replace the head (where :obj:`cand_is_head`) or the tail with
        the candidates :obj:`cand`.

        Args:
            head (torch.Tensor): Head representations :obj:`[B, D]`.
            rel (torch.Tensor): Relation representations :obj:`[B, D_r]`.
            tail (torch.Tensor): Tail representations :obj:`[B, D]`.
            cand (torch.Tensor): Candidate entities :obj:`[B, k, D]`.
            cand_is_head (torch.Tensor): Boolean mask broadcastable to
                :obj:`[B, k]`: whether a candidate replaces the head
                (otherwise the tail).
        """
        # Rotations are isometries: ||c o r - t|| = ||c - t o conj(r)||.
        tail_query = self._rotate(head, rel)
        pos = self.margin - torch.linalg.vector_norm(tail_query - tail,
                                                     dim=-1)
        return pos, self.margin - _distance_sampled(
            tail_query, self._rotate(tail, rel, conj=True), cand,
            cand_is_head, 2.0)

    def score_tails(self, head: Tensor, rel: Tensor,
                    tail_all: Tensor) -> Tensor:
        query = self._rotate(head, rel)
        return self.margin - torch.cdist(query, tail_all)

    def score_heads(self, rel: Tensor, tail: Tensor,
                    head_all: Tensor) -> Tensor:
        query = self._rotate(tail, rel, conj=True)
        return self.margin - torch.cdist(query, head_all)

    def extra_repr(self) -> str:
        return f'margin={self.margin}'
