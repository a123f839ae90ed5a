r"""``attach_features`` given a dict name -> text matches it to the names
(a dict used to be read as its keys: the names were encoded as texts)."""
import pytest
import torch
from torch_geometric.data import HeteroData

from pyg_mmkg.data import FeatureMatchWarning
from pyg_mmkg.features import attach_features


def graph():
    data = HeteroData()
    data['entity'].num_nodes = 3
    data['entity'].name = ['cat', 'dog', 'car']
    data['relation'].num_nodes = 1
    return data


def test_text_dict_is_matched_by_name(fake_encoder):
    data = graph()
    texts = {'car': 'a vehicle', 'cat': 'an animal', 'dog': 'barks'}
    attach_features(data, text_encoder=fake_encoder(), entity_texts=texts,
                    progress=False)
    # FakeEncoder: [len(text), count of 'a', ord(first character)].
    x = data['entity'].x_text
    assert x[:, 0].tolist() == [len('an animal'), len('barks'),
                                len('a vehicle')]
    assert x[:, 2].tolist() == [ord('a'), ord('b'), ord('a')]
    assert data['entity'].has_text.all()


def test_text_dict_matching_no_name(fake_encoder):
    with pytest.raises(ValueError, match="'entity_texts': none of its 3 "
                       "keys is one of the 3 entity names"):
        attach_features(graph(), text_encoder=fake_encoder(),
                        entity_texts={0: 'x', 1: 'y', 2: 'z'},
                        progress=False)


def test_text_dict_partly_matching_warns(fake_encoder):
    data = graph()
    with pytest.warns(FeatureMatchWarning, match='2 of 3 keys are entity '
                      'names and 1 are not .* 2 of 3 entity names get a '
                      'value'):
        attach_features(data, text_encoder=fake_encoder(),
                        entity_texts={'cat': 'x', 'dgo': 'y', 'car': 'zz'},
                        progress=False)
    assert data['entity'].has_text.tolist() == [True, False, True]
    assert torch.equal(data['entity'].x_text[1], torch.zeros(3))
