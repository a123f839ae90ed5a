from typing import Callable, Tuple

import torch
from torch import Tensor

# Upper bound on the number of elements of the broadcast intermediate
# `[B, chunk, D]` used by the generic 1-N fallback of :class:`Scorer`:
MAX_BROADCAST_NUMEL = 2**24


class Scorer(torch.nn.Module):
    r"""An abstract base class for knowledge graph scoring functions.

    A scorer maps *representations* (never ids) of heads, relations and tails
    to a plausibility score (higher is more plausible).
    It decouples the interaction function from the way the representations
    are produced (embedding tables, multimodal fusion, message passing), so
    that every model in :obj:`pyg_mmkg` shares one implementation of the
    scoring math.

    Besides scoring a batch of triples via :meth:`forward`, a scorer scores
    queries against *all* candidate entities via :meth:`score_tails` and
    :meth:`score_heads` (1-N scoring).
    The default implementations broadcast :meth:`forward` over chunks of
    candidates; subclasses override them with matrix products where the math
    allows.

    Entity representations of complex-valued scorers (e.g.,
    :class:`ComplExScorer`) are real tensors holding the concatenation
    :math:`[\mathrm{Re}(\mathbf{e}) \, \| \, \mathrm{Im}(\mathbf{e})]`.

    Scorers may define :meth:`score_sampled(head, rel, tail, cand,
    cand_is_head)` for sLCWA training: the scores :obj:`[B]` of the
    positives and :obj:`[B, k]` of negatives that replace the head (where
    :obj:`cand_is_head`) or the tail of their positive with the candidate
    representations :obj:`cand` of shape :obj:`[B, k, D]`, computed by
    scoring each positive's query against its :math:`k` candidates
    (:class:`ScoredKGEModel` then uses it in
    :meth:`~ScoredKGEModel.score_sampled`).
    """
    def reset_parameters(self):
        r"""Resets all learnable parameters of the module."""

    def entity_dim(self, hidden_channels: int) -> int:
        r"""Returns the size of an entity representation for a model with
        :obj:`hidden_channels` hidden channels.

        Args:
            hidden_channels (int): The model's hidden channels.
        """
        return hidden_channels

    def relation_dim(self, hidden_channels: int) -> int:
        r"""Returns the size of a relation representation for a model with
        :obj:`hidden_channels` hidden channels.

        Args:
            hidden_channels (int): The model's hidden channels.
        """
        return hidden_channels

    def forward(self, head: Tensor, rel: Tensor, tail: Tensor) -> Tensor:
        r"""Returns the score of each triple.

        Args:
            head (torch.Tensor): Head representations of shape :obj:`[B, D]`.
            rel (torch.Tensor): Relation representations of shape
                :obj:`[B, D_r]`.
            tail (torch.Tensor): Tail representations of shape :obj:`[B, D]`.

        Returns:
            torch.Tensor: The scores of shape :obj:`[B]`.
        """
        raise NotImplementedError

    def score_tails(self, head: Tensor, rel: Tensor,
                    tail_all: Tensor) -> Tensor:
        r"""Scores each :obj:`(head, rel)` query against all candidate tails.

        Args:
            head (torch.Tensor): Head representations of shape :obj:`[B, D]`.
            rel (torch.Tensor): Relation representations of shape
                :obj:`[B, D_r]`.
            tail_all (torch.Tensor): Candidate tail representations of shape
                :obj:`[N, D]`.

        Returns:
            torch.Tensor: The scores of shape :obj:`[B, N]`.
        """
        head, rel = head.unsqueeze(1), rel.unsqueeze(1)
        return _broadcast_chunks(
            lambda cand: self(head, rel, cand.unsqueeze(0)),
            tail_all,
            head.size(0),
        )

    def score_heads(self, rel: Tensor, tail: Tensor,
                    head_all: Tensor) -> Tensor:
        r"""Scores each :obj:`(rel, tail)` query against all candidate heads.

        Args:
            rel (torch.Tensor): Relation representations of shape
                :obj:`[B, D_r]`.
            tail (torch.Tensor): Tail representations of shape :obj:`[B, D]`.
            head_all (torch.Tensor): Candidate head representations of shape
                :obj:`[N, D]`.

        Returns:
            torch.Tensor: The scores of shape :obj:`[B, N]`.
        """
        rel, tail = rel.unsqueeze(1), tail.unsqueeze(1)
        return _broadcast_chunks(
            lambda cand: self(cand.unsqueeze(0), rel, tail),
            head_all,
            tail.size(0),
        )

    def extra_repr(self) -> str:
        return ''

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.extra_repr()})'


def _broadcast_chunks(fn: Callable[[Tensor], Tensor], candidates: Tensor,
                      batch_size: int) -> Tensor:
    r"""Applies a broadcasting score function to chunks of candidates so that
    the :obj:`[B, chunk, D]` intermediate stays bounded in size.
    """
    numel = max(1, batch_size * candidates.size(-1))
    chunk_size = max(1, MAX_BROADCAST_NUMEL // numel)
    if candidates.size(0) <= chunk_size:
        return fn(candidates)
    return torch.cat([fn(c) for c in candidates.split(chunk_size)], dim=1)


def _bilinear_sampled(tail_query: Tensor, head_query: Tensor, tail: Tensor,
                      cand: Tensor,
                      cand_is_head: Tensor) -> Tuple[Tensor, Tensor]:
    r"""Sampled scores of a scorer that is a dot product of a query with the
    candidate entity: :math:`f(h, r, t) = \langle q_t(h, r), t \rangle =
    \langle q_h(r, t), h \rangle`. Both queries of each positive are
    scored against its :math:`k` candidates by one batched matrix product
    (no :obj:`[B, k, D]` intermediate besides the candidates)."""
    pos = (tail_query * tail).sum(dim=-1)
    query = torch.stack([tail_query, head_query], dim=-1)  # [B, D, 2]
    both = torch.bmm(cand, query)  # [B, k, 2]
    return pos, torch.where(cand_is_head, both[..., 1], both[..., 0])


def _distance_sampled(tail_query: Tensor, head_query: Tensor, cand: Tensor,
                      cand_is_head: Tensor, p: float) -> Tensor:
    r"""The distances :math:`\| c - q \|_p` :obj:`[B, k]` of each candidate
    to the query of its side, for scorers :math:`f = -\| q_t(h, r) - t \|`
    with :math:`\| q_t(h, r) - c \| = \| c - q_h(r, t) \|` for head
    candidates.
    The query of each candidate is looked up (an embedding lookup of the
    :obj:`[2B, D]` negated queries, whose backward is one scatter) and
    added, so that autograd does not negate or mask :obj:`[B, k, D]`
    gradients."""
    B = tail_query.size(0)
    neg_query = -torch.cat([tail_query, head_query], dim=0)  # [2B, D]
    side = torch.arange(B, device=cand.device).view(-1, 1) + B * cand_is_head
    diff = cand + torch.nn.functional.embedding(side, neg_query)
    return torch.linalg.vector_norm(diff, ord=p, dim=-1)
