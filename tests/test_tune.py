r"""Hyper-parameter search (issue 16): `pyg-mmkg tune` over a search space
file, each trial a run directory, validation MRR reported per evaluation
(pruning), the study resumable from its SQLite file, test never touched."""
import json

import pytest
import torch

optuna = pytest.importorskip('optuna')

from pyg_mmkg.cli import main  # noqa: E402
from pyg_mmkg.train import Trainer, load_run  # noqa: E402
from pyg_mmkg.tune import read_space, tune  # noqa: E402

from tests.train.train_testing import synthetic_kg  # noqa: E402

SPACE = """\
base:
  model: distmult
  dim: 8
  epochs: 3
  eval_every: 1
  batch_size: 32
space:
  lr: {type: float, low: 1.0e-3, high: 1.0e-1, log: true}
  model_kwargs.margin: [1.0, 2.0]
n_trials: 2
pruner: none
"""


@pytest.fixture
def space_file(tmp_path):
    data = synthetic_kg()
    torch.save(data, tmp_path / 'kg.pt')
    path = tmp_path / 'space.yaml'
    path.write_text(SPACE.replace('base:\n', f"base:\n  dataset: "
                                  f"{tmp_path / 'kg.pt'}\n"))
    return path


def test_cli_study_trials_are_runs_and_resume(space_file, tmp_path, capsys,
                                              monkeypatch):
    splits = []
    evaluate = Trainer.evaluate

    def spy(self, split='val', **kwargs):
        splits.append(split)
        return evaluate(self, split, **kwargs)

    monkeypatch.setattr(Trainer, 'evaluate', spy)
    study_dir = tmp_path / 'study'
    assert main(['tune', str(space_file), '--study-dir', str(study_dir),
                 '--num-threads', '1']) == 0
    out = capsys.readouterr().out
    assert '2 trials' in out and 'best trial' in out
    assert set(splits) == {'val'}  # test never evaluated
    study = optuna.load_study(study_name='pyg-mmkg',
                              storage=f"sqlite:///{study_dir / 'study.db'}")
    assert len(study.trials) == 2
    for trial in study.trials:
        run = study_dir / 'trials' / f'trial-{trial.number:04d}'
        config = json.loads((run / 'config.json').read_text())
        assert config['lr'] == pytest.approx(trial.params['lr'])
        assert config['val_filter'] == 'train+val'
        results = json.loads((run / 'results.json').read_text())
        assert 'test' not in results
        # One report per evaluation (epochs 1..3), the validation MRR:
        assert sorted(trial.intermediate_values) == [1, 2, 3]
        assert trial.value == pytest.approx(results['val']['mrr'])
        model, _, _ = load_run(run)  # each trial re-opens
        assert model.margin == trial.params['model_kwargs.margin']
    best = json.loads((study_dir / 'best.json').read_text())
    assert best['number'] == study.best_trial.number
    # Resume: the same command with --n-trials 3 adds one trial.
    assert main(['tune', str(space_file), '--study-dir', str(study_dir),
                 '--n-trials', '3']) == 0
    assert '3 trials' in capsys.readouterr().out


def test_pruned_trials(space_file, tmp_path, monkeypatch):
    spec = read_space(space_file)
    spec['pruner'] = 'median'
    # Prune when a validation MRR below 1.1 (always) is reported at
    # epoch 2 or later: the trainer must report per evaluation.
    monkeypatch.setattr(optuna.pruners, 'MedianPruner',
                        lambda: optuna.pruners.ThresholdPruner(
                            lower=1.1, n_warmup_steps=2))
    study = tune(spec, tmp_path / 'study', n_trials=2)
    states = [t.state for t in study.trials]
    assert states == [optuna.trial.TrialState.PRUNED] * 2
    assert all(sorted(t.intermediate_values) == [1, 2]
               for t in study.trials)


def test_space_file_errors(tmp_path):
    path = tmp_path / 's.json'
    path.write_text(json.dumps({'base': {'val_filter': 'train+val+test'},
                                'space': {'lr': [0.1, 0.01]}}))
    with pytest.raises(ValueError, match='test triples are never used'):
        read_space(path)
    path.write_text(json.dumps({'space': {'learning_rate': [0.1]}}))
    with pytest.raises(ValueError, match="cannot search 'learning_rate'"):
        read_space(path)
