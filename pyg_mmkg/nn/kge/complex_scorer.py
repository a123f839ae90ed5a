from typing import Tuple

import torch
from torch import Tensor

from pyg_mmkg.nn.kge.scorer import Scorer, _bilinear_sampled


class ComplExScorer(Scorer):
    r"""The ComplEx scoring function from the `"Complex Embeddings for Simple
    Link Prediction" <https://arxiv.org/abs/1606.06357>`_ paper, with the math
    of :class:`torch_geometric.nn.kge.ComplEx`:

    .. math::
        f(h, r, t) = \mathrm{Re}(\langle \mathbf{e}_h, \mathbf{e}_r,
        \overline{\mathbf{e}_t} \rangle)

    Entity and relation representations are real tensors holding
    :math:`[\mathrm{Re}(\mathbf{e}) \, \| \, \mathrm{Im}(\mathbf{e})]`, *i.e.*
    both have size :obj:`2 * hidden_channels`.
    1-N scoring is a single matrix product.
    """
    def entity_dim(self, hidden_channels: int) -> int:
        return 2 * hidden_channels

    def relation_dim(self, hidden_channels: int) -> int:
        return 2 * hidden_channels

    def forward(self, head: Tensor, rel: Tensor, tail: Tensor) -> Tensor:
        head_re, head_im = head.chunk(2, dim=-1)
        rel_re, rel_im = rel.chunk(2, dim=-1)
        tail_re, tail_im = tail.chunk(2, dim=-1)
        return ((head_re * rel_re * tail_re).sum(dim=-1) +
                (head_im * rel_re * tail_im).sum(dim=-1) +
                (head_re * rel_im * tail_im).sum(dim=-1) -
                (head_im * rel_im * tail_re).sum(dim=-1))

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
        return _bilinear_sampled(_tail_query(head, rel),
                                 _head_query(rel, tail), tail, cand,
                                 cand_is_head)

    def score_tails(self, head: Tensor, rel: Tensor,
                    tail_all: Tensor) -> Tensor:
        return _tail_query(head, rel) @ tail_all.t()

    def score_heads(self, rel: Tensor, tail: Tensor,
                    head_all: Tensor) -> Tensor:
        return _head_query(rel, tail) @ head_all.t()


def _tail_query(head: Tensor, rel: Tensor) -> Tensor:
    # Re(<h, r, conj(t)>) = Re(h * r) . Re(t) + Im(h * r) . Im(t):
    head_re, head_im = head.chunk(2, dim=-1)
    rel_re, rel_im = rel.chunk(2, dim=-1)
    return torch.cat([
        head_re * rel_re - head_im * rel_im,
        head_re * rel_im + head_im * rel_re,
    ], dim=-1)


def _head_query(rel: Tensor, tail: Tensor) -> Tensor:
    # Re(<h, r, conj(t)>) = Re(h) . Re(r * conj(t)) - Im(h) . Im(...), as a
    # dot product of [Re(h), Im(h)] with this query:
    rel_re, rel_im = rel.chunk(2, dim=-1)
    tail_re, tail_im = tail.chunk(2, dim=-1)
    return torch.cat([
        rel_re * tail_re + rel_im * tail_im,
        rel_re * tail_im - rel_im * tail_re,
    ], dim=-1)
