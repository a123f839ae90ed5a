import pytest
import torch
from torch_geometric.data import HeteroData

from pyg_mmkg.features import (
    HFImageEncoder,
    HFTextEncoder,
    attach_features,
    encode_texts,
)


def _graph(num_entities=11, num_relations=4):
    data = HeteroData()
    data['entity'].num_nodes = num_entities
    data['relation'].num_nodes = num_relations
    data['entity'].name = [f'e{i}' for i in range(num_entities)]
    data['entity'].text = [None if i % 5 == 2 else f'entity {"a" * i}'
                           for i in range(num_entities)]
    data['entity', 'to', 'entity'].edge_index = torch.tensor([[0, 1], [1, 2]])
    data['entity', 'to', 'entity'].edge_type = torch.tensor([0, 3])
    return data


def test_attach_texts_and_images(tmp_path, fake_encoder, make_image):
    data = _graph()
    images = [None] * 11
    images[0] = [make_image(tmp_path / 'a.png', (10, 20, 30)),
                 make_image(tmp_path / 'b.png', (40, 50, 60)),
                 make_image(tmp_path / 'c.png', (70, 80, 90))]
    images[7] = make_image(tmp_path / 'd.png', (1, 1, 1))
    rel_images = [None, [make_image(tmp_path / 'r.png', (5, 6, 7))], None,
                  None]
    rel_texts = ['born in', '', 'part of', 'located at']
    enc = fake_encoder()
    out = attach_features(data, text_encoder=enc, image_encoder=enc,
                          entity_images=images, relation_texts=rel_texts,
                          relation_images=rel_images, batch_size=2,
                          max_images=2, cache_dir=str(tmp_path / 'cache'),
                          progress=False)
    assert out is data
    ent, rel = data['entity'], data['relation']
    assert ent.x_text.shape == (11, 3)
    assert ent.has_text.tolist() == [i % 5 != 2 for i in range(11)]
    assert ent.x_text[4].tolist() == [len('entity aaaa'), 4, ord('e')]
    assert ent.x_text[2].abs().sum() == 0
    assert ent.x_image.shape == (11, 2, 3) and ent.image_mask.shape == (11, 2)
    assert ent.has_image.nonzero().view(-1).tolist() == [0, 7]
    assert ent.x_image[0].tolist() == [[10, 20, 30], [40, 50, 60]]
    assert ent.image_mask[7].tolist() == [True, False]
    assert rel.x_text.shape == (4, 3)
    assert rel.has_text.tolist() == [True, False, True, True]
    assert rel.x_image.shape == (4, 2, 3)
    assert rel.has_image.tolist() == [False, True, False, False]
    assert data.feature_encoders == {
        'entity.x_text': 'fake:v1',
        'entity.x_image': 'fake:v1',
        'relation.x_text': 'fake:v1',
        'relation.x_image': 'fake:v1',
    }
    assert data.feature_dims['entity.x_image'] == 3
    assert all(type(v) is str for v in data.feature_encoders.values())

    # The edges are untouched and a second call updates, not replaces.
    assert data['entity', 'to', 'entity'].edge_type.tolist() == [0, 3]
    other = fake_encoder(tag='v2')
    attach_features(data, text_encoder=other, entity_texts=['x'] * 11,
                    progress=False)
    assert data.feature_encoders['entity.x_text'] == 'fake:v2'
    assert data.feature_encoders['entity.x_image'] == 'fake:v1'
    assert 'x_text' in data['relation']


def test_attach_errors(fake_encoder):
    data = _graph()
    with pytest.raises(ValueError, match="has 3 entries but the graph has 11"):
        attach_features(data, text_encoder=fake_encoder(),
                        entity_texts=['a', 'b', 'c'], progress=False)
    with pytest.raises(ValueError, match="no 'image_encoder'"):
        attach_features(data, entity_images=[None] * 11, progress=False)
    with pytest.raises(ValueError, match="no 'text_encoder'"):
        attach_features(data, relation_texts=['a'] * 4, progress=False)
    # Without encoders and inputs nothing happens.
    attach_features(data, progress=False)
    assert 'x_text' not in data['entity']


def test_attach_with_tiny_hf_models(tiny_bert, tiny_vit, tmp_path,
                                    make_image):
    data = _graph(num_entities=5, num_relations=2)
    text_enc = HFTextEncoder(tiny_bert, device='cpu')
    image_enc = HFImageEncoder(tiny_vit, device='cpu')
    images = [[make_image(tmp_path / f'{i}_{k}.png', (50 * i, 40 * k, 9))
               for k in range(i % 3)] for i in range(5)]
    attach_features(data, text_encoder=text_enc, image_encoder=image_enc,
                    entity_images=images, max_images=2, selection='vista',
                    batch_size=2, progress=False)
    ent = data['entity']
    texts = data['entity'].text
    ref = encode_texts(text_enc, texts, progress=False).x
    assert torch.allclose(ent.x_text, ref, atol=1e-6)
    assert ent.x_image.shape == (5, 2, 32)
    assert ent.image_mask.sum(dim=1).tolist() == [0, 1, 2, 0, 1]
    assert data.feature_encoders['entity.x_image'] == image_enc.identity
    assert data.feature_dims == {'entity.x_text': 32, 'entity.x_image': 32}
