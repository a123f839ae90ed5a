r"""Validation ranking (model selection) is filtered with train + val by
default, so test triples cannot influence it; expected ranks are worked out
by hand from a fixed score table."""
import pytest
import torch

from pyg_mmkg.data import make_kg_data
from pyg_mmkg.train import TrainConfig, Trainer


class TableModel(torch.nn.Module):
    r"""score(h, r, t) = table[h, t]: a model whose ranks are known."""
    def __init__(self, table):
        super().__init__()
        self.table = torch.nn.Parameter(torch.as_tensor(table))
        self.num_nodes = self.table.size(0)

    def forward(self, head_index, rel_type, tail_index):
        return self.table[head_index, tail_index]


# Query (0, r, ?) of the validation triple (0, r, 1): entity 2 (score 0.9,
# the test answer (0, r, 2)) ranks above the true tail 1 (0.5); entities 0
# (0.0) and 3 (0.1) below. Query (?, r, 1): head 0 (0.5) beats 1, 2, 3 (0).
TABLE = [[0.0, 0.5, 0.9, 0.1],
         [0.0, 0.0, 0.0, 0.0],
         [0.0, 0.0, 0.0, 0.0],
         [0.0, 0.0, 0.0, 0.0]]


def kg(with_test=True):
    one = lambda h, t: (torch.tensor([h]), torch.tensor([0]),  # noqa: E731
                        torch.tensor([t]))
    splits = {'train': one(3, 0), 'val': one(0, 1)}
    if with_test:
        splits['test'] = one(0, 2)
    return make_kg_data(['a', 'b', 'c', 'd'], ['r'], splits)


def val_mrr(data, **config):
    config = TrainConfig(model='distmult', regime='slcwa', dim=4, epochs=1,
                         progress=False, device='cpu', **config)
    trainer = Trainer(TableModel(TABLE), data, config, trackers=[],
                      plot=False)
    return trainer, trainer.evaluate('val')['both']['mrr']


def test_validation_does_not_see_test_triples():
    # Default filter train + val: tail rank 2 (entity 2 is not filtered),
    # head rank 1, so MRR = (1/2 + 1) / 2 = 0.75, with or without test.
    trainer, with_test = val_mrr(kg(True))
    _, without_test = val_mrr(kg(False))
    assert with_test == pytest.approx(0.75)
    assert without_test == pytest.approx(0.75)
    assert trainer.config.val_filter == 'train+val'
    # The test split itself keeps the full filter: for (0, r, 2) the
    # validation answer 1 is filtered, so 2 (0.9) ranks first on the tail
    # side; the head side (?, r, 2) ranks 0 (0.9) above 1, 2, 3 (0).
    assert trainer.evaluate('test')['both']['mrr'] == pytest.approx(1.0)
    # ... and validation still does not see test after test was ranked:
    assert trainer.evaluate('val')['both']['mrr'] == pytest.approx(0.75)


def test_given_filter_index_serves_both_splits():
    from pyg_mmkg.data import filter_index
    data = kg(True)
    config = TrainConfig(model='distmult', regime='slcwa', dim=4, epochs=1,
                         progress=False, device='cpu')
    trainer = Trainer(TableModel(TABLE), data, config, trackers=[],
                      plot=False, filter_index=filter_index(data))
    assert trainer.evaluate('val')['both']['mrr'] == pytest.approx(1.0)


def test_common_protocol_is_an_option():
    # train + val + test: entity 2 is filtered, tail rank 1, MRR 1.0; the
    # test split changes the validation score (the leak, when chosen).
    _, with_test = val_mrr(kg(True), val_filter='train+val+test')
    _, without_test = val_mrr(kg(False), val_filter='train+val+test')
    assert with_test == pytest.approx(1.0)
    assert without_test == pytest.approx(0.75)


def test_val_filter_values():
    assert TrainConfig(val_filter='train+valid').val_filter == 'train+val'
    assert TrainConfig(val_filter='Train+Valid+Test').val_filter == \
        'train+val+test'
    with pytest.raises(ValueError, match='Unknown val_filter'):
        TrainConfig(val_filter='train')
