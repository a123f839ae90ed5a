import pytest
import torch
from torch_geometric.data import HeteroData

from pyg_mmkg.evaluation import FilterIndex


def random_triples(num_nodes=9, num_relations=3, num_edges=60, seed=0):
    gen = torch.Generator().manual_seed(seed)
    h = torch.randint(num_nodes, (num_edges, ), generator=gen)
    r = torch.randint(num_relations, (num_edges, ), generator=gen)
    t = torch.randint(num_nodes, (num_edges, ), generator=gen)
    # Exact duplicates and several answers per (h, r) and per (r, t):
    h = torch.cat([h, h[:10], h[10:20]])
    r = torch.cat([r, r[:10], r[10:20]])
    t = torch.cat([t, t[:10], torch.randint(num_nodes, (10, ),
                                            generator=gen)])
    return h, r, t


def as_set(h, r, t):
    return set(zip(h.tolist(), r.tolist(), t.tolist()))


def test_lookup_matches_python_sets():
    num_nodes, num_relations = 9, 3
    h, r, t = random_triples(num_nodes, num_relations)
    known = as_set(h, r, t)
    index = FilterIndex(h, r, t, num_nodes, num_relations)
    assert index.num_triples == len(known) < h.numel()
    assert str(index) == (f'FilterIndex(num_nodes=9, num_relations=3, '
                          f'num_triples={len(known)})')

    # All (h, r) pairs, including pairs without any known tail:
    qh = torch.arange(num_nodes).repeat_interleave(num_relations)
    qr = torch.arange(num_relations).repeat(num_nodes)
    row, col = index.tails(qh, qr)
    got = set(zip(row.tolist(), col.tolist()))
    assert len(got) == row.numel()  # No duplicate pairs.
    expected = {(i, c)
                for i, (a, b) in enumerate(zip(qh.tolist(), qr.tolist()))
                for c in range(num_nodes) if (a, b, c) in known}
    assert got == expected

    row, col = index.heads(qr, qh)  # Queries (?, r, t) with t = qh.
    got = set(zip(row.tolist(), col.tolist()))
    expected = {(i, c)
                for i, (b, a) in enumerate(zip(qr.tolist(), qh.tolist()))
                for c in range(num_nodes) if (c, b, a) in known}
    assert got == expected


def test_masks_and_contains():
    num_nodes, num_relations = 9, 3
    h, r, t = random_triples(num_nodes, num_relations, seed=1)
    known = as_set(h, r, t)
    index = FilterIndex(h, r, t, num_nodes, num_relations)

    qh, qr = torch.tensor([0, 3, 8, 3]), torch.tensor([2, 1, 0, 1])
    mask = index.tail_mask(qh, qr)
    assert mask.tolist() == [[(a, b, c) in known for c in range(num_nodes)]
                             for a, b in zip(qh.tolist(), qr.tolist())]
    mask = index.head_mask(qr, qh)
    assert mask.tolist() == [[(c, b, a) in known for c in range(num_nodes)]
                             for a, b in zip(qh.tolist(), qr.tolist())]

    gen = torch.Generator().manual_seed(5)
    ch = torch.randint(num_nodes, (500, ), generator=gen)
    cr = torch.randint(num_relations, (500, ), generator=gen)
    ct = torch.randint(num_nodes, (500, ), generator=gen)
    ch, cr, ct = torch.cat([ch, h]), torch.cat([cr, r]), torch.cat([ct, t])
    out = index.contains(ch, cr, ct)
    assert out.tolist() == [x in known for x in zip(ch.tolist(), cr.tolist(),
                                                    ct.tolist())]
    assert out[-h.numel():].all()
    # A tail outside [0, num_nodes) must not alias the next (h, r) group:
    h0, r0 = int(h[0]), int(r[0])
    bad = torch.tensor([num_nodes + c for c in range(num_nodes)])
    assert not index.contains(torch.full_like(bad, h0),
                              torch.full_like(bad, r0), bad).any()


def test_empty_queries_and_empty_index():
    h, r, t = random_triples()
    index = FilterIndex(h, r, t, 9, 3)
    row, col = index.tails(torch.tensor([], dtype=torch.long),
                           torch.tensor([], dtype=torch.long))
    assert row.numel() == col.numel() == 0

    empty = torch.tensor([], dtype=torch.long)
    index = FilterIndex(empty, empty, empty, 5, 2)
    assert index.num_triples == 0
    row, col = index.heads(torch.tensor([0, 1]), torch.tensor([3, 4]))
    assert row.numel() == col.numel() == 0
    assert not index.contains(torch.tensor([0]), torch.tensor([0]),
                              torch.tensor([0])).any()
    assert not index.tail_mask(torch.tensor([0]), torch.tensor([1])).any()


def test_memory_is_linear_in_triples():
    # 10^9 entities x 10^4 relations: a dense structure could not exist.
    h = torch.tensor([999_999_999, 5, 5, 5])
    r = torch.tensor([9_999, 0, 0, 0])
    t = torch.tensor([0, 7, 123_456_789, 7])
    index = FilterIndex(h, r, t, 10**9, 10**4)
    sizes = [index.tail_keys, index.tail_ptr, index.tail_col,
             index.head_keys, index.head_ptr, index.head_col]
    assert sum(x.numel() for x in sizes) <= 6 * 4 + 2
    row, col = index.tails(torch.tensor([5, 999_999_999, 6]),
                           torch.tensor([0, 9_999, 0]))
    assert row.tolist() == [0, 0, 1]
    assert col.tolist() == [7, 123_456_789, 0]
    assert index.contains(torch.tensor([5, 5]), torch.tensor([0, 0]),
                          torch.tensor([123_456_789, 8])).tolist() == [
                              True, False
                          ]


def test_from_triples_and_from_data():
    h, r, t = random_triples(seed=2)
    splits = [(h[:30], r[:30], t[:30]), (h[30:50], r[30:50], t[30:50]),
              (h[50:], r[50:], t[50:])]
    index = FilterIndex.from_triples(splits, 9, 3)
    ref = FilterIndex(h, r, t, 9, 3)
    for name in ['tail_keys', 'tail_ptr', 'tail_col', 'head_keys',
                 'head_ptr', 'head_col']:
        assert torch.equal(getattr(index, name), getattr(ref, name))

    data = HeteroData()
    data['entity'].num_nodes = 9
    data['relation'].num_nodes = 3
    store = data['entity', 'to', 'entity']
    store.edge_index = torch.stack([h, t])
    store.edge_type = r
    index = FilterIndex.from_data(data)
    assert index.num_nodes == 9 and index.num_relations == 3
    assert torch.equal(index.tail_col, ref.tail_col)
    assert torch.equal(index.head_col, ref.head_col)


def test_to_device():
    h, r, t = random_triples()
    index = FilterIndex(h, r, t, 9, 3)
    assert index.to('cpu') is index
    assert index.device == torch.device('cpu')
    if torch.cuda.is_available():
        moved = index.to('cuda')
        assert moved is not index and index.device.type == 'cpu'
        row, col = moved.tails(h.cuda(), r.cuda())
        ref_row, ref_col = index.tails(h, r)
        assert torch.equal(row.cpu(), ref_row)
        assert torch.equal(col.cpu(), ref_col)


def test_invalid_input():
    h, r, t = random_triples()
    with pytest.raises(ValueError, match='same number of elements'):
        FilterIndex(h, r[:-1], t, 9, 3)
    with pytest.raises(ValueError, match=r"'rel_type' contains indices"):
        FilterIndex(h, r, t, 9, 2)
    with pytest.raises(ValueError, match=r"'tail_index' contains indices"):
        FilterIndex(h, r, t - 1, 9, 3)
