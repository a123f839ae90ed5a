import pytest
import torch

from pyg_mmkg.loader import NegativeSampler, TripleBatch, TripleLoader


def make_triples(num_triples=103):
    h = torch.arange(num_triples)
    r = torch.arange(num_triples) % 5
    t = (torch.arange(num_triples) * 7 + 3) % num_triples
    return h, r, t


def test_epoch_covers_every_triple_once():
    h, r, t = make_triples()
    loader = TripleLoader(h, r, t, batch_size=10, shuffle=True, seed=0)
    assert len(loader) == 11
    batches = list(loader)
    assert [b.head_index.numel() for b in batches] == [10] * 10 + [3]
    heads = torch.cat([b.head_index for b in batches])
    assert torch.equal(heads.sort().values, h)
    assert not torch.equal(heads, h)  # Shuffled.
    # The three tensors stay aligned:
    rels = torch.cat([b.rel_type for b in batches])
    tails = torch.cat([b.tail_index for b in batches])
    assert torch.equal(rels, r[heads]) and torch.equal(tails, t[heads])
    assert batches[0].neg_head is None and batches[0].neg_tail is None


def test_no_shuffle_and_drop_last():
    h, r, t = make_triples()
    loader = TripleLoader(h, r, t, batch_size=10, drop_last=True)
    assert len(loader) == 10
    heads = torch.cat([b.head_index for b in loader])
    assert torch.equal(heads, h[:100])


def test_deterministic_given_seed():
    h, r, t = make_triples()
    sampler = NegativeSampler.from_triples(h, r, t, num_nodes=103,
                                           num_negatives=4, filtered=True)

    def run(seed):
        loader = TripleLoader(h, r, t, batch_size=16, shuffle=True,
                              negative_sampler=sampler, seed=seed)
        return [list(b) for epoch in range(2) for b in loader]

    out1, out2, out3 = run(0), run(0), run(1)
    for b1, b2 in zip(out1, out2):
        for x1, x2 in zip(b1, b2):
            assert torch.equal(x1, x2)
    assert not torch.equal(out1[0][0], out3[0][0])
    # Two epochs of the same loader differ:
    num_batches = len(out1) // 2
    assert not torch.equal(out1[0][0], out1[num_batches][0])


def test_batches_carry_negatives():
    h, r, t = make_triples()
    sampler = NegativeSampler(103, num_negatives=6)
    loader = TripleLoader(h, r, t, batch_size=32, shuffle=True,
                          negative_sampler=sampler,
                          generator=torch.Generator().manual_seed(0))
    for batch in loader:
        assert isinstance(batch, TripleBatch)
        B = batch.head_index.numel()
        assert batch.neg_head.shape == batch.neg_tail.shape == (B, 6)
        same_head = batch.neg_head == batch.head_index.view(-1, 1)
        same_tail = batch.neg_tail == batch.tail_index.view(-1, 1)
        assert bool((same_head ^ same_tail).all())
    moved = batch.to('cpu')
    assert torch.equal(moved.neg_head, batch.neg_head)


def test_errors():
    h, r, t = make_triples()
    with pytest.raises(ValueError, match="same number of elements"):
        TripleLoader(h, r[:-1], t)
    with pytest.raises(ValueError, match="'batch_size' must be positive"):
        TripleLoader(h, r, t, batch_size=0)
