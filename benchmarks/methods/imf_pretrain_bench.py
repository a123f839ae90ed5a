r"""IMF structure only, with or without the optional structural pre-training
(official stage 0 with the library's R-GCN or CompGCN instead of KBGAT; see
``pyg_mmkg/nn/models/_imf_pretrain.py``), at the same IMF training budget:
the pre-training runs in ``IMF.on_fit_start`` before the first epoch and its
time is reported apart (``pretrain_s``; it is not counted in ``train_s`` or
``--max-time-s``). KvsAll with reciprocal relations, selection on
validation MRR, test evaluated once on the selected checkpoint.

Usage (from the repository root)::

    python benchmarks/methods/imf_pretrain_bench.py --dataset WN9-IMG \
        --raw ../shared/data/WN9-IMG --root /tmp/imf/WN9-IMG \
        --pretrain rgcn --pretrain-epochs 100 --epochs 30 --out ROWS.jsonl
"""
import argparse
import json
import os
import os.path as osp
import shutil
import sys

import torch

from pyg_mmkg.nn.models import IMF
from pyg_mmkg.train.run import load_data

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from imf_bench import fit_imf  # noqa: E402


def stage_raw(raw: str, root: str) -> None:
    r"""Copies the raw ``*.txt`` files of a dataset into ``root/raw``."""
    os.makedirs(osp.join(root, 'raw'), exist_ok=True)
    for name in os.listdir(raw):
        if name.endswith('.txt'):
            shutil.copy2(osp.join(raw, name), osp.join(root, 'raw', name))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--dataset', required=True)
    p.add_argument('--root', default=None)
    p.add_argument('--raw', default=None,
                   help='raw files to stage into ROOT/raw first')
    p.add_argument('--pretrain', default='none',
                   choices=['none', 'rgcn', 'compgcn'])
    p.add_argument('--pretrain-epochs', type=int, default=100)
    p.add_argument('--pretrain-lr', type=float, default=5e-4)
    p.add_argument('--loss', choices=['bce', 'ce'], default='ce')
    p.add_argument('--dim', type=int, default=128)
    p.add_argument('--batch-size', type=int, default=256)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--epochs', type=int, default=30)
    p.add_argument('--eval-every', type=int, default=2)
    p.add_argument('--patience', type=int, default=None)
    p.add_argument('--max-time-s', type=float, default=None)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--run-dir', default='runs/imf-pretrain')
    p.add_argument('--out', required=True, help='JSON lines, appended')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.raw:
        stage_raw(args.raw, args.root)
    data = load_data(args.dataset, root=args.root, modalities=['structure'])
    pretrain = None if args.pretrain == 'none' else args.pretrain
    torch.manual_seed(args.seed)
    model = IMF.from_data(data, hidden_channels=args.dim,
                          modalities=['structure'], branch_loss=args.loss,
                          pretrain=pretrain,
                          pretrain_epochs=args.pretrain_epochs,
                          pretrain_kwargs={'lr': args.pretrain_lr})
    name = (f'{args.dataset}-imf-structure-pre{args.pretrain}'
            f'{args.pretrain_epochs if pretrain else ""}-{args.loss}-'
            f'd{args.dim}-s{args.seed}')
    trainer, res, fitted = fit_imf(model, data, args, name)
    start = res.get('fit_start') or {}
    row = {
        'dataset': args.dataset, 'model': 'imf', 'setting': 'structure',
        'pretrain': args.pretrain, 'args': vars(args),
        'pretrain_s': start.get('time_s', 0.0),
        'pretrain_loss_first': start.get('loss_first'),
        'pretrain_loss_last': start.get('loss_last'),
        **fitted,
        'val_curve': [[i + 1, m['val/mrr']]
                      for i, m in enumerate(trainer.history)
                      if 'val/mrr' in m],
        'load_avg_end': os.getloadavg(),
    }
    print(json.dumps(row), flush=True)
    with open(args.out, 'a') as f:
        f.write(json.dumps(row) + '\n')


if __name__ == '__main__':
    main()
