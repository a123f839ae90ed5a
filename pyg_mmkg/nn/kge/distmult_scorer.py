from typing import Tuple

from torch import Tensor

from pyg_mmkg.nn.kge.scorer import Scorer, _bilinear_sampled


class DistMultScorer(Scorer):
    r"""The DistMult scoring function from the `"Embedding Entities and
    Relations for Learning and Inference in Knowledge Bases"
    <https://arxiv.org/abs/1412.6575>`_ paper, with the math of
    :class:`torch_geometric.nn.kge.DistMult`:

    .. math::
        f(h, r, t) = \langle \mathbf{e}_h, \mathbf{e}_r, \mathbf{e}_t \rangle
        = \sum_i e_{h,i} \, e_{r,i} \, e_{t,i}

    1-N scoring is a single matrix product.
    """
    def forward(self, head: Tensor, rel: Tensor, tail: Tensor) -> Tensor:
        return (head * rel * tail).sum(dim=-1)

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
        return _bilinear_sampled(head * rel, rel * tail, tail, cand,
                                 cand_is_head)

    def score_tails(self, head: Tensor, rel: Tensor,
                    tail_all: Tensor) -> Tensor:
        return (head * rel) @ tail_all.t()

    def score_heads(self, rel: Tensor, tail: Tensor,
                    head_all: Tensor) -> Tensor:
        return (rel * tail) @ head_all.t()
