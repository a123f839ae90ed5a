r"""Build time, memory and lookups per second of the known-triple indexes
(:class:`pyg_mmkg.loader.TripleSet` for negative filtering and
:class:`pyg_mmkg.evaluation.FilterIndex` for filtered ranking) on
FB15k-237 (train + valid + test). One thread; times are process CPU
time (best of several), so other load on a shared machine matters less.

Usage (from the repository root)::

    python benchmarks/triple_index/bench_triple_index.py [--data DIR] \
        [--out benchmarks/results/triple_index.json] [--label after]

Memory is the total size of the tensors the index holds after every use
(lazy caches included), in MiB.
"""
import argparse
import json
import os.path as osp
import sys
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _paths import shared_data  # noqa: E402


def tensor_mib(obj) -> float:
    seen, total = set(), 0
    for value in vars(obj).values():
        if isinstance(value, torch.Tensor) and id(value) not in seen:
            seen.add(id(value))
            total += value.numel() * value.element_size()
    return total / 2**20


def best(fn, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', default=None)
    parser.add_argument('--out', default=None)
    parser.add_argument('--label', default='run')
    parser.add_argument('--queries', type=int, default=200_000)
    args = parser.parse_args()
    torch.set_num_threads(1)

    from pyg_mmkg.data import (num_entities, num_relations, read_kg_folder,
                               triples)
    from pyg_mmkg.evaluation import FilterIndex
    from pyg_mmkg.loader import TripleSet

    data = read_kg_folder(shared_data('FB15k-237', args.data))
    N, R = num_entities(data), num_relations(data)
    splits = [triples(data, s) for s in ('train', 'val', 'test')]
    h, r, t = (torch.cat(x) for x in zip(*splits))
    gen = torch.Generator().manual_seed(0)
    Q = args.queries
    idx = torch.randint(0, h.numel(), (Q, ), generator=gen)
    qh, qr, qt = h[idx], r[idx], t[idx]
    rand_t = torch.randint(0, N, (Q, ), generator=gen)
    res = {'label': args.label, 'num_nodes': N, 'num_relations': R,
           'num_triples': h.numel(), 'queries': Q}

    for name, cls, kwargs in [('TripleSet', TripleSet,
                               dict(num_nodes=N, num_relations=R)),
                              ('FilterIndex', FilterIndex,
                               dict(num_nodes=N, num_relations=R))]:
        build = best(lambda: cls(h, r, t, **kwargs), repeat=3)
        index = cls(h, r, t, **kwargs)
        row = {'build_s': build, 'mib_built': tensor_mib(index)}
        if hasattr(index, 'sample_tails'):
            # Build plus the first draw (which builds any lazy cache):
            row['build_and_first_sample_s'] = best(lambda: cls(
                h, r, t, **kwargs).sample_tails(qh[:1], qr[:1]), repeat=3)
        if hasattr(index, 'sample_tails'):
            row['sample_per_s'] = Q / best(
                lambda: index.sample_tails(qh, qr, generator=gen))
            row['mib_after_sampling'] = tensor_mib(index)
        row['contains_per_s'] = Q / best(
            lambda: index.contains(qh, qr, rand_t))
        if hasattr(index, 'tails'):
            # Filtered ranking: batches of 1000 queries, both sides.
            def rank_lookups():
                for i in range(0, Q, 1000):
                    index.tails(qh[i:i + 1000], qr[i:i + 1000])
                    index.heads(qr[i:i + 1000], qt[i:i + 1000])
            row['tails_heads_queries_per_s'] = 2 * Q / best(rank_lookups, 3)
        if hasattr(index, 'query_ranges'):
            # The sLCWA hot path: 64 filtered negatives for 2000 positives.
            from pyg_mmkg.loader import NegativeSampler
            sampler = NegativeSampler(N, 64, filter_index=index)
            row['sampler_negatives_per_s'] = 64 * 2000 / best(
                lambda: sampler(qh[:2000], qr[:2000], qt[:2000], gen))
        row['mib_after_use'] = tensor_mib(index)
        res[name] = row
        print(name, json.dumps(row), flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(res, f, indent=1)


if __name__ == '__main__':
    main()
