r"""The negative sampler and the filtered evaluator share ONE known-triple
index type, checked against a brute-force Python set on random triples."""
import itertools

import pytest
import torch

from pyg_mmkg.evaluation import FilterIndex
from pyg_mmkg.loader import NegativeSampler, TripleSet
from pyg_mmkg.utils import TripleIndex

CLASSES = [TripleIndex, TripleSet, FilterIndex]


def random_triples(N, R, T, seed):
    gen = torch.Generator().manual_seed(seed)
    # Skewed heads and tails: some groups are full, many are absent.
    h = torch.randint(0, N, (T, ), generator=gen) // 2
    r = torch.randint(0, R, (T, ), generator=gen)
    t = torch.randint(0, N, (T, ), generator=gen)
    return h, r, t


def test_sampler_and_evaluator_share_one_index_type():
    assert issubclass(FilterIndex, TripleIndex)
    assert issubclass(TripleSet, TripleIndex)
    h, r, t = random_triples(9, 3, 40, seed=0)
    sampler = NegativeSampler(9, filter_index=(h, r, t), num_relations=3)
    assert type(sampler.filter_index) is TripleIndex
    sampler = NegativeSampler.from_triples(h, r, t, 9, filtered=True,
                                           num_relations=3)
    assert type(sampler.filter_index) is TripleIndex
    # An evaluation index is used by the sampler as it is, and vice versa:
    fi = FilterIndex(h, r, t, 9, 3)
    assert NegativeSampler(9, filter_index=fi).filter_index is fi
    a, b = TripleSet(h, r, t, 9, 3), FilterIndex(h, r, t, 9, 3)
    for name in TripleIndex._tensors[:6]:
        assert torch.equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('cls', CLASSES)
def test_answers_match_python_set(cls, seed):
    N, R = 13, 4
    h, r, t = random_triples(N, R, 150, seed)
    known = set(zip(h.tolist(), r.tolist(), t.tolist()))
    index = cls(h, r, t, num_nodes=N, num_relations=R)
    assert len(index) == index.num_triples == len(known)
    hh, rr, tt = index.triples()
    assert list(zip(hh.tolist(), rr.tolist(), tt.tolist())) == sorted(known)

    grid = torch.tensor(list(itertools.product(range(N), range(R),
                                               range(N))))
    out = index.contains(grid[:, 0], grid[:, 1], grid[:, 2])
    assert out.tolist() == [tuple(x) in known for x in grid.tolist()]
    # Out-of-range queries are never known:
    assert not index.contains(torch.tensor([0, -1, 0, 0]),
                              torch.tensor([R, 0, -1, 0]),
                              torch.tensor([0, 0, 0, N])).any()

    qa, qr = (x.reshape(-1) for x in torch.meshgrid(
        torch.arange(N), torch.arange(R), indexing='ij'))
    tails = {a: {c for (x, y, c) in known if (x, y) == a}
             for a in zip(qa.tolist(), qr.tolist())}
    heads = {a: {x for (x, y, c) in known if (c, y) == a}
             for a in zip(qa.tolist(), qr.tolist())}
    row, col = index.tails(qa, qr)
    assert sorted(zip(row.tolist(), col.tolist())) == sorted(
        (i, c) for i, a in enumerate(tails) for c in tails[a])
    row, col = index.heads(qr, qa)
    assert sorted(zip(row.tolist(), col.tolist())) == sorted(
        (i, x) for i, a in enumerate(heads) for x in heads[a])
    assert index.tail_mask(qa, qr).sum(1).tolist() == [
        len(v) for v in tails.values()]
    assert index.num_tails(qa, qr).tolist() == [len(v) for v in tails.values()]
    assert index.num_heads(qr, qa).tolist() == [len(v) for v in heads.values()]

    # Exact sampling from the complement, every query (with and without
    # known answers) 600 times; both sides mixed in one call:
    gen = torch.Generator().manual_seed(seed)
    k = 600
    anchor, rel = qa.repeat_interleave(k), qr.repeat_interleave(k)
    head_side = torch.arange(anchor.numel()) % 2 == 1
    base_t, lo_t, free_t = index.query_ranges('tail', anchor, rel)
    base_h, lo_h, free_h = index.query_ranges('head', anchor, rel)
    pick = lambda a, b: torch.where(head_side, b, a)  # noqa: E731
    out = index.draw_complement(head_side, pick(base_t, base_h),
                                pick(lo_t, lo_h), pick(free_t, free_h), gen)
    seen_t = {a: set() for a in tails}
    seen_h = {a: set() for a in heads}
    for a, y, e, side in zip(anchor.tolist(), rel.tolist(), out.tolist(),
                             head_side.tolist()):
        (seen_h if side else seen_t)[(a, y)].add(e)
    for a in tails:
        assert seen_t[a] == set(range(N)) - tails[a] or not (
            set(range(N)) - tails[a])
        assert seen_h[a] == set(range(N)) - heads[a] or not (
            set(range(N)) - heads[a])
    tail, valid = index.sample_tails(anchor, rel, generator=gen)
    assert valid.tolist() == [len(tails[a]) < N
                              for a in zip(anchor.tolist(), rel.tolist())]
    assert not index.contains(anchor, rel, tail)[valid].any()
    head, valid = index.sample_heads(rel, anchor, generator=gen)
    assert not index.contains(head, rel, anchor)[valid].any()


def test_filtered_sampler_with_a_billion_entities():
    # (h R + r) N + t keys would overflow int64 here; group positions do not.
    N, R = 10**9, 10**4
    h = torch.tensor([999_999_999, 5, 5, 7])
    r = torch.tensor([9_999, 0, 0, 3])
    t = torch.tensor([0, 7, 123_456_789, 5])
    with pytest.raises(ValueError, match='int64 keys'):
        TripleSet(h, r, t, N, R)  # The legacy bound is kept.
    index = FilterIndex(h, r, t, N, R)
    sampler = NegativeSampler(N, num_negatives=500, filter_index=index)
    gen = torch.Generator().manual_seed(0)
    neg_h, neg_t = sampler(h, r, t, generator=gen)
    known = set(zip(h.tolist(), r.tolist(), t.tolist()))
    rel = r.view(-1, 1).expand_as(neg_h)
    assert not known & set(zip(neg_h.flatten().tolist(),
                               rel.flatten().tolist(),
                               neg_t.flatten().tolist()))
    assert int(neg_h.min()) >= 0 and int(neg_h.max()) < N
    assert int(neg_t.min()) >= 0 and int(neg_t.max()) < N
