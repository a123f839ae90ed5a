import itertools

import pytest
import torch

from pyg_mmkg.loader import TripleSet


def random_triples(num_nodes, num_relations, num_triples, seed=0):
    gen = torch.Generator().manual_seed(seed)
    h = torch.randint(0, num_nodes, (num_triples, ), generator=gen)
    r = torch.randint(0, num_relations, (num_triples, ), generator=gen)
    t = torch.randint(0, num_nodes, (num_triples, ), generator=gen)
    return h, r, t


def test_contains_matches_python_set():
    N, R = 7, 3
    h, r, t = random_triples(N, R, 60)
    known = set(zip(h.tolist(), r.tolist(), t.tolist()))
    triple_set = TripleSet(h, r, t, num_nodes=N, num_relations=R)
    assert len(triple_set) == len(known)

    grid = torch.tensor(list(itertools.product(range(N), range(R),
                                               range(N))))
    out = triple_set.contains(grid[:, 0], grid[:, 1], grid[:, 2])
    expected = torch.tensor([tuple(x) in known for x in grid.tolist()])
    assert torch.equal(out, expected)

    # Broadcasting keeps the input shape:
    out = triple_set.contains(h.view(-1, 1), r.view(-1, 1),
                              t.view(-1, 1).expand(-1, 4))
    assert out.shape == (60, 4) and bool(out.all())


def test_triples_roundtrip_and_counts():
    N, R = 6, 2
    h, r, t = random_triples(N, R, 40, seed=1)
    triple_set = TripleSet(h, r, t, num_nodes=N, num_relations=R)
    hh, rr, tt = triple_set.triples()
    assert sorted(set(zip(h.tolist(), r.tolist(), t.tolist()))) == list(
        zip(hh.tolist(), rr.tolist(), tt.tolist()))

    known = set(zip(h.tolist(), r.tolist(), t.tolist()))
    qh = torch.arange(N).repeat_interleave(R)
    qr = torch.arange(R).repeat(N)
    num_tails = triple_set.num_tails(qh, qr)
    num_heads = triple_set.num_heads(qr, qh)
    for i in range(N * R):
        a, b = int(qh[i]), int(qr[i])
        assert int(num_tails[i]) == sum((a, b, x) in known for x in range(N))
        assert int(num_heads[i]) == sum((x, b, a) in known for x in range(N))


def test_sample_complement_is_exact_and_uniform():
    N, R = 8, 1
    # (0, 0, ?) has known tails {1, 2, 5}; (3, 0, ?) has all 8 tails:
    h = torch.tensor([0, 0, 0] + [3] * N)
    t = torch.tensor([1, 2, 5] + list(range(N)))
    r = torch.zeros_like(h)
    triple_set = TripleSet(h, r, t, num_nodes=N, num_relations=R)

    gen = torch.Generator().manual_seed(0)
    num_samples = 6000
    tail, valid = triple_set.sample_tails(torch.zeros(num_samples).long(),
                                          torch.zeros(num_samples).long(),
                                          generator=gen)
    assert bool(valid.all())
    counts = torch.bincount(tail, minlength=N)
    assert counts[[1, 2, 5]].sum() == 0
    free = counts[[0, 3, 4, 6, 7]].double() / num_samples
    assert torch.allclose(free, torch.full_like(free, 0.2), atol=0.03)

    _, valid = triple_set.sample_tails(torch.tensor([3]), torch.tensor([0]))
    assert not bool(valid.any())

    # Heads of (?, 0, 1) are {0, 3}; every other head is valid:
    head, valid = triple_set.sample_heads(torch.zeros(500).long(),
                                          torch.ones(500).long(),
                                          generator=gen)
    assert bool(valid.all())
    assert set(head.tolist()) == {1, 2, 4, 5, 6, 7}


def test_empty_set():
    empty = torch.empty(0, dtype=torch.long)
    triple_set = TripleSet(empty, empty, empty, num_nodes=4, num_relations=2)
    assert len(triple_set) == 0
    assert not bool(triple_set.contains(torch.tensor([1]), torch.tensor([1]),
                                        torch.tensor([1])).any())
    tail, valid = triple_set.sample_tails(torch.tensor([0, 1]),
                                          torch.tensor([0, 1]))
    assert bool(valid.all()) and bool(((tail >= 0) & (tail < 4)).all())


def test_errors():
    with pytest.raises(ValueError, match="same number of elements"):
        TripleSet(torch.tensor([0]), torch.tensor([0, 1]), torch.tensor([0]))
    with pytest.raises(ValueError, match="int64 keys"):
        TripleSet(torch.tensor([0]), torch.tensor([0]), torch.tensor([0]),
                  num_nodes=2**31, num_relations=2)
