r"""Statistics of every dataset whose triples are staged in ../shared/data,
loaded through the dataset classes from the real files."""
import os
import os.path as osp

import pytest
import torch

from pyg_mmkg.data import triples, validate
from pyg_mmkg.datasets import (DB15K, FB15K_237_IMG, KVC16K, MKG_W, MKG_Y,
                               VTKG_I, WN9_IMG, WN18_IMG, WN18RR_PP,
                               FB15K237)

# dataset class -> list of (source file relative to shared/data, raw name)
CASES = {
    'VTKG-I': (VTKG_I, [(f'VTKG-I/{f}', f) for f in (
        'entities.txt', 'relations.txt', 'train.txt', 'valid.txt',
        'test.txt', 'entity2text.txt', 'entity2textlong.txt',
        'relation2text.txt', 'relation2textlong.txt')]),
    'WN9-IMG': (WN9_IMG, [(f'WN9-IMG/{f}', f) for f in (
        'entity2id.txt', 'relation2id.txt', 'train.txt', 'valid.txt',
        'test.txt', 'image_list.txt')] + [
            ('WN18RR/entity2text.txt.gz', 'entity2text.txt.gz')]),
    'MKG-W': (MKG_W, [('MKG-W/entity2id.txt', 'entity2id.txt'),
                      ('MKG-W/relation2id.txt', 'relation2id.txt'),
                      ('MKG-W/train.txt.gz', 'train.txt.gz'),
                      ('MKG-W/valid.txt', 'valid.txt'),
                      ('MKG-W/test.txt', 'test.txt')]),
    'MKG-Y': (MKG_Y, [(f'MKG-Y/{f}', f) for f in (
        'entity2id.txt', 'relation2id.txt', 'train.txt', 'valid.txt',
        'test.txt')]),
    'KVC16K': (KVC16K, [('Kuai16K/entity2id.txt', 'entity2id.txt'),
                        ('Kuai16K/relation2id.txt', 'relation2id.txt'),
                        ('Kuai16K/train.txt.gz', 'train.txt.gz'),
                        ('Kuai16K/valid.txt', 'valid.txt'),
                        ('Kuai16K/test.txt', 'test.txt')]),
    'DB15K': (DB15K, [(f'DB15K/{f}', f) for f in (
        'entity2id.txt', 'relation2id.txt', 'train2id.txt', 'valid2id.txt',
        'test2id.txt')] + [('MMKB/DB15K/DB15K_ImageIndex.txt',
                            'DB15K_ImageIndex.txt')]),
    'FB15K-237-IMG': (FB15K_237_IMG, [
        (f'FB15k-237/{f}', f) for f in (
            'entities.txt', 'relations.txt', 'train.txt.gz', 'valid.txt.gz',
            'test.txt.gz', 'entity2text.txt', 'relation2text.txt')]),
    'FB15K237': (FB15K237, [(f'FB15k-237/{f}', f) for f in (
        'entities.txt', 'relations.txt', 'train.txt.gz', 'valid.txt.gz',
        'test.txt.gz')]),
    'WN18-IMG': (WN18_IMG, [(f'WN18/original/{f}', f) for f in (
        'entity2id.txt', 'relation2id.txt', 'train.txt.gz', 'valid.txt',
        'test.txt')]),
    'WN18RR++': (WN18RR_PP, [
        ('WN18RR++/entities.txt', 'entities.txt'),
        ('WN18RR++/relations.txt', 'relations.txt'),
        ('WN18RR/text/train.txt.gz', 'train.txt.gz'),
        ('WN18RR/text/valid.txt', 'valid.txt'),
        ('WN18RR/text/test.txt', 'test.txt'),
        ('WN18RR++/entity2text.txt', 'entity2text.txt')]),
}


def stage(shared_data, root, files):
    raw = osp.join(root, 'raw')
    os.makedirs(raw, exist_ok=True)
    for src, dst in files:
        os.symlink(osp.join(shared_data, src), osp.join(raw, dst))


@pytest.mark.parametrize('name', sorted(CASES))
def test_real_statistics(name, shared_data, tmp_path):
    cls, files = CASES[name]
    stage(shared_data, str(tmp_path), files)
    dataset = cls(str(tmp_path))
    data = validate(dataset[0])
    stats = cls.stats
    assert data['entity'].num_nodes == stats['num_entities']
    assert data['relation'].num_nodes == stats['num_relations']
    assert dataset.num_relations == stats['num_relations']
    for split in ('train', 'val', 'test'):
        assert triples(data, split)[0].numel() == stats[split], split
    assert len(data['entity'].name) == stats['num_entities']
    # Reloading uses the processed file and gives identical tensors.
    again = cls(str(tmp_path))[0]
    assert torch.equal(again['entity', 'to', 'entity'].edge_index,
                       data['entity', 'to', 'entity'].edge_index)


def test_wn9_img_side_files(shared_data, tmp_path):
    stage(shared_data, str(tmp_path), CASES['WN9-IMG'][1])
    data = WN9_IMG(str(tmp_path))[0]
    refs = data['entity'].image_refs
    assert sum(len(r) for r in refs) == 63225
    assert all(t for t in data['entity'].text)  # glosses for all 6,555
    names = data['entity'].name
    # ImageNet ids are prefixed with the entity's wnid.
    i = next(i for i, r in enumerate(refs) if r)
    assert all(r.startswith(names[i] + '_') for r in refs[i])


def test_mkg_y_names_with_dots(shared_data, tmp_path):
    stage(shared_data, str(tmp_path), CASES['MKG-Y'][1])
    data = MKG_Y(str(tmp_path))[0]
    # 'Acharnaikos_F.C.' keeps its final dot (only ' .' is stripped).
    assert 'Acharnaikos_F.C.' in data['entity'].name


def test_vtkg_i_text(shared_data, tmp_path):
    stage(shared_data, str(tmp_path), CASES['VTKG-I'][1])
    data = VTKG_I(str(tmp_path))[0]
    i = data['entity'].name.index('airplane.n.01')
    assert data['entity'].text[i] == ('airplane: an aircraft that has a '
                                      'fixed wing and is powered by '
                                      'propellers or jets')


def test_db15k_validation_overlap_is_documented(shared_data, tmp_path):
    r"""The upstream DB15K validation split overlaps train and test; the
    numbers in the class docstring's warning are checked here."""
    stage(shared_data, str(tmp_path), CASES['DB15K'][1])
    data = DB15K(str(tmp_path))[0]
    N, R = data['entity'].num_nodes, data['relation'].num_nodes

    def keys(split):
        h, r, t = triples(data, split)
        return (h * R + r) * N + t
    train, val, test = keys('train'), keys('val'), keys('test')
    assert int(torch.isin(val, train).sum()) == 8719
    assert int(torch.isin(val, test).sum()) == 1105
    assert int(torch.unique(val).numel()) == 7481
    assert not torch.isin(test, train).any()
    assert '8,719' in DB15K.__doc__


@pytest.mark.parametrize('name,counts', [
    ('DB15K', {'train/val': 8719, 'train/test': 0, 'val/test': 1105}),
    ('KVC16K', {'train/val': 30, 'train/test': 48, 'val/test': 5}),
])
def test_official_split_overlap_is_opted_in_and_loud(name, counts,
                                                     shared_data, tmp_path):
    r"""Only DB15K and KVC16K have official splits that share triples: they
    load with a warning carrying the counts (those of the docstrings), and
    are an error when the opt-in is turned off."""
    from pyg_mmkg.data import (SplitOverlapError, SplitOverlapWarning,
                               check_split_overlap)
    cls = CASES[name][0]
    stage(shared_data, str(tmp_path), CASES[name][1])
    assert cls.allow_split_overlap
    with pytest.warns(SplitOverlapWarning) as record:
        data = cls(str(tmp_path))[0]
    msg = str(record[0].message)
    for pair, n in counts.items():
        if n:  # 'train/val' counts val lines in train, 'val/test' val in test
            a, b = pair.split('/')
            counted, ref = (b, a) if a == 'train' else (a, b)
            total = triples(data, counted)[0].numel()
            assert f'{n:,} of {total:,} {counted} lines' in msg, pair
            assert f'also occur in {ref}' in msg
            assert f'{n:,}' in cls.__doc__
    with pytest.warns(SplitOverlapWarning):
        assert check_split_overlap(data) == counts
    # Without the opt-in: an error, from the processed file and from raw.
    with pytest.raises(SplitOverlapError):
        cls(str(tmp_path), allow_split_overlap=False)
    fresh = str(tmp_path / 'fresh')
    stage(shared_data, fresh, CASES[name][1])
    with pytest.raises(SplitOverlapError):
        cls(fresh, allow_split_overlap=False)
