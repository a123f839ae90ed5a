r"""Training: the :class:`Trainer`, its configuration, checkpoints, trackers
and the model registry."""
from pyg_mmkg.train.batches import TrainBatch
from pyg_mmkg.train.checkpoint import (CheckpointError, atomic_save,
                                       get_rng_state, load_checkpoint,
                                       save_checkpoint, seed_everything,
                                       set_rng_state)
from pyg_mmkg.train.config import TrainConfig
from pyg_mmkg.train.early_stopping import EarlyStopping
from pyg_mmkg.train.lock import RunDirLock, RunDirLockedError
from pyg_mmkg.train.plots import plot_curves
from pyg_mmkg.train.registry import get_model, list_models, register_model
from pyg_mmkg.train.run import build_model, load_data, load_run
from pyg_mmkg.train.trackers import (ConsoleTracker, CSVTracker,
                                     JSONLinesTracker, MultiTracker,
                                     TensorBoardTracker, Tracker,
                                     get_tracker, read_jsonl)
from pyg_mmkg.train.trainer import Trainer
from pyg_mmkg.train.distributed import DistributedError, DistributedTrainer

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
]
