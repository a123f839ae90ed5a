r"""Datasets given raw texts/images plus an encoder process them into their
HeteroData; the encoder identity is part of the processed file name."""
import os.path as osp

import torch

from pyg_mmkg.data import validate
from pyg_mmkg.datasets import KGFolder


def write_kg(tmp_path):
    (tmp_path / 'entities.txt').write_text('apple\nbanana\ncar\n')
    (tmp_path / 'relations.txt').write_text('likes\n')
    (tmp_path / 'train.txt').write_text('apple\tlikes\tbanana\n')
    (tmp_path / 'valid.txt').write_text('banana\tlikes\tcar\n')
    (tmp_path / 'test.txt').write_text('car\tlikes\tapple\n')
    (tmp_path / 'entity2text.txt').write_text('apple\tapple\nbanana\tbanana\n')


def test_dataset_encodes_texts_and_images(tmp_path, fake_encoder,
                                          make_image):
    fake_encoder = fake_encoder()
    write_kg(tmp_path)
    red = make_image(tmp_path / 'red.png', (255, 0, 0))
    blue = make_image(tmp_path / 'blue.png', (0, 0, 255))
    ds = KGFolder(str(tmp_path), text_encoder=fake_encoder,
                  image_encoder=fake_encoder,
                  image_paths={'apple': [red, blue], 'car': [blue]},
                  max_images=2)
    data = validate(ds[0])
    ent = data['entity']
    # text feature = [len, count('a'), ord(first letter)]
    assert ent.x_text[1].tolist() == [6.0, 3.0, float(ord('b'))]
    assert ent.has_text.tolist() == [True, True, False]
    assert ent.image_mask.tolist() == [[True, True], [False, False],
                                       [True, False]]
    assert torch.allclose(ent.x_image[0, 0], torch.tensor([255., 0., 0.]))
    assert data.feature_encoders['entity.x_text'] == 'fake:v1'
    assert 'fake_v1' in osp.basename(ds.processed_paths[0])
    calls = len(fake_encoder.text_calls)
    # A second load reuses the processed file: no new encoder call.
    KGFolder(str(tmp_path), text_encoder=fake_encoder,
             image_encoder=fake_encoder,
             image_paths={'apple': [red, blue], 'car': [blue]}, max_images=2)
    assert len(fake_encoder.text_calls) == calls


def test_other_encoder_never_reuses_stale_features(tmp_path, fake_encoder):
    write_kg(tmp_path)
    FakeEncoder = fake_encoder
    a = KGFolder(str(tmp_path), text_encoder=FakeEncoder('v1'))
    # same identity, different options: must not share the processed file
    b = KGFolder(str(tmp_path), text_encoder=FakeEncoder('v1', scale=2.0))
    assert a.processed_paths[0] != b.processed_paths[0]
    assert torch.equal(b[0]['entity'].x_text, 2 * a[0]['entity'].x_text)
