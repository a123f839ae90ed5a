r"""A triple shared by two splits is an error (or, opted in, a warning with
counts); expected counts come from Python sets over the raw lines."""
import os
import os.path as osp
import shutil
import warnings

import pytest
import torch

from pyg_mmkg.data import (ContractError, SplitOverlapError,
                           SplitOverlapWarning, check_split_overlap,
                           make_kg_data, read_kg_folder, split_overlap,
                           validate)
from pyg_mmkg.datasets import KGFolder
from pyg_mmkg.datasets.vista import bundled_dir

VTKG_FILES = ('entities.txt', 'relations.txt', 'train.txt', 'valid.txt',
              'test.txt')


def lines(path):
    with open(path) as f:
        return [tuple(p.strip() for p in line.split('\t'))
                for line in f if line.strip()]


def leaky_vtkg(folder):
    r"""The bundled VTKG-I with all test lines appended to train."""
    os.makedirs(folder, exist_ok=True)
    for name in VTKG_FILES:
        shutil.copy(osp.join(bundled_dir(), name), osp.join(folder, name))
    with open(osp.join(bundled_dir(), 'test.txt')) as f:
        test = f.read()
    with open(osp.join(folder, 'train.txt'), 'a') as f:
        f.write(test if test.endswith('\n') else test + '\n')
    return folder


def test_vtkg_i_test_appended_to_train(tmp_path):
    d = leaky_vtkg(str(tmp_path / 'raw'))
    test = lines(osp.join(d, 'test.txt'))
    train = set(lines(osp.join(d, 'train.txt')))
    expected = sum(t in train for t in test)
    assert expected == len(test) == 131
    with pytest.raises(SplitOverlapError) as e:
        read_kg_folder(d)
    msg = str(e.value)
    assert f'131 of 131 test lines ({len(set(test))} distinct triples) ' \
           f'also occur in train' in msg
    h, r, t = test[0]
    assert f'e.g. ({h}, {r}, {t})' in msg  # examples by name
    assert 'val lines' not in msg  # validation is clean
    assert isinstance(e.value, ContractError)
    # The dataset class (any processed cache aside) refuses it too:
    with pytest.raises(SplitOverlapError, match='131 of 131 test lines'):
        KGFolder(str(tmp_path))
    # Explicit opt-in: loads with a warning that carries the counts.
    with pytest.warns(SplitOverlapWarning, match='131 of 131 test lines'):
        data = KGFolder(str(tmp_path), allow_split_overlap=True)[0]
    assert data.allow_split_overlap is True
    assert int(data['entity', 'to', 'entity'].train_mask.sum()) == 1054 + 131


def test_cached_processed_file_is_checked_again(tmp_path):
    leaky_vtkg(str(tmp_path / 'raw'))
    with pytest.warns(SplitOverlapWarning):
        KGFolder(str(tmp_path), allow_split_overlap=True)
    # The processed file exists now; loading it without the opt-in fails.
    with pytest.raises(SplitOverlapError, match='131 of 131 test lines'):
        KGFolder(str(tmp_path))


def write(folder, name, text):
    with open(osp.join(folder, name), 'w', newline='') as f:
        f.write(text)


def layout_folder(folder, layout):
    r"""A tiny folder of :obj:`layout` with entities a, b, c, relation r:
    train (a r b), (b r c) plus the test triple (c r a); valid (a r c);
    test (c r a)."""
    os.makedirs(folder, exist_ok=True)
    ids = {'a': 0, 'b': 1, 'c': 2}
    train = [('a', 'r', 'b'), ('b', 'r', 'c'), ('c', 'r', 'a')]
    val, test = [('a', 'r', 'c')], [('c', 'r', 'a')]
    if layout in ('vista', 'tsv'):
        if layout == 'vista':
            write(folder, 'entities.txt', 'a\nb\nc\n')
            write(folder, 'relations.txt', 'r\n')
        fmt = lambda ts: ''.join(f'{h}\t{r}\t{t}\n' for h, r, t in ts)  # noqa
        names = ('train.txt', 'valid.txt', 'test.txt')
    else:
        write(folder, 'entity2id.txt', 'a\t0\nb\t1\nc\t2\n')
        write(folder, 'relation2id.txt', 'r\t0\n')
        if layout == 'openke':
            fmt = lambda ts: f'{len(ts)}\n' + ''.join(  # noqa
                f'{ids[h]} {ids[t]} 0\n' for h, _, t in ts)
            names = ('train2id.txt', 'valid2id.txt', 'test2id.txt')
        elif layout == 'mmrns':
            fmt = lambda ts: ''.join(f'{h} {r} {t} .\n'  # noqa
                                     for h, r, t in ts)
            names = ('train.txt', 'valid.txt', 'test.txt')
        else:  # wn9: head, tail, relation with CRLF
            fmt = lambda ts: ''.join(f'{h}\t{t}\t{r}\r\n'  # noqa
                                     for h, r, t in ts)
            names = ('train.txt', 'valid.txt', 'test.txt')
    for name, ts in zip(names, (train, val, test)):
        write(folder, name, fmt(ts))
    return folder


@pytest.mark.parametrize('layout', ['vista', 'openke', 'mmrns', 'wn9',
                                    'tsv'])
def test_overlap_in_every_layout(tmp_path, layout):
    d = layout_folder(str(tmp_path), layout)
    with pytest.raises(SplitOverlapError,
                       match=r'1 of 1 test lines \(1 distinct triples\) also '
                             r'occur in train, e.g. \(c, r, a\)'):
        read_kg_folder(d, layout=layout)
    with pytest.warns(SplitOverlapWarning, match='1 of 1 test lines'):
        data = read_kg_folder(d, layout=layout, allow_split_overlap=True)
    assert data.layout == layout


def random_splits(seed, N=7, R=2, E=60):
    g = torch.Generator().manual_seed(seed)
    h, r, t = (torch.randint(0, n, (E, ), generator=g) for n in (N, R, N))
    split = torch.randint(0, 3, (E, ), generator=g)
    return h, r, t, split, N, R


@pytest.mark.parametrize('seed', range(5))
def test_counts_match_python_sets(seed):
    h, r, t, split, N, R = random_splits(seed)
    rows = list(zip(h.tolist(), r.tolist(), t.tolist(), split.tolist()))
    sets = [{(a, b, c) for a, b, c, s in rows if s == i} for i in range(3)]

    def count(a, b):  # lines of split a whose triple is in split b
        return [i for i, (x, y, z, s) in enumerate(rows)
                if s == a and (x, y, z) in sets[b]]
    found = split_overlap(h, r, t, split, N, R)
    assert found[('val', 'train')].tolist() == count(1, 0)
    assert found[('test', 'train')].tolist() == count(2, 0)
    assert found[('val', 'test')].tolist() == count(1, 2)
    assert len(count(1, 0)) > 0  # the random graphs do overlap
    # Keys too large for int64 fall back to numbering distinct triples:
    big = split_overlap(h, r, t, split, 2**32, 2**3)
    assert all(torch.equal(big[k], found[k]) for k in found)


def clean_kg():
    splits = {'train': (torch.tensor([0, 1]), torch.tensor([0, 0]),
                        torch.tensor([1, 2])),
              'val': (torch.tensor([0]), torch.tensor([0]),
                      torch.tensor([2])),
              'test': (torch.tensor([2]), torch.tensor([0]),
                       torch.tensor([0]))}
    return make_kg_data(['a', 'b', 'c'], ['r'], splits)


def append(data, h, r, t, split):
    r"""Appends one triple to :obj:`split` in memory, as a user might."""
    store = data['entity', 'to', 'entity']
    store.edge_index = torch.cat([store.edge_index,
                                  torch.tensor([[h], [t]])], dim=1)
    store.edge_type = torch.cat([store.edge_type, torch.tensor([r])])
    for name in ('train', 'val', 'test'):
        key = f'{name}_mask'
        store[key] = torch.cat([store[key], torch.tensor([name == split])])


def test_validate_catches_triples_appended_in_memory():
    data = clean_kg()
    assert check_split_overlap(data) == {'train/val': 0, 'train/test': 0,
                                         'val/test': 0}
    validate(data)
    append(data, 2, 0, 0, 'train')  # the test triple (c, r, a)
    append(data, 0, 0, 2, 'test')  # the validation triple (a, r, c)
    with pytest.raises(SplitOverlapError) as e:
        validate(data)
    msg = str(e.value)
    assert '1 of 2 test lines (1 distinct triples) also occur in train, ' \
           'e.g. (c, r, a)' in msg
    assert '1 of 1 val lines (1 distinct triples) also occur in test, ' \
           'e.g. (a, r, c)' in msg
    with pytest.warns(SplitOverlapWarning):
        validate(data, allow_split_overlap=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        counts = check_split_overlap(data, allow=True)
    assert counts == {'train/val': 0, 'train/test': 1, 'val/test': 1}
    assert len(w) == 1


def test_make_kg_data_refuses_overlap_unless_allowed():
    triple = (torch.tensor([0]), torch.tensor([0]), torch.tensor([1]))
    splits = {'train': triple, 'val': triple}
    with pytest.raises(SplitOverlapError, match=r'1 of 1 val lines .* '
                       r'also occur in train, e.g. \(a, r, b\)'):
        make_kg_data(['a', 'b'], ['r'], splits)
    with pytest.warns(SplitOverlapWarning):
        data = make_kg_data(['a', 'b'], ['r'], splits,
                            allow_split_overlap=True)
    with pytest.warns(SplitOverlapWarning):  # follows the recorded opt-in
        validate(data)
    with pytest.raises(SplitOverlapError):
        validate(data, allow_split_overlap=False)


def test_trainer_refuses_leaky_data():
    from pyg_mmkg.nn.kge import DistMult
    from pyg_mmkg.train import TrainConfig, Trainer
    data = clean_kg()
    append(data, 2, 0, 0, 'train')  # the test triple (c, r, a)
    config = TrainConfig(model='distmult', regime='slcwa', dim=4, epochs=1,
                         progress=False, device='cpu')
    with pytest.raises(SplitOverlapError, match='1 of 1 test lines'):
        Trainer(DistMult(3, 1, 4), data, config, trackers=[], plot=False)
