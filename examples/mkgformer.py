r"""Train MKGformer in its two published stages on VTKG-I (bundled: entity
and relation descriptions, no photos), text only, from the offline MiniLM
checkpoint (a 6-layer BERT; the paper uses BERT-base + CLIP ViT-B/32,
neither of which can be downloaded here):

    python examples/mkgformer.py --stage1-epochs 15 --epochs 12

Stage 1 trains only the new entity-token rows (label-smoothed
cross-entropy); stage 2 fine-tunes everything with multi-label BCE, AdamW
(no decay on bias/LayerNorm) and a 10 % linear warm-up; the epoch is
selected on validation Hits@10 (``MKGformer.recipes`` /
``MKGformer.stage1_recipe``). Stage 2 alone runs from the command line
through the library's Trainer (no warm-up, no parameter groups):

    pyg-mmkg train --dataset VTKG-I --model mkgformer --regime kvsall \
        --loss bce --optimizer adamw --lr 4e-5 --batch-size 96 --epochs 12
"""
import argparse
import json
import time

import torch

from pyg_mmkg.datasets import VTKG_I
from pyg_mmkg.nn.models import MKGformer, fit_mkgformer

parser = argparse.ArgumentParser()
parser.add_argument('--root', default='data/VTKG-I')
parser.add_argument('--text-encoder', default=None,
                    help='local transformers BERT checkpoint directory '
                    '(default: the offline MiniLM)')
parser.add_argument('--stage1-epochs', type=int, default=15)
parser.add_argument('--epochs', type=int, default=12)
parser.add_argument('--batch-size', type=int, default=96)
parser.add_argument('--lr', type=float, default=4e-5)
parser.add_argument('--max-length', type=int, default=64)
parser.add_argument('--max-time-s', type=float, default=None)
parser.add_argument('--seed', type=int, default=0)
parser.add_argument('--num-threads', type=int, default=1)
parser.add_argument('--out', default=None, help='write the results (json)')
args = parser.parse_args()

torch.set_num_threads(args.num_threads)
text_encoder = args.text_encoder
if text_encoder is None:
    from pyg_mmkg.features import minilm_path
    text_encoder = minilm_path()
data = VTKG_I(args.root)[0]
torch.manual_seed(args.seed)
model = MKGformer.from_data(data, text_encoder=text_encoder, vision=None,
                            max_length=args.max_length)
print(model, f'{sum(p.numel() for p in model.parameters()) / 1e6:.1f}M '
      'parameters')
start = time.time()
out = fit_mkgformer(model, data, stage1=dict(epochs=args.stage1_epochs),
                    stage2=dict(epochs=args.epochs, lr=args.lr,
                                batch_size=args.batch_size),
                    max_time_s=args.max_time_s, seed=args.seed)
out.update(seconds=time.time() - start, args=vars(args),
           text_encoder='MiniLM-L6-H384 (offline)'
           if args.text_encoder is None else args.text_encoder)
print(f"best epoch {out['best_epoch']}: test {out['test']}")
if args.out:
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=1)
