"""The text features of benchmarks/methods/imf_bench.py: the WN9-IMG gloss
vectors read from a saved graph follow the dataset's entity order (matched
by name, not by row), and the training-time text shuffle moves the text
mask with the vectors."""
import pathlib
import sys

import pytest
import torch
from torch_geometric.data import HeteroData

METHODS = pathlib.Path(__file__).resolve().parents[1] / 'benchmarks' / \
    'methods'


@pytest.fixture()
def imf_bench():
    sys.path.insert(0, str(METHODS))
    try:
        import imf_bench
        yield imf_bench
    finally:
        sys.path.remove(str(METHODS))


def _graph(names, x=None, has=None):
    data = HeteroData()
    data['entity'].num_nodes = len(names)
    data['entity'].name = list(names)
    if x is not None:
        data['entity'].x_text = x
        data['entity'].has_text = has
    return data


def test_saved_text_is_matched_by_name(imf_bench, tmp_path):
    x = torch.arange(12, dtype=torch.float).view(4, 3)
    has = torch.tensor([True, False, True, True])
    path = tmp_path / 'saved.pt'
    torch.save(_graph(['n3', 'n1', 'n0', 'n2'], x, has), path)
    data = _graph(['n0', 'n1', 'n2', 'n3'])
    imf_bench.attach_saved_text(data, str(path))
    assert torch.equal(data['entity'].x_text, x[[2, 1, 3, 0]])
    assert data['entity'].has_text.tolist() == [True, False, True, True]

    with pytest.raises(ValueError, match='1 entities'):
        imf_bench.attach_saved_text(_graph(['n0', 'n9']), str(path))


def test_train_shuffle_moves_the_text_mask_with_the_vectors(imf_bench):
    x = torch.arange(10, dtype=torch.float).view(10, 1)
    has = torch.arange(10) % 3 == 0
    data = _graph([f'n{i}' for i in range(10)], x.clone(), has.clone())
    imf_bench.permute_text(data, 1000)
    moved = data['entity'].x_text.view(-1).long()
    assert not torch.equal(moved, torch.arange(10))  # really permuted
    assert torch.equal(data['entity'].has_text, has[moved])
    again = _graph([f'n{i}' for i in range(10)], x.clone(), has.clone())
    imf_bench.permute_text(again, 1000)
    assert torch.equal(again['entity'].x_text, data['entity'].x_text)
