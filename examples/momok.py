r"""Train MoMoK (mixture of modality knowledge experts) on VTKG-I with
structure + text and show each branch's decision and the text-shuffle
ablation.

    python examples/momok.py --epochs 30

The official recipes (``MoMoK.recipes``: DB15K, MKG-W, MKG-Y; KvsAll BCE
with label smoothing 0.1, Adam, batch 1024, 2000 epochs) are sized for GPUs;
this example keeps the official regime and loss with a small model and
budget. The same from the command line (the model's own loss, per-branch
BCE plus mu * CLUB with the estimator's own Adam step, is used by the
trainer):

    pyg-mmkg train --dataset VTKG-I --model momok --dim 128 \
        --regime kvsall --label-smoothing 0.1 --lr 1e-3 --batch-size 128 \
        --epochs 100 --eval-every 5 --model-kwargs '{"mu": 1e-4}'
"""
import argparse

import torch

from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.datasets import VTKG_I
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.nn.models import MoMoK, modality_ablation
from pyg_mmkg.train import Trainer

parser = argparse.ArgumentParser()
parser.add_argument('--root', default='data/VTKG-I')
parser.add_argument('--epochs', type=int, default=30)
parser.add_argument('--modalities', default='structure,text')
parser.add_argument('--num-threads', type=int, default=None,
                    help='torch.set_num_threads (default: the trainer '
                    'uses one thread for graphs this small)')
args = parser.parse_args()
if args.num_threads is not None:
    torch.set_num_threads(args.num_threads)

data = VTKG_I(args.root)[0]
modalities = args.modalities.split(',')
torch.manual_seed(0)
print(MoMoK.recipes[None].describe())
# The official architecture (3 experts per modality, one shared relation
# temperature, shared fusion attention, mu = 1e-4), smaller:
model = MoMoK.from_data(data, hidden_channels=64, modalities=modalities,
                        num_experts=3, mu=1e-4, estimator_lr=1e-3,
                        decision_loss='bce')
print(model, 'branches:', model.branches)

trainer = Trainer(model, data, regime='kvsall', label_smoothing=0.1,
                  lr=1e-3, batch_size=128, epochs=args.epochs, eval_every=5,
                  device='cpu', plot=False)
results = trainer.fit()
print(f"best epoch {results['best_epoch']}: test {results['test']}")

# Each branch alone (its TuckER decision) vs. the joint decision:
h, r, t = triples(data, 'test')
fi = filter_index(data)
model.eval()
with torch.no_grad():
    logits = model.branch_score_tails(h, r)
    for name, scores in zip(model.branches, logits):
        rank = (scores > scores.gather(1, t.view(-1, 1))).sum(1) + 1
        print(f'{name:>9} branch, unfiltered tail MRR '
              f'{(1.0 / rank.float()).mean():.4f}')

if 'text' in modalities:
    out = modality_ablation(model, h, r, t, filter_index=fi,
                            modalities=['text'], modes=['shuffle'])
    for key, res in out.items():
        print(f"{key:>13}: MRR {float(res['both']['mrr']):.4f}")
else:
    print(evaluate(model, h, r, t, filter_index=fi))
