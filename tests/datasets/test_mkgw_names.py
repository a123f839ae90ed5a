r"""MKG-W entity names (DBpedia resources of its Wikidata entities, K-ON's
``ent_links.txt``) and relation labels (``rel_links.txt``): the real
download path served from the real files, and bad input."""
import gzip
import os
import os.path as osp
import shutil
from urllib.parse import unquote

import pytest

from pyg_mmkg.data.io import RawFormatError
from pyg_mmkg.datasets import MKG_W
from pyg_mmkg.datasets.mmrns import dbpedia_name, read_entity_links


def _serve(shared_data, fail=()):
    served = []

    def fake(url, folder, log=True, filename=None):
        name = url.rsplit('/', 1)[1]
        if name in fail:
            raise OSError('network unreachable')
        os.makedirs(folder, exist_ok=True)
        dst = osp.join(folder, filename)
        src = osp.join(shared_data, 'MKG-W', name)
        if name == 'ent_links.txt':  # staged gzipped: serve the plain blob
            with gzip.open(src[:-4] + '.gz', 'rb') as f, \
                    open(dst, 'wb') as out:
                shutil.copyfileobj(f, out)
        elif name == 'train.txt':
            with gzip.open(src + '.gz', 'rb') as f, open(dst, 'wb') as out:
                shutil.copyfileobj(f, out)
        else:
            shutil.copy(src, dst)
        served.append(name)
        return dst
    return fake, served


def test_download_gets_names_with_correct_checksums(tmp_path, monkeypatch,
                                                    shared_data):
    import torch_geometric.data
    fake, served = _serve(shared_data)
    monkeypatch.setattr(torch_geometric.data, 'download_url', fake)
    data = MKG_W(str(tmp_path))[0]
    assert sorted(served) == sorted([
        'entity2id.txt', 'relation2id.txt', 'train.txt', 'valid.txt',
        'test.txt', 'ent_links.txt', 'rel_links.txt'])
    ent, rel = data['entity'], data['relation']
    name = dict(zip(ent.name, ent.text))
    # Lines 3 and 1 of the staged ent_links (percent-free and UTF-8 names):
    assert name['http://www.wikidata.org/entity/Q707008'] == \
        'Jim Jones (rapper)'
    assert name['http://www.wikidata.org/entity/Q21197'] == 'Chișinău'
    assert sum(1 for t in ent.text if t) == 15000
    # Every name is the whole resource name (34 of them hold a '/'):
    with gzip.open(osp.join(shared_data, 'MKG-W', 'ent_links.gz'), 'rt',
                   encoding='utf-8') as f:
        links = dict(line.rstrip('\n').split('\t')[::-1] for line in f)
    prefix = 'http://dbpedia.org/resource/'
    slashed = 0
    for n, text in name.items():
        raw = links[n][len(prefix):]
        assert text.replace(' ', '_') == unquote(raw), n
        slashed += '/' in raw
    assert slashed == 34
    assert len(rel.text) == 169
    assert rel.text[:3] == ['cast member', 'screenwriter', 'occupation']


def test_names_are_optional(tmp_path, monkeypatch, shared_data):
    import torch_geometric.data
    fake, served = _serve(shared_data, fail=('ent_links.txt', ))
    monkeypatch.setattr(torch_geometric.data, 'download_url', fake)
    with pytest.warns(UserWarning, match="optional 'ent_links.txt'"):
        data = MKG_W(str(tmp_path))[0]
    assert 'text' not in data['entity']
    assert len(data['relation'].text) == 169
    assert not osp.exists(tmp_path / 'raw' / 'ent_links.txt')


def test_dbpedia_name():
    assert dbpedia_name('<http://dbpedia.org/resource/Caf%C3%A9_Society>') \
        == 'Café Society'
    assert dbpedia_name('http://dbpedia.org/resource/A_B_(c)') == 'A B (c)'
    # A '/' inside the resource name is part of the name:
    assert dbpedia_name('http://dbpedia.org/resource/AC/DC') == 'AC/DC'
    assert dbpedia_name('http://dbpedia.org/resource/Frost/Nixon_(film)') \
        == 'Frost/Nixon (film)'


def test_read_entity_links_bad_input(tmp_path):
    names = ['http://www.wikidata.org/entity/Q1',
             'http://www.wikidata.org/entity/Q2']
    path = tmp_path / 'ent_links.txt'
    path.write_text('http://dbpedia.org/resource/One\t'
                    'http://www.wikidata.org/entity/Q1\n'
                    'http://dbpedia.org/resource/Other\t'
                    'http://www.wikidata.org/entity/Q9\n')
    # Q2 has no link, Q9 is not an entity of the graph:
    assert read_entity_links(str(path), names) == ['One', '']
    path.write_text('http://dbpedia.org/resource/One\t'
                    'http://www.wikidata.org/entity/Q1\n'
                    'http://dbpedia.org/resource/Two '
                    'http://www.wikidata.org/entity/Q2\n')
    with pytest.raises(RawFormatError, match=r'ent_links.txt.*line 2'):
        read_entity_links(str(path), names)
    path.write_text('http://dbpedia.org/resource/One\t'
                    'http://www.wikidata.org/entity/Q1\n'
                    'http://dbpedia.org/resource/Uno\t'
                    'http://www.wikidata.org/entity/Q1\n')
    with pytest.raises(RawFormatError, match=r'line 2.*linked twice'):
        read_entity_links(str(path), names)


def test_relation_label_count_is_checked(tmp_path, shared_data):
    raw = tmp_path / 'raw'
    raw.mkdir()
    for f in ('entity2id.txt', 'relation2id.txt', 'train.txt.gz',
              'valid.txt', 'test.txt'):
        shutil.copy(osp.join(shared_data, 'MKG-W', f), raw / f)
    lines = open(osp.join(shared_data, 'MKG-W', 'rel_links.txt')).read()
    (raw / 'rel_links.txt').write_text(lines.split('\n', 1)[1])
    with pytest.raises(RawFormatError, match=r'rel_links.txt.*169.*168'):
        MKG_W(str(tmp_path))
    assert not osp.exists(tmp_path / 'processed') or not any(
        f.endswith('.pt') and f.startswith('data')
        for f in os.listdir(tmp_path / 'processed'))
