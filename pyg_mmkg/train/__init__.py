r"""Training: the :class:`Trainer`, its configuration, checkpoints, trackers
and the model registry."""

import importlib
from typing import Any, List

# Imported on first use (PEP 562), so that `pyg-mmkg --help` and
# other light users do not pay for torch and its dependents.
_EXPORTS = {
    'TrainBatch': 'pyg_mmkg.train.batches',
    'CheckpointError': 'pyg_mmkg.train.checkpoint',
    'atomic_save': 'pyg_mmkg.train.checkpoint',
    'get_rng_state': 'pyg_mmkg.train.checkpoint',
    'load_checkpoint': 'pyg_mmkg.train.checkpoint',
    'save_checkpoint': 'pyg_mmkg.train.checkpoint',
    'seed_everything': 'pyg_mmkg.train.checkpoint',
    'set_rng_state': 'pyg_mmkg.train.checkpoint',
    'TrainConfig': 'pyg_mmkg.train.config',
    'EarlyStopping': 'pyg_mmkg.train.early_stopping',
    'RunDirLock': 'pyg_mmkg.train.lock',
    'RunDirLockedError': 'pyg_mmkg.train.lock',
    'plot_curves': 'pyg_mmkg.train.plots',
    'get_model': 'pyg_mmkg.train.registry',
    'list_models': 'pyg_mmkg.train.registry',
    'register_model': 'pyg_mmkg.train.registry',
    'build_model': 'pyg_mmkg.train.run',
    'load_data': 'pyg_mmkg.train.run',
    'load_run': 'pyg_mmkg.train.run',
    'ConsoleTracker': 'pyg_mmkg.train.trackers',
    'CSVTracker': 'pyg_mmkg.train.trackers',
    'JSONLinesTracker': 'pyg_mmkg.train.trackers',
    'MultiTracker': 'pyg_mmkg.train.trackers',
    'TensorBoardTracker': 'pyg_mmkg.train.trackers',
    'Tracker': 'pyg_mmkg.train.trackers',
    'get_tracker': 'pyg_mmkg.train.trackers',
    'read_jsonl': 'pyg_mmkg.train.trackers',
    'Trainer': 'pyg_mmkg.train.trainer',
    'DistributedError': 'pyg_mmkg.train.distributed',
    'DistributedTrainer': 'pyg_mmkg.train.distributed',
    'RowWiseAdagrad': 'pyg_mmkg.train.sparse_optim',
    'CompositeOptimizer': 'pyg_mmkg.train.sparse_optim',
    'coalesce_rows': 'pyg_mmkg.train.sparse_optim',
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f'module {__name__!r} has no attribute '
                             f'{name!r}')
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_EXPORTS))

__all__ = [
    'Trainer',
    'DistributedTrainer',
    'DistributedError',
    'TrainConfig',
    'TrainBatch',
    'EarlyStopping',
    'Tracker',
    'ConsoleTracker',
    'JSONLinesTracker',
    'CSVTracker',
    'TensorBoardTracker',
    'MultiTracker',
    'get_tracker',
    'read_jsonl',
    'plot_curves',
    'atomic_save',
    'load_checkpoint',
    'save_checkpoint',
    'CheckpointError',
    'RunDirLock',
    'RunDirLockedError',
    'get_rng_state',
    'set_rng_state',
    'seed_everything',
    'get_model',
    'register_model',
    'list_models',
    'build_model',
    'load_data',
    'load_run',
    'RowWiseAdagrad',
    'CompositeOptimizer',
    'coalesce_rows',
]
