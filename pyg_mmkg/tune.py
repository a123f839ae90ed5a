r"""Hyper-parameter search with `Optuna <https://optuna.org>`_ (the extra
:obj:`pyg-mmkg[optuna]`), as PyKEEN's :obj:`hpo_pipeline` does it.

A search space file (JSON or YAML) holds the fixed training options
(:obj:`base`, any :class:`~pyg_mmkg.train.TrainConfig` field) and the
searched ones (:obj:`space`); a :obj:`model_kwargs.NAME` key searches a
model argument:

.. code-block:: yaml

    base: {dataset: VTKG-I, model: complex, epochs: 100, eval_every: 5}
    space:
      lr: {type: float, low: 1.0e-4, high: 1.0e-1, log: true}
      dim: {type: int, low: 32, high: 256, step: 32}
      loss: [bce, softplus]              # categorical
      model_kwargs.dropout: {type: float, low: 0.0, high: 0.5}
    n_trials: 20
    pruner: median                       # median, hyperband or none

Each trial trains in its own run directory (:obj:`DIR/trials/trial-NNNN`,
re-openable with :func:`~pyg_mmkg.train.load_run`) and reports the
validation metric of every evaluation to Optuna, which prunes unpromising
trials. The study is stored in :obj:`DIR/study.db` (SQLite), so running the
same command again continues it. The objective is the validation metric of
the selected epoch: test triples are never evaluated, nor used as a
filter.
"""
import json
import math
import os
from pathlib import Path
from typing import Any, Dict, Optional, Union

import torch

from pyg_mmkg.train.config import TrainConfig
from pyg_mmkg.train.trackers import Tracker

__all__ = ['tune', 'read_space', 'suggest', 'PruningTracker']

_PRUNERS = ('median', 'hyperband', 'none')
_KEYS = ('base', 'space', 'n_trials', 'pruner', 'direction', 'seed',
         'study_name', 'timeout_s')


def _optuna():
    try:
        import optuna
    except ImportError as e:
        raise ImportError("Hyper-parameter search needs Optuna: pip install "
                          "'pyg-mmkg[optuna]'") from e
    return optuna


def read_space(path: Union[str, os.PathLike]) -> Dict[str, Any]:
    r"""Reads and checks a search space file (see the module docstring).

    Args:
        path (str): A :obj:`.json`, :obj:`.yaml` or :obj:`.yml` file.
    """
    text = Path(path).read_text()
    if str(path).endswith(('.yaml', '.yml')):
        try:
            import yaml
        except ImportError as e:
            raise ImportError("YAML files need pyyaml: pip install "
                              "'pyg-mmkg[yaml]'") from e
        spec = yaml.safe_load(text) or {}
    else:
        spec = json.loads(text)
    if not isinstance(spec, dict):
        raise ValueError(f"'{path}' must hold a mapping")
    unknown = sorted(set(spec) - set(_KEYS))
    if unknown:
        raise ValueError(f"'{path}': unknown keys {unknown} (expected "
                         f"{', '.join(_KEYS)})")
    spec.setdefault('base', {})
    spec.setdefault('space', {})
    if not spec['space']:
        raise ValueError(f"'{path}' searches nothing: give a 'space'")
    fields = set(TrainConfig.field_names())
    for name, dist in spec['space'].items():
        field = name.split('.', 1)[0]
        if field not in fields or (field == 'model_kwargs') != ('.' in name):
            raise ValueError(f"'{path}': cannot search '{name}' (a "
                             f"TrainConfig field or model_kwargs.NAME)")
        if name in ('epochs', 'dataset', 'val_filter'):
            raise ValueError(f"'{path}': '{name}' belongs in 'base'")
        if not isinstance(dist, (list, dict)):
            raise ValueError(f"'{path}': '{name}' must be a list of "
                             f"choices or a mapping with 'type'")
    if TrainConfig.from_dict(dict(spec['base'])).val_filter != 'train+val':
        raise ValueError("tuning ranks validation triples filtered with "
                         "train + val only: test triples are never used")
    if spec.get('pruner', 'median') not in _PRUNERS:
        raise ValueError(f"'pruner' must be one of {', '.join(_PRUNERS)}")
    return spec


def suggest(trial: Any, space: Dict[str, Any]) -> Dict[str, Any]:
    r"""Samples one value per entry of :obj:`space` with :obj:`trial`.

    Args:
        trial (optuna.Trial): The trial.
        space (dict): Name to a list of choices or a mapping with
            :obj:`type` (:obj:`float`, :obj:`int` or :obj:`categorical`),
            :obj:`low`, :obj:`high`, optional :obj:`log` and :obj:`step`,
            or :obj:`choices`.
    """
    out = {}
    for name, dist in space.items():
        if isinstance(dist, list):
            dist = {'type': 'categorical', 'choices': dist}
        kind = dist.get('type')
        extra = {k: dist[k] for k in ('log', 'step') if k in dist}
        if kind == 'float':
            out[name] = trial.suggest_float(name, float(dist['low']),
                                            float(dist['high']), **extra)
        elif kind == 'int':
            out[name] = trial.suggest_int(name, int(dist['low']),
                                          int(dist['high']), **extra)
        elif kind == 'categorical':
            out[name] = trial.suggest_categorical(name, dist['choices'])
        else:
            raise ValueError(f"'{name}': unknown type {kind!r} (float, int "
                             f"or categorical)")
    return out


class PruningTracker(Tracker):
    r"""Reports each validation result to an Optuna trial and stops the
    trial (:class:`optuna.TrialPruned`) when the pruner says so.

    Args:
        trial (optuna.Trial): The trial.
        metric (str): The validation metric, *e.g.* :obj:`"mrr"`.
    """
    def __init__(self, trial: Any, metric: str):
        self.trial, self.key = trial, f'val/{metric}'

    def log_metrics(self, metrics: Dict[str, Any], step: int) -> None:
        value = metrics.get(self.key)
        if value is None or not math.isfinite(float(value)):
            return
        self.trial.report(float(value), step)
        if self.trial.should_prune():
            raise _optuna().TrialPruned(f'pruned at epoch {step} '
                                        f'({self.key}={value:.4f})')


def tune(space: Union[str, os.PathLike, Dict[str, Any]],
         study_dir: Union[str, os.PathLike], n_trials: Optional[int] = None,
         data: Any = None, progress: bool = False) -> Any:
    r"""Runs (or continues) a study; returns the :class:`optuna.Study`.

    Args:
        space (str or dict): A search space file or its content.
        study_dir (str): The study folder (:obj:`study.db`, :obj:`trials/`,
            :obj:`best.json`).
        n_trials (int, optional): The number of finished (complete or
            pruned) trials to reach, counting those of earlier sessions;
            overrides the file's :obj:`n_trials`. (default: :obj:`None`)
        data (HeteroData, optional): The graph, instead of
            :obj:`base.dataset`. (default: :obj:`None`)
        progress (bool, optional): Show the console progress of trials.
            (default: :obj:`False`)
    """
    from pyg_mmkg.train import CSVTracker, JSONLinesTracker, Trainer
    from pyg_mmkg.train.run import load_data
    optuna = _optuna()
    spec = read_space(space) if not isinstance(space, dict) else space
    base = TrainConfig.from_dict(dict(spec['base']))
    if data is None:
        data = load_data(base.dataset, base.root, base.modalities)
    from pyg_mmkg.data import triples
    if triples(data, 'val')[0].numel() == 0:
        raise ValueError('tuning selects on validation triples, and the '
                         'graph has none: give it a validation split')
    study_dir = Path(study_dir)
    study_dir.mkdir(parents=True, exist_ok=True)
    maximize = base.metric != 'mr'
    pruner = {'median': optuna.pruners.MedianPruner,
              'hyperband': optuna.pruners.HyperbandPruner,
              'none': optuna.pruners.NopPruner}[spec.get('pruner', 'median')]
    study = optuna.create_study(
        study_name=spec.get('study_name', 'pyg-mmkg'),
        storage=f"sqlite:///{(study_dir / 'study.db').resolve()}",
        load_if_exists=True,
        direction='maximize' if maximize else 'minimize',
        sampler=optuna.samplers.TPESampler(seed=int(spec.get('seed', 0))),
        pruner=pruner())

    def objective(trial):
        values = suggest(trial, spec['space'])
        fields = dict(spec['base'], progress=progress)
        for name, value in values.items():
            if name.startswith('model_kwargs.'):
                fields.setdefault('model_kwargs', {})
                fields['model_kwargs'] = dict(fields['model_kwargs'],
                                              **{name[13:]: value})
            else:
                fields[name] = value
        config = TrainConfig.from_dict(fields)
        run_dir = study_dir / 'trials' / f'trial-{trial.number:04d}'
        trial.set_user_attr('run_dir', str(run_dir))
        trainer = Trainer.from_config(
            config, data=data, run_dir=run_dir,
            trackers=[JSONLinesTracker(run_dir / 'metrics.jsonl'),
                      CSVTracker(run_dir / 'metrics.csv'),
                      PruningTracker(trial, config.metric)])
        # Test triples are never evaluated (nor filtered: val_filter is
        # train + val), so tuning cannot select on them.
        trainer.split_triples['test'] = tuple(
            torch.empty(0, dtype=torch.long) for _ in range(3))
        try:
            results = trainer.fit()
        finally:
            trainer.close()
        value = results['val'][config.metric]
        return float(value)

    states = (optuna.trial.TrialState.COMPLETE,
              optuna.trial.TrialState.PRUNED)
    target = int(n_trials if n_trials is not None else
                 spec.get('n_trials', 10))
    done = len(study.get_trials(deepcopy=False, states=states))
    if target > done:
        study.optimize(objective, n_trials=target - done,
                       timeout=spec.get('timeout_s'), catch=())
    _write_best(study, study_dir)
    return study


def _write_best(study: Any, study_dir: Path) -> None:
    try:
        best = study.best_trial
    except ValueError:  # No complete trial yet.
        return
    record = {'number': best.number, 'value': best.value,
              'params': best.params,
              'run_dir': best.user_attrs.get('run_dir')}
    (study_dir / 'best.json').write_text(json.dumps(record, indent=2) + '\n')
