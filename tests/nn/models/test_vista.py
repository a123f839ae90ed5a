import copy

import pytest
import torch

from pyg_mmkg.data import triples
from pyg_mmkg.nn.models import VISTA
from pyg_mmkg.nn.models.vista import PRESETS

SMALL = dict(hidden_channels=8, heads=2, ffn_channels=16,
             num_entity_layers=1, num_relation_layers=1, num_decoder_layers=1)


def with_relation_text(data, seed=0):
    gen = torch.Generator().manual_seed(seed)
    R = data['relation'].num_nodes
    data['relation'].x_text = torch.randn(R, 8, generator=gen)
    data['relation'].has_text = torch.tensor([True] * (R - 1) + [False])
    return data


def small(data, **kwargs):
    torch.manual_seed(0)
    model = VISTA.from_data(data, **{**SMALL, **kwargs})
    return model.eval()


def cls_output(model, tokens, kinds):
    r"""Oracle of the entity/relation encoder: run its transformer on
    [CLS, tokens + type positions] and read the CLS output."""
    enc = model.entity_encoder
    x = torch.cat([enc.cls.view(1, -1), tokens + enc.pos[kinds]])
    return enc.transformer(x.unsqueeze(0))[0, 0]


def test_entity_encoder_matches_oracle(mm_data):
    model = small(mm_data, modalities=('structure', 'text'))
    assert model.missing == 'mask' and model.missing_token is None
    ent, _ = model.encode()
    i = int(model.has_text.nonzero()[0])
    s = model.ln_s(model.node_emb.weight[i])
    t = model.ln_t(model.proj_t(model.x_text[i]))
    expected = cls_output(model, torch.stack([s, t]), torch.tensor([0, 2]))
    assert torch.allclose(ent[i], expected, atol=1e-5)
    # Entity 0 has no text: with missing="token" a learned token stands in.
    model = small(mm_data, modalities=('structure', 'text'), missing='token')
    ent, _ = model.encode()
    t = model.missing_token[1]
    s = model.ln_s(model.node_emb.weight[0])
    expected = cls_output(model, torch.stack([s, t]), torch.tensor([0, 2]))
    assert torch.allclose(ent[0], expected, atol=1e-5)


def test_key_padding_mask_equals_dropping_the_token(mm_data):
    model = small(mm_data, modalities=('structure', 'text'))  # Default.
    ent, _ = model.encode()
    s = model.ln_s(model.node_emb.weight[0])  # Entity 0 lacks text.
    expected = cls_output(model, s.view(1, -1), torch.tensor([0]))
    assert torch.allclose(ent[0], expected, atol=1e-5)


@pytest.mark.parametrize('missing', ['mask', 'token'])
def test_partially_filled_image_slots_are_masked(mm_data, missing):
    # Official VTKG.gather_vis_feature: ent_vis_mask[e, :n] = False, the
    # k - n empty slots True (hidden from the encoder), for every n < k.
    model = small(mm_data, modalities=('structure', 'image'),
                  missing=missing)
    ent, _ = model.encode()
    assert model.x_image.shape[1] == 2  # Two image slots, not averaged.
    ones = (model.image_slots.sum(1) == 1).nonzero().view(-1)
    assert ones.numel() >= 2
    for i in ones.tolist():
        j = int(model.image_slots[i].nonzero())
        s = model.ln_s(model.node_emb.weight[i])
        v = model.ln_v(model.proj_v(model.x_image[i, j]))
        expected = cls_output(model, torch.stack([s, v]),
                              torch.tensor([0, 1]))
        assert torch.allclose(ent[i], expected, atol=1e-5), i
    # Entity 0 has no image at all: hidden entirely (official), or one
    # learned token (missing="token"), never k identical ones.
    s = model.ln_s(model.node_emb.weight[0])
    if missing == 'mask':
        expected = cls_output(model, s.view(1, -1), torch.tensor([0]))
    else:
        expected = cls_output(model, torch.stack([s, model.missing_token[0]]),
                              torch.tensor([0, 1]))
    assert torch.allclose(ent[0], expected, atol=1e-5)


def test_padding_mask_of_the_encoder(mm_data):
    model = small(mm_data)  # structure, two image slots, text
    _, _, pad = model._tokens(model.node_emb.weight,
                              model._entity_features(), model.proj_v,
                              model.ln_s)
    slots, has_text = model.image_slots, model.has_text
    expected = torch.cat([torch.zeros(24, 1, dtype=torch.bool), ~slots,
                          ~has_text.view(-1, 1)], dim=1)
    assert torch.equal(pad, expected)
    assert bool(((slots.sum(1) == 1) & pad[:, 1:3].any(1)).any())


def test_decoder_scores_all_entities_from_the_masked_slot(mm_data):
    model = small(with_relation_text(mm_data))
    ent, rel = model.encode()
    dec = model.scorer
    h, r, t = triples(mm_data, 'test')
    R = model.num_relations
    tail_x = torch.stack([ent[h], rel[r], dec.mask.expand(h.numel(), -1)], 1)
    q = dec.transformer(tail_x + dec.pos)[:, 2]
    assert torch.allclose(model.score_tails(h, r), q @ ent.t(), atol=1e-5)
    head_x = torch.stack([dec.mask.expand(t.numel(), -1), rel[r], ent[t]], 1)
    q = dec.transformer(head_x + dec.pos)[:, 0]
    heads = model.score_heads(r, t)
    assert torch.allclose(heads, q @ ent.t(), atol=1e-5)
    # Relation r + R is the head-slot query of r:
    assert torch.allclose(model.score_tails(t, r + R), heads)
    assert rel.size(0) == 2 * R and torch.equal(rel[:R], rel[R:])


def test_triple_scores_equal_one_to_n_scores_with_default_dropout(mm_data):
    torch.manual_seed(0)
    model = VISTA.from_data(with_relation_text(mm_data), hidden_channels=8,
                            heads=2, ffn_channels=16).eval()
    h, r, t = triples(mm_data, 'test')
    R = model.num_relations
    arange = torch.arange(h.numel())
    assert torch.allclose(model.score_tails(h, r)[arange, t], model(h, r, t),
                          atol=1e-5)
    assert torch.allclose(model.score_heads(r, t)[arange, h],
                          model(t, r + R, h), atol=1e-5)


def test_no_reciprocal(mm_data):
    model = small(mm_data, reciprocal=False)
    ref = small(mm_data)
    h, r, t = triples(mm_data, 'test')
    assert model.encode()[1].size(0) == model.num_relations
    assert torch.allclose(model.score_heads(r, t), ref.score_heads(r, t))
    with pytest.raises(IndexError, match='reciprocal'):
        model.score_tails(h, r + model.num_relations)


def test_relation_features(mm_data):
    data = with_relation_text(copy.copy(mm_data))
    model = small(data)
    assert model.rel_modalities == ['text']
    _, rel = model.encode()
    model.rel_x_text[0] += 1.0
    _, changed = model.encode()
    assert not torch.allclose(rel[0], changed[0])
    assert torch.allclose(rel[1:3], changed[1:3])
    model.rel_x_text[-1] += 1.0  # The last relation has no text: ignored.
    assert torch.allclose(changed, model.encode()[1])
    # A text-shuffle ablation shuffles relation texts as well:
    with model.ablate('text', 'shuffle', seed=1):
        _, shuffled = model.encode()
    assert not torch.allclose(shuffled[:2], changed[:2])
    data['relation'].x_text = torch.randn(3, 5)
    with pytest.raises(ValueError, match='same size'):
        small(data)


def test_structure_only_and_errors(mm_data):
    model = small(mm_data, modalities=('structure', ))
    h, r, t = triples(mm_data, 'test')
    assert model.feature_modalities == ()
    assert model.score_tails(h, r).shape == (h.numel(), model.num_nodes)
    with pytest.raises(ValueError, match='missing-modality'):
        small(mm_data, missing='zero')


def test_preset():
    from pyg_mmkg.data import make_kg_data
    data = make_kg_data(['a', 'b', 'c'], ['r'], {
        'train': (torch.tensor([0]), torch.tensor([0]), torch.tensor([1]))
    })
    model = VISTA.from_data(data, hidden_channels=8, preset='VTKG-I',
                            heads=2)
    assert len(model.entity_encoder.transformer.layers) == 4
    assert len(model.scorer.transformer.layers) == 2
    layer = model.entity_encoder.transformer.layers[0]
    assert layer.linear1.out_features == PRESETS['VTKG-I']['ffn_channels']
    assert model.drop_s.p == 0.7 and model.drop_t.p == 0.1
    assert layer.self_attn.num_heads == 2  # kwargs override the preset.


def test_trainer_encodes_once_per_step_and_learns(cluster_data):
    import math

    from pyg_mmkg.train import Trainer, get_model
    torch.manual_seed(0)
    model = get_model('vista', cluster_data, hidden_channels=16,
                      reciprocal=True, heads=2, ffn_channels=32,
                      emb_dropout=0.0)
    assert isinstance(model, VISTA)
    calls = []
    encode = model.encode

    def spy():
        calls.append(1)
        return encode()

    model.encode = spy
    trainer = Trainer(model, cluster_data, regime='1vsall', loss='ce',
                      epochs=100, eval_every=100, batch_size=1000, lr=3e-3,
                      progress=False, device='cpu', plot=False)
    calls.clear()
    trainer.train_epoch()
    assert len(calls) == 1  # One batch: one encoding.
    trainer.fit()
    model.eval()
    h, r, t = triples(cluster_data, 'train')
    with torch.no_grad():  # Far below the uniform guess (answers follow
        loss = float(model.loss(h, r, t))  # the text clusters).
    assert loss < math.log(model.num_nodes) - 0.8
