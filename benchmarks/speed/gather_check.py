"""Is the pure-PyTorch baseline's ``ent[idx]`` gather (index_put_ backward)
slower than ``F.embedding`` (embedding_dense_backward)? Times N batches of
both variants, interleaved, at 1 and 2 threads, and extrapolates to s/epoch.

    python benchmarks/speed/gather_check.py --models distmult,complex
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_speed import load_fb15k237  # noqa: E402
from pure_torch import PureTorchKGE  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument('--models', default='transe,distmult,complex,rotate')
p.add_argument('--threads', default='1,2')
p.add_argument('--batches', type=int, default=40)
p.add_argument('--data', default=None, metavar='DIR',
               help='FB15k-237 folder (default: ../shared/data/FB15k-237 '
               'beside the repository)')
args = p.parse_args()
_, d = load_fb15k237(args.data)
train = d['train']
per_epoch = -(-train[0].numel() // 1024)
for th in [int(x) for x in args.threads.split(',')]:
    torch.set_num_threads(th)
    for name in args.models.split(','):
        ms = {g: PureTorchKGE(name, d['num_nodes'], d['num_relations'],
                              gather=g) for g in ('index', 'embedding')}
        for m in ms.values():
            m.train_epoch(*train, max_batches=3)
        res = {g: [] for g in ms}
        for rep in range(3):
            for g, m in ms.items():
                t0 = time.perf_counter()
                m.train_epoch(*train, max_batches=args.batches)
                res[g].append((time.perf_counter() - t0) / args.batches *
                              per_epoch)
        med = {g: statistics.median(v) for g, v in res.items()}
        print(f'threads={th} {name:9s} ent[idx]: {med["index"]:.2f} s/epoch'
              f'  F.embedding: {med["embedding"]:.2f} s/epoch  load '
              f'{os.getloadavg()[0]:.2f}', flush=True)
