r"""RSME's filter gate (pHash centrality) on the real bundled VTKG-I images:
our DCT pHash against :obj:`imagehash` and a scipy transcription, and the
selected image against a transcription of the official
:obj:`FilterGate.filter` loop (wangmengsd/RSME@d46e6d5 filter_gate.py)."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch

from pyg_mmkg.features import (encode_images, perceptual_hash, phash_order,
                               phash_scores, phash_slots)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
IMAGES = osp.join(REPO, 'datasets', 'VTKG-I', 'images', 'entity')


def _entity_lists():
    out = []
    for folder in sorted(glob.glob(osp.join(IMAGES, '*'))):
        files = sorted(glob.glob(osp.join(folder, '*.jpg')))
        if files:
            out.append(files)
    return out


def _scipy_phash(path, hash_size):
    # imagehash.phash, transcribed: grey, Lanczos resize to 4s x 4s,
    # scipy's DCT-II along both axes, top-left s x s against its median.
    from PIL import Image
    scipy_fft = pytest.importorskip('scipy.fftpack')
    img = Image.open(path).convert('L').resize((hash_size * 4, ) * 2,
                                               Image.LANCZOS)
    pixels = np.asarray(img)
    dct = scipy_fft.dct(scipy_fft.dct(pixels, axis=0), axis=1)
    low = dct[:hash_size, :hash_size]
    return torch.from_numpy((low > np.median(low)).flatten())


@pytest.mark.parametrize('hash_size', [8, 16])
def test_phash_matches_transcription_on_real_images(hash_size):
    files = [f for files in _entity_lists() for f in files][::3]
    assert len(files) > 50
    for f in files:
        assert torch.equal(perceptual_hash(f, hash_size),
                           _scipy_phash(f, hash_size)), f


def test_phash_matches_imagehash_on_real_images():
    imagehash = pytest.importorskip('imagehash')
    from PIL import Image
    files = [f for files in _entity_lists() for f in files]
    assert len(files) == 216
    for f in files:
        ref = imagehash.phash(Image.open(f), hash_size=16).hash.flatten()
        assert torch.equal(perceptual_hash(f, 16), torch.from_numpy(ref)), f


def _official_pick(hashes):
    # FilterGate.filter: sim_matrix[i][j] = 1 - hamming / len(hash)**2 for
    # i != j (diagonal 0); keep the first index with the largest row sum.
    n = len(hashes)
    sim = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            ham = int((hashes[i] != hashes[j]).sum())
            sim[i][j] = sim[j][i] = 1 - ham / hashes[i].numel()
    best, best_sim = 0, sum(sim[0])
    for i in range(1, n):
        if sum(sim[i]) > best_sim:
            best, best_sim = i, sum(sim[i])
    return best, [sum(row) for row in sim]


def test_filter_gate_picks_the_official_image():
    lists = _entity_lists()
    ordered = phash_order(lists)
    picks_other_than_first = 0
    for files, got in zip(lists, ordered):
        hashes = [perceptual_hash(f, 16) for f in files]
        best, sums = _official_pick(hashes)
        assert got[0] == files[best]
        assert sorted(got) == sorted(files)
        group = torch.zeros(len(files), dtype=torch.long)
        scores = phash_scores(torch.stack(hashes), group, 1)
        assert torch.allclose(scores, torch.tensor(sums, dtype=scores.dtype))
        picks_other_than_first += best != 0
    # The gate is not a no-op on these images:
    assert picks_other_than_first > 0


def test_phash_scores_several_entities():
    gen = torch.Generator().manual_seed(0)
    bits = torch.rand(9, 16, generator=gen) > 0.5
    group = torch.tensor([0, 0, 0, 2, 2, 2, 2, 3, 0])
    got = phash_scores(bits, group, 4)
    for i in range(9):
        same = [j for j in range(9) if group[j] == group[i] and j != i]
        expected = sum(1 - float((bits[i] != bits[j]).sum()) / 16
                       for j in same)
        assert abs(float(got[i]) - expected) < 1e-9


def test_encode_images_phash_selection(fake_encoder, tmp_path):
    lists = _entity_lists()[:12] + [None]
    lists[1] = lists[1] + [str(tmp_path / 'missing.jpg')]  # unreadable
    out = encode_images(fake_encoder(), lists, max_images=1,
                        selection='phash', progress=False)
    for i, files in enumerate(lists[:12]):
        files = [f for f in files if osp.exists(f)]
        best, _ = _official_pick([perceptual_hash(f, 16) for f in files])
        ref = encode_images(fake_encoder(), [[files[best]]], progress=False)
        assert torch.equal(out.x[i], ref.x[0]), i
    assert out.mask[:, 0].tolist() == [True] * 12 + [False]


def test_phash_slots_is_the_official_pick(tmp_path):
    lists = _entity_lists()[:40]
    missing = str(tmp_path / 'missing.jpg')
    corrupt = tmp_path / 'corrupt.jpg'
    corrupt.write_bytes(b'not a jpeg')
    # Unreadable files first: never picked while the entity has real images.
    lists[3] = [missing] + lists[3]
    lists[5] = [str(corrupt)] + lists[5]
    lists.append([])
    with pytest.warns(UserWarning, match='2 image.s. could not be read'):
        slots = phash_slots(lists)
    assert slots.dtype == torch.long and slots.shape == (41, )
    picked_other = 0
    for i, files in enumerate(lists[:40]):
        real = [f for f in files if f not in (missing, str(corrupt))]
        best, _ = _official_pick([perceptual_hash(f, 16) for f in real])
        assert files[int(slots[i])] == real[best], i
        picked_other += int(slots[i]) != 0
    assert int(slots[40]) == 0
    assert picked_other > 1


def test_phash_without_pillow_is_an_error(monkeypatch):
    # Not "every image unreadable, keep the first": a clear ImportError.
    import sys
    monkeypatch.setitem(sys.modules, 'PIL', None)
    monkeypatch.setitem(sys.modules, 'PIL.Image', None)
    with pytest.raises(ImportError, match='vision'):
        phash_slots(_entity_lists()[:2])
    with pytest.raises(ImportError, match='vision'):
        phash_order(_entity_lists()[:2])
