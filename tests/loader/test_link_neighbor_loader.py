import pytest
import torch
from torch_geometric.testing import onlyNeighborSampler

from pyg_mmkg.loader import link_neighbor_loader


def train_triples(N=30, R=4, E=120, seed=0):
    gen = torch.Generator().manual_seed(seed)
    h = torch.randint(0, N, (E, ), generator=gen)
    r = torch.randint(0, R, (E, ), generator=gen)
    t = torch.randint(0, N, (E, ), generator=gen)
    return h, r, t


@onlyNeighborSampler
@pytest.mark.parametrize('reciprocal', [False, True])
def test_batches_carry_relation_ids(reciprocal):
    N, R = 30, 4
    h, r, t = train_triples(N, R)
    loader = link_neighbor_loader(h, r, t, N, R, num_neighbors=[4, 4],
                                  num_negatives=3, batch_size=16,
                                  shuffle=True, reciprocal=reciprocal)
    seed_h, seed_r, seed_t = h, r, t
    if reciprocal:
        seed_h, seed_r, seed_t = (torch.cat([h, t]), torch.cat([r, r + R]),
                                  torch.cat([t, h]))
    train = set(zip(h.tolist(), r.tolist(), t.tolist()))
    train |= {(tail, rel + R, head) for head, rel, tail in train}

    num_seen = 0
    for batch in loader:
        B = batch.input_id.numel()
        num_seen += B
        assert batch.dst_neg_index.shape == (B, 3)
        head = batch.n_id[batch.src_index]
        tail = batch.n_id[batch.dst_pos_index]
        assert torch.equal(batch.rel_type, seed_r[batch.input_id])
        assert torch.equal(head, seed_h[batch.input_id])
        assert torch.equal(tail, seed_t[batch.input_id])
        for a, b, c in zip(head.tolist(), batch.rel_type.tolist(),
                           tail.tolist()):
            assert (a, b, c) in train
        # Every message passing edge is a training edge or its inverse:
        src = batch.n_id[batch.edge_index[0]]
        dst = batch.n_id[batch.edge_index[1]]
        for a, b, c in zip(src.tolist(), batch.edge_type.tolist(),
                           dst.tolist()):
            assert (a, b, c) in train
    assert num_seen == seed_h.numel()


@onlyNeighborSampler
def test_exclude_seed_edges():
    N, R = 30, 4
    h, r, t = train_triples(N, R)
    E = h.numel()
    loader = link_neighbor_loader(h, r, t, N, R, num_neighbors=[-1],
                                  batch_size=8, exclude_seed_edges=True)
    for batch in loader:
        seeds = batch.input_id
        assert not bool(torch.isin(batch.e_id, seeds).any())
        assert not bool(torch.isin(batch.e_id, seeds + E).any())
        assert batch.edge_index.size(1) == batch.edge_type.numel()

    # Without exclusion, a full 1-hop neighbourhood includes seed edges:
    loader = link_neighbor_loader(h, r, t, N, R, num_neighbors=[-1],
                                  batch_size=8)
    batch = next(iter(loader))
    assert bool(torch.isin(batch.e_id % E, batch.input_id).any())


def test_edge_label_is_rejected():
    h, r, t = train_triples()
    with pytest.raises(ValueError, match="'edge_label' cannot be used"):
        link_neighbor_loader(h, r, t, 30, 4, num_neighbors=[2],
                             edge_label=torch.ones(h.numel()))
