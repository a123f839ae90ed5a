r"""MoSE (modality-split ComplEx branches + post-hoc ensembles) on the
bundled VTKG-I with its MiniLM text features (about a minute on a CPU).

    python examples/mose.py [--root DIR] [--epochs 60] [--num-threads N]
"""
import argparse
import os.path as osp
import tempfile

import torch

from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.datasets import VTKG_I
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.nn.models import MoSE
from pyg_mmkg.train import Trainer

parser = argparse.ArgumentParser()
parser.add_argument('--root', default=osp.join(tempfile.gettempdir(),
                                               'pyg_mmkg', 'VTKG-I'))
parser.add_argument('--epochs', type=int, default=60)
parser.add_argument('--dim', type=int, default=64)
parser.add_argument('--num-threads', type=int, default=None,
                    help='torch.set_num_threads (default: the trainer '
                    'uses one thread for graphs this small)')
args = parser.parse_args()
if args.num_threads is not None:
    torch.set_num_threads(args.num_threads)

torch.manual_seed(0)
data = VTKG_I(args.root)[0]
print(data)

# One ComplEx branch per modality, each with its own relation table; the
# text features are frozen buffers. Reciprocal relations answer head
# queries.
model = MoSE.from_data(data, hidden_channels=args.dim,
                       modalities=('structure', 'text'), reciprocal=True)
print(model)

# The trainer calls `model.training_loss` (1-N cross-entropy + N3 per
# branch) and keeps the epoch with the best validation MRR of the average
# ensemble (MoSE-AI).
trainer = Trainer(model, data, regime='1vsall', optimizer='adagrad', lr=0.1,
                  batch_size=256, epochs=args.epochs, eval_every=3,
                  patience=5, progress=False, plot=False)
trainer.fit()

fi = filter_index(data)
val, test = triples(data, 'val'), triples(data, 'test')


def report(name):
    res = evaluate(model, *test, filter_index=fi)['both']
    print(f"{name:22s} test MRR {res['mrr']:.4f}  H@1 {res['hits@1']:.4f}  "
          f"H@10 {res['hits@10']:.4f}  MR {res['mr']:.1f}")


for branch in model.branches:  # Each modality alone.
    model.set_ensemble(branch)
    report(f'branch {branch}')
# The ensembles are fitted on VALIDATION triples only (BI with the official
# selection rule; `rule='unique'` weights each modality once):
for method, name in [('average', 'MoSE-AI'), ('boosting', 'MoSE-BI'),
                     ('meta', 'MoSE-MI')]:
    model.fit_ensemble(*val, method=method, filter_index=fi)
    report(name)
# Choosing among them: fit on 80% of the validation triples and compare on
# the other 20%, which no ensemble was fitted on (`ensemble='auto'` does
# this after training):
chosen = model.select_ensemble(*val, filter_index=fi)
report(f'chosen: {chosen}')

# Proof that the text modality is used: shuffle the features across
# entities and watch the metrics drop.
model.fit_ensemble(*val, method='average')
with model.ablate('text', mode='shuffle'):
    report('MoSE-AI, text shuffled')
