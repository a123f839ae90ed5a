"""Building blocks of :class:`~pyg_mmkg.train.DistributedTrainer`: process
group set-up, shards of global batches, distributed evaluation and clear
errors when a rank dies."""
import contextlib
import os
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any, Dict, Iterator, List, Optional

import torch
import torch.distributed as dist
from torch import Tensor

from pyg_mmkg.train.batches import TrainBatch

#: Seconds a collective waits for the other ranks before the job fails.
DEFAULT_TIMEOUT_S = 300.0


class DistributedError(RuntimeError):
    r"""Raised on a rank when a collective operation of data-parallel
    training fails, usually because another rank died or stalled past the
    timeout."""


def backend_for(device: torch.device) -> str:
    r"""The :mod:`torch.distributed` backend of a device: :obj:`"nccl"` on
    CUDA, :obj:`"gloo"` otherwise.

    Args:
        device (torch.device): The device of the rank.
    """
    return 'nccl' if device.type == 'cuda' else 'gloo'


def launched_distributed() -> bool:
    r"""Whether this process was started by :obj:`torchrun` (or an
    equivalent launcher) with more than one process, *i.e.*, the environment
    variable :obj:`WORLD_SIZE` is above one."""
    return int(os.environ.get('WORLD_SIZE', '1')) > 1


def init_distributed(device: torch.device,
                     timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    r"""Joins the default process group, unless one exists, with the
    backend of :obj:`device` (see :func:`backend_for`) and a timeout, from
    the environment variables :obj:`torchrun` sets (:obj:`RANK`,
    :obj:`WORLD_SIZE`, :obj:`MASTER_ADDR`, :obj:`MASTER_PORT`). Returns the
    backend.

    Args:
        device (torch.device): The device of this rank.
        timeout_s (float, optional): Seconds a collective waits for the
            other ranks. (default: :obj:`300.0`)

    Raises:
        RuntimeError: :mod:`torch.distributed` is unavailable, the
            environment does not describe a process group, or an existing
            group's backend does not suit :obj:`device`.
    """
    if not dist.is_available():  # pragma: no cover - builds without it
        raise RuntimeError('This PyTorch build has no torch.distributed')
    backend = backend_for(device)
    if dist.is_initialized():
        have = dist.get_backend()
        if backend == 'nccl' and 'nccl' not in have:
            raise RuntimeError(f"The process group uses '{have}' but the "
                               f"model is on {device}: use 'nccl' on CUDA")
        if backend == 'gloo' and 'gloo' not in have:
            raise RuntimeError(f"The process group uses '{have}' but the "
                               f"model is on {device}: use 'gloo' on CPU")
        return have
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR',
                           'MASTER_PORT') if k not in os.environ]
    if missing:
        raise RuntimeError(
            f"No process group: start the job with torchrun "
            f"(--nproc-per-node K) or call "
            f"torch.distributed.init_process_group first (missing "
            f"environment variables: {', '.join(missing)})")
    dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    return backend


def sparse_modules(model: torch.nn.Module) -> List[str]:
    r"""The names of the submodules of :obj:`model` that produce sparse
    gradients (:class:`~torch.nn.Embedding` or
    :class:`~torch.nn.EmbeddingBag` with :obj:`sparse=True`).

    Args:
        model (torch.nn.Module): The model.
    """
    return [name for name, m in model.named_modules()
            if isinstance(m, (torch.nn.Embedding, torch.nn.EmbeddingBag))
            and getattr(m, 'sparse', False)]


def check_sparse_support(model: torch.nn.Module, backend: str) -> None:
    r"""Raises a :class:`ValueError` if :obj:`model` has sparse embeddings
    and :obj:`backend` cannot all-reduce sparse gradients
    (DistributedDataParallel does so with :obj:`gloo` only).

    Args:
        model (torch.nn.Module): The model.
        backend (str): The process group's backend.
    """
    names = sparse_modules(model)
    if names and 'gloo' not in backend:
        raise ValueError(
            f"{type(model).__name__} has sparse embeddings "
            f"({', '.join(names[:3])}) and DistributedDataParallel "
            f"all-reduces sparse gradients with the 'gloo' backend only "
            f"(this job uses '{backend}'): build the embeddings with "
            f"sparse=False (a dense optimiser; on the command line "
            f"--embedding-optimizer dense) or train on CPU with gloo")


@dataclass
class ShardBatch(TrainBatch):
    r"""The shard of a global :class:`~pyg_mmkg.train.TrainBatch` that one
    rank trains on, with the factor :obj:`loss_scale` that makes the
    averaged gradients of all ranks equal those of the global batch, and
    :obj:`share`, the number of global examples it stands for in the
    epoch's mean loss (the global batch size divided by the world size).
    """
    loss_scale: float = 1.0
    share: float = 0.0

    @property
    def num_examples(self) -> float:  # type: ignore[override]
        return self.share


def shard_batch(batch: TrainBatch, rank: int, world_size: int,
                reduction: str = 'mean') -> ShardBatch:
    r"""The contiguous shard :obj:`rank` of :obj:`world_size` of a global
    batch (rows :math:`\lfloor kB/W \rfloor` to
    :math:`\lfloor (k+1)B/W \rfloor`), with its loss scale.

    DistributedDataParallel averages the gradients of the :math:`W` ranks.
    A loss that is a mean over the :math:`b_k` examples of a shard is scaled
    by :math:`W b_k / B`, so that the average is the gradient of the global
    mean (shards may differ in size by one); a loss that is a sum over the
    examples is scaled by :math:`W`. A rank whose shard would be empty
    (fewer examples than ranks) gets one example with scale :math:`0`, so
    that it still takes part in the gradient all-reduce.

    Args:
        batch (TrainBatch): The global batch.
        rank (int): This rank.
        world_size (int): The number of ranks.
        reduction (str, optional): How the model's loss reduces over
            examples, :obj:`"mean"` or :obj:`"sum"`. (default: :obj:`"mean"`)
    """
    if reduction not in ('mean', 'sum'):
        raise ValueError(f"'loss_reduction' must be 'mean' or 'sum' (got "
                         f"'{reduction}')")
    B = batch.head_index.numel()
    start, end = B * rank // world_size, B * (rank + 1) // world_size
    scale = world_size * (end - start) / B if reduction == 'mean' else float(
        world_size)
    if end == start:  # A dummy example that contributes nothing.
        start, end, scale = 0, 1, 0.0
    values = {f.name: getattr(batch, f.name) for f in fields(TrainBatch)}
    for name, value in values.items():
        if isinstance(value, Tensor):
            values[name] = value[start:end]
    return ShardBatch(**values, loss_scale=scale, share=B / world_size)


class ShardedBatches:
    r"""Yields this rank's :class:`ShardBatch` of every global batch of
    :obj:`batches`. Every rank draws the same global batches from the same
    seeded generator (so the shards of one epoch are disjoint and their
    union is the single-process epoch) and keeps its own shard.

    Args:
        batches: The global batches (see
            :func:`~pyg_mmkg.train.batches.build_batches`).
        rank (int): This rank.
        world_size (int): The number of ranks.
        reduction (str, optional): The model's loss reduction, see
            :func:`shard_batch`. (default: :obj:`"mean"`)
    """
    def __init__(self, batches, rank: int, world_size: int,
                 reduction: str = 'mean'):
        self.batches = batches
        self.rank = rank
        self.world_size = world_size
        self.reduction = reduction

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[ShardBatch]:
        for batch in self.batches:
            yield shard_batch(batch, self.rank, self.world_size,
                              self.reduction)


def _gather_rows(x: Tensor, sizes: List[int]) -> Tensor:
    # All-gathers the 1-D tensors of all ranks (rank k holds sizes[k] rows).
    padded = x.new_zeros(max(max(sizes), 1))
    padded[:x.numel()] = x
    out = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(out, padded)
    return torch.cat([o[:n] for o, n in zip(out, sizes)])


@torch.no_grad()
def distributed_evaluate(model: Any, head_index: Tensor, rel_type: Tensor,
                         tail_index: Tensor, **kwargs) -> Dict[str, Any]:
    r""":func:`~pyg_mmkg.evaluation.evaluate` with the queries split across
    the ranks of the default process group: each rank ranks a contiguous
    shard of the triples, the ranks are all-gathered in order, and every
    rank computes the metrics of all queries, exactly those of a single
    process.

    Args:
        model: The model (the same weights on every rank).
        head_index (torch.Tensor): The head indices of all test triples.
        rel_type (torch.Tensor): Their relation types.
        tail_index (torch.Tensor): Their tail indices.
        **kwargs (optional): Arguments of
            :func:`~pyg_mmkg.evaluation.evaluate`.
    """
    from pyg_mmkg.evaluation.evaluate import _check_args, evaluate
    from pyg_mmkg.evaluation.ranks import Ranks
    from pyg_mmkg.evaluation.result import summarise
    if not (dist.is_available() and dist.is_initialized()):
        return evaluate(model, head_index, rel_type, tail_index, **kwargs)
    sides, rank_types, ks = _check_args(
        kwargs.pop('sides', ('head', 'tail')),
        kwargs.pop('rank_types', ('realistic', )), kwargs.pop('ks',
                                                              (1, 3, 10)))
    per_relation = kwargs.pop('per_relation', False)
    world, rank = dist.get_world_size(), dist.get_rank()
    n = head_index.numel()
    bounds = [n * k // world for k in range(world + 1)]
    sizes = [bounds[k + 1] - bounds[k] for k in range(world)]
    part = slice(bounds[rank], bounds[rank + 1])
    local = evaluate(model, head_index.view(-1)[part], rel_type.view(-1)[part],
                     tail_index.view(-1)[part], sides=sides, return_ranks=True,
                     **kwargs)
    ranks = {side: Ranks(_gather_rows(r.optimistic, sizes),
                         _gather_rows(r.pessimistic, sizes))
             for side, r in local.items()}
    device = ranks[sides[0]].optimistic.device
    return summarise(ranks, rel_type.view(-1).to(device, torch.long),
                     rank_types, ks, per_relation)


_DEAD_RANK_HINTS = ('gloo', 'nccl', 'connection', 'timed out', 'timeout',
                    'broken pipe', 'peer', 'socket')


@contextlib.contextmanager
def clear_collective_errors(rank: int, world_size: int, timeout_s: float):
    r"""Turns the error a failed collective raises on a surviving rank
    (*e.g.* :obj:`"Connection closed by peer"` or a timeout) into a
    :class:`DistributedError` that says what probably happened.

    Args:
        rank (int): This rank.
        world_size (int): The number of ranks.
        timeout_s (float): The collective timeout, for the message.
    """
    try:
        yield
    except RuntimeError as e:
        backend_error = getattr(dist, 'DistBackendError', ())
        message = str(e).lower()
        if isinstance(e, DistributedError) or not (
                isinstance(e, backend_error)
                or any(h in message for h in _DEAD_RANK_HINTS)):
            raise
        raise DistributedError(
            f"Rank {rank} of {world_size}: a collective operation of "
            f"data-parallel training failed, so the job stops: another "
            f"rank has probably died (its connection was lost) or stalled "
            f"past the timeout of {timeout_s:g} s. Cause: "
            f"{str(e).splitlines()[0]}"
        ) from e


def decorrelate_global_rng(rank: int, world_size: int) -> None:
    r"""Reseeds the global PyTorch generator (dropout and other random
    operations of models) differently on each rank, from a seed drawn from
    the generator all ranks share, so that ranks do not draw identical
    dropout masks for their different shards.

    Args:
        rank (int): This rank.
        world_size (int): The number of ranks.
    """
    if world_size <= 1:
        return
    seed = int(torch.randint(0, 2**62, (1, )))
    torch.manual_seed(seed + rank)


def object_from_rank0(value: Optional[Any]) -> Any:
    r"""Rank 0's :obj:`value`, broadcast to every rank (a small picklable
    object).

    Args:
        value: The object (only rank 0's is used).
    """
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
