import math

import pytest
import torch

from pyg_mmkg.train.losses import (
    bce_loss,
    complex_modulus,
    l2_regularizer,
    margin_ranking_loss,
    n3_regularizer,
    one_to_n_bce_loss,
    one_to_n_ce_loss,
    self_adversarial_loss,
    softplus_loss,
)

POS = torch.tensor([2.0, -1.0])
NEG = torch.tensor([[1.5, 3.0, -2.0], [0.0, -4.0, 0.5]])


def softplus(x):
    return math.log1p(math.exp(x))


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_margin_ranking_loss_by_hand():
    # max(0, 1 - pos + neg) for every (positive, negative) pair:
    terms = [[0.5, 2.0, 0.0], [2.0, 0.0, 2.5]]
    out = margin_ranking_loss(POS, NEG, margin=1.0)
    assert math.isclose(float(out), sum(map(sum, terms)) / 6, rel_tol=1e-6)
    out = margin_ranking_loss(POS, NEG, margin=1.0, reduction='none')
    assert torch.allclose(out, torch.tensor(terms))
    assert math.isclose(float(margin_ranking_loss(POS, NEG, reduction='sum')),
                        7.0, rel_tol=1e-6)
    # A [B] tensor of negatives means k = 1:
    out = margin_ranking_loss(POS, NEG[:, 0], margin=2.0)
    assert math.isclose(float(out), (1.5 + 3.0) / 2, rel_tol=1e-6)


def test_softplus_and_bce_loss_by_hand():
    terms = [softplus(-2.0), softplus(1.0)]
    terms += [softplus(x) for x in NEG.flatten().tolist()]
    expected = sum(terms) / len(terms)
    assert math.isclose(float(softplus_loss(POS, NEG)), expected,
                        rel_tol=1e-6)
    assert math.isclose(float(bce_loss(POS, NEG)), expected, rel_tol=1e-6)
    assert softplus_loss(POS, NEG, reduction='none').shape == (8, )

    # Label smoothing 0.2: positive labels 0.9, negative labels 0.1.
    def bce(s, y):
        return -(y * math.log(sigmoid(s)) + (1 - y) * math.log(1 - sigmoid(s)))

    terms = [bce(x, 0.9) for x in POS.tolist()]
    terms += [bce(x, 0.1) for x in NEG.flatten().tolist()]
    out = bce_loss(POS, NEG, label_smoothing=0.2)
    assert math.isclose(float(out), sum(terms) / len(terms), rel_tol=1e-5)


def test_self_adversarial_loss_by_hand():
    gamma, alpha = 1.5, 0.7
    total = 0.0
    for i in range(2):
        neg = NEG[i].tolist()
        z = [math.exp(alpha * x) for x in neg]
        p = [w / sum(z) for w in z]
        term = -math.log(sigmoid(gamma + float(POS[i])))
        term -= sum(pj * math.log(sigmoid(-gamma - x))
                    for pj, x in zip(p, neg))
        total += term / 2
    out = self_adversarial_loss(POS, NEG, margin=gamma, temperature=alpha)
    assert math.isclose(float(out), total / 2, rel_tol=1e-6)

    # Temperature 0: uniform weights 1/k.
    out = self_adversarial_loss(POS, NEG, temperature=0.0, reduction='none')
    expected = [
        0.5 * (-math.log(sigmoid(float(POS[i]))) -
               sum(math.log(sigmoid(-x)) for x in NEG[i].tolist()) / 3)
        for i in range(2)
    ]
    assert torch.allclose(out, torch.tensor(expected))


def test_self_adversarial_weights_are_detached():
    neg = NEG.clone().requires_grad_()
    self_adversarial_loss(POS, neg, temperature=1.0).backward()
    # With constant weights p: d/ds [-p log sigmoid(-s)] = p * sigmoid(s),
    # scaled by 1 / (2B):
    p = torch.softmax(NEG, dim=-1)
    expected = p * torch.sigmoid(NEG) / 4
    assert torch.allclose(neg.grad, expected)


def test_one_to_n_bce_loss():
    scores = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    targets = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])

    def bce(s, y):
        return -(y * math.log(sigmoid(s)) + (1 - y) * math.log(1 - sigmoid(s)))

    expected = sum(
        bce(s, y)
        for s, y in zip(scores.flatten().tolist(),
                        targets.flatten().tolist())) / 6
    assert math.isclose(float(one_to_n_bce_loss(scores, targets)), expected,
                        rel_tol=1e-6)

    eps = 0.3
    smoothed = (1 - eps) * targets + eps / 3
    expected = sum(
        bce(s, y)
        for s, y in zip(scores.flatten().tolist(),
                        smoothed.flatten().tolist())) / 6
    out = one_to_n_bce_loss(scores, targets, label_smoothing=eps)
    assert math.isclose(float(out), expected, rel_tol=1e-6)
    with pytest.raises(ValueError, match="must have the same shape"):
        one_to_n_bce_loss(scores, targets[:, :2])


def test_one_to_n_ce_loss():
    scores = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    log_p = torch.log_softmax(scores, dim=-1)

    # Index targets:
    out = one_to_n_ce_loss(scores, torch.tensor([2, 1]))
    expected = -(log_p[0, 2] + log_p[1, 1]) / 2
    assert torch.allclose(out, expected)

    # Index targets with label smoothing eps: q = (1-eps) onehot + eps/N.
    eps = 0.2
    q = torch.full((2, 3), eps / 3)
    q[0, 2] += 1 - eps
    q[1, 1] += 1 - eps
    out = one_to_n_ce_loss(scores, torch.tensor([2, 1]), label_smoothing=eps)
    assert torch.allclose(out, -(q * log_p).sum() / 2)

    # Multi-hot targets are normalised per row:
    multi = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    expected = -(0.5 * log_p[0, 0] + 0.5 * log_p[0, 2] + log_p[1, 1]) / 2
    assert torch.allclose(one_to_n_ce_loss(scores, multi), expected)
    q = (1 - eps) * multi / multi.sum(1, keepdim=True) + eps / 3
    out = one_to_n_ce_loss(scores, multi, label_smoothing=eps)
    assert torch.allclose(out, -(q * log_p).sum() / 2)


def test_regularizers_by_hand():
    a = torch.tensor([[1.0, -2.0], [0.5, 0.0]])
    b = torch.tensor([[-1.0, 1.0], [3.0, 1.0]])
    n3 = (1 + 8 + 0.125 + 0) + (1 + 1 + 27 + 1)
    assert math.isclose(float(n3_regularizer([a, b], weight=0.1)),
                        0.1 * n3 / 2, rel_tol=1e-6)
    l2 = (1 + 4 + 0.25) + (1 + 1 + 9 + 1)
    assert math.isclose(float(l2_regularizer([a, b], weight=2.0)),
                        2.0 * l2 / 2, rel_tol=1e-6)

    z = torch.tensor([[3.0, 0.0, 4.0, 1.0]])  # [re | im] = (3+4i, 0+1i)
    assert torch.allclose(complex_modulus(z), torch.tensor([[5.0, 1.0]]))


def test_gradients_flow():
    pos = POS.clone().requires_grad_()
    neg = NEG.clone().requires_grad_()
    loss = (margin_ranking_loss(pos, neg) + softplus_loss(pos, neg) +
            bce_loss(pos, neg) + self_adversarial_loss(pos, neg))
    loss.backward()
    assert bool((pos.grad != 0).all())
    assert bool((neg.grad != 0).any())

    scores = torch.randn(3, 5, requires_grad=True)
    targets = torch.zeros(3, 5)
    targets[:, 0] = 1
    (one_to_n_bce_loss(scores, targets) +
     one_to_n_ce_loss(scores, targets)).backward()
    assert bool((scores.grad != 0).all())


def test_unknown_reduction():
    with pytest.raises(ValueError, match="Unknown reduction 'avg'"):
        margin_ranking_loss(POS, NEG, reduction='avg')


def test_complex_modulus_zero_has_finite_gradient():
    from pyg_mmkg.train.losses import complex_modulus, n3_regularizer
    x = torch.tensor([[0.0, 3.0, 0.0, 4.0]], requires_grad=True)
    mod = complex_modulus(x)
    assert mod.tolist() == [[0.0, 5.0]]
    n3_regularizer([mod]).backward()
    assert torch.isfinite(x.grad).all()
    assert x.grad[0, 0] == 0 and x.grad[0, 2] == 0
