import pytest
import torch
import torch.nn.functional as F

from pyg_mmkg.data import triples
from pyg_mmkg.nn.models import MoMoK
from pyg_mmkg.train.batches import TrainBatch


def small(data, **kwargs):
    torch.manual_seed(0)
    kwargs.setdefault('hidden_channels', 6)
    return MoMoK.from_data(data, **kwargs)


def test_branches(mm_data):
    assert small(mm_data).branches == ['structure', 'text', 'image', 'joint']
    model = small(mm_data, modalities=('structure', ))
    assert model.branches == ['structure'] and model.fuse_ent is None
    with pytest.raises(ValueError, match='reciprocal'):
        small(mm_data, reciprocal=False)


def test_experts_match_oracle(mm_data):
    model = small(mm_data, modalities=('structure', )).eval()
    adaptor = model.experts['structure']
    with torch.no_grad():
        adaptor.gate.normal_()  # Zero at initialisation, as published.
        adaptor.bias.normal_()
    x = model.node_emb.weight[:5]
    rel = torch.tensor([0, 1, 2, 3, 4])
    out, experts = adaptor(x, model.temperature[rel])
    expected_experts = torch.stack(
        [(x - adaptor.bias[k]) @ adaptor.weight[k].t() for k in range(3)], 1)
    assert torch.allclose(experts, expected_experts, atol=1e-6)
    tau = torch.sigmoid(model.temperature[rel]).view(-1, 1)
    gate = torch.softmax(x @ adaptor.gate / tau, dim=-1)
    assert torch.allclose(out, (gate.unsqueeze(-1) * experts).sum(1),
                          atol=1e-6)
    plain = torch.softmax(x @ adaptor.gate, dim=-1)  # Candidates.
    assert torch.allclose(adaptor(x)[0], (plain.unsqueeze(-1) *
                                          experts).sum(1), atol=1e-6)


def test_score_is_sum_of_branch_probabilities(mm_data):
    model = small(mm_data).eval()
    h, r, t = triples(mm_data, 'test')
    R = model.num_relations
    encoded = model.encode()
    ent = encoded[0].chunk(4, dim=-1)
    x = {m: v[h] for m, v in model.inputs().items()}
    heads, _ = model._entities(x, r)
    rels = model._relations(r)
    expected = sum(
        torch.sigmoid(model.tucker[b].score_tails(heads[b], rels[b], e))
        for b, e in zip(model.branches, ent))
    tails = model.score_tails(h, r)
    assert torch.allclose(tails, expected, atol=1e-6)
    assert model.branch_score_tails(h, r).shape == (4, h.numel(), 24)
    arange = torch.arange(h.numel())
    assert torch.allclose(tails[arange, t], model(h, r, t), atol=1e-6)
    heads = model.score_heads(r, t)
    assert torch.allclose(heads, model.score_tails(t, r + R))
    assert torch.allclose(heads[arange, h], model(t, r + R, h), atol=1e-6)


def test_ce_decision_loss(mm_data):
    model = small(mm_data, decision_loss='ce').eval()
    h, r, t = triples(mm_data, 'test')
    logits = model.branch_score_tails(h, r)
    tails = model.score_tails(h, r)
    # The score sums the branch softmax probabilities over all entities.
    assert torch.allclose(tails, torch.softmax(logits, -1).sum(0),
                          atol=1e-6)
    assert torch.allclose(tails.sum(-1), torch.full_like(tails[:, 0], 4.0))
    arange = torch.arange(h.numel())
    assert torch.allclose(tails[arange, t], model(h, r, t), atol=1e-6)
    # The loss is the sum of the branch softmax cross-entropies (no CLUB).
    model = small(mm_data, decision_loss='ce', mu=0.0).eval()
    batch = TrainBatch('1vsall', h, r, tail_index=t)
    loss = model.training_loss(batch, model.encode())
    expected = sum(F.cross_entropy(x, t)
                   for x in model.branch_score_tails(h, r))
    assert torch.allclose(loss, expected, atol=1e-5)
    with pytest.raises(ValueError, match='decision_loss'):
        small(mm_data, decision_loss='margin')


def test_relation_temperature_guides_query_side_only(mm_data):
    model = small(mm_data).eval()
    h = torch.tensor([2, 2, 3])
    r = torch.tensor([0, 1, 0])
    before = model.score_tails(h, r)
    encoded = model.encode()
    with torch.no_grad():
        for adaptor in model.experts.values():
            adaptor.gate.normal_()  # Zero gates ignore the temperature.
        before = model.score_tails(h, r)
        encoded = model.encode()
        model.temperature[0] += 2.0
    after = model.score_tails(h, r)
    assert torch.equal(encoded[0], model.encode()[0])  # Candidates.
    assert not torch.equal(before[0], after[0])
    assert torch.equal(before[1], after[1])


def test_club_estimator_is_the_published_one():
    from pyg_mmkg.nn.models.momok import _CLUB
    torch.manual_seed(0)
    club = _CLUB(4, 3)
    x, y = torch.randn(10, 4), torch.randn(10, 4)
    perm = torch.randperm(10)
    mu, logvar = club.mu(x), club.logvar(x)
    var = logvar.exp()
    nll = (0.5 * (mu - y)**2 / var + 0.5 * logvar).sum(-1).mean()
    assert torch.allclose(club.nll(x, y), nll)  # log-variance included
    log_q = -0.5 * (mu - y)**2 / var  # log q(y_b | x_b) up to constants
    log_q_neg = -0.5 * (mu - y[perm])**2 / var
    assert torch.allclose(club(x, y, perm),
                          (log_q - log_q_neg).sum(-1).mean())


def test_club_bound_separates_dependent_from_independent():
    from pyg_mmkg.nn.models.momok import _CLUB
    torch.manual_seed(0)
    club = _CLUB(4, 16)
    opt = torch.optim.Adam(club.parameters(), lr=1e-2)
    x = torch.randn(256, 4)
    y = x + 0.1 * torch.randn(256, 4)
    for _ in range(300):
        opt.zero_grad()
        club.nll(x, y).backward()
        opt.step()
    perm = torch.randperm(256)
    with torch.no_grad():
        dependent = float(club(x, y, perm))
        independent = float(club(x, y[torch.randperm(256)], perm))
    assert dependent > 10 * abs(independent) and dependent > 1.0


def test_estimator_step_and_main_step_are_separate(mm_data):
    model = small(mm_data, mu=1.0)
    h, r, t = triples(mm_data, 'train')
    params = [p for p in model.parameters() if p.requires_grad]
    club = [p.detach().clone() for p in model.club.parameters()]
    assert not any(p.requires_grad for p in model.club.parameters())
    assert len(params) + len(club) == len(list(model.parameters()))
    targets = F.one_hot(t, model.num_nodes).float()
    loss = model.training_loss(TrainBatch('kvsall', h, r, targets=targets),
                               model.encode())
    loss.backward()
    # The estimator took its own step, the loss reaches no estimator weight:
    after = list(model.club.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(after, club))
    assert all(p.grad is None for p in after)
    assert all(p.grad is not None for p in model.experts.parameters()
               if p.requires_grad)
    # Without training mode (evaluation), no estimator step:
    model.eval()
    club = [p.detach().clone() for p in model.club.parameters()]
    with torch.no_grad():
        model.loss(h, r, t)
    assert all(torch.equal(a, b) for a, b in zip(model.club.parameters(),
                                                 club))


def test_estimator_optimizer_is_checkpointed(mm_data):
    h, r, t = triples(mm_data, 'train')
    batch = TrainBatch('1vsall', h, r, tail_index=t)
    model = small(mm_data, mu=1.0)
    fresh = small(mm_data, mu=1.0)
    fresh.load_state_dict(model.state_dict())  # Before any estimator step.
    assert fresh.get_extra_state() == {'estimator_optimizer': None}
    for _ in range(3):
        model.training_loss(batch, model.encode())
    state = model.state_dict()
    assert state['_extra_state']['estimator_optimizer']['state']
    resumed = small(mm_data, mu=1.0)
    resumed.load_state_dict(state)
    # One more step from the restored Adam moments equals the original's.
    for m in (model, resumed):
        torch.manual_seed(5)
        m.training_loss(batch, m.encode())
    for a, b in zip(model.club.parameters(), resumed.club.parameters()):
        assert torch.equal(a, b)
    # A restart without the moments would differ:
    restarted = small(mm_data, mu=1.0)
    restarted.load_state_dict({k: v for k, v in state.items()
                               if k != '_extra_state'}, strict=False)
    torch.manual_seed(5)
    restarted.training_loss(batch, restarted.encode())
    assert any(not torch.equal(a, b) for a, b in
               zip(model.club.parameters(), restarted.club.parameters()))


def test_mu_weights_the_bound(mm_data):
    h, r, t = triples(mm_data, 'train')
    model = small(mm_data, mu=1.0, noisy_gating=False).eval()
    with torch.no_grad():  # Experts far apart: a bound that shows.
        for adaptor in model.experts.values():
            adaptor.weight.normal_()
    losses = []
    for mu in [0.0, 1.0]:  # The same model, with and without the bound.
        model.mu = mu
        torch.manual_seed(1)
        with torch.no_grad():
            losses.append(float(model.loss(h, r, t)))
    torch.manual_seed(1)
    queries = model._queries(torch.cat([h, t]),
                             torch.cat([r, r + model.num_relations]),
                             None)[2]
    with torch.no_grad():
        bound = model.mutual_information(model._pairs(queries))
    assert abs(float(bound)) > 1e-4
    assert losses[1] == pytest.approx(losses[0] + float(bound), rel=1e-5)


def test_fine_tuned_features(mm_data):
    model = small(mm_data, modalities=('structure', 'text'))
    assert set(model.offset.keys()) == {'text'}
    x = model.inputs()['text']
    has = model.has_text
    fill = model.x_text[has].mean(0, keepdim=True)  # The mean text.
    raw = torch.where(has.view(-1, 1), model.x_text, fill)
    expected = F.adaptive_avg_pool1d(
        F.normalize(raw, dim=-1).unsqueeze(1), 6).squeeze(1)
    assert not has.all() and torch.allclose(x, expected)
    frozen = small(mm_data, modalities=('structure', 'text'),
                   fine_tune=False)
    assert len(frozen.offset) == 0


def test_trainer_kvsall(mm_data):
    from pyg_mmkg.train import Trainer, get_model
    torch.manual_seed(0)
    model = get_model('momok', mm_data, hidden_channels=8, reciprocal=True,
                      modalities=['structure', 'text'])
    assert isinstance(model, MoMoK)
    club = [p.detach().clone() for p in model.club.parameters()]
    trainer = Trainer(model, mm_data, regime='kvsall', epochs=3,
                      eval_every=1, batch_size=32, lr=1e-2, progress=False,
                      device='cpu', plot=False)
    results = trainer.fit()
    assert 0 < results['test']['mrr'] <= 1
    assert results['best_epoch'] in (1, 2, 3)
    assert any(not torch.equal(a, b)
               for a, b in zip(model.club.parameters(), club))
