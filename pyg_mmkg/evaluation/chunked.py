r"""Filtered ranking over millions of candidates in bounded memory.

Instead of a :obj:`[B, N]` score matrix per batch of queries, the candidates
are scored in chunks of :obj:`C` entities, and each query keeps a running
count of the candidates scored above and at-or-above its true answer. The
workspace is about :obj:`16 * B * C` bytes whatever :obj:`N`.
"""
from typing import Callable, Optional, Tuple

import torch
from torch import Tensor

from pyg_mmkg.evaluation.ranks import NaNScoreError, Ranks

#: Bytes of workspace per (query, candidate) entry: the float32 scores, two
#: boolean comparisons and the scorer's intermediates, with headroom.
BYTES_PER_ENTRY = 16

ChunkScorer = Callable[[Tensor, Tensor, int, int], Tensor]


def candidate_scorer(model, side: str, encoded) -> Optional[ChunkScorer]:
    r"""Returns :obj:`fn(query_node, rel_type, start, end)` scoring the
    queries against the candidate entities :obj:`start:end` of a
    :class:`~pyg_mmkg.nn.kge.ScoredKGEModel` that keeps the base
    :meth:`score_tails` / :meth:`score_heads` (the scorer applied to the
    rows of :obj:`encoded`), or :obj:`None` for any other model.

    Args:
        model: The model.
        side (str): :obj:`"tail"` (the query node is the head) or
            :obj:`"head"` (the query node is the tail).
        encoded ((torch.Tensor, torch.Tensor)): The output of
            :meth:`encode`.
    """
    from pyg_mmkg.nn.kge.model import ScoredKGEModel
    if (not isinstance(model, ScoredKGEModel) or encoded is None
            or type(model).score_tails is not ScoredKGEModel.score_tails
            or type(model).score_heads is not ScoredKGEModel.score_heads):
        return None
    ent, rel = encoded
    scorer = model.scorer
    if side == 'tail' or model.reciprocal:
        offset = model.num_relations if side == 'head' else 0

        def score(node, rel_type, start, end):
            return scorer.score_tails(ent[node], rel[rel_type + offset],
                                      ent[start:end])
    else:
        def score(node, rel_type, start, end):
            return scorer.score_heads(rel[rel_type], ent[node],
                                      ent[start:end])
    return score


def chunk_sizes(num_nodes: int, num_queries: int, budget: int,
                batch_size: Optional[int] = None,
                chunk_size: Optional[int] = None) -> Tuple[int, int]:
    r"""Chooses :obj:`(batch_size, chunk_size)` such that
    :obj:`batch_size * chunk_size * BYTES_PER_ENTRY <= budget` (given
    values are kept).

    Args:
        num_nodes (int): The number of candidates :math:`N`.
        num_queries (int): The number of queries.
        budget (int): The workspace budget in bytes.
        batch_size (int, optional): Queries per batch. (default: :obj:`None`)
        chunk_size (int, optional): Candidates per chunk.
            (default: :obj:`None`)
    """
    entries = max(1, budget // BYTES_PER_ENTRY)
    if batch_size is None:
        batch_size = max(1, min(num_queries, 128, entries))
    if chunk_size is None:
        chunk_size = max(1, min(num_nodes, entries // batch_size))
    return batch_size, chunk_size


def _count_chunk(scores: Tensor, true: Tensor, start: int,
                 rows: Tensor, cols: Tensor, target: Tensor):
    # `rows`, `cols`: filtered candidates of this chunk (cols global).
    if not bool(torch.isfinite(scores.sum(dim=1)).all()):
        nan = torch.isnan(scores).any(dim=1)
        if bool(nan.any()):
            raise NaNScoreError('NaN scores', nan.nonzero().view(-1).cpu())
    if not scores.is_floating_point():
        scores = scores.double()
    true = true.to(scores.dtype).view(-1, 1)
    at_least = scores >= true
    above = scores > true
    if rows.numel() > 0:
        at_least[rows, cols - start] = False
        above[rows, cols - start] = False
    inside = (target >= start) & (target < start + scores.size(1))
    if bool(inside.any()):  # The true answer: never filtered, a tie.
        idx = inside.nonzero().view(-1)
        at_least[idx, target[idx] - start] = True
        above[idx, target[idx] - start] = False
    return above.sum(dim=1), at_least.sum(dim=1)


def chunked_ranks(score: ChunkScorer, node: Tensor, rel_type: Tensor,
                  target: Tensor, num_nodes: int, known: Optional[Callable],
                  batch_size: int, chunk_size: int,
                  progress: Optional[Callable[[int], None]] = None) -> Ranks:
    r"""Ranks the true answers :obj:`target` of the queries
    :obj:`(node, rel_type)` among all :obj:`num_nodes` candidates, scored
    :obj:`chunk_size` at a time, with the same tie handling and filtering
    as :func:`~pyg_mmkg.evaluation.compute_ranks` (the true answer is never
    filtered).

    Queries are sorted by the chunk of their true answer, and each batch
    (queries whose answers share a chunk) scores that chunk first, so the
    true score is read from the very computation its competitors come from
    (one pass over the candidates, no [B, N] matrix).

    Args:
        score (callable): :obj:`score(node, rel_type, start, end)` returns
            the scores :obj:`[B, end - start]` (see
            :func:`candidate_scorer`).
        node (torch.Tensor): The query entities :obj:`[Q]`.
        rel_type (torch.Tensor): The query relations :obj:`[Q]`.
        target (torch.Tensor): The true answers :obj:`[Q]`.
        num_nodes (int): The number of candidates.
        known (callable, optional): :obj:`known(node, rel_type)` returns
            the :obj:`(row, col)` pairs of known answers to filter (*e.g.*
            :meth:`FilterIndex.tails`), or :obj:`None` (raw setting).
        batch_size (int): At most this many queries per batch.
        chunk_size (int): Candidates per chunk.
        progress (callable, optional): Called with the number of queries
            done after each batch. (default: :obj:`None`)
    """
    num_queries = target.numel()
    device = target.device
    optimistic = torch.empty(num_queries, dtype=torch.long, device=device)
    pessimistic = torch.empty_like(optimistic)
    group = target.div(chunk_size, rounding_mode='floor')
    order = torch.sort(group, stable=True).indices
    group_sorted = group[order]
    bounds = torch.unique_consecutive(group_sorted, return_counts=True)[1]
    starts = (torch.cumsum(bounds, 0) - bounds).tolist()
    num_chunks = (num_nodes + chunk_size - 1) // chunk_size
    for g_start, g_count in zip(starts, bounds.tolist()):
        for b in range(g_start, g_start + g_count, batch_size):
            idx = order[b:min(b + batch_size, g_start + g_count)]
            n, r, t = node[idx], rel_type[idx], target[idx]
            rows = cols = None
            if known is not None:
                rows, cols = known(n, r)
                perm = cols.argsort()
                rows, cols = rows[perm], cols[perm]
            first = int(group_sorted[b])
            above = torch.zeros(idx.numel(), dtype=torch.long,
                                device=device)
            at_least = torch.zeros_like(above)
            true = None
            for c in [first] + [c for c in range(num_chunks) if c != first]:
                start = c * chunk_size
                end = min(start + chunk_size, num_nodes)
                scores = score(n, r, start, end)
                if true is None:
                    true = scores.gather(1, (t - start).view(-1, 1)).view(-1)
                if rows is not None:
                    lo, hi = torch.searchsorted(
                        cols, torch.tensor([start, end], device=device)
                    ).tolist()
                    f_rows, f_cols = rows[lo:hi], cols[lo:hi]
                else:
                    f_rows = f_cols = target.new_empty(0)
                try:
                    a, al = _count_chunk(scores, true, start, f_rows, f_cols,
                                         t)
                except NaNScoreError as e:
                    raise NaNScoreError(str(e), idx[e.rows.to(device)]
                                        .cpu()) from None
                above += a
                at_least += al
                del scores
            optimistic[idx] = above + 1
            pessimistic[idx] = at_least
            if progress is not None:
                progress(idx.numel())
    return Ranks(optimistic, pessimistic)
