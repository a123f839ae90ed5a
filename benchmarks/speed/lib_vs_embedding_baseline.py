"""pyg-mmkg Trainer steps vs. the pure-PyTorch loop with ``F.embedding``
gathers (the faster baseline variant), interleaved, 1 thread; prints
s/epoch extrapolated from ``--batches`` steps (median of 3 repeats).

    python benchmarks/speed/lib_vs_embedding_baseline.py --batches 40
"""
import argparse
import os
import statistics
import sys
import time
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_speed import Lib, load_fb15k237  # noqa: E402
from pure_torch import PureTorchKGE  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument('--models', default='transe,distmult,complex,rotate')
p.add_argument('--batches', type=int, default=40)
p.add_argument('--threads', type=int, default=1)
p.add_argument('--data', default=None, metavar='DIR',
               help='FB15k-237 folder (default: ../shared/data/FB15k-237 '
               'beside the repository)')
args = p.parse_args()
warnings.filterwarnings('ignore')
torch.set_num_threads(args.threads)
data, d = load_fb15k237(args.data)
train, n = d['train'], args.batches
per_epoch = -(-train[0].numel() // 1024)
for name in args.models.split(','):
    lib = Lib(name, data, 200, 0.01)
    pures = {g: PureTorchKGE(name, d['num_nodes'], d['num_relations'],
                             gather=g) for g in ('index', 'embedding')}
    runs = {'lib': lambda: lib.warmup(n)}
    for g, m in pures.items():
        runs[f'pure-{g}'] = (lambda m=m: m.train_epoch(*train,
                                                       max_batches=n))
    for f in runs.values():
        f()  # warm-up
    res = {k: [] for k in runs}
    for rep in range(3):
        for k, f in runs.items():
            t0 = time.perf_counter()
            f()
            res[k].append((time.perf_counter() - t0) / n * per_epoch)
    med = {k: statistics.median(v) for k, v in res.items()}
    print(f'{name:9s} ' + '  '.join(f'{k} {v:.2f}' for k, v in med.items())
          + f'  lib/pure-embedding {med["lib"] / med["pure-embedding"]:.2f}x'
          f'  lib/pure-index {med["lib"] / med["pure-index"]:.2f}x'
          f'  load {os.getloadavg()[0]:.2f}', flush=True)
