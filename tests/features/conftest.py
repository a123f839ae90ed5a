"""Tiny offline models and images shared by the feature tests."""
import json
import pathlib
from typing import List

import pytest
import torch

from pyg_mmkg.features import FeatureEncoder

SHARED = pathlib.Path(__file__).resolve().parents[2].parent / 'shared'

WORDS = ('the a an of and to in is was for on with as by at cat dog car '
         'red green blue animal vehicle small large fast slow house tree '
         'fruit apple river water bird fly swim eat run').split()


def write_bert_tokenizer(path: pathlib.Path):
    from transformers import BertTokenizer
    vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] + WORDS + list(
        'abcdefghijklmnopqrstuvwxyz') + ['##' + c for c in
                                         'abcdefghijklmnopqrstuvwxyz']
    path.mkdir(parents=True, exist_ok=True)
    (path / 'vocab.txt').write_text('\n'.join(vocab) + '\n')
    tok = BertTokenizer(str(path / 'vocab.txt'))
    tok.save_pretrained(str(path))
    return tok


@pytest.fixture(scope='session')
def tiny_bert(tmp_path_factory) -> str:
    from transformers import BertConfig, BertModel
    path = tmp_path_factory.mktemp('tiny-bert')
    tok = write_bert_tokenizer(path)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tok), hidden_size=32,
                        num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=37, max_position_embeddings=64)
    BertModel(config).save_pretrained(str(path))
    return str(path)


@pytest.fixture(scope='session')
def tiny_vit(tmp_path_factory) -> str:
    from transformers import ViTConfig, ViTImageProcessor, ViTModel
    path = tmp_path_factory.mktemp('tiny-vit')
    torch.manual_seed(0)
    config = ViTConfig(image_size=32, patch_size=8, hidden_size=32,
                       num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=37)
    ViTModel(config).save_pretrained(str(path))
    ViTImageProcessor(size={'height': 32, 'width': 32}).save_pretrained(
        str(path))
    return str(path)


@pytest.fixture(scope='session')
def tiny_hf_clip(tmp_path_factory) -> str:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel
    path = tmp_path_factory.mktemp('tiny-hf-clip')
    tok = write_bert_tokenizer(path)
    torch.manual_seed(0)
    text = dict(vocab_size=len(tok), hidden_size=32, intermediate_size=37,
                num_hidden_layers=2, num_attention_heads=2,
                max_position_embeddings=64, pad_token_id=0,
                bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id)
    vision = dict(image_size=32, patch_size=8, hidden_size=32,
                  intermediate_size=37, num_hidden_layers=2,
                  num_attention_heads=2)
    config = CLIPConfig(text_config=text, vision_config=vision,
                        projection_dim=16)
    CLIPModel(config).save_pretrained(str(path))
    CLIPImageProcessor(size={'shortest_edge': 32},
                       crop_size={'height': 32, 'width': 32}).save_pretrained(
                           str(path))
    return str(path)


@pytest.fixture(scope='session')
def tiny_open_clip(tmp_path_factory) -> str:
    open_clip = pytest.importorskip('open_clip')
    path = tmp_path_factory.mktemp('tiny-open-clip')
    config = {
        'embed_dim': 16,
        'vision_cfg': {'image_size': 32, 'layers': 1, 'width': 32,
                       'patch_size': 8, 'head_width': 16},
        'text_cfg': {'context_length': 77, 'vocab_size': 49408, 'width': 32,
                     'heads': 2, 'layers': 1},
    }
    (path / 'pyg-mmkg-tiny-clip.json').write_text(json.dumps(config))
    open_clip.add_model_config(str(path))
    return 'pyg-mmkg-tiny-clip'


def solid_image(path: pathlib.Path, color, size=(40, 30)) -> str:
    from PIL import Image
    Image.new('RGB', size, tuple(color)).save(str(path))
    return str(path)


class FakeEncoder(FeatureEncoder):
    r"""Text feature = [length, number of 'a', first letter code]; image
    feature = the mean RGB colour. Counts the encoder calls."""
    modalities = ('text', 'image')

    def __init__(self, tag: str = 'v1', scale: float = 1.0):
        super().__init__('cpu')
        self._identity = f'fake:{tag}'
        self.scale = scale
        self.text_calls: List[int] = []
        self.image_calls: List[int] = []

    def config(self):
        return {'scale': self.scale}

    def _encode_text(self, texts):
        self.text_calls.append(len(texts))
        return torch.tensor([[len(t), t.count('a'), ord(t[0])] for t in texts],
                            dtype=torch.float) * self.scale

    def preprocess(self, image):
        import numpy as np
        arr = torch.from_numpy(np.asarray(image, dtype='float32'))
        return arr.reshape(-1, 3).mean(dim=0)

    def _encode_image(self, pixel_values):
        self.image_calls.append(pixel_values.size(0))
        return pixel_values * self.scale


@pytest.fixture
def fake_encoder():
    return FakeEncoder


@pytest.fixture
def make_image():
    return solid_image
