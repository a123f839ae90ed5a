r"""WikiArtMKG on small files written in the layout of thefth/vl-kge
(vlkge/data/wikiart_mkg_<v>/: a head,relation,tail,mode CSV and pickled
dicts of features under features/)."""
import os
import pickle

import numpy as np
import pytest
import torch

from pyg_mmkg.data import triples
from pyg_mmkg.data.safe_load import UnsafeFileError
from pyg_mmkg.datasets import WikiArtMKG, get_dataset, list_datasets

ROWS = [
    # head, relation, tail, mode (a tag with a comma, quoted in the CSV)
    ('artwork_1', 'hasStyle', 'Baroque', 'train'),
    ('artwork_2', 'isCreatedByArtist', 'rembrandt', 'train'),
    ('artwork_1', 'isAssociatedWithTag', 'oil, canvas', 'train'),
    ('artwork_3', 'hasStyle', 'Baroque', 'val'),
    ('artwork_3', 'isCreatedByArtist', 'rembrandt', 'test'),
    ('artwork_3', 'isRelatedToArtwork', 'artwork_1', 'test'),
    ('rembrandt', 'isPupilOf', 'lastman', 'train'),
]


def _write(raw, version='v1', rows=ROWS, visual=None, textual=None):
    os.makedirs(raw / 'features', exist_ok=True)
    lines = ['head,relation,tail,mode'] + [
        ','.join(f'"{c}"' if ',' in c else c for c in row) for row in rows]
    (raw / f'wikiart_mkg_{version}_triples.csv').write_text(
        '\n'.join(lines) + '\n')
    for kind, obj in (('vf_clip', visual), ('tf_clip', textual)):
        if obj is not None:
            with open(raw / 'features' / f'wikiart_mkg_{version}_{kind}.pkl',
                      'wb') as f:
                pickle.dump(obj, f)


VISUAL = {  # Artworks: a tensor, an array, a list of two (averaged).
    'artwork_1': torch.tensor([1., 2., 3.]),
    'artwork_2': np.array([0., 1., 0.], dtype=np.float32),
    'artwork_3': [np.array([2., 0., 0.]), np.array([0., 2., 4.])],
    'not_in_graph': torch.ones(3),
}
TEXTUAL = {'Baroque': torch.tensor([1., -1.]),
           'rembrandt': torch.tensor([0.5, 0.5]),
           'oil, canvas': torch.tensor([2., 2.])}


def test_reads_official_layout(tmp_path):
    _write(tmp_path / 'raw', visual=VISUAL, textual=TEXTUAL)
    data = WikiArtMKG(tmp_path)[0]
    names = data['entity'].name
    # First appearance among heads, then tails:
    assert names == ['artwork_1', 'artwork_2', 'artwork_3', 'rembrandt',
                     'Baroque', 'oil, canvas', 'lastman']
    rels = data['relation'].name
    assert rels == ['hasStyle', 'isCreatedByArtist', 'isAssociatedWithTag',
                    'isRelatedToArtwork', 'isPupilOf']
    for split in ('train', 'val', 'test'):
        h, r, t = triples(data, split)
        got = [(names[a], rels[b], names[c])
               for a, b, c in zip(h.tolist(), r.tolist(), t.tolist())]
        assert got == [row[:3] for row in ROWS if row[3] == split]
    x, has = data['entity'].x_image, data['entity'].has_image
    assert x.shape == (7, 1, 3)
    torch.testing.assert_close(x[0, 0], torch.tensor([1., 2., 3.]))
    torch.testing.assert_close(x[2, 0], torch.tensor([1., 1., 2.]))
    assert has.tolist() == [True, True, True, False, False, False, False]
    assert data['entity'].image_mask[:, 0].tolist() == has.tolist()
    assert data['entity'].has_text.tolist() == [False, False, False, True,
                                                True, True, False]
    torch.testing.assert_close(data['entity'].x_text[5],
                               torch.tensor([2., 2.]))
    assert data['entity'].x_text[6].abs().sum() == 0


def test_vlkge_protocol_v2(tmp_path):
    _write(tmp_path / 'raw', version='v2')
    data = get_dataset('WikiArt-MKG-v2', str(tmp_path), visual=None,
                       textual=None, protocol='vlkge')[0]
    names, rels = data['entity'].name, data['relation'].name
    out = {}
    for split in ('train', 'val', 'test'):
        h, r, t = triples(data, split)
        out[split] = {(names[a], rels[b], names[c])
                      for a, b, c in zip(h.tolist(), r.tolist(), t.tolist())}
    # The inverse of the training isCreatedByArtist triple is added, and
    # isRelatedToArtwork leaves the test split.
    assert ('rembrandt', 'hasCreatedArtwork', 'artwork_2') in out['train']
    assert len(out['train']) == 5
    assert out['test'] == {('artwork_3', 'isCreatedByArtist', 'rembrandt')}


def test_missing_files_manual_download(tmp_path):
    with pytest.raises(RuntimeError, match='Git LFS') as e:
        WikiArtMKG(tmp_path, version='v2')
    assert 'wikiart_mkg_v2_triples.csv' in str(e.value)
    assert 'features/wikiart_mkg_v2_vf_clip.pkl' in str(e.value)


def test_feature_pickles_run_no_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ('touch pwned',))
    _write(tmp_path / 'raw', visual={'artwork_1': Evil()}, textual=None)
    with pytest.raises(UnsafeFileError, match='posix.system|nt.system'):
        WikiArtMKG(tmp_path, textual=None)
    assert not os.path.exists('pwned')


def test_bad_csv(tmp_path):
    raw = tmp_path / 'raw'
    _write(raw, rows=[('a', 'r', 'b', 'training')])
    with pytest.raises(ValueError, match="line 2: unknown split 'training'"):
        WikiArtMKG(tmp_path, visual=None, textual=None)


def test_registered_with_the_vlkge_recipe_keys():
    from pyg_mmkg.nn.models._vlkge_recipes import RECIPES
    names = {d['name'] for d in list_datasets()}
    assert {'WikiArt-MKG-v1', 'WikiArt-MKG-v2'} <= names
    assert {'WikiArt-MKG-v1', 'WikiArt-MKG-v2'} <= set(RECIPES)
    stats = {d['name']: d['stats'] for d in list_datasets()}
    assert stats['WikiArt-MKG-v2']['train'] == 7877220
    assert stats['WikiArt-MKG-v1']['num_entities'] == 76758
