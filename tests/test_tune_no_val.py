r"""Tuning selects on validation triples: a graph without any is refused
before a trial trains (it ended every trial in a KeyError after training)."""
import pytest
import torch

optuna = pytest.importorskip('optuna')

from pyg_mmkg.tune import tune  # noqa: E402

from tests.train.train_testing import synthetic_kg  # noqa: E402


def test_graph_without_validation_is_refused(tmp_path):
    data = synthetic_kg()
    store = data['entity', 'to', 'entity']
    store.train_mask = store.train_mask | store.val_mask
    store.val_mask = torch.zeros_like(store.val_mask)
    spec = {'base': dict(model='distmult', dim=8, epochs=1, eval_every=1,
                         batch_size=32),
            'space': {'lr': [0.01, 0.1]}, 'n_trials': 1, 'pruner': 'none'}
    with pytest.raises(ValueError, match='validation'):
        tune(spec, tmp_path / 'study', data=data)
    assert not (tmp_path / 'study' / 'trials').exists()
