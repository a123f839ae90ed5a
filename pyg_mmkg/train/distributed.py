"""Data-parallel training with
:class:`torch.nn.parallel.DistributedDataParallel` (see
:class:`DistributedTrainer`)."""
import math
import os
from pathlib import Path
from typing import Any, Dict, Optional

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from pyg_mmkg.train._distributed_utils import (
    DEFAULT_TIMEOUT_S, DistributedError, ShardedBatches, backend_for,
    check_sparse_support, clear_collective_errors, decorrelate_global_rng,
    distributed_evaluate, init_distributed, launched_distributed,
    object_from_rank0, shard_batch, sparse_modules)
from pyg_mmkg.train.objectives import batch_loss, needs_encoding
from pyg_mmkg.train.trainer import Trainer
from pyg_mmkg.train.utils import resolve_device

__all__ = [
    'DistributedTrainer', 'DistributedError', 'distributed_evaluate',
    'init_distributed', 'launched_distributed', 'backend_for',
    'check_sparse_support', 'sparse_modules', 'shard_batch'
]


class _StepLoss(torch.nn.Module):
    # The module DistributedDataParallel wraps: its forward is one step's
    # whole loss (encode + score + loss), scaled for the shard, so that
    # DDP's hooks all-reduce the gradients of every parameter it used.
    def __init__(self, trainer: 'DistributedTrainer'):
        super().__init__()
        self.model = trainer.model
        self._trainer = [trainer]  # Not a submodule.

    def forward(self, batch) -> torch.Tensor:
        trainer = self._trainer[0]
        encoded = (self.model.encode()
                   if needs_encoding(self.model, trainer.config) else None)
        loss = batch_loss(self.model, batch, encoded, trainer.config,
                          on_fallback=trainer._warn_fallback)
        return loss * batch.loss_scale


class DistributedTrainer(Trainer):
    r"""A :class:`~pyg_mmkg.train.Trainer` that trains one model on
    :math:`W` processes (ranks) with
    :class:`~torch.nn.parallel.DistributedDataParallel`, one per device;
    start it on every rank, *e.g.* with
    :obj:`torchrun --nproc-per-node K -m pyg_mmkg.cli train ...` (the
    command line picks this class when :obj:`WORLD_SIZE` is above one).

    * **Process group.** Joined from :obj:`torchrun`'s environment unless
      one exists, with :obj:`"nccl"` on CUDA and :obj:`"gloo"` on CPU
      (chosen from :obj:`config.device`; on CUDA, rank :obj:`LOCAL_RANK`
      uses device :obj:`LOCAL_RANK`) and a :obj:`timeout_s` after which a
      collective that waits for a dead or stalled rank fails: the job then
      stops with a :class:`DistributedError` instead of hanging.
    * **Training.** Every rank draws the same global batches (of
      :obj:`config.batch_size` examples, negatives included) from the same
      seeded generator and trains on its own contiguous shard of each; the
      shards of an epoch are disjoint and together are the single-process
      epoch. The loss of a shard is scaled (see
      :func:`~pyg_mmkg.train.distributed.shard_batch`: by
      :math:`W b_k / B` for losses that average over examples, by :math:`W`
      for models that set :obj:`loss_reduction = "sum"`, such as
      :class:`~pyg_mmkg.nn.models.IKRL`), so that the all-reduced
      (averaged) gradients equal those of the global batch and a step on
      :math:`W` ranks equals a step of one process, up to float rounding.
    * **Evaluation.** Validation and test queries are split across the
      ranks and their ranks all-gathered (see
      :func:`distributed_evaluate`): the metrics are exactly those of one
      process, on every rank.
    * **Outputs.** Checkpoints, :obj:`results.json`, plots and trackers
      are written by rank 0 only; the other ranks keep the best weights in
      memory. A checkpoint holds no world size, so a run resumes with any
      number of ranks (the other ranks read :obj:`last.pt` from
      :obj:`run_dir`, which must be on a file system they share).

    Sparse embeddings (:obj:`nn.Embedding(sparse=True)`) train with
    :obj:`gloo` only: DistributedDataParallel all-reduces sparse gradients
    with :obj:`gloo` and not with :obj:`nccl`, where this class raises a
    :class:`ValueError` at construction.

    Deviations from plain single-process training, all kept on purpose:
    the global random generator (dropout) is reseeded per rank, so
    models with dropout do not reproduce a single-process run bit for bit;
    BatchNorm statistics are per rank (no SyncBatchNorm); terms of a
    model's loss that do not decompose over examples (IKRL's norm penalty
    on the *unique* entities of a batch) are computed per shard; and every
    rank draws the whole global batch (negatives, KvsAll targets) before
    keeping its shard.

    Args:
        model (torch.nn.Module): The model (built with the same seed on
            every rank; rank 0's weights are broadcast).
        data (HeteroData): The knowledge graph.
        config (TrainConfig, optional): The configuration; its
            :obj:`batch_size` is the *global* batch size.
        run_dir (str, optional): Output folder (written by rank 0).
            (default: :obj:`None`)
        trackers (Tracker or list, optional): Trackers, used on rank 0
            only. (default: :obj:`None`)
        timeout_s (float, optional): Seconds a collective waits for the
            other ranks before the job fails. (default: :obj:`300.0`)
        **kwargs (optional): Further arguments of
            :class:`~pyg_mmkg.train.Trainer`.
    """
    def __init__(self, model: torch.nn.Module, data: Any, config=None,
                 run_dir: Optional[Any] = None, trackers: Any = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, **kwargs):
        from pyg_mmkg.train.config import TrainConfig
        device = resolve_device((config or TrainConfig()).device
                                if 'device' not in kwargs else
                                kwargs['device'])
        if device.type == 'cuda' and device.index is None:
            torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', '0')))
        self.backend = init_distributed(device, timeout_s)
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        self.timeout_s = float(timeout_s)
        check_sparse_support(model, self.backend)
        self.is_main = self.rank == 0
        self._shared_run_dir = Path(run_dir) if run_dir is not None else None
        if not self.is_main:
            run_dir, trackers = None, []
            kwargs['progress'] = False
        super().__init__(model, data, config, run_dir=run_dir,
                         trackers=trackers, **kwargs)
        # The optimiser just built may have switched the embedding tables to
        # sparse gradients (--embedding-optimizer sparse_adam|rowwise_adagrad).
        check_sparse_support(self.model, self.backend)
        reduction = getattr(self.model, 'loss_reduction', 'mean')
        self.batches = ShardedBatches(self.batches, self.rank,
                                      self.world_size, reduction)
        ids = None
        if self.device.type == 'cuda':
            ids = [self.device.index if self.device.index is not None
                   else torch.cuda.current_device()]
        self.ddp = DistributedDataParallel(
            _StepLoss(self), device_ids=ids, find_unused_parameters=True)
        decorrelate_global_rng(self.rank, self.world_size)

    @classmethod
    def from_config(cls, config, data: Any = None,
                    **kwargs) -> 'DistributedTrainer':
        r"""As :meth:`Trainer.from_config`, on every rank.

        Args:
            config (TrainConfig): The configuration.
            data (HeteroData, optional): The data (loaded from
                :obj:`config.dataset` if not given). (default: :obj:`None`)
            **kwargs (optional): Arguments of :class:`DistributedTrainer`.
        """
        return super().from_config(config, data, **kwargs)

    def _compute_loss(self, batch) -> torch.Tensor:
        return self.ddp(batch)

    def train_epoch(self) -> float:
        r"""Runs one epoch on this rank's shards; returns the mean loss per
        example of the whole (global) epoch, the same on every rank."""
        try:
            local = super().train_epoch()
        except FloatingPointError:  # Raised below on every rank at once.
            local = float('nan')
        # Every rank's count is the same (global examples / W), so the
        # global mean is the mean of the ranks' means:
        mean = torch.tensor([local], dtype=torch.float64, device=self.device)
        dist.all_reduce(mean)
        mean = float(mean) / self.world_size
        if not math.isfinite(mean):
            raise FloatingPointError(
                f'Non-finite training loss ({mean}) in epoch '
                f'{self.epoch + 1}; lower the learning rate or enable '
                f'gradient clipping')
        return mean

    def evaluate(self, split: str = 'val', **kwargs) -> Dict[str, Any]:
        r"""Filtered evaluation on :obj:`split` with the queries split
        across the ranks (see :func:`distributed_evaluate`).

        Args:
            split (str, optional): :obj:`"val"` or :obj:`"test"`.
                (default: :obj:`"val"`)
            **kwargs (optional): Arguments of
                :func:`~pyg_mmkg.evaluation.evaluate`.
        """
        h, r, t = (x.to(self.device) for x in self.split_triples[split])
        kwargs.setdefault('batch_size', self.config.eval_batch_size)
        fi = self.val_filter_index if split == 'val' else self.filter_index
        return distributed_evaluate(self.model, h, r, t,
                                    filter_index=fi.to(self.device),
                                    **kwargs)

    def fit(self, resume: bool = False) -> Dict[str, Any]:
        r"""As :meth:`Trainer.fit`, on every rank; a failed collective (a
        dead or stalled rank) raises a :class:`DistributedError`.

        Args:
            resume (bool, optional): Continue from :obj:`last.pt`, which
                may have been written with another number of ranks.
                (default: :obj:`False`)
        """
        with clear_collective_errors(self.rank, self.world_size,
                                     self.timeout_s):
            problem = object_from_rank0(
                self._start_problem(resume) if self.is_main else None)
            if problem is not None:
                kind, message = problem
                raise (FileNotFoundError if kind == 'missing' else
                       FileExistsError)(message)
            return super().fit(resume)

    def _fit_start(self):
        # The model's hook runs on every rank (it may need collectives);
        # rank 0's resulting weights are then broadcast, as DDP does at
        # construction, since the ranks' random streams differ.
        info = super()._fit_start()
        if callable(getattr(self.model, 'on_fit_start', None)):
            with torch.no_grad():
                for p in self.model.parameters():
                    dist.broadcast(p.data, src=0)
        return info

    def _start_problem(self, resume: bool):
        # Checked on rank 0 and broadcast, so that all ranks fail together.
        last = self.last_path
        if resume and (last is None or not last.exists()):
            return ('missing', f"Cannot resume: no checkpoint at '{last}'")
        if not resume and last is not None and last.exists():
            return ('exists', f"'{self.run_dir}' already holds a run; pass "
                    f"resume=True (--resume on the command line) to "
                    f"continue it or choose another run directory")
        return None

    def _save_best(self, val) -> None:
        # Rank 0 writes best.pt; the other ranks read it in load_best.
        if self.is_main or self._shared_run_dir is None:
            super()._save_best(val)

    def load_best(self) -> Optional[int]:
        r"""As :meth:`Trainer.load_best`, on every rank at once: the ranks
        other than 0 read the :obj:`best.pt` rank 0 wrote (also after a
        resume), so that all ranks evaluate the same weights."""
        dist.barrier()  # best.pt is complete.
        if self.is_main or self._shared_run_dir is None:
            return super().load_best()
        self.run_dir = self._shared_run_dir
        try:
            return super().load_best()
        finally:
            self.run_dir = None

    def _resume(self) -> None:
        if self.is_main:
            super()._resume()
        else:  # Read rank 0's checkpoint, write nothing.
            self.run_dir = self._shared_run_dir
            try:
                super()._resume()
            finally:
                self.run_dir = None
        decorrelate_global_rng(self.rank, self.world_size)
