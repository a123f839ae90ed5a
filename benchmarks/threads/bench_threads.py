r"""Seconds per training epoch against the number of torch threads, for
small and larger graphs (what `pyg_mmkg.utils.threads` bases its default
on). One command from a fresh clone, no data needed (synthetic graphs with
the sizes of VTKG-I and larger, plus the bundled VTKG-I with MoSE):

    python benchmarks/threads/bench_threads.py [--threads 1,2] [--epochs 3]

Writes benchmarks/results/threads.json (raw; table: benchmarks/results/threads.md) and prints a table.
"""
import argparse
import json
import os
import os.path as osp
import platform
import tempfile
import time

import torch

from pyg_mmkg.data import make_kg_data
from pyg_mmkg.nn.kge import ComplEx
from pyg_mmkg.train import Trainer

HERE = osp.dirname(osp.abspath(__file__))


def synthetic(num_nodes, num_relations=50, per_node=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    E = num_nodes * per_node
    h = torch.randint(0, num_nodes, (E, ), generator=g)
    r = torch.randint(0, num_relations, (E, ), generator=g)
    t = torch.randint(0, num_nodes, (E, ), generator=g)
    key = (h * num_relations + r) * num_nodes + t
    keep = torch.unique(key, return_inverse=True)[1]
    first = torch.full((int(keep.max()) + 1, ), E)
    first.scatter_reduce_(0, keep, torch.arange(E), 'amin')
    h, r, t = h[first], r[first], t[first]
    a = int(0.9 * h.numel())
    b = int(0.95 * h.numel())
    return make_kg_data([str(i) for i in range(num_nodes)],
                        [str(i) for i in range(num_relations)],
                        {'train': (h[:a], r[:a], t[:a]),
                         'val': (h[a:b], r[a:b], t[a:b]),
                         'test': (h[b:], r[b:], t[b:])},
                        allow_split_overlap=True)


def epoch_seconds(make, data, threads, epochs, config):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    trainer = Trainer(make(data), data, progress=False, plot=False,
                      **config)
    trainer.train_epoch()  # warm-up
    t0 = time.perf_counter()
    for _ in range(epochs):
        trainer.train_epoch()
    return (time.perf_counter() - t0) / epochs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--threads', default='1,2')
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--sizes', default='181,2000')
    parser.add_argument('--out', default=osp.join(HERE, '..', 'results', 'threads.json'))
    args = parser.parse_args()
    threads = [int(x) for x in args.threads.split(',')]
    cases = []
    config = dict(regime='1vsall', optimizer='adagrad', lr=0.1,
                  batch_size=256, recipe='none')
    for n in [int(x) for x in args.sizes.split(',')]:
        cases.append((f'ComplEx d=64 1vsAll, synthetic N={n}', synthetic(n),
                      lambda d: ComplEx(int(d['entity'].num_nodes),
                                        int(d['relation'].num_nodes), 64,
                                        reciprocal=True), config))
    from pyg_mmkg.datasets import VTKG_I
    from pyg_mmkg.nn.models import MoSE
    vtkg = VTKG_I(osp.join(tempfile.gettempdir(), 'pyg_mmkg', 'VTKG-I'))[0]
    cases.append(('MoSE d=64 1vsAll, VTKG-I (N=181), examples/mose.py',
                  vtkg, lambda d: MoSE.from_data(
                      d, hidden_channels=64, modalities=('structure', 'text'),
                      reciprocal=True), config))
    rows = []
    for name, data, make, cfg in cases:
        for k in threads:
            s = epoch_seconds(make, data, k, args.epochs, cfg)
            rows.append({'case': name, 'threads': k, 'epoch_s': s,
                         'num_entities': int(data['entity'].num_nodes)})
            print(f'{name:55s} threads={k:<3d} {s:8.3f} s/epoch', flush=True)
    with open(args.out, 'w') as f:
        json.dump({'machine': {'cpu_count': os.cpu_count(),
                               'platform': platform.platform(),
                               'torch': torch.__version__},
                   'epochs': args.epochs, 'rows': rows}, f, indent=2)


if __name__ == '__main__':
    main()
