import csv
import json
import sys

import pytest

from pyg_mmkg.train import (ConsoleTracker, CSVTracker, JSONLinesTracker,
                            MultiTracker, TensorBoardTracker, get_tracker,
                            plot_curves, read_jsonl)
from pyg_mmkg.train.trackers import flatten_dict


def test_flatten_dict():
    assert flatten_dict({'loss': 1.0, 'val': {'mrr': 0.5, 'head': {
        'mrr': 0.25
    }}}) == {'loss': 1.0, 'val/mrr': 0.5, 'val/head/mrr': 0.25}


def test_jsonl_tracker_and_truncate(tmp_path):
    path = tmp_path / 'metrics.jsonl'
    tracker = JSONLinesTracker(path)
    tracker.log_metrics({'loss': 0.5}, step=1)
    tracker.log_metrics({'loss': 0.25, 'val': {'mrr': 0.125}}, step=2)
    tracker.log_metrics({'loss': 0.125}, step=3)
    assert read_jsonl(path) == [
        {'step': 1, 'loss': 0.5},
        {'step': 2, 'loss': 0.25, 'val/mrr': 0.125},
        {'step': 3, 'loss': 0.125},
    ]
    tracker.truncate(2)
    assert [r['step'] for r in read_jsonl(path)] == [1, 2]
    # A torn last line (crash while appending) is skipped:
    with open(path, 'a') as f:
        f.write('{"step": 3, "lo')
    assert [r['step'] for r in read_jsonl(path)] == [1, 2]


def test_csv_tracker_adds_columns_and_resumes(tmp_path):
    path = tmp_path / 'metrics.csv'
    tracker = CSVTracker(path)
    tracker.log_metrics({'loss': 0.5}, step=1)
    tracker.log_metrics({'loss': 0.25, 'val/mrr': 0.75}, step=2)
    tracker.log_metrics({'loss': 0.125}, step=3)
    with open(path, newline='') as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ['step', 'loss', 'val/mrr']
    assert [(r['step'], r['loss'], r['val/mrr']) for r in rows] == [
        ('1', '0.5', ''), ('2', '0.25', '0.75'), ('3', '0.125', '')]

    # A new tracker on the same file (a resumed run) keeps the old rows:
    resumed = CSVTracker(path)
    resumed.truncate(2)
    resumed.log_metrics({'loss': 0.0625, 'val/mrr': 0.5}, step=3)
    with open(path, newline='') as f:
        rows = list(csv.DictReader(f))
    assert [(r['step'], r['loss'], r['val/mrr']) for r in rows] == [
        ('1', '0.5', ''), ('2', '0.25', '0.75'), ('3', '0.0625', '0.5')]


def test_console_and_multi_tracker(tmp_path):
    lines = []
    console = ConsoleTracker(print_fn=lines.append, precision=2)
    multi = MultiTracker([console, JSONLinesTracker(tmp_path / 'm.jsonl')])
    multi.log_params({'lr': 0.01, 'model': 'rotate'})
    multi.log_metrics({'loss': 0.123456, 'val': {'mrr': 0.5}}, step=4)
    multi.close()
    assert lines == ['params: lr=0.01, model=rotate',
                     '[4] loss=0.12 val/mrr=0.50']
    assert read_jsonl(tmp_path / 'm.jsonl') == [{
        'step': 4, 'loss': 0.123456, 'val/mrr': 0.5}]


def test_compact_console_prints_validation_epochs_only():
    lines = []
    console = ConsoleTracker.compact(print_fn=lines.append)
    console.log_metrics({'loss': 0.5, 'lr': 0.1}, step=1)
    console.log_metrics({'loss': 0.25, 'lr': 0.1, 'val/mrr': 0.125,
                         'val/mr': 9.0, 'val/hits@10': 0.5}, step=2)
    assert lines == ['[2] loss=0.2500 val/mrr=0.1250 val/hits@10=0.5000']


def test_tensorboard_tracker_writes_scalars(tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    tracker = TensorBoardTracker(tmp_path / 'tb')
    tracker.log_params({'lr': 0.5})
    tracker.log_metrics({'loss': 2.0, 'val': {'mrr': 0.25}}, step=1)
    tracker.log_metrics({'loss': 1.0}, step=2)
    tracker.close()
    acc = EventAccumulator(str(tmp_path / 'tb'))
    acc.Reload()
    assert [(e.step, e.value) for e in acc.Scalars('loss')] == [(1, 2.0),
                                                                (2, 1.0)]
    assert [e.value for e in acc.Scalars('val/mrr')] == [0.25]


def test_tensorboard_missing_names_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'torch.utils.tensorboard', None)
    with pytest.raises(ImportError, match=r"pyg-mmkg\[track\]"):
        TensorBoardTracker(tmp_path)


def test_get_tracker(tmp_path):
    assert isinstance(get_tracker('jsonl', tmp_path), JSONLinesTracker)
    assert get_tracker('csv', tmp_path).path == tmp_path / 'metrics.csv'
    with pytest.raises(ValueError, match="Unknown tracker 'wandb'"):
        get_tracker('wandb', tmp_path)
    with pytest.raises(ValueError, match='needs a run directory'):
        get_tracker('csv')


def test_plot_curves(tmp_path):
    pytest.importorskip('matplotlib')
    records = [{'step': 1, 'loss': 1.0}, {'step': 2, 'loss': 0.5,
                                          'val/mrr': 0.3}]
    files = plot_curves(records, tmp_path)
    assert sorted(p.name for p in files) == ['loss.png', 'metrics.png']
    for path in files:
        assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    # Without any validation record, only the loss is drawn:
    files = plot_curves(records[:1], tmp_path / 'b')
    assert [p.name for p in files] == ['loss.png']


def test_plot_without_matplotlib_warns(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'matplotlib.backends.backend_agg', None)
    with pytest.warns(UserWarning, match=r"pyg-mmkg\[plot\]"):
        assert plot_curves([{'step': 1, 'loss': 1.0}], tmp_path) == []


def test_trainer_run_directory_files(tmp_path):
    import torch

    from train_testing import synthetic_kg
    from pyg_mmkg.train import TrainConfig, Trainer, build_model
    kg = synthetic_kg()
    config = TrainConfig(model='distmult', dim=8, epochs=3, eval_every=2,
                         batch_size=64, progress=False)
    torch.manual_seed(0)
    trainer = Trainer(build_model(config, kg), kg, config, run_dir=tmp_path)
    results = trainer.fit()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ['.lock', 'checkpoints', 'config.json', 'metrics.csv',
                     'metrics.jsonl', 'model.json', 'plots', 'recipe.json',
                     'results.json']
    assert sorted(p.name for p in (tmp_path / 'checkpoints').iterdir()) == [
        'best.pt', 'last.pt']
    assert sorted(p.name for p in (tmp_path / 'plots').iterdir()) == [
        'loss.png', 'metrics.png']
    recorded = json.loads((tmp_path / 'config.json').read_text())
    assert recorded == trainer.config.to_dict()
    # What was built: the config's fields plus the reciprocal relations of
    # the 1-N regime.
    assert recorded == dict(config.to_dict(),
                            model_kwargs={'reciprocal': True})
    saved = json.loads((tmp_path / 'results.json').read_text())
    assert saved['test'] == results['test']
    logged = read_jsonl(tmp_path / 'metrics.jsonl')
    assert [r['step'] for r in logged] == [1, 2, 3]
    assert [r['loss'] for r in logged] == [h['loss'] for h in trainer.history]
    assert [('val/mrr' in r) for r in logged] == [False, True, True]
    with open(tmp_path / 'metrics.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    assert [float(r['loss']) for r in rows] == [r['loss'] for r in logged]
