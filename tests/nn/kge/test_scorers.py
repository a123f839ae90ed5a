import math

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.testing import withCUDA

import pyg_mmkg.nn.kge.scorer as scorer_module
from pyg_mmkg.nn.kge import (
    ComplExScorer,
    DistMultScorer,
    RotatEScorer,
    Scorer,
    TransEScorer,
    TuckERScorer,
)

HIDDEN = 6


def make_scorers():
    # Fresh modules per call (tests move them to devices and change modes):
    return [
        TransEScorer(p_norm=1.0),
        TransEScorer(p_norm=2.0),
        TransEScorer(p_norm=3.0),
        DistMultScorer(),
        ComplExScorer(),
        RotatEScorer(margin=2.0),
        TuckERScorer(HIDDEN, relation_channels=4),
    ]


def warm_up_tucker(scorer, device):
    # Non-trivial batch norm statistics and affine parameters, so that the
    # folding of batch norm in `score_heads` is actually exercised:
    with torch.no_grad():
        scorer.bn0.weight.uniform_(0.5, 1.5)
        scorer.bn0.bias.normal_()
        scorer.bn1.weight.uniform_(0.5, 1.5)
        scorer.bn1.bias.normal_()
    scorer.train()
    for _ in range(3):
        head = torch.randn(16, HIDDEN, device=device) * 2 + 1
        rel = torch.randn(16, scorer.relation_channels, device=device)
        scorer(head, rel, torch.randn(16, HIDDEN, device=device))
    scorer.eval()


def random_inputs(scorer, B, N, device):
    d_e, d_r = scorer.entity_dim(HIDDEN), scorer.relation_dim(HIDDEN)
    head = torch.randn(B, d_e, device=device)
    rel = torch.randn(B, d_r, device=device)
    tail = torch.randn(B, d_e, device=device)
    cand = torch.randn(N, d_e, device=device)
    return head, rel, tail, cand


def pairwise_triple_scores(scorer, head, rel, tail, cand, side):
    B, N = head.size(0), cand.size(0)
    rel = rel.repeat_interleave(N, dim=0)
    cand = cand.repeat(B, 1)
    if side == 'tail':
        out = scorer(head.repeat_interleave(N, dim=0), rel, cand)
    else:
        out = scorer(cand, rel, tail.repeat_interleave(N, dim=0))
    return out.view(B, N)


IDS = [repr(scorer) for scorer in make_scorers()]


@withCUDA
@pytest.mark.parametrize('i', range(len(IDS)), ids=IDS)
def test_1n_scores_equal_triple_scores(i, device):
    torch.manual_seed(12345)
    scorer = make_scorers()[i].to(device)
    if isinstance(scorer, TuckERScorer):
        warm_up_tucker(scorer, device)
    head, rel, tail, cand = random_inputs(scorer, B=7, N=13, device=device)

    out = scorer.score_tails(head, rel, cand)
    assert out.size() == (7, 13)
    expected = pairwise_triple_scores(scorer, head, rel, tail, cand, 'tail')
    assert torch.allclose(out, expected, atol=1e-5)

    out = scorer.score_heads(rel, tail, cand)
    assert out.size() == (7, 13)
    expected = pairwise_triple_scores(scorer, head, rel, tail, cand, 'head')
    assert torch.allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize('i', range(len(IDS) - 1), ids=IDS[:-1])
def test_generic_broadcast_fallback(i, monkeypatch):
    # The chunked broadcasting of the base class must agree with the
    # vectorised overrides, also when candidates are split into chunks:
    torch.manual_seed(0)
    scorer = make_scorers()[i]
    head, rel, tail, cand = random_inputs(scorer, B=5, N=11, device='cpu')
    monkeypatch.setattr(scorer_module, 'MAX_BROADCAST_NUMEL', 40)
    out = Scorer.score_tails(scorer, head, rel, cand)
    assert torch.allclose(out, scorer.score_tails(head, rel, cand), atol=1e-5)
    out = Scorer.score_heads(scorer, rel, tail, cand)
    assert torch.allclose(out, scorer.score_heads(rel, tail, cand), atol=1e-5)


def test_exact_values():
    # Hand-computed scores:
    head = torch.tensor([[3.0, 4.0]])
    rel = torch.tensor([[0.5, -1.0]])
    tail = torch.tensor([[0.0, 2.0]])

    # TransE, p=2: normalize(h) = (0.6, 0.8), normalize(t) = (0, 1):
    out = TransEScorer(p_norm=2.0)(head, rel, tail)
    assert torch.allclose(out, torch.tensor([-math.sqrt(1.1**2 + 1.2**2)]))
    # TransE, p=1: normalize(h) = (3/7, 4/7):
    out = TransEScorer(p_norm=1.0)(head, rel, tail)
    expected = -(abs(3 / 7 + 0.5) + abs(4 / 7 - 1.0 - 1.0))
    assert torch.allclose(out, torch.tensor([expected]))

    assert torch.allclose(DistMultScorer()(head, rel, tail),
                          torch.tensor([-8.0]))

    # ComplEx with h = 3 + 4i, r = 0.5 - i, t = 0 + 2i:
    # h * r * conj(t) = (5.5 - i) * (-2i) = -2 - 11i:
    out = ComplExScorer()(head, rel, tail)
    assert torch.allclose(out, torch.tensor([-2.0]))

    # RotatE: rotating h = 3 + 4i by pi / 2 gives -4 + 3i; |(-4 + 3i) - 2i|:
    out = RotatEScorer(margin=1.0)(head, torch.tensor([[math.pi / 2]]), tail)
    assert torch.allclose(out, torch.tensor([1.0 - math.sqrt(17.0)]))


def test_entity_and_relation_dims():
    dims = [(s.entity_dim(8), s.relation_dim(8)) for s in make_scorers()]
    assert dims == [(8, 8)] * 4 + [(16, 16), (16, 8), (HIDDEN, 4)]


def test_repr():
    assert str(TransEScorer(p_norm=2.0)) == 'TransEScorer(p_norm=2.0)'
    assert str(DistMultScorer()) == 'DistMultScorer()'
    assert str(ComplExScorer()) == 'ComplExScorer()'
    assert str(RotatEScorer(margin=9.0)) == 'RotatEScorer(margin=9.0)'
    assert str(TuckERScorer(8)) == 'TuckERScorer(8, relation_channels=8)'


def tucker_oracle(scorer, head, rel, cand):
    # The official TuckER computation, written out step by step:
    bn = dict(training=scorer.training, eps=1e-5, momentum=0.0)
    x = F.batch_norm(head, scorer.bn0.running_mean.clone(),
                     scorer.bn0.running_var.clone(), scorer.bn0.weight,
                     scorer.bn0.bias, **bn)
    w = torch.mm(rel, scorer.core.view(rel.size(1), -1))
    w = w.view(-1, head.size(1), head.size(1))
    x = torch.bmm(x.view(-1, 1, head.size(1)), w).view(-1, head.size(1))
    x = F.batch_norm(x, scorer.bn1.running_mean.clone(),
                     scorer.bn1.running_var.clone(), scorer.bn1.weight,
                     scorer.bn1.bias, **bn)
    return x @ cand.t()


@pytest.mark.parametrize('training', [False, True])
def test_tucker_matches_official_computation(training):
    torch.manual_seed(1)
    scorer = TuckERScorer(HIDDEN, 4, input_dropout=0.0, hidden_dropout1=0.0,
                          hidden_dropout2=0.0)
    warm_up_tucker(scorer, 'cpu')
    scorer.train(training)
    head, rel, _, cand = random_inputs(scorer, B=9, N=10, device='cpu')
    expected = tucker_oracle(scorer, head, rel, cand)
    assert torch.allclose(scorer.score_tails(head, rel, cand), expected,
                          atol=1e-5)


@pytest.mark.parametrize('p', [(0.5, 0, 0), (0, 0.5, 0), (0, 0, 0.5),
                               (0, 0, 0)])
def test_tucker_each_dropout_is_applied(p):
    torch.manual_seed(3)
    scorer = TuckERScorer(HIDDEN, 4, *p).train()
    head, rel, _, cand = random_inputs(scorer, B=9, N=10, device='cpu')
    same = torch.equal(scorer.score_tails(head, rel, cand),
                       scorer.score_tails(head, rel, cand))
    assert same == (sum(p) == 0)


def test_tucker_dropout_and_train_mode():
    torch.manual_seed(2)
    scorer = TuckERScorer(HIDDEN, 4)
    head, rel, _, cand = random_inputs(scorer, B=9, N=10, device='cpu')
    scorer.train()
    # Dropout is active in training mode:
    assert not torch.allclose(scorer.score_tails(head, rel, cand),
                              scorer.score_tails(head, rel, cand))
    with pytest.raises(RuntimeError, match="requires evaluation mode"):
        scorer.score_heads(rel, head, cand)
    scorer.eval()
    assert torch.equal(scorer.score_tails(head, rel, cand),
                       scorer.score_tails(head, rel, cand))


def test_tucker_reset_parameters():
    scorer = TuckERScorer(HIDDEN, 4)
    assert scorer.core.size() == (4, HIDDEN, HIDDEN)
    assert scorer.core.abs().max() <= 1.0
    assert scorer.core.std() > 0.4  # Uniform on [-1, 1] has std 0.577.
    with torch.no_grad():
        scorer.bn0.weight.fill_(3.0)
        scorer.core.fill_(5.0)
    scorer.reset_parameters()
    assert torch.equal(scorer.bn0.weight, torch.ones(HIDDEN))
    assert scorer.core.abs().max() <= 1.0
