import logging
from typing import Any, Optional, Sequence, Tuple

import torch
from torch import Tensor

from pyg_mmkg.evaluation.chunked import (candidate_scorer, chunk_sizes,
                                         chunked_ranks)
from pyg_mmkg.evaluation.filter import FilterIndex
from pyg_mmkg.evaluation.ranks import (
    RANK_TYPES,
    NaNScoreError,
    Ranks,
    compute_ranks,
)
from pyg_mmkg.evaluation.result import EvaluationResult, summarise

logger = logging.getLogger(__name__)

_CPU_BUDGET = 512 * 1024**2  # Bytes of score matrices per CPU batch.
# On CPU, score matrices that fit into the cache rank fastest (~8 MB):
_CPU_CACHE_ENTRIES = 2**21


def _is_oom(error: BaseException) -> bool:
    oom_type = getattr(torch.cuda, 'OutOfMemoryError', None)
    if oom_type is not None and isinstance(error, oom_type):
        return True
    message = str(error).lower()
    return 'out of memory' in message or "can't allocate memory" in message


def _model_device(model: Any, default: torch.device) -> torch.device:
    if isinstance(model, torch.nn.Module):
        for tensor in model.parameters():
            return tensor.device
        for tensor in model.buffers():
            return tensor.device
    return default


def _available_bytes(device: torch.device) -> int:
    if device.type == 'cuda':
        free, _ = torch.cuda.mem_get_info(device)
        return int(0.5 * free)
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    available = int(line.split()[1]) * 1024
                    return min(available // 4, _CPU_BUDGET)
    except Exception:  # Not Linux.
        pass
    return _CPU_BUDGET


class _Sizer:
    r"""Holds the query batch size (and, for the fallback path, the number of
    triples per forward call) and halves them on out-of-memory errors."""
    def __init__(self, model: Any, num_nodes: int, num_queries: int,
                 device: torch.device, fast: bool,
                 batch_size: Optional[int]):
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"'batch_size' must be positive "
                             f"(got {batch_size})")
        budget = _available_bytes(device)
        # Scores, the filtered copy and boolean comparisons, with headroom:
        per_query = max(num_nodes, 1) * 24
        auto = max(1, budget // per_query)
        if device.type != 'cuda':
            cached = _CPU_CACHE_ENTRIES // max(num_nodes, 1)
            auto = min(auto, max(16, min(cached, 1024)))
        self.chunk_size = None
        if not fast:  # Per triple: gathered embeddings and intermediates.
            dim = int(getattr(model, 'hidden_channels', 256))
            self.chunk_size = max(1, budget // (dim * 4 * 16))
            auto = max(1, min(auto, self.chunk_size // max(num_nodes, 1)))
        self.batch_size = batch_size if batch_size is not None else auto
        self.batch_size = max(1, min(self.batch_size, max(num_queries, 1)))

    def shrink(self) -> bool:
        if self.batch_size == 1 and (self.chunk_size or 1) == 1:
            return False
        self.batch_size = max(1, self.batch_size // 2)
        if self.chunk_size is not None:
            self.chunk_size = max(1, self.chunk_size // 2)
        logger.info(
            f'Out of memory during evaluation; retrying with batch_size='
            f'{self.batch_size}' + ('' if self.chunk_size is None else
                                    f' and chunk_size={self.chunk_size}'))
        return True


def _fallback_scores(model: Any, side: str, head_index: Tensor,
                     rel_type: Tensor, tail_index: Tensor, num_nodes: int,
                     chunk_size: int, encoded: Any) -> Tensor:
    r"""Scores all :obj:`B x N` candidate triples with :obj:`model(h, r, t)`
    in chunks of :obj:`chunk_size` triples."""
    num_queries = head_index.numel()
    total = num_queries * num_nodes
    kwargs = {} if encoded is None else {'encoded': encoded}
    out = []
    for start in range(0, total, chunk_size):  # Loop over chunks only.
        idx = torch.arange(start, min(start + chunk_size, total),
                           device=head_index.device)
        query = idx.div(num_nodes, rounding_mode='floor')
        cand = idx - query * num_nodes
        if side == 'tail':
            score = model(head_index[query], rel_type[query], cand, **kwargs)
        else:
            score = model(cand, rel_type[query], tail_index[query], **kwargs)
        out.append(score.view(-1))
    return torch.cat(out).view(num_queries, num_nodes)


def _check_args(sides, rank_types, ks):
    sides = (sides, ) if isinstance(sides, str) else tuple(sides)
    rank_types = ((rank_types, ) if isinstance(rank_types, str) else
                  tuple(rank_types))
    ks = (ks, ) if isinstance(ks, int) else tuple(int(k) for k in ks)
    if len(sides) == 0 or any(s not in ('head', 'tail') for s in sides):
        raise ValueError(f"'sides' must be a non-empty subset of "
                         f"('head', 'tail') (got {sides})")
    if len(rank_types) == 0 or any(r not in RANK_TYPES for r in rank_types):
        raise ValueError(f"'rank_types' must be a non-empty subset of "
                         f"{RANK_TYPES} (got {rank_types})")
    if any(k < 1 for k in ks):
        raise ValueError(f"'ks' must be positive integers (got {ks})")
    return tuple(dict.fromkeys(sides)), tuple(dict.fromkeys(rank_types)), ks


@torch.no_grad()
def evaluate(
    model: Any,
    head_index: Tensor,
    rel_type: Tensor,
    tail_index: Tensor,
    filter_index: Optional[FilterIndex] = None,
    batch_size: Optional[int] = None,
    sides: Sequence[str] = ('head', 'tail'),
    rank_types: Sequence[str] = ('realistic', ),
    ks: Sequence[int] = (1, 3, 10),
    per_relation: bool = False,
    log: bool = False,
    return_ranks: bool = False,
    memory_budget: Optional[int] = None,
    candidate_chunk_size: Optional[int] = None,
) -> EvaluationResult:
    r"""Evaluates a knowledge graph embedding model by link prediction: for
    each triple :math:`(h, r, t)`, the tail query :math:`(h, r, ?)` ranks
    :math:`t` and the head query :math:`(?, r, t)` ranks :math:`h` against
    all entities. Reports the mean rank (MR), the mean reciprocal rank (MRR)
    and Hits@k per side and pooled over both sides (:obj:`'both'`).

    Ranking is vectorised over batches of queries times all entities.
    Models with :meth:`score_tails` / :meth:`score_heads` (such as
    :class:`pyg_mmkg.nn.kge.ScoredKGEModel`) get their representations from
    a single call to :meth:`encode` (when present), passed on as
    :obj:`encoded=`. Any other :class:`torch_geometric.nn.kge.KGEModel` is
    scored through :obj:`model(head_index, rel_type, tail_index)` on chunks
    of all candidate triples.

    The model runs in evaluation mode under :obj:`torch.no_grad()`; its
    training mode is restored afterwards. On out-of-memory errors the batch
    size is halved and the batch retried.

    Args:
        model: The model to evaluate.
        head_index (torch.Tensor): The head indices of the test triples.
        rel_type (torch.Tensor): The relation types of the test triples.
        tail_index (torch.Tensor): The tail indices of the test triples.
        filter_index (FilterIndex, optional): The known true triples to
            filter out of the candidates (*filtered* setting, usually train +
            validation + test triples). If :obj:`None`, the *raw* setting is
            used. (default: :obj:`None`)
        batch_size (int, optional): The number of queries scored at once.
            If :obj:`None`, chosen from the available memory.
            (default: :obj:`None`)
        sides (Sequence[str], optional): The query sides, a subset of
            :obj:`('head', 'tail')`. (default: :obj:`('head', 'tail')`)
        rank_types (Sequence[str], optional): The tie handling, a subset of
            :obj:`('optimistic', 'pessimistic', 'realistic')` (see
            :class:`~pyg_mmkg.evaluation.Ranks`); the first one is the
            primary one. (default: :obj:`('realistic',)`)
        ks (Sequence[int], optional): The values of :math:`k` for Hits@k.
            (default: :obj:`(1, 3, 10)`)
        per_relation (bool, optional): If set to :obj:`True`, additionally
            reports the metrics of each relation. (default: :obj:`False`)
        log (bool, optional): If set to :obj:`True`, shows a progress bar.
            (default: :obj:`False`)
        return_ranks (bool, optional): If set to :obj:`True`, returns the
            :class:`~pyg_mmkg.evaluation.Ranks` of each side, a :obj:`dict`
            :obj:`{side: Ranks}`, instead of the metrics (used to gather
            the ranks of query shards, see
            :func:`pyg_mmkg.train.distributed.distributed_evaluate`).
            (default: :obj:`False`)
        memory_budget (int, optional): Bytes of score workspace. Models
            that score with the base :meth:`score_tails` of
            :class:`~pyg_mmkg.nn.kge.ScoredKGEModel` are then ranked over
            candidate chunks with running rank counts
            (:func:`~pyg_mmkg.evaluation.chunked.chunked_ranks`), never
            holding a :obj:`[B, N]` matrix, whenever the budget does not
            hold a batch of full score rows. :obj:`None` uses a quarter of
            the available memory, at most 512 MiB on CPU and half of the
            free memory on GPU. (default: :obj:`None`)
        candidate_chunk_size (int, optional): Forces chunked ranking with
            this many candidates per chunk (where the model supports it).
            (default: :obj:`None`)

    Returns:
        EvaluationResult: a :obj:`dict` such as
        :obj:`{'both': {'num_queries': .., 'mr': .., 'mrr': .., 'hits@1': ..,
        'realistic': {...}}, 'head': {...}, 'tail': {...}}`.
    """
    sides, rank_types, ks = _check_args(sides, rank_types, ks)
    head_index = head_index.view(-1)
    rel_type = rel_type.view(-1)
    tail_index = tail_index.view(-1)
    if not head_index.numel() == rel_type.numel() == tail_index.numel():
        raise ValueError(f"'head_index', 'rel_type' and 'tail_index' must "
                         f"have the same number of elements (got "
                         f"{head_index.numel()}, {rel_type.numel()} and "
                         f"{tail_index.numel()})")

    device = _model_device(model, head_index.device)
    head_index, rel_type, tail_index = (x.to(device, torch.long) for x in (
        head_index, rel_type, tail_index))
    fast = (callable(getattr(model, 'score_tails', None))
            and callable(getattr(model, 'score_heads', None)))
    num_nodes = getattr(model, 'num_nodes', None)
    if num_nodes is None and filter_index is not None:
        num_nodes = filter_index.num_nodes
    if num_nodes is None:
        if not fast:
            raise ValueError(
                "The model has neither 'score_tails'/'score_heads' nor a "
                "'num_nodes' attribute, so it cannot be evaluated")
        num_nodes = 0  # Only used for the batch size heuristic.
    if filter_index is not None:
        if filter_index.num_nodes != num_nodes:
            raise ValueError(f"The filter index has {filter_index.num_nodes} "
                             f"entities but the model has {num_nodes}")
        filter_index = filter_index.to(device)

    num_queries = head_index.numel()
    sizer = _Sizer(model, num_nodes, num_queries, device, fast, batch_size)
    budget = (memory_budget if memory_budget is not None else
              _available_bytes(device))
    chunks = chunk_sizes(num_nodes, num_queries, budget, batch_size,
                         candidate_chunk_size)
    chunked = candidate_chunk_size is not None or chunks[1] < num_nodes

    from tqdm.auto import tqdm
    pbar = tqdm(total=num_queries * len(sides), desc='Evaluating',
                unit='query', disable=not log)

    was_training = getattr(model, 'training', False)
    if hasattr(model, 'eval'):
        model.eval()
    try:
        encoded = None
        if callable(getattr(model, 'encode', None)):
            encoded = model.encode()
        ranks = {}
        for side in sides:
            score = candidate_scorer(model, side, encoded) if chunked else None
            if score is not None:
                ranks[side] = _rank_side_chunked(
                    score, side, head_index, rel_type, tail_index,
                    filter_index, num_nodes, chunks, pbar)
                continue
            ranks[side] = _rank_side(model, side, head_index, rel_type,
                                     tail_index, filter_index, encoded, fast,
                                     num_nodes, sizer, pbar)
    finally:
        if hasattr(model, 'train'):
            model.train(was_training)
        pbar.close()

    if return_ranks:
        return ranks
    return summarise(ranks, rel_type, rank_types, ks, per_relation)


def _nan_error(e: NaNScoreError, side: str, head_index: Tensor,
               rel_type: Tensor, tail_index: Tensor,
               start: int = 0) -> NaNScoreError:
    # The error for NaN scores of the queries e.rows (offset by start in the
    # evaluated triples), naming one of their triples.
    i = start + int(e.rows[0])
    return NaNScoreError(
        f"The model returned NaN scores for {e.rows.numel()} "
        f"{side} queries of the batch, e.g., for the triple "
        f"(head={int(head_index[i])}, relation={int(rel_type[i])}, "
        f"tail={int(tail_index[i])}); the ranking is undefined. "
        f"Check for diverged training (learning rate, loss) or "
        f"invalid input features.", e.rows + start)


def _rank_side_chunked(score, side, head_index, rel_type, tail_index,
                       filter_index, num_nodes, chunks, pbar) -> Ranks:
    known = None
    if filter_index is not None:
        known = (filter_index.tails if side == 'tail' else
                 lambda node, rel: filter_index.heads(rel, node))
    node, target = ((head_index, tail_index) if side == 'tail' else
                    (tail_index, head_index))
    try:
        return chunked_ranks(score, node, rel_type, target, num_nodes, known,
                             *chunks, progress=pbar.update)
    except NaNScoreError as e:
        raise _nan_error(e, side, head_index, rel_type, tail_index) from None


def _rank_side(model, side, head_index, rel_type, tail_index, filter_index,
               encoded, fast, num_nodes, sizer, pbar) -> Ranks:
    num_queries = head_index.numel()
    optimistic = torch.empty(num_queries, dtype=torch.long,
                             device=head_index.device)
    pessimistic = torch.empty_like(optimistic)
    kwargs = {} if encoded is None else {'encoded': encoded}

    start = 0
    while start < num_queries:
        end = min(start + sizer.batch_size, num_queries)
        h, r = head_index[start:end], rel_type[start:end]
        t = tail_index[start:end]
        oom = False
        try:
            if fast and side == 'tail':
                scores = model.score_tails(h, r, **kwargs)
            elif fast:
                scores = model.score_heads(r, t, **kwargs)
            else:
                scores = _fallback_scores(model, side, h, r, t, num_nodes,
                                          sizer.chunk_size, encoded)
            if scores.dim() != 2 or scores.size(0) != end - start or (
                    num_nodes > 0 and scores.size(1) != num_nodes):
                raise ValueError(f"Expected scores of shape [{end - start}, "
                                 f"{num_nodes or 'num_nodes'}] from the "
                                 f"model (got {tuple(scores.shape)})")
            row = col = None
            if filter_index is not None and side == 'tail':
                row, col = filter_index.tails(h, r)
            elif filter_index is not None:
                row, col = filter_index.heads(r, t)
            target = t if side == 'tail' else h
            batch_ranks = compute_ranks(scores, target, row, col,
                                        inplace=True)
            del scores
        except NaNScoreError as e:
            raise _nan_error(e, side, head_index, rel_type, tail_index,
                             start) from None
        except RuntimeError as e:
            if not _is_oom(e) or not sizer.shrink():
                raise
            oom = True
        if oom:  # Outside of `except` so that the traceback is released.
            if head_index.is_cuda:
                torch.cuda.empty_cache()
            continue
        optimistic[start:end] = batch_ranks.optimistic
        pessimistic[start:end] = batch_ranks.pessimistic
        pbar.update(end - start)
        start = end
    return Ranks(optimistic, pessimistic)


def kge_test(
    model: Any,
    head_index: Tensor,
    rel_type: Tensor,
    tail_index: Tensor,
    batch_size: Optional[int] = None,
    k: int = 10,
    filter_index: Optional[FilterIndex] = None,
    log: bool = False,
) -> Tuple[float, float, float]:
    r"""A drop-in replacement for
    :meth:`torch_geometric.nn.kge.KGEModel.test` returning
    :obj:`(mean_rank, mrr, hits_at_k)`, but with 1-based realistic ranks
    (ties share the mean of their positions), averaged over head *and* tail
    queries, filtered when :obj:`filter_index` is given, and vectorised.

    Args:
        model: The model to evaluate.
        head_index (torch.Tensor): The head indices.
        rel_type (torch.Tensor): The relation types.
        tail_index (torch.Tensor): The tail indices.
        batch_size (int, optional): The number of queries scored at once,
            chosen from the available memory if :obj:`None`. Note that PyG's
            :obj:`batch_size` counts candidate triples per forward call
            instead. (default: :obj:`None`)
        k (int, optional): The :math:`k` in Hits@:math:`k`.
            (default: :obj:`10`)
        filter_index (FilterIndex, optional): The known true triples to
            filter out. (default: :obj:`None`)
        log (bool, optional): If set to :obj:`True`, shows a progress bar.
            (default: :obj:`False`)
    """
    result = evaluate(model, head_index, rel_type, tail_index,
                      filter_index=filter_index, batch_size=batch_size,
                      ks=(k, ), log=log)
    both = result['both']
    return both['mr'], both['mrr'], both[f'hits@{k}']
