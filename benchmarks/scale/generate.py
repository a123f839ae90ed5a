r"""Synthetic knowledge graphs with the shape of Wikidata5M.

Wikidata5M (transductive) has 4,594,485 entities, 822 relations and
20,614,279 training triples: about 4.5 triples per entity, with power-law
entity degrees and a few relations holding most triples. The generator draws
heads and tails independently from a Zipf law over a random permutation of
the entities (exponent :obj:`alpha`) and relations from a Zipf law over the
relations, with inverse-CDF sampling (vectorised, O(T log N)); duplicate
triples are removed, then 0.1% of the triples (at most :obj:`max_eval`) go
to validation and test each.
"""
import argparse
from typing import Dict, Tuple

import torch

Triples = Tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def _zipf(n: int, size: int, alpha: float, g: torch.Generator,
          permute: bool = True) -> torch.Tensor:
    weight = torch.arange(1, n + 1, dtype=torch.float64).pow_(-alpha)
    cdf = weight.cumsum_(0)
    cdf /= cdf[-1].clone()
    u = torch.rand(size, generator=g, dtype=torch.float64)
    out = torch.searchsorted(cdf, u).clamp_(max=n - 1)
    if permute:  # Hubs at random ids, not at 0, 1, 2, ...
        out = torch.randperm(n, generator=g)[out]
    return out


def wikidata5m_like(num_entities: int, num_relations: int = 822,
                    triples_per_entity: float = 4.5, alpha: float = 0.8,
                    max_eval: int = 1000, seed: int = 0
                    ) -> Dict[str, Triples]:
    r"""Returns :obj:`{'train', 'val', 'test'}` id triples of a synthetic
    graph with Wikidata5M's shape.

    Args:
        num_entities (int): The number of entities :math:`N`.
        num_relations (int, optional): The number of relations.
            (default: :obj:`822`, as Wikidata5M)
        triples_per_entity (float, optional): Triples per entity before
            de-duplication. (default: :obj:`4.5`)
        alpha (float, optional): Zipf exponent of entity and relation
            frequencies. (default: :obj:`0.8`)
        max_eval (int, optional): At most this many validation and test
            triples each. (default: :obj:`1000`)
        seed (int, optional): Random seed. (default: :obj:`0`)
    """
    g = torch.Generator().manual_seed(seed)
    num = int(triples_per_entity * num_entities)
    h = _zipf(num_entities, num, alpha, g)
    t = _zipf(num_entities, num, alpha, g)
    r = _zipf(num_relations, num, 1.0, g, permute=False)
    key = (h * num_relations + r) * num_entities + t
    key = torch.unique(key)  # Sorted: shuffle before splitting.
    key = key[torch.randperm(key.numel(), generator=g)]
    t = key % num_entities
    hr = key // num_entities
    h, r = hr // num_relations, hr % num_relations
    n_eval = min(max_eval, max(1, key.numel() // 1000))
    a, b = key.numel() - 2 * n_eval, key.numel() - n_eval
    return {'train': (h[:a], r[:a], t[:a]), 'val': (h[a:b], r[a:b], t[a:b]),
            'test': (h[b:], r[b:], t[b:])}


def make_data(num_entities: int, **kwargs):
    r"""The graph of :func:`wikidata5m_like` as pyg-mmkg
    :class:`~torch_geometric.data.HeteroData` (entity names :obj:`Q<i>`).

    Args:
        num_entities (int): The number of entities.
        **kwargs (optional): Arguments of :func:`wikidata5m_like`.
    """
    from pyg_mmkg.data import make_kg_data
    splits = wikidata5m_like(num_entities, **kwargs)
    num_relations = kwargs.get('num_relations', 822)
    return make_kg_data([f'Q{i}' for i in range(num_entities)],
                        [f'P{i}' for i in range(num_relations)], splits)


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('num_entities', type=int)
    args = parser.parse_args()
    splits = wikidata5m_like(args.num_entities)
    h, r, t = splits['train']
    deg = torch.bincount(torch.cat([h, t]), minlength=args.num_entities)
    print(f'train triples {h.numel()} ({h.numel() / args.num_entities:.2f} '
          f'per entity), relations used {r.unique().numel()}, max degree '
          f'{int(deg.max())}, median degree {float(deg.median()):.0f}, '
          f'isolated {int((deg == 0).sum())}')
