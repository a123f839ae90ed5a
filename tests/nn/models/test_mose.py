import math

import pytest
import torch
import torch_geometric.nn.kge as pyg_kge

from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.nn.models import MoSE
from pyg_mmkg.nn.models._ensemble import (boosting_weights, pattern_counts,
                                          sign_patterns)


def adaboost_oracle(scores, target, group, num_groups, exclude=(),
                    min_queries=1):
    r"""Brute-force boosting weights of the :obj:`rule="unique"` option
    (each modality picked once): explicit pairs, Python loops. The default,
    official rule is tested against a port of the official code in
    `test_mose_boosting.py`."""
    B, M, N = scores.shape
    weights = torch.full((num_groups, M), 1.0 / M, dtype=torch.float64)
    for g in range(num_groups):
        rows = [b for b in range(B) if int(group[b]) == g]
        if len(rows) < min_queries:
            continue
        ys = []
        for b in rows:
            for c in range(N):
                if c == int(target[b]) or (b, c) in exclude:
                    continue
                ys.append([1.0 if scores[b, m, c] < scores[b, m, target[b]]
                           else -1.0 for m in range(M)])
        y = torch.tensor(ys, dtype=torch.float64)
        D = torch.full((len(ys), ), 1.0 / len(ys), dtype=torch.float64)
        chosen = []
        for _ in range(M):
            best, best_alpha = None, -math.inf
            for m in range(M):
                if m in chosen:
                    continue
                plus = float(D[y[:, m] > 0].sum())
                minus = float(D[y[:, m] < 0].sum())
                alpha = 0.5 * math.log((plus + 1e-12) / (minus + 1e-12))
                if alpha > best_alpha:
                    best, best_alpha = m, alpha
            chosen.append(best)
            weights[g, best] = best_alpha
            D = D * torch.exp(-best_alpha * y[:, best])
            D = D / D.sum()
    return weights.float()


def test_boosting_weights_match_brute_force():
    gen = torch.Generator().manual_seed(0)
    B, M, N, G = 40, 3, 9, 4
    scores = torch.randn(B, M, N, generator=gen)
    scores[:, 0] += 2 * torch.nn.functional.one_hot(
        torch.arange(B) % N, N)  # Modality 0 is informative.
    target = torch.arange(B) % N
    group = torch.randint(0, G, (B, ), generator=gen)
    row = torch.tensor([0, 1, 5])
    col = torch.tensor([3, 7, 2])
    code, valid = sign_patterns(scores, target, row, col)
    counts = pattern_counts(code, valid, group, G, M)
    weight = boosting_weights(counts, torch.bincount(group, minlength=G),
                              min_queries=1, rule='unique')
    expected = adaboost_oracle(scores, target, group, G,
                               exclude={(0, 3), (1, 7), (5, 2)})
    assert torch.allclose(weight, expected, atol=1e-5)
    assert (weight.argmax(1) == 0).all()  # The informative modality wins.
    # Groups with too few queries are uniform:
    few = boosting_weights(counts, torch.tensor([1, 100, 100, 100]),
                           min_queries=10, rule='unique')
    assert torch.allclose(few[0], torch.full((M, ), 1.0 / M))
    assert torch.allclose(few[1:], weight[1:])


def test_structure_branch_equals_pyg_complex(mm_data):
    torch.manual_seed(0)
    model = MoSE.from_data(mm_data, hidden_channels=4, reciprocal=False,
                           modalities=('structure', 'text'))
    pyg = pyg_kge.ComplEx(model.num_nodes, model.num_relations, 4)
    with torch.no_grad():
        pyg.node_emb.weight.copy_(model.node_emb.weight)
        pyg.node_emb_im.weight.copy_(model.node_emb_im.weight)
        pyg.rel_emb.weight.copy_(model.rel_emb.weight)
        pyg.rel_emb_im.weight.copy_(model.rel_emb_im.weight)
    h, r, t = triples(mm_data, 'all')
    model.set_ensemble('structure')
    assert torch.allclose(model(h, r, t), pyg(h, r, t), atol=1e-7)
    # The text branch scores projected features with its own relations:
    model.set_ensemble('text')
    x = model.proj['text'](model.x_text) * model.has_text.unsqueeze(-1) / 20
    re, im = x.chunk(2, dim=-1)
    rr, ri = model.rel_mod['text'].weight[r].chunk(2, dim=-1)
    expected = ((re[h] * rr * re[t]) + (im[h] * rr * im[t]) +
                (re[h] * ri * im[t]) - (im[h] * ri * re[t])).sum(-1)
    assert torch.allclose(model(h, r, t), expected, atol=1e-6)
    # The average ensemble is the mean of both branches:
    model.set_ensemble('average')
    both = model.branch_forward(h, r, t)
    assert both.shape == (h.numel(), 2)
    assert torch.allclose(model(h, r, t), both.mean(1))


def test_fit_boosting_on_validation_matches_oracle(mm_data):
    torch.manual_seed(0)
    model = MoSE.from_data(mm_data, hidden_channels=4, init_scale=0.5)
    fi = filter_index(mm_data)
    h, r, t = triples(mm_data, 'val')
    model.fit_ensemble(h, r, t, method='boosting', filter_index=fi,
                       min_queries=2, rule='unique')
    assert model.ensemble == 'boosting'
    R = model.num_relations
    with torch.no_grad():
        scores = torch.cat([model.branch_score_tails(h, r),
                            model.branch_score_heads(r, t)])
    target = torch.cat([t, h])
    group = torch.cat([r, r + R])
    exclude = set()
    row, col = fi.tails(h, r)
    exclude |= {(int(a), int(b)) for a, b in zip(row, col)}
    row, col = fi.heads(r, t)
    exclude |= {(int(a) + h.numel(), int(b)) for a, b in zip(row, col)}
    expected = adaboost_oracle(scores, target, group, 2 * R, exclude,
                               min_queries=2)
    assert torch.allclose(model.ensemble_weight, expected, atol=1e-4)
    # The weights are used per relation (reciprocal ones for heads):
    out = model.score_heads(r, t)
    w = model.ensemble_weight[r + R].unsqueeze(-1)
    assert torch.allclose(out, (w * model.branch_score_heads(r, t)).sum(1))

    model.fit_ensemble(h, r, t, method='average')
    assert model.ensemble == 'average'  # Uniform, the BI weights are kept.
    assert torch.allclose(model.score_tails(h, r),
                          model.branch_score_tails(h, r).mean(1))
    assert not torch.allclose(model.ensemble_weight,
                              torch.full_like(model.ensemble_weight, 1 / 3))
    with pytest.raises(ValueError, match='Unknown ensemble method'):
        model.fit_ensemble(h, r, t, method='oracle')
    with pytest.raises(ValueError, match='Unknown ensemble'):
        model.set_ensemble('image-text')


def test_meta_learner_fits_validation_only(mm_data):
    torch.manual_seed(0)
    model = MoSE.from_data(mm_data, hidden_channels=4, init_scale=0.5)
    fi = filter_index(mm_data)
    h, r, t = triples(mm_data, 'val')
    before = {k: v.clone() for k, v in model.state_dict().items()
              if not k.startswith('meta')}
    model.fit_ensemble(h, r, t, method='meta', filter_index=fi, epochs=5,
                       holdout=0.3)
    assert model.ensemble == 'meta'
    # Only the meta-learner changed, and it is frozen again:
    after = model.state_dict()
    for k, v in before.items():
        if k != 'ensemble_code':
            assert torch.equal(after[k], v), k
    assert all(not p.requires_grad for p in model.meta.parameters())
    # Its scores are the MLP of the branch score vectors:
    scores = model.score_tails(h, r)
    branch = model.branch_score_tails(h, r)
    assert torch.allclose(scores,
                          model.meta(branch.movedim(1, -1)).squeeze(-1))
    # Deterministic given the seed:
    state = {k: v.clone() for k, v in model.meta.state_dict().items()}
    model.fit_ensemble(h, r, t, method='meta', filter_index=fi, epochs=5,
                       holdout=0.3)
    for k, v in model.meta.state_dict().items():
        assert torch.equal(v, state[k])


def test_text_branch_ranks_entities_unseen_in_training(cluster_data):
    r"""Trained with the published loss on a KG whose answers follow the
    text features, the text branch ranks answers that never occur in a
    training triple; the structure branch cannot."""
    from mm_testing import train_one_to_n
    torch.manual_seed(0)
    model = MoSE.from_data(cluster_data, hidden_channels=16,
                           modalities=('structure', 'text'), n3_weight=0.0)
    train_one_to_n(model, cluster_data)
    h, r, t = triples(cluster_data, 'test')
    fi = filter_index(cluster_data)
    mrr = {}
    for name in ('text', 'structure'):
        model.set_ensemble(name)
        mrr[name] = evaluate(model, h, r, t, filter_index=fi)['both']['mrr']
    print(mrr)
    assert mrr['text'] > 0.15  # Ceiling ~0.25: answers are random members.
    assert mrr['text'] > 2 * mrr['structure']
    with model.ablate('text', 'shuffle'):
        model.set_ensemble('text')
        shuffled = evaluate(model, h, r, t, filter_index=fi)['both']['mrr']
    assert shuffled < mrr['text'] / 2


def test_auto_ensemble_selected_on_held_out_validation(mm_data,
                                                       monkeypatch):
    r"""`ensemble='auto'`: after training, BI and MI are fitted on part of
    the validation triples and AI / BI / MI are compared on the other part,
    which none was fitted on; test is never used."""
    import pyg_mmkg.evaluation as evaluation_module
    from pyg_mmkg.train import Trainer
    torch.manual_seed(0)
    model = MoSE.from_data(mm_data, hidden_channels=8,
                           modalities=('structure', 'text'),
                           ensemble='auto')
    val = triples(mm_data, 'val')
    val_set = {tuple(x) for x in torch.stack(val, 1).tolist()}
    test_set = {tuple(x) for x in torch.stack(triples(mm_data, 'test'),
                                              1).tolist()}
    in_hook, fitted, selected = [False], [], []
    real_evaluate, real_fit = evaluation_module.evaluate, MoSE.fit_ensemble

    def as_set(h, r, t):
        return {tuple(x) for x in torch.stack([h, r, t], 1).tolist()}

    def spy_evaluate(model, h, r, t, *args, **kwargs):
        if in_hook[0]:
            selected.append(as_set(h, r, t))
        return real_evaluate(model, h, r, t, *args, **kwargs)

    def spy_fit(self, h, r, t, *args, **kwargs):
        if in_hook[0]:
            fitted.append(as_set(h, r, t))
        return real_fit(self, h, r, t, *args, **kwargs)
    monkeypatch.setattr(evaluation_module, 'evaluate', spy_evaluate)
    monkeypatch.setattr(MoSE, 'fit_ensemble', spy_fit)
    hook = model.on_fit_end

    def traced(trainer):
        in_hook[0] = True
        hook(trainer)
        in_hook[0] = False
    model.on_fit_end = traced
    trainer = Trainer(model, mm_data, regime='1vsall', epochs=3,
                      eval_every=1, patience=None, progress=False,
                      plot=False, device='cpu')
    trainer.fit()
    scores = model.ensemble_validation
    assert set(scores) == {'average', 'boosting', 'meta'}
    assert model.ensemble == max(scores, key=scores.get)
    assert len(fitted) == 3 and len(selected) == 3
    fit_part, held_out = fitted[0], selected[0]
    assert all(f == fit_part for f in fitted)
    assert all(s == held_out for s in selected)
    assert fit_part.isdisjoint(held_out) and held_out
    assert fit_part | held_out == val_set
    assert not (fit_part | held_out) & test_set
    # The recorded figure is the held-out MRR of the kept ensemble, ranked
    # with the validation filter (train + val: no test triples):
    h, r, t = (torch.tensor(x) for x in zip(*sorted(held_out)))
    assert real_evaluate(model, h, r, t,
                         filter_index=trainer.val_filter_index)[
        'both']['mrr'] == pytest.approx(scores[model.ensemble])
