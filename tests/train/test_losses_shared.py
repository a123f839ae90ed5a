"""The shared ComplEx N3 and weighted 1-N cross-entropy used by MoSE, RSME
and OTKGE, against their definitions written out here."""
import torch

from pyg_mmkg.train.losses import complex_n3_regularizer, one_to_n_ce_loss


def test_complex_n3_is_the_weighted_sum_of_cubed_moduli():
    g = torch.Generator().manual_seed(0)
    factors = [torch.randn(5, 8, generator=g) for _ in range(3)]
    expected = sum(
        torch.complex(f[:, :4], f[:, 4:]).abs().pow(3).sum()
        for f in factors) * 0.01 / 5
    assert torch.allclose(complex_n3_regularizer(factors, 0.01), expected)


def test_complex_n3_gradient_is_finite_at_zero():
    x = torch.zeros(2, 6, requires_grad=True)
    complex_n3_regularizer([x]).backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


def test_weighted_one_to_n_ce_matches_its_definition():
    g = torch.Generator().manual_seed(1)
    scores = torch.randn(4, 6, generator=g)
    weight = torch.rand(6, generator=g) + 0.1
    t = torch.tensor([0, 3, 5, 3])
    logp = scores.log_softmax(-1)
    # Index targets: the weighted mean -sum_b w_t log p_bt / sum_b w_t.
    expected = -(weight[t] * logp[torch.arange(4), t]).sum() / weight[t].sum()
    assert torch.allclose(one_to_n_ce_loss(scores, t, weight=weight),
                          expected)
    # Multi-hot targets are normalised per row, then weighted per entity.
    y = torch.zeros(4, 6)
    y[0, [0, 1]] = 1
    y[1, 2] = y[2, [3, 4, 5]] = y[3, 0] = 1
    q = y / y.sum(-1, keepdim=True)
    expected = -(q * weight * logp).sum() / 4
    assert torch.allclose(one_to_n_ce_loss(scores, y, weight=weight),
                          expected)
