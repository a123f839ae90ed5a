import time

import pytest
import torch

from pyg_mmkg.features import OpenCLIPEncoder, encode_images, encode_texts
from pyg_mmkg.features import load_image

open_clip = pytest.importorskip('open_clip')


def test_tiny_open_clip_matches_model(tiny_open_clip, make_image, tmp_path):
    torch.manual_seed(0)
    enc = OpenCLIPEncoder(tiny_open_clip, device='cpu')
    assert enc.identity == 'open_clip:pyg-mmkg-tiny-clip:random'
    assert enc.dim == 16

    texts = [f'a photo of thing number {i}' for i in range(7)]
    out = encode_texts(enc, texts, batch_size=3, progress=False)
    tokenizer = open_clip.get_tokenizer(tiny_open_clip)
    with torch.no_grad():
        ref = enc.model.encode_text(tokenizer(texts))
    assert torch.allclose(out.x, ref, atol=1e-5)

    paths = [make_image(tmp_path / f'{i}.png', (30 * i, 80, 200 - 20 * i))
             for i in range(5)]
    images = [paths[:2], None, paths[2:5]]
    out = encode_images(enc, images, max_images=2, batch_size=2,
                        progress=False)
    pixels = torch.stack([enc.preprocess(load_image(p)) for p in paths])
    with torch.no_grad():
        ref = enc.model.encode_image(pixels)
    assert out.x.shape == (3, 2, 16)
    assert torch.allclose(out.x[0], ref[:2], atol=1e-5)
    assert torch.allclose(out.x[2], ref[2:4], atol=1e-5)
    assert out.mask.tolist() == [[True, True], [False, False], [True, True]]


def test_local_checkpoint_and_normalize(tiny_open_clip, tmp_path):
    torch.manual_seed(1)
    base = OpenCLIPEncoder(tiny_open_clip, device='cpu')
    ckpt = tmp_path / 'my-tiny-weights.pt'
    torch.save(base.model.state_dict(), ckpt)
    torch.manual_seed(2)  # A different random init, replaced by the file.
    enc = OpenCLIPEncoder(tiny_open_clip, pretrained=str(ckpt),
                          device='cpu')
    assert enc.identity == 'open_clip:pyg-mmkg-tiny-clip:my-tiny-weights'
    texts = ['a red car', 'a small dog']
    assert torch.allclose(enc.encode_text(texts), base.encode_text(texts),
                          atol=1e-6)
    assert enc.cache_token.split('|')[-1] == base.cache_token.split('|')[-1]
    other = OpenCLIPEncoder(tiny_open_clip, device='cpu')
    assert other.cache_token != base.cache_token  # Other random weights.

    norm = OpenCLIPEncoder(tiny_open_clip, pretrained=str(ckpt),
                           normalize=True, device='cpu')
    assert norm.identity.endswith(':norm')
    x = norm.encode_text(texts)
    assert torch.allclose(x.norm(dim=-1), torch.ones(2), atol=1e-5)


def test_missing_weights_offline_error():
    start = time.perf_counter()
    with pytest.raises(RuntimeError) as info:
        OpenCLIPEncoder('hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K',
                        offline=True, device='cpu')
    msg = str(info.value)
    assert 'Could not load the open_clip model' in msg
    assert 'pretrained=PATH' in msg
    assert time.perf_counter() - start < 10
    with pytest.raises(ValueError, match='neither a file nor a pretrained'):
        OpenCLIPEncoder('RN50', pretrained='no-such-tag', device='cpu')
