r"""Helpers shared by the trainer tests (a uniquely named module: several
`conftest` modules exist, so tests must not import from `conftest`)."""
import torch

from pyg_mmkg.data import make_kg_data

NUM_NODES = 40
NUM_RELATIONS = 3


def synthetic_kg(num_nodes: int = NUM_NODES, seed: int = 0):
    r"""A tiny learnable KG: relation 0 maps e to e+1, relation 1 (its
    inverse) to e-1, relation 2 (a copy of 0) to e+1 (mod N); triples split
    80/10/10 at random."""
    g = torch.Generator().manual_seed(seed)
    ent = torch.arange(num_nodes)
    h = ent.repeat(NUM_RELATIONS)
    r = torch.arange(NUM_RELATIONS).repeat_interleave(num_nodes)
    t = torch.cat([(ent + 1) % num_nodes, (ent - 1) % num_nodes,
                   (ent + 1) % num_nodes])
    perm = torch.randperm(h.numel(), generator=g)
    h, r, t = h[perm], r[perm], t[perm]
    a, b = int(0.8 * h.numel()), int(0.9 * h.numel())
    splits = {
        'train': (h[:a], r[:a], t[:a]),
        'val': (h[a:b], r[a:b], t[a:b]),
        'test': (h[b:], r[b:], t[b:]),
    }
    return make_kg_data([f'e{i}' for i in range(num_nodes)],
                        [f'r{i}' for i in range(NUM_RELATIONS)], splits)
