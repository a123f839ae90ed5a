"""Seam 7 of issue 16: PyG's FB15k_237 / WordNet18RR and this library's
FB15K237 / WN18RR++ hold the same graph under different ids; the alignment
moves weights between them. The code before had no such helper (ImportError).
Expected ids below are transcribed by hand from PyG's rule (ids by first
appearance; WordNet18RR: all heads of a file before its tails, relations
from its fixed edge2id table)."""
import gzip
import os
import os.path as osp
import shutil

import pytest
import torch

from pyg_mmkg.datasets import FB15K237, WN18RR_PP
from pyg_mmkg.datasets.pyg_align import (align_with_pyg, pyg_names,
                                         wordnet_offset_names)

FB = {'train.txt': ['/m/c\t/r/b\t/m/a', '/m/a\t/r/a\t/m/d',
                    '/m/d\t/r/b\t/m/c'],
      'valid.txt': ['/m/e\t/r/a\t/m/a', '/m/b\t/r/a\t/m/e'],
      'test.txt': ['/m/c\t/r/c\t/m/e']}


def _write(folder, files):
    os.makedirs(folder, exist_ok=True)
    for name, lines in files.items():
        with open(osp.join(folder, name), 'w') as f:
            f.write('\n'.join(lines) + '\n')


def test_fb15k_237_both_ways(tmp_path):
    from torch_geometric.datasets import FB15k_237
    _write(tmp_path / 'pyg' / 'raw', FB)
    pyg = FB15k_237(str(tmp_path / 'pyg'))
    ours_raw = dict(FB, **{'entities.txt': ['/m/a', '/m/b', '/m/c', '/m/d',
                                            '/m/e'],
                           'relations.txt': ['/r/a', '/r/b', '/r/c']})
    _write(tmp_path / 'ours' / 'raw', ours_raw)
    ours = FB15K237(str(tmp_path / 'ours'))
    assert pyg_names(pyg) == (['/m/c', '/m/a', '/m/d', '/m/e', '/m/b'],
                              ['/r/b', '/r/a', '/r/c'])
    al = align_with_pyg(pyg, ours)  # checks the triples agree
    assert al.entity_to_pyg.tolist() == [1, 4, 0, 2, 3]
    assert al.entity_to_ours.tolist() == [2, 0, 3, 4, 1]
    assert al.relation_to_pyg.tolist() == [1, 0, 2]
    w_pyg = torch.arange(5.).unsqueeze(1) * 10  # row i = PyG entity i
    assert al.entities_to_ours(w_pyg).flatten().tolist() == [10, 40, 0, 20,
                                                             30]
    assert torch.equal(al.entities_to_pyg(al.entities_to_ours(w_pyg)), w_pyg)
    rel = torch.tensor([[7.], [8.], [9.]])
    assert al.relations_to_ours(rel).flatten().tolist() == [8, 7, 9]
    # PyG's first training edge (/m/c, /r/b, /m/a) in our ids:
    d = pyg[0]
    h, r, t = al.triples_to_ours(d.edge_index[:, :1], d.edge_type[:1])
    assert (h.item(), r.item(), t.item()) == (2, 1, 0)
    with pytest.raises(ValueError, match='expected 5'):
        al.entities_to_ours(torch.zeros(4, 1))


WN_OFF = {'train.txt': ['00000003\t_hypernym\t00000001',
                        '00000002\t_also_see\t00000003'],
          'valid.txt': ['00000004\t_hypernym\t00000002'],
          'test.txt': ['00000001\t_member_meronym\t00000004',
                       '00000005\t_also_see\t00000001',
                       '00000002\t_verb_group\t00000005']}
SYN = {'00000001': 'a.n.01', '00000002': 'b.v.01', '00000003': 'c.n.01',
       '00000004': 'd.n.01'}


def test_wordnet18rr_to_wn18rr_pp(tmp_path):
    from torch_geometric.datasets import WordNet18RR
    _write(tmp_path / 'pyg' / 'raw', WN_OFF)
    pyg = WordNet18RR(str(tmp_path / 'pyg'))
    # WN18RR's text version of the same lines; offset 5 is two synsets.
    text = {}
    for name, lines in WN_OFF.items():
        text[name] = []
        for line in lines:
            h, r, t = line.split('\t')
            syn = dict(SYN, **{'00000005': 'e.n.01' if h == '00000005'
                               else 'e.v.01'})
            text[name].append(f'{syn[h]}\t{r}\t{syn[t]}')
    _write(tmp_path / 'wn18rr' / 'original', WN_OFF)
    _write(tmp_path / 'wn18rr' / 'text', text)
    ents = ['a.n.01', 'b.v.01', 'c.n.01', 'd.n.01', 'e.n.01', 'e.v.01']
    _write(tmp_path / 'ours' / 'raw', dict(
        text, **{'entities.txt': ents, 'relations.txt': [
            '_also_see', '_hypernym', '_member_meronym', '_verb_group']}))
    ours = WN18RR_PP(str(tmp_path / 'ours'))
    names = wordnet_offset_names(str(tmp_path / 'wn18rr' / 'original'),
                                 str(tmp_path / 'wn18rr' / 'text'))
    assert names['00000005'] == ['e.n.01', 'e.v.01']
    # PyG ids: train heads 3, 2; train tails 1; valid head 4; test head 5.
    assert pyg_names(pyg)[0] == ['00000003', '00000002', '00000001',
                                 '00000004', '00000005']
    al = align_with_pyg(pyg, ours, offset_names=names)
    assert al.entity_to_pyg.tolist() == [2, 1, 0, 3, 4, 4]
    assert al.entity_to_ours.tolist() == [2, 1, 0, 3, 4]  # e.n.01 kept
    assert al.num_merged == 1
    assert al.relation_to_pyg.tolist() == [0, 3, 5, 10]  # edge2id
    w = torch.arange(5.).unsqueeze(1)
    assert al.entities_to_ours(w).flatten().tolist() == [2, 1, 0, 3, 4, 4]
    with pytest.raises(ValueError, match='WN18RR\\+\\+ needs offset_names'):
        align_with_pyg(pyg, ours)


def test_missing_raw_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='train.txt'):
        pyg_names(str(tmp_path), kind='FB15k_237')


def test_real_fb15k_237(tmp_path, shared_data):
    from torch_geometric.datasets import FB15k_237
    src = osp.join(shared_data, 'FB15k-237')
    raw = tmp_path / 'pyg' / 'raw'
    raw.mkdir(parents=True)
    for name in ('train', 'valid', 'test'):
        with gzip.open(osp.join(src, f'{name}.txt.gz'), 'rb') as f, \
                open(raw / f'{name}.txt', 'wb') as g:
            shutil.copyfileobj(f, g)
    pyg = FB15k_237(str(tmp_path / 'pyg'))
    ours_raw = tmp_path / 'ours' / 'raw'
    ours_raw.mkdir(parents=True)
    for name in ('entities.txt', 'relations.txt', 'train.txt.gz',
                 'valid.txt.gz', 'test.txt.gz'):
        os.symlink(osp.join(src, name), ours_raw / name)
    ours = FB15K237(str(tmp_path / 'ours'))
    al = align_with_pyg(pyg, ours)  # all 310,116 triples agree
    assert al.entity_to_pyg.numel() == 14541 and al.num_merged == 0
    assert sorted(al.entity_to_pyg.tolist()) == list(range(14541))
    assert sorted(al.relation_to_pyg.tolist()) == list(range(237))
