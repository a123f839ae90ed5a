from typing import Dict, NamedTuple, Optional, Sequence

import torch
from torch import Tensor

RANK_TYPES = ('optimistic', 'pessimistic', 'realistic')


class NaNScoreError(ValueError):
    r"""Raised when a model returns NaN scores during ranking. The attribute
    :obj:`rows` holds the indices of the offending queries in the batch."""
    def __init__(self, message: str, rows: Tensor):
        super().__init__(message)
        self.rows = rows


class Ranks(NamedTuple):
    r"""The ranks of a batch of true answers under the three ways of
    handling tied scores discussed in `"A Re-evaluation of Knowledge Graph
    Completion Methods" <https://arxiv.org/abs/1911.03903>`_ (named as in
    PyKEEN):

    * :obj:`optimistic`: :math:`1 + |\{e : s_e > s_{true}\}|` (ties are
      placed behind the true answer)
    * :obj:`pessimistic`: :math:`|\{e : s_e \geq s_{true}\}|`, the true
      answer itself included (ties are placed in front of it)
    * :obj:`realistic`: the mean of both, *i.e.*, the expected rank when
      ties are broken uniformly at random.
    """
    optimistic: Tensor
    pessimistic: Tensor

    @property
    def realistic(self) -> Tensor:
        return (self.optimistic + self.pessimistic).double() / 2

    def get(self, rank_type: str) -> Tensor:
        r"""Returns the ranks of type :obj:`rank_type` as a double tensor.

        Args:
            rank_type (str): :obj:`"optimistic"`, :obj:`"pessimistic"` or
                :obj:`"realistic"`.
        """
        if rank_type == 'optimistic':
            return self.optimistic.double()
        if rank_type == 'pessimistic':
            return self.pessimistic.double()
        if rank_type == 'realistic':
            return self.realistic
        raise ValueError(f"Unknown rank type '{rank_type}' (expected one of "
                         f"{', '.join(RANK_TYPES)})")


def compute_ranks(
    scores: Tensor,
    target: Tensor,
    filter_row: Optional[Tensor] = None,
    filter_col: Optional[Tensor] = None,
    inplace: bool = False,
) -> Ranks:
    r"""Computes the rank of the true answer of each query (row) of a score
    matrix, higher scores being better.

    Candidates given by the index pairs :obj:`(filter_row, filter_col)`
    (*e.g.*, from :meth:`FilterIndex.tails`) are excluded from the ranking
    (*filtered* setting), except the true answer of each row, which is never
    filtered.

    Args:
        scores (torch.Tensor): The scores :obj:`[B, N]` of all candidates.
        target (torch.Tensor): The column :obj:`[B]` of the true answer.
        filter_row (torch.Tensor, optional): Query index of the candidates to
            filter. (default: :obj:`None`)
        filter_col (torch.Tensor, optional): Entity index of the candidates
            to filter. (default: :obj:`None`)
        inplace (bool, optional): If set to :obj:`True`, :obj:`scores` is
            used as workspace and overwritten instead of being copied.
            (default: :obj:`False`)

    Raises:
        NaNScoreError: If :obj:`scores` contains NaN values.
    """
    if scores.dim() != 2:
        raise ValueError(f"'scores' must be a 2-dimensional [B, N] tensor "
                         f"(got shape {tuple(scores.shape)})")
    num_queries, num_nodes = scores.shape
    target = target.view(-1, 1).to(scores.device, torch.long)
    if target.size(0) != num_queries:
        raise ValueError(f"'target' must have one entry per row of 'scores' "
                         f"(got {target.size(0)} and {num_queries})")
    # Counts are accumulated in floating point; they are exact as long as
    # they are below 2^24 (float32) or 2^53 (float64):
    dtype = torch.float32 if num_nodes < 2**24 else torch.float64
    if not scores.is_floating_point():  # Integers: exact in float64.
        scores, inplace = scores.double(), True
    elif scores.dtype not in (dtype, torch.float64):
        scores, inplace = scores.to(dtype), True

    # Cheap NaN check: a row sum is finite unless the row holds NaN or inf.
    if not bool(torch.isfinite(scores.sum(dim=1)).all()):
        nan_rows = torch.isnan(scores).any(dim=1)
        if bool(nan_rows.any()):
            rows = nan_rows.nonzero().view(-1)
            raise NaNScoreError(
                f"The model returned NaN scores for {rows.numel()} of "
                f"{num_queries} queries (e.g., row {int(rows[0])}); the "
                f"ranking is undefined. Check for diverged training "
                f"(learning rate, loss) or invalid input features.",
                rows.cpu())

    true = scores.gather(1, target)

    if filter_row is not None and filter_col is not None \
            and filter_row.numel() > 0:
        filter_row = filter_row.to(scores.device)
        filter_col = filter_col.to(scores.device)
        # The true answer is never filtered: its entry is restored below.
        arange = torch.arange(num_queries, device=scores.device)
    else:
        filter_row = filter_col = None

    if not bool(torch.isfinite(true).all()):
        # Rare: `score - true` is undefined for an infinite true score.
        if filter_row is not None:
            if not inplace:
                scores = scores.clone()
            # NaN compares false against everything: neither better nor tied.
            scores.index_put_((filter_row, filter_col),
                              scores.new_full((1, ), float('nan')))
            scores[arange, target.view(-1)] = true.view(-1)
        optimistic = (scores > true).sum(dim=1) + 1
        pessimistic = (scores >= true).sum(dim=1)
        return Ranks(optimistic, pessimistic)

    # sign(score - true) is +1 (better), 0 (tied) or -1 (worse); this is
    # exact for finite floats (the difference of two distinct floats is
    # never rounded to zero). Filtered candidates are marked worse (-1).
    # Two fast reductions then give #better and #worse:
    diff = scores.sub_(true) if inplace else scores - true
    if filter_row is not None:
        diff.index_put_((filter_row, filter_col), diff.new_full((1, ), -1.))
        diff[arange, target.view(-1)] = 0.
    diff.sign_()
    better_minus_worse = diff.sum(dim=1)
    better_plus_worse = diff.abs_().sum(dim=1)
    better = ((better_plus_worse + better_minus_worse) / 2).long()
    worse = ((better_plus_worse - better_minus_worse) / 2).long()
    return Ranks(better + 1, num_nodes - worse)


def rank_metrics(rank: Tensor, ks: Sequence[int] = (1, 3, 10)) -> Dict[str,
                                                                      float]:
    r"""Computes the mean rank (:obj:`'mr'`), the mean reciprocal rank
    (:obj:`'mrr'`) and :obj:`'hits@k'` (the fraction of ranks
    :math:`\leq k`) of a 1-based rank tensor.

    Args:
        rank (torch.Tensor): The ranks.
        ks (Sequence[int], optional): The values of :math:`k` for Hits@k.
            (default: :obj:`(1, 3, 10)`)
    """
    rank = rank.double()
    if rank.numel() == 0:
        out = {'mr': float('nan'), 'mrr': float('nan')}
        out.update({f'hits@{k}': float('nan') for k in ks})
        return out
    out = {'mr': float(rank.mean()), 'mrr': float(rank.reciprocal().mean())}
    for k in ks:
        out[f'hits@{k}'] = float((rank <= k).double().mean())
    return out
