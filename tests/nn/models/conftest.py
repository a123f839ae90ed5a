import pytest
import torch

from pyg_mmkg.data import make_kg_data
from mm_testing import train_one_to_n  # noqa: F401


def make_mm_data(num_nodes: int = 24, num_relations: int = 3,
                 num_triples: int = 120, seed: int = 0):
    r"""A small random multimodal KG: text for most entities, up to two
    images for some, and entities 0 and 1 missing text and images."""
    gen = torch.Generator().manual_seed(seed)
    h = torch.randint(0, num_nodes, (num_triples, ), generator=gen)
    r = torch.randint(0, num_relations, (num_triples, ), generator=gen)
    t = torch.randint(0, num_nodes, (num_triples, ), generator=gen)
    a, b = int(0.7 * num_triples), int(0.85 * num_triples)
    data = make_kg_data([f'e{i}' for i in range(num_nodes)],
                        [f'r{i}' for i in range(num_relations)], {
                            'train': (h[:a], r[:a], t[:a]),
                            'val': (h[a:b], r[a:b], t[a:b]),
                            'test': (h[b:], r[b:], t[b:]),
                        },
                        # Random triples: splits may share a few; these
                        # tests check shapes and gradients, not ranking.
                        allow_split_overlap=True)
    store = data['entity']
    store.x_text = torch.randn(num_nodes, 8, generator=gen)
    store.has_text = torch.rand(num_nodes, generator=gen) > 0.2
    store.x_image = torch.randn(num_nodes, 2, 6, generator=gen)
    store.image_mask = torch.rand(num_nodes, 2, generator=gen) > 0.3
    store.image_mask[0:2] = False
    store.has_text[0:2] = False
    store.has_text[2:4] = True
    store.image_mask[2:4, 0] = True
    store.has_image = store.image_mask.any(1)
    # Numeric literals: 3 attributes, some values missing, entities 0 and
    # 1 without any.
    store.x_numeric = 100 * torch.randn(num_nodes, 3, generator=gen)
    store.numeric_mask = torch.rand(num_nodes, 3, generator=gen) > 0.4
    store.numeric_mask[0:2] = False
    store.numeric_mask[2:4, 0] = True
    return data


@pytest.fixture
def mm_data():
    return make_mm_data()


def make_cluster_data(num_clusters: int = 6, size: int = 10, dim: int = 16,
                      seed: int = 0):
    r"""A KG whose answers follow the text features: entities form clusters
    with nearby features, relation :math:`r` links cluster :math:`c` to
    cluster :math:`c + r + 1`. The first entity of every cluster occurs in
    no training triple (all its triples are test triples)."""
    gen = torch.Generator().manual_seed(seed)
    N = num_clusters * size
    cluster = torch.arange(N) // size
    centre = 3 * torch.randn(num_clusters, dim, generator=gen)
    x = centre[cluster] + 0.3 * torch.randn(N, dim, generator=gen)
    heads, rels, tails = [], [], []
    for r in range(2):
        h = torch.arange(N).repeat_interleave(3)
        target = (cluster[h] + r + 1) % num_clusters
        t = target * size + torch.randint(0, size, (h.numel(), ),
                                          generator=gen)
        heads.append(h)
        rels.append(torch.full_like(h, r))
        tails.append(t)
    h, r, t = torch.cat(heads), torch.cat(rels), torch.cat(tails)
    unseen = torch.zeros(N, dtype=torch.bool)
    unseen[torch.arange(num_clusters) * size] = True
    test = unseen[h] | unseen[t]
    data = make_kg_data([f'e{i}' for i in range(N)], ['r0', 'r1'], {
        'train': (h[~test], r[~test], t[~test]),
        'test': (h[test], r[test], t[test]),
    })
    data['entity'].x_text = x
    data['entity'].has_text = torch.ones(N, dtype=torch.bool)
    return data


@pytest.fixture
def cluster_data():
    return make_cluster_data()


@pytest.fixture(autouse=True)
def _one_thread():
    r"""These tiny models run fastest on one thread (the test machine's
    cores are shared); the previous setting is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
