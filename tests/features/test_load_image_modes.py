r"""load_image on the PNG modes of real clipart: transparency on white."""
import io

import pytest

Image = pytest.importorskip('PIL.Image')

from pyg_mmkg.features.images import load_image  # noqa: E402


def _png(img, **kw):
    buf = io.BytesIO()
    img.save(buf, format='PNG', **kw)
    return buf.getvalue()


def test_rgba_transparent_pixels_become_white():
    # A red dot on a fully transparent canvas whose hidden colour is black
    # (what most drawing programs write).
    img = Image.new('RGBA', (8, 8), (0, 0, 0, 0))
    img.putpixel((4, 4), (255, 0, 0, 255))
    img.putpixel((1, 1), (0, 0, 255, 128))  # Half transparent blue.
    out = load_image(_png(img))
    assert out.mode == 'RGB'
    assert out.getpixel((0, 0)) == (255, 255, 255)
    assert out.getpixel((4, 4)) == (255, 0, 0)
    # Alpha blending by hand: 0.5 * blue + 0.5 * white.
    r, g, b = out.getpixel((1, 1))
    assert abs(r - 127) <= 1 and abs(g - 127) <= 1 and b == 255


def test_palette_with_transparent_index_and_la():
    pal = Image.new('P', (4, 4), 0)
    pal.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    pal.putpixel((2, 2), 1)
    out = load_image(_png(pal, transparency=0))
    assert out.getpixel((0, 0)) == (255, 255, 255)
    assert out.getpixel((2, 2)) == (0, 200, 0)

    la = Image.new('LA', (4, 4), (0, 0))
    la.putpixel((3, 3), (90, 255))
    out = load_image(la)  # A PIL image goes through the same conversion.
    assert out.getpixel((0, 0)) == (255, 255, 255)
    assert out.getpixel((3, 3)) == (90, 90, 90)


def test_opaque_modes_unchanged():
    grey = Image.new('L', (3, 3), 77)
    assert load_image(_png(grey)).getpixel((1, 1)) == (77, 77, 77)
    bw = Image.new('1', (3, 3), 0)
    assert load_image(_png(bw)).getpixel((0, 0)) == (0, 0, 0)
    rgb = Image.new('RGB', (3, 3), (1, 2, 3))
    assert load_image(_png(rgb)).getpixel((2, 2)) == (1, 2, 3)


def test_image_cache_key_has_loader_version(tmp_path, monkeypatch):
    # A changed loader must not serve features cached by the old one.
    import torch

    from pyg_mmkg.features import encode_images
    from pyg_mmkg.features import pipeline
    from pyg_mmkg.features.base import FeatureEncoder

    class Mean(FeatureEncoder):
        modalities = ('image', )

        def __init__(self):
            super().__init__('cpu', 'fp32')
            self._identity = 'mean-pixel'
            self._dim = 3

        def preprocess(self, image):
            import numpy as np
            return torch.from_numpy(np.asarray(image, dtype='float32')
                                    ).permute(2, 0, 1)

        def _encode_image(self, x):
            return x.mean(dim=(2, 3))

    path = tmp_path / 'a.png'
    Image.new('RGBA', (4, 4), (0, 0, 0, 0)).save(path)
    enc = Mean()
    first = encode_images(enc, [str(path)], cache_dir=str(tmp_path / 'c'),
                          progress=False)
    assert torch.allclose(first.x[0, 0], torch.full((3, ), 255.))
    monkeypatch.setattr(pipeline, 'LOADER_VERSION', 'other')
    monkeypatch.setattr(pipeline, 'load_image',
                        lambda item: Image.new('RGB', (4, 4), (0, 0, 0)))
    again = encode_images(enc, [str(path)], cache_dir=str(tmp_path / 'c'),
                          progress=False)
    assert torch.allclose(again.x[0, 0], torch.zeros(3))
