import pytest
import torch

from pyg_mmkg.loader import (
    NegativeSampler,
    TripleSet,
    bernoulli_head_probability,
)


def toy_triples():
    # Relation 0 is 1-to-N: head 0 has tails {1, 2, 3} -> tph=3, hpt=1.
    # Relation 1 is N-to-1: heads {1, 2} share tail 0 -> tph=1, hpt=2.
    # Relation 2 mixes: (4,2,5), (4,2,6), (7,2,5): 2 heads, 2 tails, 3
    # triples -> tph=3/2, hpt=3/2. A duplicate of (0,0,1) is counted once.
    # Relation 3 has no triple.
    h = torch.tensor([0, 0, 0, 0, 1, 2, 4, 4, 7])
    r = torch.tensor([0, 0, 0, 0, 1, 1, 2, 2, 2])
    t = torch.tensor([1, 1, 2, 3, 0, 0, 5, 6, 5])
    return h, r, t


def test_bernoulli_probability_by_hand():
    prob = bernoulli_head_probability(*toy_triples(), num_relations=4)
    expected = torch.tensor([3 / (3 + 1), 1 / (1 + 2), 0.5, 0.5],
                            dtype=torch.float64)
    assert torch.allclose(prob, expected)


def test_bernoulli_sampler_side_frequencies():
    h, r, t = toy_triples()
    sampler = NegativeSampler(10, num_negatives=4000, strategy='bernoulli',
                              train_triples=(h, r, t), num_relations=4)
    gen = torch.Generator().manual_seed(0)
    pos_h, pos_r, pos_t = torch.tensor([0, 1]), torch.tensor([0, 1]), \
        torch.tensor([1, 0])
    neg_head, neg_tail = sampler.sample(pos_h, pos_r, pos_t, generator=gen)
    head_corrupted = (neg_head != pos_h.view(-1, 1)).double().mean(dim=1)
    assert abs(float(head_corrupted[0]) - 0.75) < 0.03
    assert abs(float(head_corrupted[1]) - 1 / 3) < 0.03


@pytest.mark.parametrize('strategy', ['uniform', 'bernoulli'])
def test_exactly_one_side_is_corrupted(strategy):
    h, r, t = toy_triples()
    sampler = NegativeSampler.from_triples(h, r, t, num_nodes=10,
                                           num_negatives=64,
                                           strategy=strategy)
    neg_head, neg_tail = sampler.sample(h, r, t)
    assert neg_head.shape == neg_tail.shape == (h.numel(), 64)
    head_changed = neg_head != h.view(-1, 1)
    tail_changed = neg_tail != t.view(-1, 1)
    # Never the positive entity itself, so exactly one side differs:
    assert bool((head_changed ^ tail_changed).all())
    assert bool(((neg_head >= 0) & (neg_head < 10)).all())
    assert bool(((neg_tail >= 0) & (neg_tail < 10)).all())

    if strategy == 'uniform':
        frac = float(head_changed.double().mean())
        assert abs(frac - 0.5) < 0.06


def test_uniform_replacement_is_uniform():
    sampler = NegativeSampler(5, num_negatives=20000)
    gen = torch.Generator().manual_seed(1)
    neg_head, neg_tail = sampler.sample(torch.tensor([2]), torch.tensor([0]),
                                        torch.tensor([2]), generator=gen)
    other = torch.where(neg_head != 2, neg_head, neg_tail).view(-1)
    counts = torch.bincount(other, minlength=5).double() / other.numel()
    assert counts[2] == 0
    assert torch.allclose(counts[[0, 1, 3, 4]],
                          torch.full((4, ), 0.25, dtype=torch.float64),
                          atol=0.02)


@pytest.mark.parametrize('strategy', ['uniform', 'bernoulli'])
def test_filtered_never_returns_known_triple(strategy):
    # A dense graph: 60% of all possible triples are true.
    N, R = 6, 2
    gen = torch.Generator().manual_seed(0)
    grid = torch.cartesian_prod(torch.arange(N), torch.arange(R),
                                torch.arange(N))
    keep = torch.rand(grid.size(0), generator=gen) < 0.6
    h, r, t = grid[keep].t()
    sampler = NegativeSampler.from_triples(h, r, t, num_nodes=N,
                                           num_negatives=50,
                                           strategy=strategy, filtered=True)
    neg_head, neg_tail = sampler.sample(h, r, t, generator=gen)
    known = set(zip(h.tolist(), r.tolist(), t.tolist()))
    rel = r.view(-1, 1).expand_as(neg_head)
    sampled = set(zip(neg_head.flatten().tolist(), rel.flatten().tolist(),
                      neg_tail.flatten().tolist()))
    assert sampled.isdisjoint(known)
    head_changed = neg_head != h.view(-1, 1)
    tail_changed = neg_tail != t.view(-1, 1)
    assert bool((head_changed ^ tail_changed).all())


def test_filtered_switches_side_when_one_side_is_full():
    N = 4
    # Every tail of (0, 0, ?) is true, so negatives must corrupt the head:
    h = torch.tensor([0, 0, 0, 0])
    r = torch.tensor([0, 0, 0, 0])
    t = torch.arange(N)
    sampler = NegativeSampler(N, num_negatives=30,
                              filter_index=(h, r, t), num_relations=1)
    neg_head, neg_tail = sampler.sample(h[:1], r[:1], t[:1])
    assert bool((neg_tail == 0).all()) and bool((neg_head != 0).all())

    # If both sides are full, no negative exists:
    full = torch.cartesian_prod(torch.arange(2), torch.arange(1),
                                torch.arange(2))
    sampler = NegativeSampler(2, filter_index=tuple(full.t()))
    with pytest.raises(ValueError, match="every corruption"):
        sampler.sample(*full[:1].t())


def test_filter_index_accepts_triple_set():
    h, r, t = toy_triples()
    triple_set = TripleSet(h, r, t, num_nodes=10, num_relations=4)
    sampler = NegativeSampler(10, num_negatives=200, filter_index=triple_set)
    neg_head, neg_tail = sampler.sample(h, r, t)
    rel = r.view(-1, 1).expand_as(neg_head)
    assert not bool(triple_set.contains(neg_head, rel, neg_tail).any())
    with pytest.raises(ValueError, match="built for 10 entities"):
        NegativeSampler(11, filter_index=triple_set)


@pytest.mark.parametrize('filtered', [False, True])
def test_deterministic_given_generator(filtered):
    h, r, t = toy_triples()
    sampler = NegativeSampler.from_triples(h, r, t, num_nodes=10,
                                           num_negatives=8,
                                           strategy='bernoulli',
                                           filtered=filtered)
    out1 = sampler(h, r, t, generator=torch.Generator().manual_seed(3))
    out2 = sampler(h, r, t, generator=torch.Generator().manual_seed(3))
    out3 = sampler(h, r, t, generator=torch.Generator().manual_seed(4))
    assert torch.equal(out1[0], out2[0]) and torch.equal(out1[1], out2[1])
    assert not (torch.equal(out1[0], out3[0])
                and torch.equal(out1[1], out3[1]))


def test_errors():
    with pytest.raises(ValueError, match="Unknown negative sampling"):
        NegativeSampler(10, strategy='typed')
    with pytest.raises(ValueError, match="needs the training triples"):
        NegativeSampler(10, strategy='bernoulli')
    with pytest.raises(ValueError, match="at least two entities"):
        NegativeSampler(1)
    with pytest.raises(ValueError, match="'num_negatives' must be positive"):
        NegativeSampler(10, num_negatives=0)
