r"""Peak memory of loading + one training epoch + filtered evaluation on a
synthetic Wikidata5M-shaped graph with a :obj:`[N, 384]` text feature
table, in one process (:obj:`ru_maxrss` after each phase).

The feature table is written once (fp16 or fp32) to :obj:`--workdir`, then
loaded memory-mapped (fp16) or eagerly (fp32) and attached to the graph.
Training is DistMult (dim 200, batch 1024, one thread) with row-wise
Adagrad for :obj:`--max-steps` steps of the epoch (all of it by default);
evaluation ranks :obj:`--eval-triples` test triples (both sides) against
all entities with chunked ranking under a 512 MiB workspace budget.
"""
import argparse
import json
import os
import resource
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import make_data  # noqa: E402


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _current_rss() -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024**2
    return float('nan')  # pragma: no cover


def main(argv=None) -> dict:
    r"""Runs the three phases and returns the record.

    Args:
        argv (list, optional): Command-line arguments. (default: :obj:`None`)
    """
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--num-entities', type=int, required=True)
    p.add_argument('--features', choices=['fp16', 'fp32'], default='fp16')
    p.add_argument('--feature-dim', type=int, default=384)
    p.add_argument('--embedding-optimizer', default='rowwise_adagrad')
    p.add_argument('--max-steps', type=int, default=None)
    p.add_argument('--eval-triples', type=int, default=500)
    p.add_argument('--workdir', default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    from pyg_mmkg.evaluation import FilterIndex, evaluate
    from pyg_mmkg.features.storage import (load_feature_table,
                                           save_feature_table)
    from pyg_mmkg.nn.kge import DistMult
    from pyg_mmkg.train import TrainConfig, Trainer
    n = args.num_entities
    rec = dict(num_entities=n, features=args.features,
               feature_dim=args.feature_dim,
               embedding_optimizer=args.embedding_optimizer)
    # Shared machine: never start what cannot fit (table, features read
    # into memory when not mapped, ~0.4 KB of graph per entity, runtime).
    from bench_steps import available_gib
    need = (n * 200 * 4 + 400 * n + (n * args.feature_dim * 4 if
            args.features == 'fp32' else 0)) / 1024**3 + 1.5
    if need > 0.9 * available_gib():
        rec['error'] = (f'skipped: needs ~{need:.1f} GiB, '
                        f'{available_gib():.1f} GiB available')
        print(json.dumps(rec), flush=True)
        return rec
    workdir = args.workdir or tempfile.mkdtemp(prefix='pyg_mmkg_scale_')
    path = os.path.join(workdir, f'x_text_{n}_{args.features}.pt')
    created = not os.path.exists(path)
    if created:  # Written by a child: not in our peak.
        import subprocess
        dtype = 'float16' if args.features == 'fp16' else 'float32'
        code = ('import torch,sys;sys.path.insert(0,%r);from pyg_mmkg.'
                'features.storage import save_feature_table as s;g=torch.'
                'Generator().manual_seed(0);x=torch.empty(%d,%d,dtype=torch.'
                '%s);[x[i:i+250000].copy_(torch.randn(x[i:i+250000].shape,'
                'generator=g)) for i in range(0,%d,250000)];s(x,%r,dtype=None)'
                % (os.getcwd(), n, args.feature_dim, dtype, n, path))
        subprocess.run([sys.executable, '-c', code], check=True)
    t0 = time.perf_counter()
    data = make_data(n)
    rec['rss_graph_gib'] = _current_rss()
    x = load_feature_table(path, mmap=args.features == 'fp16')
    x.sum(dim=1)  # Touch every page (mapped pages count when read).
    data['entity'].x_text = x
    data['entity'].has_text = torch.ones(n, dtype=torch.bool)
    rec['load_s'] = time.perf_counter() - t0
    rec['rss_after_load_gib'] = _current_rss()
    rec['peak_after_load_gib'] = _rss()

    torch.manual_seed(0)
    model = DistMult(n, data['relation'].num_nodes, 200)
    cfg = TrainConfig(regime='slcwa', embedding_optimizer=(
        args.embedding_optimizer), optimizer='adam', batch_size=1024,
        recipe='none', progress=False, device='cpu', lr=0.01)
    trainer = Trainer(model, data, cfg)
    t0 = time.perf_counter()
    steps = 0
    for batch in trainer.batches:
        trainer.training_step(batch)
        steps += 1
        if args.max_steps is not None and steps >= args.max_steps:
            break
    rec['epoch_steps'] = steps
    rec['epoch_steps_total'] = len(trainer.batches)
    rec['epoch_s'] = time.perf_counter() - t0
    rec['peak_after_epoch_gib'] = _rss()

    h, r, t = (v[:args.eval_triples] for v in trainer.split_triples['test'])
    t0 = time.perf_counter()
    fi = FilterIndex.from_triples(list(trainer.split_triples.values()), n,
                                  data['relation'].num_nodes)
    result = evaluate(model, h, r, t, filter_index=fi,
                      memory_budget=512 * 1024**2)
    rec['eval_s'] = time.perf_counter() - t0
    rec['eval_queries'] = 2 * h.numel()
    rec['eval_mrr'] = result['both']['mrr']
    rec['peak_after_eval_gib'] = _rss()
    rec['peak_rss_gib'] = _rss()
    rec['loadavg_1min'] = os.getloadavg()[0]
    if created:
        del data, x
        os.remove(path)
    print(json.dumps(rec), flush=True)
    return rec


if __name__ == '__main__':
    main()
