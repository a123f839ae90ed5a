r"""MoMoK on a dataset: one or more modality settings, KvsAll training with
the published loss (per-branch BCE + mu * CLUB with its own estimator
step), selection on validation MRR, optional text-shuffle ablation.

Published settings (zjukg/MoMoK README): dim 200 (MKG-W) / 300 (MKG-Y) /
256 (DB15K), lr 1e-3 / 5e-4 / 5e-4, batch 1024, mu 1e-4, 3 experts,
2000 epochs, targets 0.9 y + 1/N. On this 2-core CPU we run a small
budget (see ``--dim`` and ``--epochs``); results are not comparable to the
published ones, which also used images + text.

Datasets staged from ``../shared/data`` into ``<root>/raw`` with
``--stage`` (symlinks; ``mkg_structure.stage``).

Usage::

    python benchmarks/methods/momok_bench.py --dataset MKG-W \
        --root /tmp/mkgw --stage --settings structure --dim 64 --epochs 20 \
        --out benchmarks/methods/momok_mkgw_results.json
"""
import argparse
import json
import time

import torch

from pyg_mmkg.nn.models import MoMoK
from pyg_mmkg.train import TrainConfig, Trainer
from pyg_mmkg.train.run import load_data

# Siblings in benchmarks/methods/:
from ablation import shuffled_test_metrics
from mkg_structure import SHARED, stage


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--dataset', default='VTKG-I')
    parser.add_argument('--root', default=None)
    parser.add_argument('--stage', action='store_true')
    parser.add_argument('--settings', default='structure')
    parser.add_argument('--dim', type=int, default=64)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--batch-size', type=int, default=1024)
    parser.add_argument('--mu', type=float, default=1e-4)
    parser.add_argument('--label-smoothing', type=float, default=0.1)
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--eval-every', type=int, default=5)
    parser.add_argument('--shuffle-seeds', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--run-dir', default='runs/momok')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.stage:
        stage(args.dataset, args.root, SHARED)

    out = {'args': vars(args)}
    for setting in args.settings.split(','):
        modalities = setting.split('+')
        data = load_data(args.dataset, root=args.root, modalities=modalities)
        torch.manual_seed(args.seed)
        model = MoMoK.from_data(data, hidden_channels=args.dim,
                                modalities=modalities, mu=args.mu,
                                estimator_lr=args.lr)
        config = TrainConfig(
            regime='kvsall', optimizer='adam', lr=args.lr,
            batch_size=args.batch_size, epochs=args.epochs,
            label_smoothing=args.label_smoothing,
            eval_every=args.eval_every, progress=False, device='cpu',
            seed=args.seed, eval_batch_size=512)
        trainer = Trainer(model, data, config, plot=False,
                          run_dir=f'{args.run_dir}/{setting}-s{args.seed}')
        t0 = time.perf_counter()
        res = trainer.fit()
        res['wall_s'] = time.perf_counter() - t0
        times = [m['time/epoch_s'] for m in trainer.history]
        res['epoch_s_mean'] = sum(times) / len(times)
        res['num_parameters'] = sum(p.numel() for p in model.parameters())
        if 'text' in modalities:
            res['test_text_shuffle'] = shuffled_test_metrics(
                model, data, 'text', args.shuffle_seeds)
        out[setting] = res
        print(setting, json.dumps(res, indent=1), flush=True)
        if args.out:
            with open(args.out, 'w') as f:
                json.dump(out, f, indent=2)


if __name__ == '__main__':
    main()
