r"""Inputs that used to load as the wrong data end in an error or in a
warning with counts; expected values are written out by hand."""
import os.path as osp

import pytest
import torch

from pyg_mmkg.data import (FeatureMatchWarning, RawFormatError,
                           detect_layout, read_kg_folder)
from pyg_mmkg.data.io import read_id_map
from pyg_mmkg.data.raw import feature_dict_to_tensor
from pyg_mmkg.datasets import KGFolder

NAMES = [f'ent{i}' for i in range(12)]


def write(folder, name, text):
    path = osp.join(str(folder), name)
    with open(path, 'w', newline='') as f:
        f.write(text)
    return path


def twelve(folder):
    r"""A VISTA folder of 12 entities ent0..ent11 on a ring."""
    write(folder, 'entities.txt', ''.join(f'{n}\n' for n in NAMES))
    write(folder, 'relations.txt', 'next\n')
    ring = [f'ent{i}\tnext\tent{(i + 1) % 12}\n' for i in range(12)]
    write(folder, 'train.txt', ''.join(ring[:10]))
    write(folder, 'valid.txt', ring[10])
    write(folder, 'test.txt', ring[11])
    return str(folder)


def save(folder, name, obj):
    path = osp.join(str(folder), name)
    torch.save(obj, path)
    return path


@pytest.mark.parametrize('keys,hint', [
    (list(range(12)), 'look like entity ids'),  # ids as ints
    ([str(i) for i in range(12)], 'look like entity ids'),  # ids as str
    ([f'Ent{i}' for i in range(12)], 'names e.g.'),  # misspelled
])
def test_feature_dict_matching_no_name(tmp_path, keys, hint):
    path = save(tmp_path, 'f.pt', {k: torch.ones(4) for k in keys})
    with pytest.raises(RawFormatError, match='none of its 12 keys is one of '
                       'the 12 entity names') as e:
        feature_dict_to_tensor(path, NAMES, multi=False)
    assert hint in str(e.value) and path in str(e.value)
    # Through a dataset's feature_files, where it was silent before:
    root = tmp_path / 'kg'
    root.mkdir()
    twelve(root)
    with pytest.raises(RawFormatError, match='none of its 12 keys'):
        KGFolder(str(root), feature_files={'entity.x_text': path})


def test_feature_dict_with_some_unmatched_keys_warns(tmp_path):
    feats = {n: torch.full((4, ), float(i)) for i, n in enumerate(NAMES)}
    feats['Ent3'] = feats.pop('ent3')  # one misspelling
    path = save(tmp_path, 'f.pt', feats)
    with pytest.warns(FeatureMatchWarning, match=r"11 of 12 keys are entity "
                      r"names and 1 are not \(e.g. 'Ent3'\); 11 of 12 "
                      r"entity names get a value"):
        x, mask = feature_dict_to_tensor(path, NAMES, multi=False)
    assert mask.tolist() == [i != 3 for i in range(12)]
    assert x[5].tolist() == [5.0] * 4 and x[3].tolist() == [0.0] * 4


def test_superset_feature_dict_is_silent(tmp_path, recwarn):
    feats = {n: torch.ones(2) for n in NAMES + ['other']}
    x, mask = feature_dict_to_tensor(save(tmp_path, 'f.pt', feats), NAMES,
                                     multi=False)
    assert mask.all() and not [w for w in recwarn
                               if w.category is FeatureMatchWarning]


def test_empty_feature_dict(tmp_path):
    path = save(tmp_path, 'f.pt', {})
    with pytest.raises(RawFormatError, match='holds no entity at all'):
        feature_dict_to_tensor(path, NAMES, multi=False)  # was [12, 0]


def test_feature_dict_keyed_by_node_type(tmp_path):
    # Was read as 12 images of an entity called 'entity'.
    path = save(tmp_path, 'f.pt', {'entity': torch.randn(12, 8)})
    with pytest.raises(RawFormatError, match="keyed by node type "
                       r"\('entity'\), not by entity name"):
        feature_dict_to_tensor(path, NAMES, multi=True)
    with pytest.raises(RawFormatError, match='keyed by node type'):
        feature_dict_to_tensor(path, NAMES, multi=False)


def test_text_file_matching_no_entity(tmp_path):
    d = twelve(tmp_path)
    path = write(d, 'entity2text.txt',
                 ''.join(f'Q{i}\tthing {i}\n' for i in range(12)))
    with pytest.raises(RawFormatError, match='none of its 12 keys is one of '
                       'the 12 entity names') as e:
        read_kg_folder(d)
    assert path in str(e.value)
    # Partly matching: a warning with the counts, texts where they match.
    write(d, 'entity2text.txt', ''.join(f'{n}\tthing {i}\n' for i, n in
                                        enumerate(NAMES[:10])) + 'x\ty\n')
    with pytest.warns(FeatureMatchWarning, match='10 of 11 keys are entity '
                      'names and 1 are not .* 10 of 12 entity names get a '
                      'value'):
        data = read_kg_folder(d)
    assert data['entity'].text[9] == 'thing 9'
    assert data['entity'].text[10] == ''


def test_name_listed_twice_in_entity2id(tmp_path):
    d = str(tmp_path)
    # 'b' twice: before, ids 1 and 2 were both 'b' and triples naming 'b'
    # reached only id 2; id 1 was a phantom entity.
    path = write(d, 'entity2id.txt', 'a 0\nb 1\nb 2\nc 3\n')
    write(d, 'relation2id.txt', 'r 0\n')
    write(d, 'train.txt', 'a r b .\nb r c .\n')
    write(d, 'valid.txt', 'a r c .\n')
    write(d, 'test.txt', 'c r a .\n')
    with pytest.raises(RawFormatError, match=r"line 3: name 'b' listed twice "
                       r"\(line 2 gives it id 1, this line id 2\)"):
        read_id_map(path)
    with pytest.raises(RawFormatError, match='listed twice'):
        read_kg_folder(d)


def numeric_folder(folder, num_relations):
    r"""Numeric entity and relation names, triples head<TAB>rel<TAB>tail."""
    write(folder, 'entity2id.txt', ''.join(f'{i}\t{i}\n' for i in range(6)))
    write(folder, 'relation2id.txt',
          ''.join(f'{i}\t{i}\n' for i in range(num_relations)))
    write(folder, 'train.txt', '0\t1\t4\n2\t0\t5\n3\t1\t2\n')
    write(folder, 'valid.txt', '4\t0\t1\n')
    write(folder, 'test.txt', '5\t1\t3\n')
    return str(folder)


def test_numeric_hrt_folder_with_id_maps_is_not_read_as_wn9(tmp_path):
    d = numeric_folder(tmp_path, num_relations=2)
    assert detect_layout(d) == 'tsv'  # was 'wn9' (tail and relation swapped)
    data = read_kg_folder(d)
    store = data['entity', 'to', 'entity']
    mask = store.train_mask
    assert store.edge_index[:, mask].tolist() == [[0, 2, 3], [4, 5, 2]]
    assert store.edge_type[mask].tolist() == [1, 0, 1]
    assert data['entity'].name == [str(i) for i in range(6)]


def test_ambiguous_column_order_asks_for_the_layout(tmp_path):
    d = numeric_folder(tmp_path, num_relations=6)  # every column fits both
    with pytest.raises(ValueError, match="Pass layout='wn9'"):
        detect_layout(d)
    data = read_kg_folder(d, layout='wn9')  # explicit: as the user says
    assert data.layout == 'wn9'


def test_real_wn9_order_still_detected(tmp_path):
    d = str(tmp_path)
    write(d, 'entity2id.txt', '00001\t0\n00002\t1\n00003\t2\n')
    write(d, 'relation2id.txt', '_hypernym\t0\n')
    write(d, 'train.txt', '00001\t00002\t_hypernym\r\n')
    write(d, 'valid.txt', '00002\t00003\t_hypernym\r\n')
    write(d, 'test.txt', '00003\t00001\t_hypernym\r\n')
    assert detect_layout(d) == 'wn9'
    ei = read_kg_folder(d)['entity', 'to', 'entity'].edge_index
    assert ei[:, 0].tolist() == [0, 1]
