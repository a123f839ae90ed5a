import math

import pytest
import torch

from pyg_mmkg.evaluation import NaNScoreError, Ranks, compute_ranks
from pyg_mmkg.evaluation import rank_metrics


def oracle(scores, target, filtered=()):
    filtered = set(filtered)
    out = []
    for i, row in enumerate(scores.tolist()):
        true = row[target[i]]
        better = tied = 0
        for j, value in enumerate(row):
            if j == target[i] or (i, j) in filtered:
                continue
            better += value > true
            tied += value == true
        out.append((1 + better, 1 + better + tied))
    return out


def test_hand_example():
    scores = torch.tensor([[1., 3., 3., 2., 3.], [5., 0., 0., 0., 0.]])
    ranks = compute_ranks(scores, torch.tensor([1, 2]))
    assert ranks.optimistic.tolist() == [1, 2]
    assert ranks.pessimistic.tolist() == [3, 5]
    assert ranks.realistic.tolist() == [2.0, 3.5]
    # Filter two of the tied candidates of row 0 and the true answer itself
    # (which must stay), and the better candidate of row 1:
    row, col = torch.tensor([0, 0, 0, 1]), torch.tensor([1, 2, 4, 0])
    ranks = compute_ranks(scores, torch.tensor([1, 2]), row, col)
    assert ranks.optimistic.tolist() == [1, 1]
    assert ranks.pessimistic.tolist() == [1, 4]
    assert ranks.get('realistic').tolist() == [1.0, 2.5]
    assert ranks.get('optimistic').dtype == torch.float64
    with pytest.raises(ValueError, match='Unknown rank type'):
        ranks.get('mean')


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64,
                                   torch.float16, torch.bfloat16,
                                   torch.long])
def test_random_with_ties_vs_oracle(dtype):
    gen = torch.Generator().manual_seed(0)
    scores = torch.randint(-3, 4, (40, 17), generator=gen).to(dtype)
    target = torch.randint(17, (40, ), generator=gen)
    row = torch.randint(40, (120, ), generator=gen)
    col = torch.randint(17, (120, ), generator=gen)
    row = torch.cat([row, torch.arange(40)])  # The true answers too.
    col = torch.cat([col, target])
    copy = scores.clone()
    for filter_pairs in [None, (row, col)]:
        ranks = compute_ranks(scores, target, *(filter_pairs or ()))
        expected = oracle(scores.double(), target.tolist(),
                          [] if filter_pairs is None else zip(
                              row.tolist(), col.tolist()))
        assert ranks.optimistic.tolist() == [e[0] for e in expected]
        assert ranks.pessimistic.tolist() == [e[1] for e in expected]
        assert torch.equal(scores, copy)  # `inplace=False` keeps input.


def test_inplace_gives_same_ranks():
    gen = torch.Generator().manual_seed(1)
    scores = torch.randint(0, 3, (8, 11), generator=gen).float()
    target = torch.randint(11, (8, ), generator=gen)
    row, col = torch.tensor([0, 0, 3, 7]), torch.tensor([1, 2, 5, 0])
    ref = compute_ranks(scores, target, row, col)
    out = compute_ranks(scores.clone(), target, row, col, inplace=True)
    assert torch.equal(ref.optimistic, out.optimistic)
    assert torch.equal(ref.pessimistic, out.pessimistic)


def test_infinite_scores():
    inf = float('inf')
    scores = torch.tensor([
        [-inf, -inf, 0., -inf],  # True score -inf, ties with other -inf.
        [inf, 1., inf, 2.],  # True score +inf.
        [inf, 1., -inf, 2.],  # Finite true score, infinite others.
        [1e38, -1e38, 3e38, -3e38],  # Differences overflow to +-inf.
    ])
    target = torch.tensor([0, 0, 1, 1])
    ranks = compute_ranks(scores, target)
    expected = oracle(scores, target.tolist())
    assert ranks.optimistic.tolist() == [e[0] for e in expected]
    assert ranks.pessimistic.tolist() == [e[1] for e in expected]
    assert expected[0] == (2, 4)
    # Filtering a -inf candidate removes it from the ties:
    ranks = compute_ranks(scores, target, torch.tensor([0]),
                          torch.tensor([3]))
    assert ranks.pessimistic.tolist()[0] == 3


def test_subnormal_differences_are_not_ties():
    tiny = torch.finfo(torch.float32).tiny / 4  # A subnormal number.
    scores = torch.tensor([[0., tiny, -tiny, 0.]])
    ranks = compute_ranks(scores, torch.tensor([0]))
    assert ranks.optimistic.tolist() == [2]
    assert ranks.pessimistic.tolist() == [3]


def test_nan_raises():
    scores = torch.zeros(4, 6)
    scores[2, 3] = float('nan')
    with pytest.raises(NaNScoreError, match=r'NaN scores for 1 of 4 queries '
                       r'\(e\.g\., row 2\)') as info:
        compute_ranks(scores, torch.zeros(4, dtype=torch.long))
    assert info.value.rows.tolist() == [2]
    # Also when the NaN sits at a filtered position or is the true answer:
    with pytest.raises(NaNScoreError):
        compute_ranks(scores, torch.zeros(4, dtype=torch.long),
                      torch.tensor([2]), torch.tensor([3]))
    with pytest.raises(NaNScoreError):
        compute_ranks(scores, torch.full((4, ), 3, dtype=torch.long))
    # Rows holding both +inf and -inf (sum is NaN) are not NaN rows:
    scores = torch.tensor([[float('inf'), float('-inf'), 0.]])
    ranks = compute_ranks(scores, torch.tensor([2]))
    assert ranks.optimistic.tolist() == [2]


def test_shape_errors():
    with pytest.raises(ValueError, match='2-dimensional'):
        compute_ranks(torch.zeros(3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match='one entry per row'):
        compute_ranks(torch.zeros(3, 4), torch.zeros(2, dtype=torch.long))


def test_rank_metrics():
    rank = torch.tensor([1.0, 2.5, 4.0, 10.0, 11.0])
    out = rank_metrics(rank, ks=(1, 3, 10))
    assert out['mr'] == pytest.approx((1 + 2.5 + 4 + 10 + 11) / 5, abs=1e-12)
    assert out['mrr'] == pytest.approx(
        (1 + 1 / 2.5 + 1 / 4 + 1 / 10 + 1 / 11) / 5, abs=1e-12)
    assert out['hits@1'] == 0.2
    assert out['hits@3'] == 0.4
    assert out['hits@10'] == 0.8
    assert list(out) == ['mr', 'mrr', 'hits@1', 'hits@3', 'hits@10']
    empty = rank_metrics(torch.tensor([]), ks=(2, ))
    assert all(math.isnan(v) for v in empty.values())
    assert Ranks(torch.tensor([1, 2]), torch.tensor([3, 2])).realistic.tolist(
    ) == [2.0, 2.0]
