import os

import pytest
import torch

import pyg_mmkg.features.cache as cache_module
from pyg_mmkg.features import encode_images, encode_texts, vista_scores

TEXTS = [f'{"a" * (i % 4)}text number {i}' for i in range(23)]


def test_encode_texts_batches_and_order(fake_encoder):
    enc = fake_encoder()
    texts = list(TEXTS)
    texts[3], texts[17] = None, '   '
    out = encode_texts(enc, texts, batch_size=5, progress=False)
    # 21 real texts, in batches of 5: N > batch size, not a multiple of it.
    assert enc.text_calls == [5, 5, 5, 5, 1]
    assert out.x.shape == (23, 3)
    assert out.has_text.tolist() == [i not in {3, 17} for i in range(23)]
    for i, t in enumerate(texts):
        if i in {3, 17}:
            assert out.x[i].abs().sum() == 0
        else:
            assert out.x[i].tolist() == [len(t), t.count('a'), ord(t[0])]


def test_encode_texts_empty_and_all_missing(fake_encoder):
    out = encode_texts(fake_encoder(), [None, ''], progress=False)
    assert out.x.shape == (2, 3) and out.x.abs().sum() == 0
    assert out.has_text.tolist() == [False, False]


def test_text_cache_hit_and_invalidation(tmp_path, fake_encoder):
    first = fake_encoder()
    out1 = encode_texts(first, TEXTS, batch_size=8, cache_dir=str(tmp_path),
                        progress=False)
    assert len(first.text_calls) == 3
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 1 and files[0].startswith('text-fake_v1-')

    again = fake_encoder()  # Same identity, options and weights: cache hit.
    out2 = encode_texts(again, TEXTS, batch_size=8, cache_dir=str(tmp_path),
                        progress=False)
    assert again.text_calls == []
    assert torch.equal(out1.x, out2.x)
    assert torch.equal(out1.has_text, out2.has_text)

    changed = fake_encoder()  # One text changed: the cache must not be used.
    texts = TEXTS[:-1] + ['another text']
    out3 = encode_texts(changed, texts, cache_dir=str(tmp_path),
                        progress=False)
    assert sum(changed.text_calls) == 23
    assert out3.x[-1].tolist() == [12, 1, ord('a')]

    other = fake_encoder(tag='v2')  # Other identity.
    encode_texts(other, TEXTS, cache_dir=str(tmp_path), progress=False)
    assert sum(other.text_calls) == 23
    scaled = fake_encoder(scale=2.0)  # Same identity, other options.
    out5 = encode_texts(scaled, TEXTS, cache_dir=str(tmp_path),
                        progress=False)
    assert sum(scaled.text_calls) == 23
    assert torch.equal(out5.x, 2 * out1.x)
    assert len(os.listdir(tmp_path)) == 4


def test_cache_write_is_atomic(tmp_path, monkeypatch, fake_encoder):
    real_save = torch.save

    def crashing_save(obj, f, *args, **kwargs):
        f.write(b'partial data')
        raise KeyboardInterrupt  # E.g. the user presses Ctrl-C mid-write.

    monkeypatch.setattr(cache_module.torch, 'save', crashing_save)
    with pytest.raises(KeyboardInterrupt):
        encode_texts(fake_encoder(), TEXTS, cache_dir=str(tmp_path),
                     progress=False)
    assert os.listdir(tmp_path) == []  # No partial file, no temporary file.

    monkeypatch.setattr(cache_module.torch, 'save', real_save)
    enc = fake_encoder()
    encode_texts(enc, TEXTS, cache_dir=str(tmp_path), progress=False)
    (name, ) = os.listdir(tmp_path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / name).st_mode & 0o777 == 0o666 & ~umask
    # A damaged cache file (e.g. written by another tool) is a cache miss:
    (tmp_path / name).write_bytes(b'garbage')
    enc = fake_encoder()
    out = encode_texts(enc, TEXTS, cache_dir=str(tmp_path), progress=False)
    assert sum(enc.text_calls) == 23
    assert out.x[0].tolist() == [len(TEXTS[0]), 0, ord('t')]
    loaded = torch.load(tmp_path / name, weights_only=True)
    assert torch.equal(loaded['x'], out.x)


COLORS = [(10 * i, 5 * j, 200 - 10 * i) for i in range(13) for j in range(4)]


def _entity_images(make_image, tmp_path, counts):
    images, colors = [], []
    for e, n in enumerate(counts):
        cols = [COLORS[(4 * e + k) % len(COLORS)] for k in range(n)]
        paths = [make_image(tmp_path / f'e{e}_{k}.png', c)
                 for k, c in enumerate(cols)]
        images.append(paths if n != 1 else paths[0])
        colors.append(cols)
    return images, colors


def test_encode_images_first_k(tmp_path, fake_encoder, make_image):
    counts = [3, 0, 1, 4, 2, 0, 3, 1, 2, 4, 1, 3, 2]  # 13 entities
    images, colors = _entity_images(make_image, tmp_path, counts)
    images[1] = None
    enc = fake_encoder()
    out = encode_images(enc, images, max_images=2, batch_size=4,
                        progress=False)
    # 19 images wanted (min(count, 2) each), batches of 4.
    assert enc.image_calls == [4, 4, 4, 4, 3]
    assert out.x.shape == (13, 2, 3) and out.mask.shape == (13, 2)
    assert out.num_skipped == 0 and out.skipped == []
    for e, cols in enumerate(colors):
        assert out.has_image[e].item() == (len(cols) > 0)
        for k in range(2):
            if k < len(cols):
                assert out.mask[e, k]
                assert out.x[e, k].tolist() == list(map(float, cols[k]))
            else:
                assert not out.mask[e, k]
                assert out.x[e, k].abs().sum() == 0


def test_corrupt_images_are_skipped_and_counted(tmp_path, fake_encoder,
                                                make_image):
    from PIL import Image
    bad = tmp_path / 'bad.jpg'
    bad.write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    good = [make_image(tmp_path / f'g{k}.png', (20 * k, 0, 0))
            for k in range(4)]
    truncated = tmp_path / 'trunc.png'
    truncated.write_bytes(open(good[1], 'rb').read()[:40])
    images = [
        [str(bad), good[0], good[1]],  # first K=2 readable: g0, g1
        [str(tmp_path / 'missing.png'), str(truncated)],  # none readable
        [good[2], str(bad), good[3]],  # g2, then g3 replaces the bad one
        Image.new('RGB', (8, 8), (1, 2, 3)),  # an in-memory image
    ]
    enc = fake_encoder()
    with pytest.warns(UserWarning, match='4 image'):
        out = encode_images(enc, images, max_images=2, batch_size=3,
                            progress=False)
    assert out.num_skipped == 4
    assert str(bad) in out.skipped and str(truncated) in out.skipped
    assert out.has_image.tolist() == [True, False, True, True]
    assert out.mask.tolist() == [[True, True], [False, False], [True, True],
                                 [True, False]]
    assert out.x[0, :, 0].tolist() == [0.0, 20.0]
    assert out.x[2, :, 0].tolist() == [40.0, 60.0]
    assert out.x[3, 0].tolist() == [1.0, 2.0, 3.0]


def _vista_oracle(feats):
    # VISTA's sort_vis_features: s_i accumulates <f_i, f_j> for j >= i, and
    # <f_j, f_i> for j < i, i.e. the sum over all j including i itself.
    n = len(feats)
    score = [0.0] * n
    for i in range(n):
        for j in range(i, n):
            sim = float(feats[i] @ feats[j])
            score[j] += sim
            if j != i:
                score[i] += sim
    return sorted(range(n), key=lambda i: -score[i])


def test_vista_selection(tmp_path, fake_encoder, make_image):
    # Entity 0: three reddish images and one blue outlier (listed first).
    cols0 = [(0, 0, 250), (200, 10, 10), (250, 0, 0), (180, 40, 20)]
    # Entity 1: random colours, checked against VISTA's own loop.
    gen = torch.Generator().manual_seed(1)
    cols1 = [tuple(torch.randint(0, 256, (3, ), generator=gen).tolist())
             for _ in range(7)]
    images = [[make_image(tmp_path / f'a{k}.png', c)
               for k, c in enumerate(cols0)],
              [make_image(tmp_path / f'b{k}.png', c)
               for k, c in enumerate(cols1)], None]
    out = encode_images(fake_encoder(), images, max_images=3,
                        selection='vista', batch_size=4, progress=False)
    # The most typical reddish images come first; the blue outlier is out.
    f0 = torch.tensor(cols0, dtype=torch.float)
    assert _vista_oracle(f0)[:3] == [2, 1, 3]
    assert out.x[0].tolist() == [list(map(float, cols0[k])) for k in (2, 1, 3)]
    f1 = torch.tensor(cols1, dtype=torch.float)
    expected = _vista_oracle(f1)[:3]
    assert out.x[1].tolist() == f1[expected].tolist()
    assert out.mask.tolist() == [[True] * 3, [True] * 3, [False] * 3]

    first = encode_images(fake_encoder(), images, max_images=3,
                          selection='first', progress=False)
    assert first.x[0].tolist() == f0[:3].tolist()


def test_vista_scores_include_self_term():
    x = torch.tensor([[3.0, 0.0], [1.0, 1.0], [0.0, 2.0], [5.0, 5.0]])
    group = torch.tensor([0, 0, 0, 1])
    # s_i = <x_i, sum_j x_j>, sum over the group including j = i.
    assert vista_scores(x, group, 2).tolist() == [12.0, 7.0, 6.0, 50.0]


def test_image_cache_and_invalidation(tmp_path, fake_encoder, make_image):
    images, _ = _entity_images(make_image, tmp_path, [2, 1, 3, 0, 2])
    cache = tmp_path / 'cache'
    enc = fake_encoder()
    out1 = encode_images(enc, images, max_images=2, cache_dir=str(cache),
                         batch_size=3, progress=False)
    assert sum(enc.image_calls) == 7
    enc = fake_encoder()
    out2 = encode_images(enc, images, max_images=2, cache_dir=str(cache),
                         batch_size=3, progress=False)
    assert enc.image_calls == []
    assert torch.equal(out1.x, out2.x) and torch.equal(out1.mask, out2.mask)

    # Other K, other selection, or a changed file: encode again.
    for kwargs in [dict(max_images=1), dict(max_images=2, selection='vista')]:
        enc = fake_encoder()
        encode_images(enc, images, cache_dir=str(cache), progress=False,
                      **kwargs)
        assert len(enc.image_calls) > 0
    make_image(tmp_path / 'e1_0.png', (1, 2, 3), size=(41, 30))
    enc = fake_encoder()
    out3 = encode_images(enc, images, max_images=2, cache_dir=str(cache),
                         progress=False)
    assert len(enc.image_calls) > 0
    assert out3.x[1, 0].tolist() == [1.0, 2.0, 3.0]


def test_encode_images_with_workers(tmp_path, fake_encoder, make_image):
    images, _ = _entity_images(make_image, tmp_path, [2, 1, 3, 0, 2, 1])
    ref = encode_images(fake_encoder(), images, max_images=3, progress=False)
    out = encode_images(fake_encoder(), images, max_images=3, batch_size=2,
                        num_workers=2, progress=False)
    assert torch.equal(ref.x, out.x) and torch.equal(ref.mask, out.mask)


def test_encode_images_errors(fake_encoder):
    with pytest.raises(ValueError, match="'selection' must be one of"):
        encode_images(fake_encoder(), [None], selection='best')
    with pytest.raises(ValueError, match="'max_images' must be positive"):
        encode_images(fake_encoder(), [None], max_images=0)
    out = encode_images(fake_encoder(), [None, []], max_images=2,
                        progress=False)
    assert out.x.shape == (2, 2, 3) and not out.mask.any()
