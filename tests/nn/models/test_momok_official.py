r"""MoMoK against the official code (zjukg/MoMoK@99c2df1, models/RelMoE.py
and layers/layer.py), transcribed here on tiny tensors."""
import math

import pytest

import torch
import torch.nn.functional as F

from pyg_mmkg.data import triples
from pyg_mmkg.nn.models import MoMoK


def small(data, **kwargs):
    torch.manual_seed(0)
    kwargs.setdefault('hidden_channels', 6)
    return MoMoK.from_data(data, **kwargs)


def official_moe(x, w_gate, experts, rel_gate=None):
    r"""`MoEAdaptorLayer.forward` in evaluation mode: PWLayer experts
    `lin(x - bias)`, gates `softmax(x @ w_gate / sigmoid(rel_gate))`."""
    logits = x @ w_gate
    if rel_gate is not None:
        gates = F.softmax(logits / torch.sigmoid(rel_gate), dim=-1)
    else:
        gates = F.softmax(logits, dim=-1)
    out = torch.stack([lin(x - b) for lin, b in experts], dim=-2)
    return (gates.unsqueeze(-1) * out).sum(-2)


def official_fusion(layers, ent_attn, embs):
    r"""`ModalFusionLayer.forward` in evaluation mode: per head i the
    modality vectors `ReLU(Linear_i^m(x_m))`, attention scores from the one
    `ent_attn`, softmax over the modalities, summed over the heads."""
    x_mm = []
    for head in layers:
        x_stack = torch.stack([F.relu(lin(x)) for lin, x in zip(head, embs)],
                              dim=1)
        weights = torch.softmax(ent_attn(x_stack).squeeze(-1), dim=-1)
        x_mm.append(torch.sum(weights.unsqueeze(-1) * x_stack, dim=1))
    return torch.stack(x_mm, dim=1).sum(1)


def test_one_temperature_and_one_attention_vector(mm_data):
    model = small(mm_data)
    R2 = 2 * model.num_relations
    shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
    # The official `rel_gate` (one logit per relation, both directions)
    # serves the structure, visual and text MoEs:
    assert {n: s for n, s in shapes.items() if 'temperature' in n} == {
        'temperature': (R2, )
    }
    # The official `ent_attn`: one vector per fusion layer, not per head.
    assert {n: s for n, s in shapes.items() if '.att' in n} == {
        'fuse_ent.att.weight': (1, 6),
        'fuse_rel.att.weight': (1, 6),
    }
    # The per-modality and per-head variants stay available:
    other = small(mm_data, shared_temperature=False, shared_attention=False)
    names = {n for n, _ in other.named_parameters()}
    assert {n for n in names if 'temperature' in n} == {
        f'experts.{m}.temperature'
        for m in ('structure', 'text', 'image')
    }
    assert {n for n in names if '.att' in n} == {
        f'fuse_{x}.att.{i}.weight'
        for x in ('ent', 'rel') for i in (0, 1)
    }


def test_query_moes_share_the_relation_temperature(mm_data):
    model = small(mm_data).eval()
    with torch.no_grad():
        for adaptor in model.experts.values():
            adaptor.gate.normal_()
            adaptor.bias.normal_()
    h = torch.tensor([2, 5, 7, 2])
    r = torch.tensor([0, 4, 1, 3])
    x = {m: v[h] for m, v in model.inputs().items()}
    out, _ = model._entities(x, r)
    rel_gate = model.temperature[r].view(-1, 1)  # nn.Embedding(2R, 1)
    for m, adaptor in model.experts.items():
        experts = [(lambda z, k=k: z @ adaptor.weight[k].t(), adaptor.bias[k])
                   for k in range(adaptor.weight.size(0))]
        expected = official_moe(x[m], adaptor.gate, experts, rel_gate)
        assert torch.allclose(out[m], expected, atol=1e-6), m
        # Candidates: no temperature.
        plain = official_moe(x[m], adaptor.gate, experts)
        assert torch.allclose(adaptor(x[m])[0], plain, atol=1e-6), m
    with torch.no_grad():
        model.temperature[4] += 3.0
    moved, _ = model._entities(x, r)
    for m in model.experts:  # Every modality follows the one temperature.
        assert not torch.allclose(moved[m][1], out[m][1]), m
        assert torch.equal(moved[m][[0, 2, 3]], out[m][[0, 2, 3]]), m


def test_fusion_shares_the_attention_vector(mm_data):
    model = small(mm_data, hidden_channels=5, relation_channels=3).eval()
    x = {m: v[:7] for m, v in model.inputs().items()}
    embs = [x[m] for m in model.experts]
    fuse = model.fuse_ent
    expected = official_fusion(fuse.proj, fuse.att, embs)
    assert torch.allclose(fuse(embs), expected, atol=1e-6)
    # Relations: per-modality tables of size d_r fused to size d, as the
    # official `fuse_r` (out_dim = dim) and `TuckER_MM(dim, dim)`.
    rels = model._relations(torch.tensor([0, 1, 5]))
    assert rels['structure'].shape == (3, 3)
    assert rels['joint'].shape == (3, 5)
    rel_embs = [rels[m] for m in model.experts]
    expected = official_fusion(model.fuse_rel.proj, model.fuse_rel.att,
                               rel_embs)
    assert torch.allclose(rels['joint'], expected, atol=1e-6)
    assert model.tucker['joint'].core.shape == (5, 5, 5)
    assert model.tucker['text'].core.shape == (3, 5, 5)


def test_missing_entities_fine_tune_a_fill_vector(mm_data):
    model = small(mm_data)
    for m in ('text', 'image'):  # Entities 0 and 1 lack text and images.
        assert not bool(getattr(model, f'has_{m}')[:2].any())
    inputs = model.inputs()
    # At the start the official fill: the mean feature, normalised and
    # pooled like any feature (images: the mean over slots, as the
    # library's single image vector).
    store = mm_data['entity']
    text = store.x_text[store.has_text].mean(0)
    text = F.adaptive_avg_pool1d(F.normalize(text, dim=-1).view(1, 1, -1),
                                 6).view(-1)
    assert torch.allclose(inputs['text'][0], text, atol=1e-6)
    assert torch.equal(inputs['text'][0], inputs['text'][1])
    # The fill is fine-tuned per entity (official: nn.Embedding with
    # freeze=False over the whole table):
    h, r, t = triples(mm_data, 'train')
    h, r, t = (torch.cat([h, t, torch.tensor([0, 1])]),
               torch.cat([r, r + 3, torch.tensor([0, 1])]),
               torch.cat([t, h, torch.tensor([5, 6])]))
    loss = model._objective(h, r, F.one_hot(t, 24).float(), None)
    loss.backward()
    for m in ('text', 'image'):
        grad = model.offset[m].grad
        assert grad[0].abs().sum() > 0 and grad[1].abs().sum() > 0, m
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    opt.step()
    after = model.inputs()
    for m in ('text', 'image'):
        assert not torch.allclose(after[m][0], after[m][1]), m
    # A 'drop' ablation gives every entity the untuned fill:
    with model.ablate('text', 'drop'):
        dropped = model.inputs()['text']
    assert torch.allclose(dropped, text.expand(24, -1), atol=1e-6)
    # Without fine-tuning the missing entities share the fill:
    frozen = small(mm_data, fine_tune=False).inputs()
    assert torch.allclose(frozen['text'][0], text, atol=1e-6)


def test_official_initialisation(mm_data):
    model = small(mm_data, relation_channels=4)
    # TuckERLayer: nn.init.xavier_uniform_ on the (r_dim, dim, dim) core
    # (fan_in = dim * dim, fan_out = r_dim * dim).
    for b, tucker in model.tucker.items():
        r, d, _ = tucker.core.shape
        bound = math.sqrt(6.0 / (d * d + r * d))
        top = float(tucker.core.abs().max())
        assert 0.8 * bound < top <= bound, b
    # rel_gate: nn.Embedding's N(0, 1), not zero.
    assert float(model.temperature.std()) > 0.3
    # PWLayer: whitening bias zero, weights N(0, 0.02); noise weights zero.
    for adaptor in model.experts.values():
        assert torch.equal(adaptor.bias, torch.zeros_like(adaptor.bias))
        assert torch.equal(adaptor.noise, torch.zeros_like(adaptor.noise))
        assert float(adaptor.weight.std()) < 0.04
    # ModalFusionLayer: PyTorch's default nn.Linear (biases not zeroed).
    assert float(model.fuse_ent.proj[0][0].bias.abs().sum()) > 0


# zjukg/MoMoK@99c2df1 train.py argument defaults: lr 0.0005, epochs 2000,
# weight_decay 0, dim 256, r_dim 256, batch_size 1024, n_exp 3, mu 0.0001,
# gamma 1.0 (ExponentialLR: constant), eval_freq 100, dataset DB15K; Adam for
# the model and for the estimator (same lr); ConvECorpus targets
# 0.9 * y + 1 / N over (h, r) and (t, r + R) queries. README.md commands:
# MKG-W --lr 0.001 --mu 0.0001 --dim 200 --epochs 2000;
# MKG-Y --lr 0.0005 --mu 0.0001 --dim 300 --epochs 2000.
OFFICIAL = {None: (5e-4, 256), 'DB15K': (5e-4, 256), 'MKG-W': (1e-3, 200),
            'MKG-Y': (5e-4, 300)}


def test_recipes_are_the_official_runs():
    from pyg_mmkg.train import TrainConfig
    from pyg_mmkg.train.recipes import get_recipe
    assert set(MoMoK.recipes) == set(OFFICIAL)
    for dataset, (lr, dim) in OFFICIAL.items():
        recipe = get_recipe('momok', dataset)
        assert recipe is MoMoK.recipes[dataset]
        assert '99c2df1' in recipe.source
        config = recipe.config
        TrainConfig(**config)
        assert config['regime'] == 'kvsall' and recipe.regimes == ('kvsall', )
        # (1 - 0.1) y + 0.1 / N: the official factor 0.9 on the labels.
        assert config['label_smoothing'] == pytest.approx(1 - 0.9)
        assert config['optimizer'] == 'adam' and config['weight_decay'] == 0
        assert config['lr'] == lr and config['dim'] == dim
        assert config['batch_size'] == 1024
        # Both query directions per official epoch = one library epoch.
        assert config['epochs'] == 2000 and config['eval_every'] == 100
        assert config['scheduler'] == 'none' and config['patience'] is None
        assert config['model_kwargs'] == dict(
            relation_channels=256, num_experts=3, mu=1e-4, estimator_lr=lr,
            noisy_gating=True, decision_loss='bce')
    assert get_recipe('momok', 'mkg_w') is MoMoK.recipes['MKG-W']
    assert get_recipe('momok', 'VTKG-I') is MoMoK.recipes[None]


def test_recipe_builds_the_official_model(mm_data):
    recipe = MoMoK.recipes['MKG-W'].config
    kwargs = dict(recipe['model_kwargs'], relation_channels=5)
    model = small(mm_data, hidden_channels=4, **kwargs)
    assert model.decision_loss == 'bce' and model.estimator_lr == 1e-3
    assert model.tucker['structure'].core.shape == (5, 4, 4)
    assert model.tucker['joint'].core.shape == (4, 4, 4)
