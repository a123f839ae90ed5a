r"""One contract test over every model of :obj:`pyg_mmkg.nn.models`."""
import copy

import pytest
import torch
from torch_geometric.testing import withCUDA

import pyg_mmkg.nn.models as models
from pyg_mmkg.data import make_kg_data, train_graph, triples
from pyg_mmkg.train import TrainConfig, Trainer
from pyg_mmkg.train.batches import TrainBatch
from pyg_mmkg.train.objectives import batch_loss

# Every model in `pyg_mmkg.nn.models.__all__` needs an entry here: a list of
# (id, constructor arguments, training regime of its published loss).
CONTRACT = {
    'MoSE': [
        ('ai', dict(), '1vsall'),
        ('bi', dict(ensemble='boosting'), '1vsall'),
        ('mi', dict(ensemble='meta'), 'kvsall'),
        ('text-only-branch', dict(ensemble='text'), '1vsall'),
        ('no-reciprocal', dict(modalities=('structure', 'text'),
                               reciprocal=False), '1vsall'),
        ('alpha', dict(alpha=0.5, modalities=('text', 'image')), '1vsall'),
        ('rgcn', dict(encoder='rgcn'), '1vsall'),
    ],
    'VLKGE': [
        ('distmult', dict(scorer='distmult'), 'slcwa'),
        ('transe', dict(scorer='transe'), 'slcwa'),
        ('complex', dict(scorer='complex', reciprocal=True), '1vsall'),
        ('rotate-weighted', dict(scorer='rotate', fusion='weighted'),
         'slcwa'),
        ('identity', dict(modalities=('structure', 'text'),
                          hidden_channels=8, normalize=True), 'slcwa'),
        ('compgcn', dict(encoder='compgcn', reciprocal=True), '1vsall'),
    ],
    # VISTA/MoMoK: dropout and gate noise off, as scores are compared in
    # training mode here (tests/nn/models/test_vista.py and test_momok.py
    # cover the published defaults in evaluation mode).
    'VISTA': [
        (case, dict(heads=2, ffn_channels=8, dropout=0.0, emb_dropout=0.0,
                    vis_dropout=0.0, txt_dropout=0.0, **kw), regime)
        for case, kw, regime in [
            ('token', dict(), '1vsall'),
            ('mask', dict(missing='mask'), '1vsall'),
            ('structure-text', dict(modalities=('structure', 'text')),
             'kvsall'),
            ('text-image', dict(modalities=('text', 'image')), '1vsall'),
            ('slcwa-positives', dict(), 'slcwa'),
            ('structure-only', dict(modalities=('structure', )), '1vsall'),
        ]
    ],
    'MoMoK': [
        (case, dict(noisy_gating=False, fusion_dropout=0.0,
                    input_dropout=0.0, hidden_dropout1=0.0,
                    hidden_dropout2=0.0, **kw), regime)
        for case, kw, regime in [
            ('all', dict(), 'kvsall'),
            ('structure-text', dict(modalities=('structure', 'text'),
                                    hidden_channels=8, relation_channels=3),
             'kvsall'),
            ('frozen-features', dict(fine_tune=False, num_experts=2),
             '1vsall'),
            ('text-image', dict(modalities=('text', 'image')), 'kvsall'),
            ('slcwa-positives', dict(mu=0.0), 'slcwa'),
            ('structure-only', dict(modalities=('structure', )), 'kvsall'),
            ('ce-decision', dict(decision_loss='ce'), '1vsall'),
        ]
    ],
    # LiteralE: input dropout off (scores are compared in training mode).
    'LiteralE': [
        (case, dict(input_dropout=0.0, **kw), regime)
        for case, kw, regime in [
            ('distmult', dict(), 'kvsall'),
            ('complex', dict(scorer='complex'), 'kvsall'),
            ('glin', dict(gate='linear'), 'kvsall'),
            ('complex-glin', dict(scorer='complex', gate='linear'),
             '1vsall'),
            ('text', dict(modalities=('structure', 'numeric', 'text')),
             'kvsall'),
            ('observed', dict(normalize='observed', reciprocal=False),
             'slcwa'),
        ]
    ],
    # IKRL: 'sbr' ignores images at test (tests/nn/models/test_ikrl.py).
    'IKRL': [
        ('ibr', dict(), 'slcwa'),
        ('union', dict(variant='union'), 'slcwa'),
        ('l2-autograd-attention', dict(variant='union', p_norm=2,
                                       detach_attention=False), 'slcwa'),
    ],
    'TransAE': [
        ('text-image', dict(image_hidden=5), 'slcwa'),
        ('text', dict(modalities=('text', )), 'slcwa'),
        ('l2', dict(modalities=('structure', 'text', 'image'), p_norm=2),
         'slcwa'),
    ],
    # RSME: the gate from training triples; 'open-gate' makes the image
    # term count for every relation (the tiny graph has few 1-1 triples).
    'RSME': [
        ('constant', dict(n3_weight=0.01), '1vsall'),
        ('relation-alpha', dict(alpha_mode='relation', n3_weight=0.01,
                                use_forget_gate=False), '1vsall'),
        ('kvsall-trained-image-term', dict(train_image_term=True),
         'kvsall'),
        ('no-reciprocal', dict(reciprocal=False, alpha_mode='relation',
                               use_forget_gate=False), '1vsall'),
        ('structure-only', dict(modalities=('structure', )), '1vsall'),
    ],
    # MKGformer: tiny random towers (width 4), dropout off. Descriptions and
    # images are token inputs, not feature buffers: no modality can be
    # ablated (test_modality_ablation is skipped; tests/nn/models/
    # test_mkgformer.py shows that the known entity's images are used).
    'MKGformer': [
        ('text', dict(dropout=0.0), 'kvsall'),
        ('text-1vsall', dict(dropout=0.0, max_length=8), '1vsall'),
        ('clip', dict(dropout=0.0, fusion_layers=1, vision=dict(
            hidden_size=4, num_hidden_layers=2, num_attention_heads=2,
            intermediate_size=8, image_size=8, patch_size=4),
            images=[torch.randn(24, 2, 3, 8, 8,
                                generator=torch.Generator().manual_seed(0))]),
         'kvsall'),
    ],
    # IMF: dropouts off (scores are compared in training mode here;
    # tests/nn/models/test_imf.py covers the published defaults); d = 16,
    # as with d = 4 a rank-2 ReLU factor of the fusion can be dead.
    'IMF': [
        (case, dict(hidden_channels=16, fusion_dropout=0.0,
                    input_dropout=0.0, hidden_dropout1=0.0,
                    hidden_dropout2=0.0, **kw), regime)
        for case, kw, regime in [
            ('all', dict(), 'kvsall'),
            ('structure-text-contrastive',
             dict(modalities=('structure', 'text'), contrastive_weight=0.1),
             'kvsall'),
            ('frozen-features', dict(freeze_features=True), '1vsall'),
            ('text-image-ce', dict(modalities=('text', 'image'),
                                   branch_loss='ce'), '1vsall'),
            ('slcwa-positives', dict(), 'slcwa'),
            ('structure-only', dict(modalities=('structure', )), 'kvsall'),
            ('mm-branch', dict(ensemble='mm'), 'kvsall'),
        ]
    ],
    'OTKGE': [
        ('official', dict(), '1vsall'),
        ('frequency-weight', dict(frequency_weight=True), '1vsall'),
        ('text-kvsall', dict(modalities=('structure', 'text')), 'kvsall'),
        ('random-cached', dict(sample='random', plan_every=3,
                               ot_entities=4), '1vsall'),
        ('no-reciprocal', dict(reciprocal=False), '1vsall'),
        ('structure-only', dict(modalities=('structure', )), '1vsall'),
    ],
}
# Contract clauses a model cannot meet, with the reason.
SKIP = {
    ('MKGformer', 'test_modality_ablation'):
    'text and images are prompt tokens, not ablatable feature buffers',
}
CASES = [(name, case_id, kwargs, regime)
         for name, cases in CONTRACT.items()
         for case_id, kwargs, regime in cases]
IDS = [f'{name}-{case_id}' for name, case_id, _, _ in CASES]


def build(name, kwargs, data, seed=0, device='cpu'):
    kwargs = dict(kwargs)
    kwargs.setdefault('hidden_channels', 4)
    torch.manual_seed(seed)
    model = getattr(models, name).from_data(data, **kwargs)
    if hasattr(model, 'ensemble_weight'):  # Non-trivial ensemble weights.
        gen = torch.Generator().manual_seed(seed)
        model.ensemble_weight.copy_(
            torch.rand(model.ensemble_weight.shape, generator=gen) + 0.5)
    return model.to(device)


def make_batch(model, data, regime, device):
    h, r, t = (x.to(device) for x in triples(data, 'train'))
    R = model.num_relations
    if regime == 'slcwa':
        gen = torch.Generator().manual_seed(0)
        k = 3
        neg = torch.randint(0, model.num_nodes, (h.numel(), k),
                            generator=gen).to(device)
        return TrainBatch('slcwa', h, r, t, neg_head=neg,
                          neg_tail=t.view(-1, 1).expand(-1, k))
    if model.reciprocal:
        h, r, t = torch.cat([h, t]), torch.cat([r, r + R]), torch.cat([t, h])
    if regime == 'kvsall':
        targets = torch.zeros(h.numel(), model.num_nodes, device=device)
        targets[torch.arange(h.numel()), t] = 1.0
        return TrainBatch('kvsall', h, r, targets=targets)
    return TrainBatch('1vsall', h, r, tail_index=t)


def all_scores(model, data, device):
    h, r, t = (x.to(device) for x in triples(data, 'all'))
    with torch.no_grad():
        return torch.cat([model(h, r, t), model.score_tails(h, r).reshape(-1),
                          model.score_heads(r, t).reshape(-1)])


def test_every_model_has_a_contract_entry():
    missing = sorted(set(models.__all__) - set(CONTRACT))
    assert not missing, f'models without a contract entry: {missing}'
    assert sorted(CONTRACT) == sorted(models.__all__)


@withCUDA
@pytest.mark.parametrize('name,case_id,kwargs,regime', CASES, ids=IDS)
def test_scores_and_shapes(name, case_id, kwargs, regime, mm_data, device):
    model = build(name, kwargs, mm_data, device=device)
    h, r, t = (x.to(device) for x in triples(mm_data, 'test'))
    B, N, R = h.numel(), model.num_nodes, model.num_relations
    assert isinstance(model, models.MultimodalKGEModel)
    encoded = model.encode()
    out = model(h, r, t)
    tails = model.score_tails(h, r)
    heads = model.score_heads(r, t)
    assert out.shape == (B, ) and tails.shape == heads.shape == (B, N)
    assert torch.allclose(model(h, r, t, encoded=encoded), out)
    assert torch.allclose(model.score_tails(h, r, encoded=encoded), tails)
    # 1-N scores equal triple scores:
    arange = torch.arange(B, device=device)
    assert torch.allclose(tails[arange, t], out, atol=1e-6, rtol=1e-4)
    head_triple = model(t, r + R, h) if model.reciprocal else out
    assert torch.allclose(heads[arange, h], head_triple, atol=1e-6,
                          rtol=1e-4)
    assert str(model).startswith(f'{name}(')


@withCUDA
@pytest.mark.parametrize('name,case_id,kwargs,regime', CASES, ids=IDS)
def test_gradients_reach_every_parameter(name, case_id, kwargs, regime,
                                         mm_data, device):
    model = build(name, kwargs, mm_data, device=device)
    config = TrainConfig(regime=regime)
    batch = make_batch(model, mm_data, regime, device)
    hook = model.training_loss(batch, model.encode())
    assert (hook is None) == (name == 'VLKGE' and regime != 'slcwa')
    loss = batch_loss(model, batch, model.encode(), config)
    assert torch.isfinite(loss)
    loss.backward()
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert len(trainable) > 0
    for n, p in trainable.items():
        assert p.grad is not None and p.grad.abs().sum() > 0, n

    # PyG's `loss(h, r, t)` (the published loss on positives) as well:
    if regime != 'kvsall':
        model.zero_grad()
        h, r, t = (x.to(device) for x in triples(mm_data, 'train'))
        model.loss(h, r, t).backward()
        for n, p in trainable.items():
            assert p.grad is not None and p.grad.abs().sum() > 0, n


@pytest.mark.parametrize('name,case_id,kwargs,regime', CASES, ids=IDS)
def test_state_dict_round_trip(name, case_id, kwargs, regime, mm_data):
    model = build(name, kwargs, mm_data, seed=0)
    other = build(name, kwargs, mm_data, seed=1)
    if hasattr(other, 'set_ensemble'):
        other.set_ensemble('average')
    assert not torch.equal(all_scores(model, mm_data, 'cpu'),
                           all_scores(other, mm_data, 'cpu'))
    other.load_state_dict(copy.deepcopy(model.state_dict()))
    assert torch.equal(all_scores(model, mm_data, 'cpu'),
                       all_scores(other, mm_data, 'cpu'))


@pytest.mark.parametrize('name,case_id,kwargs,regime', CASES, ids=IDS)
def test_masks_are_respected(name, case_id, kwargs, regime, mm_data):
    model = build(name, kwargs, mm_data)
    expected = all_scores(model, mm_data, 'cpu')
    store = mm_data['entity']
    missing_text = (~store.has_text).nonzero().view(-1)
    missing_image = (~store.has_image).nonzero().view(-1)
    assert missing_text.numel() > 0 and missing_image.numel() > 0
    # Whatever the data holds for entities without a modality is ignored:
    changed = copy.copy(mm_data)
    changed['entity'].x_text = store.x_text.clone()
    changed['entity'].x_text[missing_text] = 1e3
    changed['entity'].x_image = store.x_image.clone()
    changed['entity'].x_image[missing_image] = -1e3
    other = build(name, kwargs, changed)
    assert torch.equal(all_scores(other, mm_data, 'cpu'), expected)
    # ... also when written into the model's buffers directly:
    for m in model.feature_modalities:
        x = getattr(model, f'x_{m}')
        x[~getattr(model, f'has_{m}')] = 7.0
    assert torch.equal(all_scores(model, mm_data, 'cpu'), expected)
    # Features of an entity that has the modality do matter:
    if hasattr(model, 'set_ensemble'):
        model.set_ensemble('average')  # Not a single branch.
    expected = all_scores(model, mm_data, 'cpu')
    for m in model.feature_modalities:
        x = getattr(model, f'x_{m}')
        present = getattr(model, f'has_{m}').nonzero().view(-1)[0]
        backup = x[present].clone()
        x[present] = 5.0
        assert not torch.equal(all_scores(model, mm_data, 'cpu'), expected)
        x[present] = backup


@pytest.mark.parametrize('name,case_id,kwargs,regime', CASES, ids=IDS)
def test_determinism(name, case_id, kwargs, regime, mm_data):
    losses = []
    for _ in range(2):
        model = build(name, kwargs, mm_data, seed=3)
        batch = make_batch(model, mm_data, regime, 'cpu')
        loss = batch_loss(model, batch, model.encode(),
                          TrainConfig(regime=regime))
        loss.backward()
        losses.append((float(loss), all_scores(model, mm_data, 'cpu')))
    assert losses[0][0] == losses[1][0]
    assert torch.equal(losses[0][1], losses[1][1])


@pytest.mark.parametrize('name,case_id,kwargs,regime', CASES, ids=IDS)
def test_modality_ablation(name, case_id, kwargs, regime, mm_data):
    if (name, 'test_modality_ablation') in SKIP:
        pytest.skip(SKIP[name, 'test_modality_ablation'])
    model = build(name, kwargs, mm_data)
    if hasattr(model, 'set_ensemble'):
        model.set_ensemble('average')  # Not a single branch.
    expected = all_scores(model, mm_data, 'cpu')
    for m in model.active_modalities:
        with model.ablate(m, 'shuffle'):
            assert not torch.equal(all_scores(model, mm_data, 'cpu'),
                                   expected), m
        with model.ablate(m, 'zero'):
            zero = all_scores(model, mm_data, 'cpu')
        assert not torch.equal(zero, expected), m
        assert torch.equal(all_scores(model, mm_data, 'cpu'), expected)
    # Dropping a feature modality equals marking every entity as missing it:
    for m in model.feature_modalities:
        with model.ablate(m, 'drop'):
            dropped = all_scores(model, mm_data, 'cpu')
        mask = getattr(model, f'has_{m}')
        backup = mask.clone()
        mask.fill_(False)
        assert torch.equal(all_scores(model, mm_data, 'cpu'), dropped)
        mask.copy_(backup)
    with pytest.raises(ValueError, match='mode'):
        with model.ablate(model.active_modalities[0], 'blur'):
            pass


def test_ablation_rejects_unused_modality(mm_data):
    for name in models.__all__:
        model = build(name, dict(modalities=('structure', 'text')), mm_data)
        with pytest.raises(ValueError, match="does not use the modality"):
            with model.ablate('image'):
                pass


@pytest.mark.parametrize('name,case_id,kwargs,regime',
                         [c for c in CASES if 'encoder' in c[2]],
                         ids=[i for i, c in zip(IDS, CASES)
                              if 'encoder' in c[2]])
def test_encoder_sees_training_graph_only(name, case_id, kwargs, regime,
                                          mm_data):
    model = build(name, kwargs, mm_data)
    edge_index, edge_type = train_graph(mm_data, add_inverse=True)
    assert torch.equal(model.encoder.edge_index, edge_index)
    assert torch.equal(model.encoder.edge_type, edge_type)
    assert any(p.grad is None for p in model.encoder.parameters())


@pytest.mark.parametrize('name', ['MoSE', 'VLKGE'])
def test_trainer_calls_the_model_loss(name, mm_data, tmp_path):
    from pyg_mmkg.train import get_model
    regime = CONTRACT[name][0][2]
    kwargs = dict(reciprocal=True) if regime != 'slcwa' else {}
    torch.manual_seed(0)
    model = get_model(name.lower(), mm_data, hidden_channels=4,
                      modalities=['structure', 'text'], **kwargs)
    assert type(model).__name__ == name
    assert model.feature_modalities == ('text', )
    calls = []
    hook = model.training_loss

    def spy(batch, encoded):
        calls.append(batch.regime)
        return hook(batch, encoded)

    model.training_loss = spy
    trainer = Trainer(model, mm_data, regime=regime, epochs=2, eval_every=1,
                      batch_size=32, progress=False, device='cpu', plot=False,
                      optimizer='adagrad', lr=0.1)
    results = trainer.fit()
    assert calls and set(calls) == {regime}
    assert 0 < results['test']['mrr'] <= 1


def test_no_model_reads_test_triples(mm_data):
    r"""Building a model never looks at validation or test triples."""
    data = copy.copy(mm_data)
    store = data['entity', 'to', 'entity']
    edge_index = store.edge_index.clone()
    held_out = store.val_mask | store.test_mask
    edge_index[:, held_out] = edge_index[:, held_out].flip(0)
    store.edge_index = edge_index
    for name, case_id, kwargs, _ in CASES:
        expected = all_scores(build(name, kwargs, mm_data), mm_data, 'cpu')
        got = all_scores(build(name, kwargs, data), mm_data, 'cpu')
        assert torch.equal(got, expected), f'{name}-{case_id}'


def test_make_kg_data_roundtrip_sanity():
    data = make_kg_data(['a', 'b'], ['r'], {
        'train': (torch.tensor([0]), torch.tensor([0]), torch.tensor([1]))
    })
    model = models.VLKGE.from_data(data, hidden_channels=2,
                                   modalities=('structure', 'text'))
    assert model.feature_modalities == ()  # No text in the data: skipped.
