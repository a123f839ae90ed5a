"""The training loop: epochs, validation, checkpoints, resume."""
import contextlib
import copy
import json
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Union

import torch
from tqdm.auto import tqdm

from pyg_mmkg.train.batches import build_batches
from pyg_mmkg.train._trainer_state import CheckpointMixin
from pyg_mmkg.train.checkpoint import (atomic_write_text, load_checkpoint,
                                       seed_everything)
from pyg_mmkg.train.checkpoint import save_checkpoint as write_checkpoint
from pyg_mmkg.train.lock import RunDirLock
from pyg_mmkg.train.config import TrainConfig
from pyg_mmkg.train.early_stopping import EarlyStopping
from pyg_mmkg.train.objectives import batch_loss, needs_encoding
from pyg_mmkg.train.optim import build_optimizer, build_scheduler
from pyg_mmkg.train.recipes import (apply_recipe, describe_recipe,
                                    recipe_record,
                                    unpublished_regime_message)
from pyg_mmkg.train.run import config_for_model, model_record
from pyg_mmkg.train.utils import resolve_device, summarize
from pyg_mmkg.train.trackers import (ConsoleTracker, CSVTracker,
                                     JSONLinesTracker, MultiTracker, Tracker,
                                     read_jsonl)


class Trainer(CheckpointMixin):
    r"""Trains a knowledge graph embedding model (any
    :class:`~pyg_mmkg.nn.kge.ScoredKGEModel`, or a plain PyG
    :class:`~torch_geometric.nn.kge.KGEModel` for sLCWA) on the training
    triples of :obj:`data`, selects the epoch with the best *validation*
    metric, and evaluates that model on the test triples at the end.

    Each step computes :obj:`encoded = model.encode()` once and scores the
    positives and negatives (sLCWA) or all tails of the 1-N queries
    (KvsAll/1vsAll, with reciprocal relations) on it. A model that defines
    :obj:`training_loss(batch, encoded)` supplies its own objective (see
    :class:`~pyg_mmkg.train.TrainBatch`); returning :obj:`None` falls back
    to the configured loss. A model's :obj:`after_step()`, if it defines
    one, runs after every optimiser step (*e.g.* to project embeddings onto
    a norm ball). A model that defines :obj:`on_fit_start(trainer)` has
    it called once before the first epoch of a new (not resumed) fit
    (*e.g.* IMF's optional structural pre-training); a dict it returns is
    reported as :obj:`fit_start` in the results (kept in the run folder's
    :obj:`fit_start.json`, so a resumed fit reports it too). A model that
    defines :obj:`on_fit_end(trainer)` has it called on the selected model
    after training, before the final evaluation (*e.g.* to fit an ensemble on
    :obj:`trainer.split_triples['val']`); the weights it leaves are saved
    to :obj:`best.pt`.

    With a :obj:`run_dir`, every epoch atomically writes
    :obj:`checkpoints/last.pt` (model, optimiser, scheduler, early-stopping
    and all random-number-generator states), and :obj:`fit(resume=True)`
    continues an interrupted run to exactly the result of an uninterrupted
    one. The directory also receives :obj:`config.json`,
    :obj:`metrics.jsonl`, :obj:`metrics.csv`, :obj:`checkpoints/best.pt`,
    :obj:`plots/` and :obj:`results.json`. Checkpoints carry a SHA-256
    checksum that is verified on loading (see
    :func:`~pyg_mmkg.train.checkpoint.load_checkpoint`), and :meth:`fit`
    holds an exclusive lock on :obj:`run_dir/.lock` (see
    :class:`~pyg_mmkg.train.lock.RunDirLock`), so a second run started in
    the same directory fails at once.

    .. note::
        The trainer seeds Python, NumPy and PyTorch with
        :obj:`config.seed` when it is created. Seed before building the
        model as well (or use :meth:`from_config`), so that the initial
        weights are reproducible too.

    Args:
        model (torch.nn.Module): The model.
        data (HeteroData): The knowledge graph (pyg-mmkg data contract).
        config (TrainConfig, optional): The configuration. Every field
            not set explicitly takes the value of the model's published
            recipe (:mod:`pyg_mmkg.train.recipes`; per dataset with
            :obj:`dataset=...`), unless :obj:`recipe="none"`; the recipe
            used is :attr:`recipe` and, with a :obj:`run_dir`,
            :obj:`recipe.json`. A regime the method does not publish warns
            once. (default: :obj:`TrainConfig()`)
        run_dir (str, optional): Output folder; without one nothing is
            written and the best model is kept in memory.
            (default: :obj:`None`)
        trackers (Tracker or list, optional): Trackers; by default console
            plus, with a :obj:`run_dir`, JSON lines and CSV.
            (default: :obj:`None`)
        filter_index (FilterIndex, optional): Known true triples for
            filtered ranking of every split. If not given, test is filtered
            with train + val + test and validation with the triples named
            by :obj:`config.val_filter` (train + val by default, so that
            test triples never reach model selection).
            (default: :obj:`None`)
        plot (bool): Save loss/metric plots into :obj:`run_dir/plots` at
            the end (needs matplotlib). (default: :obj:`True`)
        **overrides (optional): Config fields to override.
    """
    def __init__(self, model: torch.nn.Module, data: Any,
                 config: Optional[TrainConfig] = None,
                 run_dir: Optional[Union[str, Path]] = None,
                 trackers: Optional[Union[Tracker, Iterable[Tracker]]] = None,
                 filter_index: Any = None, plot: bool = True,
                 **overrides):
        from pyg_mmkg.data import (check_split_overlap, num_entities,
                                   num_relations, triples)
        check_split_overlap(data)  # unless the data opted in (DB15K)
        config = config or TrainConfig()
        if overrides:
            config = config.replace(**overrides)
        # The model is built: its published recipe fills every training
        # field the user did not set (not the model's own arguments).
        config, self.recipe = apply_recipe(config, model,
                                           skip=('dim', 'model_kwargs'))
        config.check_loss_regime()
        config = _drop_ignored_fields(config, model, self.recipe)
        # Record the model actually trained, not the config's defaults:
        config = config_for_model(config, model)
        self.config = config
        self._fallback_warned = False
        #: Print the recipe line at the start of :meth:`fit` (with
        #: :obj:`progress`); the command line prints it itself.
        self.announce_recipe = True
        if self.recipe is not None:
            message = unpublished_regime_message(config, self.recipe, model)
            if message is not None:
                warnings.warn(message, stacklevel=2)
        own = getattr(model, 'own_regularizer', None)
        if own and config.regularizer != 'none' and (
                config.regularizer_weight > 0):
            warnings.warn(
                f"{type(model).__name__}.training_loss already adds its own "
                f"'{own}' regulariser; regularizer='{config.regularizer}' "
                f"(weight {config.regularizer_weight}) adds a second one "
                f"on top", stacklevel=2)
        if config.deterministic:
            # cuBLAS needs this to be reproducible (set before CUDA work):
            os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
            torch.use_deterministic_algorithms(True, warn_only=True)
        seed_everything(config.seed)
        if config.reciprocal and not (hasattr(model, 'score_tails') and
                                      getattr(model, 'reciprocal', False)):
            raise ValueError(
                f"regime='{config.regime}' scores 1-N queries with "
                f"reciprocal relations and needs a model with 'score_tails' "
                f"built with reciprocal=True (got "
                f"{model.__class__.__name__}); use regime='slcwa' otherwise")
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        self.data = data
        self.num_nodes = num_entities(data)
        self.num_relations = num_relations(data)
        self.split_triples = {s: triples(data, s) for s in
                              ('train', 'val', 'test')}
        if self.split_triples['train'][0].numel() == 0:
            raise ValueError('The training split is empty: nothing to train '
                             'on (check the train_mask of the data)')
        self._filter_index = filter_index
        # A given filter serves every split; otherwise validation has its own.
        self._val_filter_index = filter_index
        self.make_plots = plot
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self._lock = RunDirLock(self.run_dir) if run_dir is not None else None

        if trackers is None:
            trackers = [ConsoleTracker.compact()] if config.progress else []
            if self.run_dir is not None:
                trackers += [JSONLinesTracker(self.run_dir / 'metrics.jsonl'),
                             CSVTracker(self.run_dir / 'metrics.csv')]
        elif isinstance(trackers, Tracker):
            trackers = [trackers]
        self.tracker = MultiTracker(trackers)

        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(config.seed)
        self.batches = build_batches(self.split_triples['train'],
                                     self.num_nodes, self.num_relations,
                                     config, self.generator, self.device)
        self.optimizer = build_optimizer(config, self.model,
                                         self.device)
        self.scheduler = build_scheduler(config, self.optimizer)
        self.stopper = EarlyStopping(config.patience,
                                     min_epochs=config.min_epochs)
        self.amp = config.amp and self.device.type == 'cuda'
        self.amp_dtype = (torch.bfloat16 if self.amp
                          and torch.cuda.is_bf16_supported() else
                          torch.float16)
        self.scaler = torch.amp.GradScaler(
            'cuda', enabled=self.amp and self.amp_dtype == torch.float16)
        if config.amp and not self.amp:
            warnings.warn('amp=True is ignored on CPU', stacklevel=2)
        self.epoch = 0
        self.history = []
        self.finished = False
        self.fit_start_info: Optional[Dict[str, Any]] = None
        self._best_state: Optional[Dict[str, torch.Tensor]] = None

    # Construction ###########################################################

    @classmethod
    def from_config(cls, config: TrainConfig, data: Any = None,
                    **kwargs) -> 'Trainer':
        r"""Seeds, loads the dataset (if :obj:`data` is not given), drops
        the features of modalities not in :obj:`config.modalities` and
        builds the model named in :obj:`config` (after applying the model's
        published recipe to the fields not set explicitly).

        Args:
            config (TrainConfig): The run configuration.
            data (torch_geometric.data.HeteroData, optional): The dataset;
                loaded from :obj:`config.dataset` and :obj:`config.root` if
                not given. (default: :obj:`None`)
            **kwargs: Further arguments of the :class:`Trainer` constructor.
        """
        from pyg_mmkg.train.run import (build_model, load_data,
                                        select_modalities)
        config, _ = apply_recipe(config, config.model)
        if data is None:
            data = load_data(config.dataset, config.root, config.modalities)
        else:
            data = select_modalities(data, config.modalities)
        seed_everything(config.seed)
        model = build_model(config, data)
        return cls(model, data, config, **kwargs)

    @property
    def filter_index(self):
        if self._filter_index is None:
            from pyg_mmkg.evaluation import FilterIndex
            self._filter_index = FilterIndex.from_triples(
                list(self.split_triples.values()), self.num_nodes,
                self.num_relations)
        return self._filter_index

    @property
    def val_filter_index(self):
        r"""The filter of validation ranking (model selection): train + val
        unless :obj:`config.val_filter` is :obj:`"train+val+test"` or a
        :obj:`filter_index` was given."""
        if self.config.val_filter == 'train+val+test':
            return self.filter_index
        if self._val_filter_index is None:
            from pyg_mmkg.evaluation import FilterIndex
            self._val_filter_index = FilterIndex.from_triples(
                [self.split_triples['train'], self.split_triples['val']],
                self.num_nodes, self.num_relations)
        return self._val_filter_index

    # Training ###############################################################

    def _autocast(self):
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast('cuda', dtype=self.amp_dtype)

    def training_step(self, batch) -> torch.Tensor:
        r"""One optimisation step on :obj:`batch`; returns the (detached)
        loss without synchronising with the device.

        Args:
            batch (TrainBatch): The training batch, on the trainer's device.
        """
        self.optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            loss = self._compute_loss(batch)
        self.scaler.scale(loss).backward()
        if self.config.grad_clip is not None:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(),
                                           self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if callable(getattr(self.model, 'after_step', None)):
            self.model.after_step()  # E.g. max-norm constraints (IKRL).
        return loss.detach()

    def _compute_loss(self, batch) -> torch.Tensor:
        # The loss to back-propagate (overridden by DistributedTrainer,
        # which runs it through DistributedDataParallel).
        encoded = (self.model.encode()
                   if needs_encoding(self.model, self.config) else None)
        return batch_loss(self.model, batch, encoded, self.config,
                          on_fallback=self._warn_fallback)

    def _warn_fallback(self, message: str) -> None:
        # Once per trainer, and only where the regime is not the published
        # one (a published recipe may rely on the trainer's loss).
        if self._fallback_warned or (self.recipe is not None and
                                     self.config.regime in
                                     self.recipe.regimes):
            return
        self._fallback_warned = True
        warnings.warn(message, stacklevel=3)

    def train_epoch(self) -> float:
        r"""Runs one epoch; returns the mean loss per example. Raises a
        :class:`FloatingPointError` if the loss became NaN or infinite."""
        self.model.train()
        total = torch.zeros((), device=self.device)
        count = 0
        bar = tqdm(self.batches, desc=f'epoch {self.epoch + 1}', leave=False,
                   disable=not self.config.progress)
        for batch in bar:
            loss = self.training_step(batch)
            total += loss.float() * batch.num_examples
            count += batch.num_examples
            if self.config.progress:  # Synchronises; only when shown.
                bar.set_postfix(loss=f'{float(loss):.4f}')
        mean = float(total) / max(count, 1)
        if not math.isfinite(mean):
            raise FloatingPointError(
                f'Non-finite training loss ({mean}) in epoch '
                f'{self.epoch + 1}; lower the learning rate or enable '
                f'gradient clipping')
        return mean

    @torch.no_grad()
    def evaluate(self, split: str = 'val',
                 **kwargs) -> Dict[str, Any]:
        r"""Filtered link-prediction evaluation of the current model on
        :obj:`split`; :obj:`kwargs` go to
        :func:`pyg_mmkg.evaluation.evaluate`.

        Args:
            split (str, optional): :obj:`"train"`, :obj:`"val"` (filtered
                with :attr:`val_filter_index`) or :obj:`"test"` (filtered
                with all known triples, or the given :obj:`filter_index`).
                (default: :obj:`"val"`)
            **kwargs: Further arguments of
                :func:`~pyg_mmkg.evaluation.evaluate` (the batch size
                defaults to :obj:`config.eval_batch_size`).
        """
        from pyg_mmkg.evaluation import evaluate
        h, r, t = (x.to(self.device) for x in self.split_triples[split])
        kwargs.setdefault('batch_size', self.config.eval_batch_size)
        fi = self.val_filter_index if split == 'val' else self.filter_index
        return evaluate(self.model, h, r, t, filter_index=fi.to(self.device),
                        **kwargs)

    def _has_val(self) -> bool:
        return self.split_triples['val'][0].numel() > 0

    def fit(self, resume: bool = False) -> Dict[str, Any]:
        r"""Trains (or, with :obj:`resume=True`, continues training from
        :obj:`run_dir/checkpoints/last.pt`), then evaluates the best model
        on the validation and test splits.

        On the CPU, graphs of fewer than
        :data:`~pyg_mmkg.utils.threads.SMALL_GRAPH_ENTITIES` entities train
        with one thread unless the number was chosen (see
        :mod:`pyg_mmkg.utils.threads`).

        Args:
            resume (bool, optional): If set to :obj:`True`, training resumes
                from the last checkpoint of :obj:`run_dir`.
                (default: :obj:`False`)

        Returns:
            The results (also written to :obj:`results.json`).

        Raises:
            RunDirLockedError: Another run holds :obj:`run_dir` (an
                exclusive lock is held for the duration of :meth:`fit`).
        """
        from pyg_mmkg.utils.threads import graph_threads
        with graph_threads(self.num_nodes, self.device):  # small graphs
            if self._lock is None:
                return self._fit(resume)
            with self._lock:
                return self._fit(resume)

    def _fit(self, resume: bool) -> Dict[str, Any]:
        cfg = self.config
        if resume:
            self._resume()
        elif self.last_path is not None and self.last_path.exists():
            raise FileExistsError(
                f"'{self.run_dir}' already holds a run; pass resume=True "
                f"(--resume on the command line) to "
                f"continue it or choose another run directory")
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            cfg.save(self.run_dir / 'config.json')
            atomic_write_text(self.run_dir / 'recipe.json', json.dumps(
                recipe_record(cfg, self.recipe, self.model), indent=2,
                default=repr) + '\n')
            atomic_write_text(self.run_dir / 'model.json', json.dumps(
                model_record(cfg, self.model, self.data), indent=2) + '\n')
        if not resume:
            if cfg.progress and self.announce_recipe:
                tqdm.write(describe_recipe(cfg, self.recipe, self.model))
            self.tracker.log_params(cfg.to_dict())
            self.fit_start_info = self._fit_start()
            if self.run_dir is not None and self.fit_start_info:
                # Kept beside the checkpoints, so a resumed fit reports it.
                atomic_write_text(self.run_dir / 'fit_start.json',
                                  json.dumps(self.fit_start_info, indent=2,
                                             default=repr) + '\n')
        elif self.run_dir is not None and \
                (self.run_dir / 'fit_start.json').exists():
            self.fit_start_info = json.loads(
                (self.run_dir / 'fit_start.json').read_text())
        if not self._has_val():
            warnings.warn('No validation triples: the last epoch is kept as '
                          'the final model', stacklevel=2)

        start_time = time.perf_counter()
        epochs = tqdm(range(self.epoch + 1, cfg.epochs + 1), desc='training',
                      disable=not cfg.progress or self.finished,
                      initial=self.epoch, total=cfg.epochs)
        for epoch in epochs:
            if self.finished:
                break
            t0 = time.perf_counter()
            loss = self.train_epoch()
            self.epoch = epoch
            out_of_time = (cfg.max_time_s is not None and
                           time.perf_counter() - start_time >= cfg.max_time_s)
            metrics = {'loss': loss,
                       'lr': self.optimizer.param_groups[0]['lr'],
                       'time/epoch_s': time.perf_counter() - t0}
            if self._has_val() and (epoch % cfg.eval_every == 0
                                    or epoch == cfg.epochs or out_of_time):
                val = summarize(self.evaluate('val'))
                metrics.update({f'val/{k}': v for k, v in val.items()})
                value = val.get(cfg.metric, math.nan)
                if self.stopper.step(value, epoch):
                    self._save_best(val)
                if isinstance(self.scheduler,
                              torch.optim.lr_scheduler.ReduceLROnPlateau):
                    self.scheduler.step(value)
                epochs.set_postfix({f'val_{cfg.metric}': f'{value:.4f}'})
            if self.scheduler is not None and not isinstance(
                    self.scheduler,
                    torch.optim.lr_scheduler.ReduceLROnPlateau):
                self.scheduler.step()
            self.history.append(metrics)
            self.tracker.log_metrics(metrics, step=epoch)
            self.finished = (self.stopper.should_stop or epoch == cfg.epochs
                             or out_of_time)
            self.save_checkpoint()
            if self.stopper.should_stop or out_of_time:
                break
        epochs.close()
        return self._finish(time.perf_counter() - start_time)

    def _fit_start(self) -> Optional[Dict[str, Any]]:
        # The model's `on_fit_start(trainer)` hook, before the first epoch
        # of a new fit (e.g. IMF's structural pre-training); what it
        # returns goes into the results (`fit_start`).
        hook = getattr(self.model, 'on_fit_start', None)
        if not callable(hook):
            return None
        info = hook(self)
        if info and self.config.progress:
            tqdm.write(f'{type(self.model).__name__}.on_fit_start: '
                       f'{json.dumps(info, default=repr)}')
        return info

    def _finish(self, train_time: float) -> Dict[str, Any]:
        best_epoch = self.load_best()
        if best_epoch is None:
            best_epoch = self.epoch
            if self._has_val():
                warnings.warn('No validation result improved on -inf '
                              '(NaN metrics?); using the last epoch',
                              stacklevel=2)
        hook = getattr(self.model, 'on_fit_end', None)
        if callable(hook):  # E.g. fitting an ensemble on validation data.
            hook(self)
            if self.best_path is not None and self.best_path.exists():
                best = load_checkpoint(self.best_path, 'cpu')
                best['model'] = self.model.state_dict()
                write_checkpoint(best, self.best_path)
        results: Dict[str, Any] = {
            'best_epoch': best_epoch,
            'epochs_trained': self.epoch,
            'stopped_early': self.stopper.should_stop,
            'selection_metric': f'val/{self.config.metric}',
            'train_time_s': train_time,
        }
        if self.fit_start_info:
            results['fit_start'] = self.fit_start_info
        for split in ('val', 'test'):
            if self.split_triples[split][0].numel() > 0:
                results[split] = summarize(self.evaluate(split))
        if self.run_dir is not None:
            atomic_write_text(self.run_dir / 'results.json',
                              json.dumps(results, indent=2) + '\n')
            if self.make_plots:
                self.plot()
        return results

    def plot(self):
        r"""Saves loss/metric curves to :obj:`run_dir/plots` (needs
        matplotlib; skipped with a warning otherwise)."""
        from pyg_mmkg.train.plots import plot_curves
        if self.run_dir is None:
            return []
        jsonl = self._path('metrics.jsonl')
        if jsonl is not None and jsonl.exists():
            records = [r for r in read_jsonl(jsonl) if 'loss' in r]
        else:
            records = [dict(step=i + 1, **copy.deepcopy(m))
                       for i, m in enumerate(self.history)]
        return plot_curves(records, self._path('plots'))

    def close(self) -> None:
        self.tracker.close()
        if self._lock is not None:
            self._lock.release()

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.model.__class__.__name__}, '
                f'regime={self.config.regime}, epochs={self.config.epochs}, '
                f'device={self.device})')


def _drop_ignored_fields(config: TrainConfig, model: Any,
                         recipe: Any) -> TrainConfig:
    # A model whose training_loss defines its own objective for a regime
    # declares the config fields it ignores there (`ignores_config`): an
    # explicit value of one of them would be recorded but never used, so
    # warn and record the value that is in effect instead.
    ignored = getattr(model, 'ignores_config', {}).get(config.regime, ())
    default = TrainConfig(recipe='none')
    reference, changed = {}, []
    for name in ignored:
        value = default.to_dict()[name]
        if (recipe is not None and name in recipe.config
                and recipe.config.get('regime', config.regime)
                == config.regime):
            value = recipe.config[name]
        if (name in config.explicit_fields
                and getattr(config, name) != value):
            changed.append(f"--{name.replace('_', '-')} "
                           f"{getattr(config, name)!r}")
            reference[name] = value
    if not changed:
        return config
    warnings.warn(
        f"{type(model).__name__}.training_loss defines its own objective "
        f"for '{config.regime}' batches and ignores {', '.join(changed)}; "
        f"recording the values in effect instead "
        f"({', '.join(f'{k}={v!r}' for k, v in reference.items())})",
        stacklevel=3)
    out = config.replace(**reference)
    out._explicit = config.explicit_fields - frozenset(reference)
    return out
