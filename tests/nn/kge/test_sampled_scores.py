r"""Broadcast sLCWA scoring (:meth:`ScoredKGEModel.score_sampled`) against
an independent transcription of each model's score on the explicit
negative triples (complex numbers via :obj:`torch.complex`, no use of the
library's scorers), for scores, gradients and training trajectories."""
import copy

import pytest
import torch
import torch.nn.functional as F

from pyg_mmkg.loader import NegativeSampler
from pyg_mmkg.nn.kge import ComplEx, DistMult, RotatE, TransE, TuckER
from pyg_mmkg.train import losses

R, H = 5, 8

CONFIGS = {
    'transe_l1': (TransE, {}),
    'transe_l2': (TransE, dict(p_norm=2.0)),
    'distmult': (DistMult, {}),
    'complex': (ComplEx, {}),
    'rotate': (RotatE, dict(margin=3.0)),
}


def _complex(x):
    re, im = x.chunk(2, dim=-1)
    return torch.complex(re, im)


def reference_scores(model, h, r, t):
    r"""The published score of each triple, straight from the weights."""
    ent = model.node_emb.weight
    if model.node_emb_im is not None:
        ent = torch.cat([ent, model.node_emb_im.weight], dim=-1)
    rel = model.rel_emb.weight
    if model.rel_emb_im is not None:
        rel = torch.cat([rel, model.rel_emb_im.weight], dim=-1)
    eh, er, et = ent[h], rel[r], ent[t]
    if isinstance(model, TransE):
        p = model.p_norm
        eh = eh / eh.abs().pow(p).sum(-1, keepdim=True).pow(1 / p)
        et = et / et.abs().pow(p).sum(-1, keepdim=True).pow(1 / p)
        return -(eh + er - et).abs().pow(p).sum(-1).pow(1 / p)
    if isinstance(model, DistMult):
        return (eh * er * et).sum(-1)
    if isinstance(model, ComplEx):
        return (_complex(eh) * _complex(er) * _complex(et).conj()).real.sum(-1)
    rot = torch.polar(torch.ones_like(er), er)
    diff = _complex(eh) * rot - _complex(et)
    return model.scorer.margin - diff.abs().pow(2).sum(-1).sqrt()


def reference_sampled(model, h, r, t, nh, nt):
    B, k = nh.shape
    pos = reference_scores(model, h, r, t)
    neg = reference_scores(model, nh.reshape(-1), r.repeat_interleave(k),
                           nt.reshape(-1)).view(B, k)
    return pos, neg


def batch(num_nodes, B, k, seed=0):
    g = torch.Generator().manual_seed(seed)
    h = torch.randint(num_nodes, (B, ), generator=g)
    r = torch.randint(R, (B, ), generator=g)
    t = torch.randint(num_nodes, (B, ), generator=g)
    sampler = NegativeSampler(num_nodes=num_nodes, num_negatives=k)
    nh, nt = sampler.sample(h, r, t, generator=g)
    return h, r, t, nh, nt


# (num_nodes, k): the TransE lookup of 2B + Bk = 66 rows is smaller than
# the table of 200 entities (rows normalized) or larger than the one of 12
# (table normalized).
@pytest.mark.parametrize('num_nodes', [12, 200])
@pytest.mark.parametrize('name', list(CONFIGS))
def test_scores_and_gradients_match_reference(name, num_nodes):
    cls, kwargs = CONFIGS[name]
    torch.manual_seed(0)
    model = cls(num_nodes, R, H, **kwargs)
    h, r, t, nh, nt = batch(num_nodes, B=6, k=9)
    assert ((nh == h.view(-1, 1)) != (nt == t.view(-1, 1))).any()

    pos, neg = model.score_sampled(h, r, t, nh, nt)
    (pos.sum() + (neg * torch.linspace(-1, 1, 9)).sum()).backward()
    grads = [p.grad.clone() for p in model.parameters()]

    model.zero_grad()
    ref_pos, ref_neg = reference_sampled(model, h, r, t, nh, nt)
    (ref_pos.sum() + (ref_neg * torch.linspace(-1, 1, 9)).sum()).backward()
    assert torch.allclose(pos, ref_pos, atol=1e-5)
    assert neg.shape == (6, 9)
    assert torch.allclose(neg, ref_neg, atol=1e-5)
    for g, p in zip(grads, model.parameters()):
        assert torch.allclose(g, p.grad, atol=1e-5)


@pytest.mark.parametrize('name', list(CONFIGS))
def test_encoded_representations(name):
    # Models with an `encode` (multimodal models) score from its output:
    cls, kwargs = CONFIGS[name]
    torch.manual_seed(0)
    model = cls(30, R, H, **kwargs)
    h, r, t, nh, nt = batch(30, B=5, k=4)
    pos, neg = model.score_sampled(h, r, t, nh, nt, encoded=model.encode())
    ref_pos, ref_neg = reference_sampled(model, h, r, t, nh, nt)
    assert torch.allclose(pos, ref_pos, atol=1e-5)
    assert torch.allclose(neg, ref_neg, atol=1e-5)


def test_negatives_replacing_both_sides_fall_back():
    torch.manual_seed(0)
    model = ComplEx(20, R, H)
    h, r, t, nh, nt = batch(20, B=4, k=3)
    nh, nt = (nh + 1) % 20, (nt + 1) % 20  # both sides differ
    pos, neg = model.score_sampled(h, r, t, nh, nt)
    ref_pos, ref_neg = reference_sampled(model, h, r, t, nh, nt)
    assert torch.allclose(neg, ref_neg, atol=1e-5)


def test_scorer_without_sampled_scoring_falls_back():
    torch.manual_seed(0)
    model = TuckER(20, R, H, relation_channels=4)
    model.eval()  # no dropout
    h, r, t, nh, nt = batch(20, B=4, k=3)
    pos, neg = model.score_sampled(h, r, t, nh, nt)
    assert torch.allclose(neg[:, 1], model(nh[:, 1], r, nt[:, 1]))
    assert torch.allclose(pos, model(h, r, t))


def _graph_ops(t):
    seen, out, stack = set(), set(), [t.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        out.add(type(fn).__name__)
        stack.extend(f for f, _ in fn.next_functions)
    return out


@pytest.mark.parametrize('name', list(CONFIGS))
def test_one_lookup_per_table_and_no_slice_backward(name):
    cls, kwargs = CONFIGS[name]
    model = cls(50, R, H, **kwargs)
    h, r, t, nh, nt = batch(50, B=4, k=6)
    pos, neg = model.score_sampled(h, r, t, nh, nt)
    ops = _graph_ops(pos.sum() + neg.sum())
    assert not any(op.startswith('SliceBackward') for op in ops), ops
    # forward() too (PyG's one-negative loss):
    ops = _graph_ops(model(h, r, t))
    assert not any(op.startswith('SliceBackward') for op in ops), ops


LOSSES = {
    'margin': lambda p, n: losses.margin_ranking_loss(p, n, 1.0),
    'bce': lambda p, n: losses.bce_loss(p, n, 0.0),
    'nssa': lambda p, n: losses.self_adversarial_loss(p, n, 0.0, 1.0),
}


@pytest.mark.parametrize('loss', list(LOSSES))
@pytest.mark.parametrize('name', list(CONFIGS))
def test_same_loss_trajectory_as_reference(name, loss):
    # 12 Adam steps with fixed seeds: broadcast scoring and the reference
    # (explicit B * k negative triples) give the same losses and weights.
    cls, kwargs = CONFIGS[name]
    torch.manual_seed(0)
    fast = cls(40, R, H, **kwargs)
    ref = copy.deepcopy(fast)
    opts = [torch.optim.Adam(m.parameters(), lr=0.01) for m in (fast, ref)]
    fn = LOSSES[loss]
    for step in range(12):
        b = batch(40, B=16, k=32, seed=step)
        out = []
        for model, opt, score in ((fast, opts[0], type(fast).score_sampled),
                                  (ref, opts[1], reference_sampled)):
            value = fn(*score(model, *b))
            opt.zero_grad()
            value.backward()
            opt.step()
            out.append(float(value.detach()))
        assert out[0] == pytest.approx(out[1], rel=1e-4, abs=1e-6), step
    for p, q in zip(fast.parameters(), ref.parameters()):
        assert torch.allclose(p, q, atol=1e-4)
