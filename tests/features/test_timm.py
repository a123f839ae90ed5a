import time

import pytest
import torch

from pyg_mmkg.features import TimmImageEncoder, encode_images, load_image

timm = pytest.importorskip('timm')


def test_local_checkpoint_pooled_features(tmp_path, make_image):
    torch.manual_seed(0)
    model = timm.create_model('test_efficientnet').eval()
    ckpt = tmp_path / 'tiny-effnet.pth'
    torch.save(model.state_dict(), ckpt)

    enc = TimmImageEncoder('test_efficientnet', checkpoint=str(ckpt),
                           data_config={'input_size': (3, 64, 64)},
                           device='cpu')
    assert enc.identity == 'timm:test_efficientnet:tiny-effnet'
    assert enc.dim == model.num_features == 256

    paths = [make_image(tmp_path / f'{i}.png', (25 * i, 90, 250 - 25 * i),
                        size=(60 + i, 50)) for i in range(5)]
    out = encode_images(enc, [[p] for p in paths], batch_size=3,
                        progress=False)
    pixels = torch.stack([enc.preprocess(load_image(p)) for p in paths])
    assert pixels.shape[1:] == (3, 64, 64)
    with torch.no_grad():
        ref = model.forward_head(model.forward_features(pixels),
                                 pre_logits=True)
        logits = model(pixels)
    assert out.x.shape == (5, 1, 256)
    assert torch.allclose(out.x[:, 0], ref, atol=1e-5)
    assert torch.allclose(enc.classify(pixels), logits, atol=1e-5)

    random = TimmImageEncoder('test_efficientnet', device='cpu',
                              data_config={'input_size': (3, 64, 64)})
    assert random.identity == 'timm:test_efficientnet:random'
    assert random.cache_token != enc.cache_token


def test_missing_weights():
    with pytest.raises(FileNotFoundError, match='not found'):
        TimmImageEncoder('test_efficientnet', checkpoint='/no/such/file.pth')
    start = time.perf_counter()
    with pytest.raises(RuntimeError) as info:
        TimmImageEncoder('test_efficientnet', pretrained=True, offline=True)
    assert 'Could not load the timm model' in str(info.value)
    assert 'checkpoint=PATH' in str(info.value)
    assert time.perf_counter() - start < 10
