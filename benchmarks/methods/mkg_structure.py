r"""Structure-only MoMoK and its TuckER baseline on MKG-W / MKG-Y / DB15K
(or WN9-IMG) under a wall-clock budget, with per-side test metrics.

One run per call: ``--model momok`` (the library's MoMoK with only the
structure modality: one ReMoKE mixture of 3 relation-guided experts and one
TuckER decision) or ``--model tucker`` (the plain TuckER scorer), trained
KvsAll with reciprocal relations, either with the published 1-N binary
cross-entropy (``--loss bce``) or with softmax cross-entropy over all
entities (``--loss ce``; MoMoK's ``decision_loss='ce'``). Selection on
validation MRR, test evaluated once on the selected checkpoint.

Usage::

    python benchmarks/methods/mkg_structure.py --dataset MKG-W \
        --root /tmp/mkg/MKG-W --stage --model momok --loss ce --dim 128 \
        --batch-size 256 --lr 3e-3 --max-time-s 720 --out ROWS.jsonl
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

import torch

from pyg_mmkg.nn.kge import TuckER
from pyg_mmkg.nn.models import MoMoK
from pyg_mmkg.train import TrainConfig, Trainer
from pyg_mmkg.train.run import load_data

# ../shared/data beside the repository root (or beside the main checkout
# when this is a git worktree); see benchmarks/_paths.py.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _paths import shared_root  # noqa: E402

SHARED = osp.join(shared_root(), 'data')
FILES = {
    # ent_links / rel_links: the entity names (DBpedia) and relation labels.
    'MKG-W': ['entity2id.txt', 'relation2id.txt', 'train.txt.gz',
              'valid.txt', 'test.txt', 'ent_links.gz', 'rel_links.txt'],
    'MKG-Y': ['entity2id.txt', 'relation2id.txt', 'train.txt', 'valid.txt',
              'test.txt'],
    'DB15K': ['entity2id.txt', 'relation2id.txt', 'train2id.txt',
              'valid2id.txt', 'test2id.txt'],
    # IKRL's triples (head, tail, relation); the glosses are not staged.
    'WN9-IMG': ['entity2id.txt', 'relation2id.txt', 'train.txt',
                'valid.txt', 'test.txt'],
}


def stage(name: str, root: str, shared: str) -> None:
    r"""Links the raw files of ``shared/<name>`` into ``root/raw``."""
    raw = osp.join(root, 'raw')
    os.makedirs(raw, exist_ok=True)
    for f in FILES[name]:
        # The staged ent_links.gz is the loader's ent_links.txt, gzipped.
        dst = 'ent_links.txt.gz' if f == 'ent_links.gz' else f
        try:
            os.symlink(osp.abspath(osp.join(shared, name, f)),
                       osp.join(raw, dst))
        except FileExistsError:  # Staged before (or by a parallel run).
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--dataset', required=True, choices=sorted(FILES))
    p.add_argument('--root', required=True)
    p.add_argument('--stage', action='store_true')
    p.add_argument('--shared', default=SHARED)
    p.add_argument('--model', choices=['momok', 'tucker'], default='momok')
    p.add_argument('--loss', choices=['bce', 'ce'], default='ce')
    p.add_argument('--dim', type=int, default=128)
    p.add_argument('--batch-size', type=int, default=256)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--label-smoothing', type=float, default=0.1)
    p.add_argument('--epochs', type=int, default=500)
    p.add_argument('--eval-every', type=int, default=2)
    p.add_argument('--patience', type=int, default=5)
    p.add_argument('--max-time-s', type=float, default=720)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--run-dir', default='runs/mkg')
    p.add_argument('--out', required=True, help='JSON lines, appended')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.stage:
        stage(args.dataset, args.root, args.shared)

    data = load_data(args.dataset, root=args.root, modalities=['structure'])
    torch.manual_seed(args.seed)
    if args.model == 'momok':
        model = MoMoK.from_data(data, hidden_channels=args.dim,
                                modalities=('structure', ),
                                estimator_lr=args.lr,
                                decision_loss=args.loss)
    else:
        from pyg_mmkg.data import num_entities, num_relations
        # The trainer applies the label smoothing (KvsAll targets).
        model = TuckER(num_entities(data), num_relations(data), args.dim,
                       label_smoothing=0.0, reciprocal=True)
    config = TrainConfig(
        regime='kvsall', loss=args.loss, optimizer='adam', lr=args.lr,
        batch_size=args.batch_size, epochs=args.epochs,
        label_smoothing=args.label_smoothing, eval_every=args.eval_every,
        patience=args.patience, max_time_s=args.max_time_s, progress=False,
        device='cpu', seed=args.seed, eval_batch_size=512)
    name = f'{args.dataset}-{args.model}-{args.loss}-d{args.dim}-s{args.seed}'
    trainer = Trainer(model, data, config, plot=False,
                      run_dir=osp.join(args.run_dir, name))
    t0 = time.perf_counter()
    res = trainer.fit()
    wall = time.perf_counter() - t0
    test = res['test']  # Summary of the selected model: both sides, per side.
    times = [m['time/epoch_s'] for m in trainer.history]
    row = {
        'dataset': args.dataset, 'model': args.model, 'loss': args.loss,
        'args': vars(args),
        'test': {k: test[k]
                 for k in ('mrr', 'hits@1', 'hits@3', 'hits@10', 'mr')},
        'test_head_mrr': test['head_mrr'],
        'test_tail_mrr': test['tail_mrr'],
        'val_mrr': res['val']['mrr'],
        'best_epoch': res['best_epoch'],
        'epochs': res['epochs_trained'],
        'train_s': res['train_time_s'],
        'steps_per_epoch': len(trainer.batches),
        'epoch_s_mean': sum(times) / max(len(times), 1),
        'wall_s': wall,
        'num_parameters': sum(p.numel() for p in model.parameters()),
    }
    print(json.dumps(row), flush=True)
    with open(args.out, 'a') as f:
        f.write(json.dumps(row) + '\n')


if __name__ == '__main__':
    main()
