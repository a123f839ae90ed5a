"""Measures the suggested fix for ``ScoredKGEModel._gather`` without touching
the library: a subclass looks heads and tails up in one embedding call per
table (one dense gradient per table instead of two plus an ``add_``).
Trainer steps with the stock model vs. the patched subclass vs. the pure loop
with ``F.embedding``; 1 thread, interleaved, median of 3, s/epoch.

    python benchmarks/speed/gather_fix_check.py --batches 40
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


def patched(cls):
    class Patched(cls):
        def _gather(self, head_index, rel_type, tail_index, encoded):
            if encoded is None and self._encodes_tables():
                b = head_index.numel()
                ent = self._embed(self.node_emb, self.node_emb_im,
                                  torch.cat([head_index, tail_index]))
                rel = self._embed(self.rel_emb, self.rel_emb_im, rel_type)
                return ent[:b], rel, ent[b:]
            return super()._gather(head_index, rel_type, tail_index, encoded)
    Patched.__name__ = cls.__name__
    return Patched


p = argparse.ArgumentParser()
p.add_argument('--models', default='transe,distmult,complex,rotate')
p.add_argument('--batches', type=int, default=40)
p.add_argument('--data', default=None, metavar='DIR',
               help='FB15k-237 folder (default: ../shared/data/FB15k-237 '
               'beside the repository)')
args = p.parse_args()
warnings.filterwarnings('ignore')
torch.set_num_threads(1)
import pyg_mmkg.nn.kge as kge  # noqa: E402
data, d = load_fb15k237(args.data)
train, n = d['train'], args.batches
per_epoch = -(-train[0].numel() // 1024)
names = dict(transe='TransE', distmult='DistMult', complex='ComplEx',
             rotate='RotatE')
for name in args.models.split(','):
    stock = Lib(name, data, 200, 0.01)
    orig = getattr(kge, names[name])
    setattr(kge, names[name], patched(orig))
    try:
        fixed = Lib(name, data, 200, 0.01)
    finally:
        setattr(kge, names[name], orig)
    pure = PureTorchKGE(name, d['num_nodes'], d['num_relations'],
                        gather='embedding')
    runs = {'stock': lambda: stock.warmup(n),
            'patched': lambda: fixed.warmup(n),
            'pure-embedding': lambda: pure.train_epoch(*train,
                                                       max_batches=n)}
    for f in runs.values():
        f()
    res = {k: [] for k in runs}
    for rep in range(3):
        for k, f in runs.items():
            t0 = time.perf_counter()
            f()
            res[k].append((time.perf_counter() - t0) / n * per_epoch)
    med = {k: statistics.median(v) for k, v in res.items()}
    pe = med['pure-embedding']
    print(f'{name:9s} ' + '  '.join(f'{k} {v:.2f}' for k, v in med.items())
          + f'  stock/pure {med["stock"] / pe:.2f}x  patched/pure '
          f'{med["patched"] / pe:.2f}x  load {os.getloadavg()[0]:.2f}',
          flush=True)
