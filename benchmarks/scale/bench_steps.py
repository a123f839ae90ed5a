r"""Seconds per 1,000 training steps of DistMult (dim 200, batch 1024, one
thread) on a synthetic Wikidata5M-shaped graph, with dense or sparse
embedding updates; one configuration per process, so that the peak resident
memory (:obj:`ru_maxrss`) is that configuration's.

Prints one JSON line. Run all rows with :obj:`benchmarks/scale/run.py`.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import make_data  # noqa: E402

OPTIMIZERS = {  # row name: (optimizer, embedding_optimizer)
    'dense_adam': ('adam', 'dense'),
    'dense_adagrad': ('adagrad', 'dense'),
    'sparse_adam': ('adam', 'sparse_adam'),
    'rowwise_adagrad': ('adam', 'rowwise_adagrad'),
}


# Copies of the entity table held in memory: weights, gradient, states.
TABLE_COPIES = {'dense_adam': 4, 'dense_adagrad': 3, 'sparse_adam': 3,
                'rowwise_adagrad': 1}


def available_gib() -> float:
    r"""MemAvailable of the machine in GiB (Linux)."""
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('MemAvailable:'):
                return int(line.split()[1]) / 1024**2
    return float('inf')  # pragma: no cover


def peak_rss_gib() -> float:
    r"""Peak resident memory of this process in GiB (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(argv=None) -> dict:
    r"""Runs one configuration and returns its record.

    Args:
        argv (list, optional): Command-line arguments. (default: :obj:`None`)
    """
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--num-entities', type=int, required=True)
    p.add_argument('--optimizer', choices=sorted(OPTIMIZERS), required=True)
    p.add_argument('--regime', default='slcwa', choices=['slcwa', 'kvsall'])
    p.add_argument('--steps', type=int, default=200)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--dim', type=int, default=200)
    p.add_argument('--batch-size', type=int, default=1024)
    p.add_argument('--num-negatives', type=int, default=32)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    # The machine is shared: never start a row that cannot fit (the OOM
    # killer would pick a process at random). Tables plus ~0.4 KB of graph
    # and 1.5 GiB of runtime per entity-row estimate:
    need = (TABLE_COPIES[args.optimizer] * args.num_entities * args.dim * 4
            + 400 * args.num_entities) / 1024**3 + 1.5
    if need > 0.9 * available_gib():
        record = dict(num_entities=args.num_entities,
                      optimizer=args.optimizer, regime=args.regime,
                      error=f'skipped: needs ~{need:.1f} GiB, '
                      f'{available_gib():.1f} GiB available')
        print(json.dumps(record), flush=True)
        return record
    from pyg_mmkg.nn.kge import DistMult
    from pyg_mmkg.train import TrainConfig, Trainer

    t0 = time.perf_counter()
    data = make_data(args.num_entities)
    num_rel = data['relation'].num_nodes
    torch.manual_seed(0)
    model = DistMult(args.num_entities, num_rel, args.dim,
                     reciprocal=args.regime == 'kvsall')
    opt, emb_opt = OPTIMIZERS[args.optimizer]
    cfg = TrainConfig(regime=args.regime, optimizer=opt,
                      embedding_optimizer=emb_opt, lr=0.01,
                      batch_size=args.batch_size,
                      num_negatives=args.num_negatives, recipe='none',
                      progress=False, device='cpu')
    trainer = Trainer(model, data, cfg)
    setup_s = time.perf_counter() - t0
    setup_rss = peak_rss_gib()
    model.train()
    it = iter(trainer.batches)
    times = []
    for i in range(args.warmup + args.steps):
        try:
            batch = next(it)
        except StopIteration:
            it = iter(trainer.batches)
            batch = next(it)
        start = time.perf_counter()
        loss = trainer.training_step(batch)
        float(loss)
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    total = sum(times)
    record = dict(
        num_entities=args.num_entities,
        num_train=int(trainer.split_triples['train'][0].numel()),
        optimizer=args.optimizer, regime=args.regime, dim=args.dim,
        batch_size=args.batch_size, num_negatives=args.num_negatives,
        steps=args.steps, s_per_1000_steps=1000 * total / args.steps,
        median_step_ms=1000 * sorted(times)[len(times) // 2],
        setup_s=setup_s, peak_rss_after_setup_gib=setup_rss,
        peak_rss_gib=peak_rss_gib(), threads=torch.get_num_threads(),
        loadavg_1min=os.getloadavg()[0],
        torch=torch.__version__)
    print(json.dumps(record), flush=True)
    return record


if __name__ == '__main__':
    main()
