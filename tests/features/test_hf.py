import time

import pytest
import torch

from pyg_mmkg.features import (
    HFImageEncoder,
    HFTextEncoder,
    encode_images,
    encode_texts,
    load_image,
)
from pyg_mmkg.features._utils import output_tensor

transformers = pytest.importorskip('transformers')

TEXTS = ['the cat', 'a small red car is fast', 'dog', 'the river water',
         'bird fly and swim in the large blue river', 'apple tree', 'house',
         'eat', 'the slow green animal', 'a fast vehicle']


def _reference_states(path, text, layer=-1):
    tok = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModel.from_pretrained(path).eval()
    ids = tok([text], return_tensors='pt')  # No padding at all.
    with torch.no_grad():
        out = model(**ids, output_hidden_states=True)
    return out.hidden_states[layer][0]


def test_mean_pooling_ignores_padding(tiny_bert):
    enc = HFTextEncoder(tiny_bert, device='cpu')
    assert enc.identity == 'hf-mean:' + tiny_bert.rstrip('/').split('/')[-1] \
        + ':last'
    out = encode_texts(enc, TEXTS, batch_size=3, progress=False)
    assert out.x.shape == (10, 32) and out.has_text.all()
    for i in (0, 4, 7):  # Padded in their batches; compare to no padding.
        ref = _reference_states(tiny_bert, TEXTS[i]).mean(dim=0)
        assert torch.allclose(out.x[i], ref, atol=1e-5)


def test_penultimate_layer_and_cls(tiny_bert):
    enc = HFTextEncoder(tiny_bert, layer='penultimate', device='cpu')
    assert enc.identity.endswith(':penultimate') and enc.layer == -2
    x = enc.encode_text(TEXTS[:4])
    ref = _reference_states(tiny_bert, TEXTS[1], layer=-2).mean(dim=0)
    assert torch.allclose(x[1], ref, atol=1e-5)
    last = HFTextEncoder(tiny_bert, device='cpu').encode_text(TEXTS[:4])
    assert not torch.allclose(x, last, atol=1e-3)

    enc = HFTextEncoder(tiny_bert, pooling='cls', device='cpu')
    assert enc.identity.startswith('hf-cls:')
    ref = _reference_states(tiny_bert, TEXTS[2])[0]
    assert torch.allclose(enc.encode_text(TEXTS[:3])[2], ref, atol=1e-5)


def test_text_options(tiny_bert):
    enc = HFTextEncoder(tiny_bert, normalize=True, max_length=4,
                        name='my-bert', device='cpu')
    assert enc.identity == 'hf-mean:my-bert:last:norm'
    x = enc.encode_text(['the cat', 'the cat and dog in the house'])
    assert torch.allclose(x.norm(dim=-1), torch.ones(2), atol=1e-5)
    # Truncated to 4 tokens ([CLS] the cat [SEP] vs [CLS] the cat [SEP]).
    assert torch.allclose(x[0], x[1], atol=1e-5)
    assert HFTextEncoder(tiny_bert, device='cpu').max_length == 64
    assert enc.cache_token != HFTextEncoder(tiny_bert, name='my-bert',
                                            device='cpu').cache_token
    with pytest.raises(ValueError, match="'pooling' must be"):
        HFTextEncoder(tiny_bert, pooling='max', device='cpu')


def test_hf_clip_text_and_image(tiny_hf_clip, make_image, tmp_path):
    model = transformers.CLIPModel.from_pretrained(tiny_hf_clip).eval()
    tok = transformers.AutoTokenizer.from_pretrained(tiny_hf_clip)
    proc = transformers.AutoImageProcessor.from_pretrained(tiny_hf_clip)

    text_enc = HFTextEncoder(tiny_hf_clip, device='cpu')
    assert text_enc.pooling == 'projection' and text_enc.dim == 16
    x = text_enc.encode_text(TEXTS[:3])
    with torch.no_grad():
        ids = tok(TEXTS[:3], padding=True, return_tensors='pt')
        ref = model.get_text_features(input_ids=ids['input_ids'],
                                      attention_mask=ids['attention_mask'])
    assert torch.allclose(x, output_tensor(ref), atol=1e-5)

    image_enc = HFImageEncoder(tiny_hf_clip, device='cpu')
    assert image_enc.identity.startswith('hf-projection:')
    paths = [make_image(tmp_path / f'{i}.png', (40 * i, 100, 255 - 30 * i))
             for i in range(5)]
    out = encode_images(image_enc, paths, batch_size=2, progress=False)
    assert out.x.shape == (5, 1, 16) and out.has_image.all()
    pixels = proc(images=[load_image(p) for p in paths],
                  return_tensors='pt')['pixel_values']
    with torch.no_grad():
        ref = output_tensor(model.get_image_features(pixel_values=pixels))
    assert torch.allclose(out.x[:, 0], ref, atol=1e-5)


def test_vit_cls_and_mean(tiny_vit, make_image, tmp_path):
    model = transformers.ViTModel.from_pretrained(tiny_vit).eval()
    path = make_image(tmp_path / 'x.png', (200, 30, 60), size=(50, 40))
    enc = HFImageEncoder(tiny_vit, device='cpu')
    assert enc.pooling == 'cls' and enc.dim == 32
    pixels = enc.preprocess(load_image(path))
    assert pixels.shape == (3, 32, 32)
    with torch.no_grad():
        h = model(pixel_values=pixels[None]).last_hidden_state
    assert torch.allclose(enc.encode_image(pixels[None]), h[:, 0], atol=1e-5)
    mean = HFImageEncoder(tiny_vit, pooling='mean', device='cpu')
    assert torch.allclose(mean.encode_image(pixels[None]), h.mean(dim=1),
                          atol=1e-5)


def test_output_tensor_handles_transformers_5_objects():
    from transformers.modeling_outputs import BaseModelOutputWithPooling
    x = torch.randn(2, 4)
    assert output_tensor(x) is x  # transformers 4: a plain tensor.
    out = BaseModelOutputWithPooling(last_hidden_state=torch.randn(2, 3, 8),
                                     pooler_output=x)
    assert output_tensor(out) is x  # transformers 5: an output object.
    with pytest.raises(TypeError, match='Cannot find an embedding'):
        output_tensor(object())


def test_missing_model_offline_error():
    start = time.perf_counter()
    with pytest.raises(RuntimeError) as info:
        HFTextEncoder('pyg-mmkg-test/no-such-model', offline=True)
    msg = str(info.value)
    assert "Could not load the transformers model" in msg
    assert 'pyg-mmkg-test/no-such-model' in msg
    assert 'pass the local directory' in msg
    assert time.perf_counter() - start < 10  # No network retries.
    with pytest.raises(RuntimeError, match='pass the local directory'):
        HFImageEncoder('pyg-mmkg-test/no-such-model', offline=True)
