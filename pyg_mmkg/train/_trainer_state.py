"""The :class:`~pyg_mmkg.train.Trainer`'s run-directory paths, checkpoints
and resume (a mixin, to keep the training loop in its own file)."""
import copy
from pathlib import Path
from typing import Any, Dict, Optional

import torch

from pyg_mmkg.data.io import shorten
from pyg_mmkg.train.checkpoint import (RESUME_KEYS, CheckpointError,
                                       get_rng_state, load_checkpoint,
                                       set_rng_state)
from pyg_mmkg.train.checkpoint import save_checkpoint as write_checkpoint


class CheckpointMixin:
    r"""Paths, :meth:`state_dict` / :meth:`load_state_dict`, the
    :obj:`last.pt` and :obj:`best.pt` checkpoints and resuming, for
    :class:`~pyg_mmkg.train.Trainer`."""
    run_dir: Optional[Path]

    # Paths ##################################################################

    def _path(self, *parts: str) -> Optional[Path]:
        return None if self.run_dir is None else self.run_dir.joinpath(*parts)

    @property
    def last_path(self) -> Optional[Path]:
        return self._path('checkpoints', 'last.pt')

    @property
    def best_path(self) -> Optional[Path]:
        return self._path('checkpoints', 'best.pt')

    # Checkpoints ############################################################

    def state_dict(self) -> Dict[str, Any]:
        r"""Everything needed to continue training exactly."""
        return {
            'version': 1,
            'epoch': self.epoch,
            'finished': self.finished,
            'model': self.model.state_dict(),
            'optimizer': self.optimizer.state_dict(),
            'scheduler': (None if self.scheduler is None else
                          self.scheduler.state_dict()),
            'scaler': self.scaler.state_dict(),
            'early_stopping': self.stopper.state_dict(),
            'rng': get_rng_state(self.generator),
            'history': self.history,
            'config': self.config.to_dict(),
        }

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.model.load_state_dict(state['model'])
        self.optimizer.load_state_dict(state['optimizer'])
        if self.scheduler is not None and state['scheduler'] is not None:
            self.scheduler.load_state_dict(state['scheduler'])
        self.scaler.load_state_dict(state['scaler'])
        self.stopper.load_state_dict(state['early_stopping'])
        set_rng_state(state['rng'], self.generator)
        self.epoch = int(state['epoch'])
        self.finished = bool(state['finished'])
        self.history = list(state['history'])

    def save_checkpoint(self) -> None:
        if self.last_path is not None:
            write_checkpoint(self.state_dict(), self.last_path)

    def _save_best(self, val: Dict[str, float]) -> None:
        # Tensors, plus any module extra state (e.g. MoMoK's estimator
        # optimizer), copied so later in-place updates do not reach them.
        state = {k: (v.detach().clone() if torch.is_tensor(v) else
                     copy.deepcopy(v))
                 for k, v in self.model.state_dict().items()}
        if self.best_path is None:
            self._best_state = state
        else:
            write_checkpoint({'model': state, 'epoch': self.epoch, 'val': val,
                         'metric': self.config.metric}, self.best_path)

    def load_best(self) -> Optional[int]:
        r"""Loads the validation-selected weights into :obj:`model`; returns
        their epoch (or :obj:`None` if there is no best model)."""
        if self.best_path is not None and self.best_path.exists():
            best = load_checkpoint(self.best_path, 'cpu')
            self.model.load_state_dict(best['model'])
            return int(best['epoch'])
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)
            return self.stopper.best_epoch
        return None

    def _resume(self) -> None:
        if self.last_path is None or not self.last_path.exists():
            raise FileNotFoundError(
                f"Cannot resume: no checkpoint at '{self.last_path}'")
        state = load_checkpoint(self.last_path, 'cpu', required=RESUME_KEYS)
        try:
            self.load_state_dict(state)
        except (KeyError, ValueError, RuntimeError, TypeError) as e:
            raise CheckpointError(self.last_path, f'does not fit this model '
                                  f'and configuration ({shorten(e)})') from e
        self.tracker.truncate(self.epoch)
        # A finished run continues if more epochs are asked for now, unless
        # it stopped early:
        self.finished = (self.stopper.should_stop
                         or self.epoch >= self.config.epochs)
