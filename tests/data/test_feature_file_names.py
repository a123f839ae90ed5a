r"""A feature file whose names repeat cannot be matched by name: the rows
of a repeated name differ, so which one an entity gets is arbitrary."""
import pytest
import torch

from pyg_mmkg.data.contract import make_kg_data
from pyg_mmkg.data.feature_file import FORMAT, VERSION, apply_feature_file
from pyg_mmkg.data.io import RawFormatError


def _graph():
    tri = torch.tensor([[0, 0, 1], [1, 0, 2]])
    return make_kg_data(['a', 'b', 'c'], ['r'],
                        {'train': (tri[:, 0], tri[:, 1], tri[:, 2])})


def _save(tmp_path, names, x):
    path = tmp_path / 'f.pt'
    torch.save({'format': FORMAT, 'version': VERSION, 'dataset': None,
                'root': None, 'feature_encoders': {}, 'feature_dims': {},
                'entity': {'name': names, 'x_text': x}, 'relation': {}},
               path)
    return str(path)


def test_repeated_names_are_refused(tmp_path):
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    path = _save(tmp_path, ['a', 'b', 'a', 'c'], x)
    with pytest.raises(RawFormatError, match="'a'"):
        apply_feature_file(_graph(), path)


def test_unique_names_match_by_name(tmp_path):
    x = torch.tensor([[3.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    path = _save(tmp_path, ['c', 'a', 'b'], x)
    data = apply_feature_file(_graph(), path)
    assert torch.equal(data['entity'].x_text, x[[1, 2, 0]])
