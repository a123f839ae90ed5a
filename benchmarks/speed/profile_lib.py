"""Where does a training step of pyg-mmkg's Trainer spend its time, compared
with the pure-PyTorch loop? Times the phases of each step (batch/negative
sampling, forward + loss, backward, optimiser step, rest) on FB15k-237 with
one thread, and optionally prints a ``torch.profiler`` table.

    python benchmarks/speed/profile_lib.py --models complex,rotate \
        --batches 60 [--profiler]
"""
import argparse
import os
import sys
import time
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_speed import Lib, Pure, load_fb15k237  # noqa: E402


def now():
    return time.perf_counter()


def phases_lib(lib, n):
    tr = lib.trainer
    from pyg_mmkg.train.objectives import batch_loss, needs_encoding
    acc = dict(sample=0., forward=0., backward=0., step=0., other=0.)
    it = iter(tr.batches)
    for _ in range(n):
        t0 = now()
        batch = next(it)
        t1 = now()
        tr.optimizer.zero_grad(set_to_none=True)
        enc = (tr.model.encode() if needs_encoding(tr.model, tr.config)
               else None)
        loss = batch_loss(tr.model, batch, enc, tr.config)
        t2 = now()
        loss.backward()
        t3 = now()
        tr.optimizer.step()
        t4 = now()
        float(loss.detach())
        t5 = now()
        for k, v in zip(acc, [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4]):
            acc[k] += v
    return acc


def phases_pure(pure, train, n):
    m = pure.m
    acc = dict(sample=0., forward=0., backward=0., step=0., other=0.)
    h_all, r_all, t_all = train
    perm = torch.randperm(h_all.numel(), generator=m.gen)
    for i in range(n):
        t0 = now()
        idx = perm[i * 1024:(i + 1) * 1024]
        h, r, t = h_all[idx], r_all[idx], t_all[idx]
        b = idx.numel()
        ch = torch.rand(b, generator=m.gen) < 0.5
        o = torch.randint(0, m.num_nodes, (b, ), generator=m.gen)
        nh, nt = torch.where(ch, o, h), torch.where(ch, t, o)
        t1 = now()
        m.opt.zero_grad(set_to_none=True)
        hh, rr, tt = torch.cat([h, nh]), torch.cat([r, r]), torch.cat([t, nt])
        s = m.score(m.ent[hh], m.rel[rr], m.ent[tt])
        loss = m.loss(s[:b], s[b:])
        t2 = now()
        loss.backward()
        t3 = now()
        m.opt.step()
        t4 = now()
        float(loss.detach())
        t5 = now()
        for k, v in zip(acc, [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4]):
            acc[k] += v
    return acc


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--models', default='transe,distmult,complex,rotate')
    p.add_argument('--batches', type=int, default=60)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--profiler', action='store_true')
    p.add_argument('--data', default=None, metavar='DIR',
                   help='FB15k-237 folder (default: ../shared/data/'
                   'FB15k-237 beside the repository)')
    args = p.parse_args()
    warnings.filterwarnings('ignore')
    torch.set_num_threads(args.threads)
    data, d = load_fb15k237(args.data)
    N, R, train = d['num_nodes'], d['num_relations'], d['train']
    for name in args.models.split(','):
        lib = Lib(name, data, 200, 0.01)
        pure = Pure(name, N, R, train, 200, 0.01)
        lib.warmup(5)
        pure.warmup(5)
        res = {}
        for rep in range(2):  # interleaved, keep the faster repeat
            for key, fn in [('pure', lambda: phases_pure(pure, train,
                                                         args.batches)),
                            ('lib', lambda: phases_lib(lib, args.batches))]:
                acc = fn()
                if key not in res or sum(acc.values()) < sum(
                        res[key].values()):
                    res[key] = acc
        for key, acc in res.items():
            ms = {k: 1e3 * v / args.batches for k, v in acc.items()}
            tot = sum(ms.values())
            print(f'{name:9s} {key:5s} ms/step total {tot:6.2f} | ' +
                  ' '.join(f'{k} {v:6.2f}' for k, v in ms.items()),
                  flush=True)
        if args.profiler:
            from torch.profiler import ProfilerActivity, profile
            for key, fn in [('pure', lambda: phases_pure(pure, train, 20)),
                            ('lib', lambda: phases_lib(lib, 20))]:
                with profile(activities=[ProfilerActivity.CPU]) as prof:
                    fn()
                print(f'--- {name} {key} (20 steps) ---')
                print(prof.key_averages().table(sort_by='self_cpu_time_total',
                                                row_limit=14))


if __name__ == '__main__':
    main()
