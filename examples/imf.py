r"""Train IMF (interactive multimodal fusion: one TuckER decoder per
modality and one on the rank-2 bilinear fusion, decisions averaged) on the
bundled VTKG-I with structure, text and images, then show each branch's
decision and the text-shuffle ablation.

    python examples/imf.py --epochs 30 [--num-threads 1]

The published recipe (``IMF.recipes[None]``: KvsAll, per-branch BCE with
targets 0.9 y + 1/N, Adam 5e-4, batch 256, d = 256, 1000 epochs) is sized
for GPUs; this example keeps the regime and loss with a smaller model and
a higher learning rate. With the published recipe from the command line:

    pyg-mmkg train --dataset VTKG-I --model imf --modalities structure,text,image

or smaller (the model applies its own label smoothing, so the trainer's
is 0):

    pyg-mmkg train --dataset VTKG-I --model imf --dim 64 --lr 3e-3 \
        --modalities structure,text,image \
        --epochs 30 --eval-every 5
"""
import argparse

import torch

from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.datasets import VTKG_I
from pyg_mmkg.nn.models import IMF, modality_ablation
from pyg_mmkg.train import Trainer

parser = argparse.ArgumentParser()
parser.add_argument('--root', default='data/VTKG-I')
parser.add_argument('--epochs', type=int, default=30)
parser.add_argument('--dim', type=int, default=64)
parser.add_argument('--modalities', default='structure,text,image')
parser.add_argument('--contrastive-weight', type=float, default=0.0)
parser.add_argument('--num-threads', type=int, default=1)
args = parser.parse_args()
torch.set_num_threads(args.num_threads)

data = VTKG_I(args.root)[0]
modalities = args.modalities.split(',')
torch.manual_seed(0)
print(IMF.recipes[None].describe())
model = IMF.from_data(data, hidden_channels=args.dim, modalities=modalities,
                      contrastive_weight=args.contrastive_weight)
print(model)

# KvsAll with the model's own loss (sum of the branch BCEs against
# 0.9 y + 1/N, plus the optional contrastive term); selection on validation.
trainer = Trainer(model, data, regime='kvsall', label_smoothing=0.0,
                  optimizer='adam', lr=3e-3, batch_size=128,
                  epochs=args.epochs, eval_every=5, device='cpu', plot=False)
results = trainer.fit()
print(f"best epoch {results['best_epoch']}: test {results['test']}")

h, r, t = triples(data, 'test')
fi = filter_index(data)
model.eval()
with torch.no_grad():  # Each branch alone (unfiltered tail MRR):
    logits = model.branch_score_tails(h, r)
    for i, name in enumerate(model.branches):
        scores = logits[:, i]
        rank = (scores > scores.gather(1, t.view(-1, 1))).sum(1) + 1
        print(f'{name:>9} branch, unfiltered tail MRR '
              f'{(1.0 / rank.float()).mean():.4f}')

if 'text' in modalities:
    out = modality_ablation(model, h, r, t, filter_index=fi,
                            modalities=['text'], modes=['shuffle'])
    for key, res in out.items():
        print(f"{key:>13}: MRR {float(res['both']['mrr']):.4f}")
