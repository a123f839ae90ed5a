r"""LiteralE (DistMult or ComplEx with numeric literals through a gate) on
FB15k-237 with the MMKB FB15K numeric literals, trained with the published
recipe (KvsAll BCE, Adam 1e-3, batch 128, d = 200, input dropout 0.2), and
evaluated with the literals shuffled across entities.

Build the data file once:

    python benchmarks/methods/literale_prepare.py \
        --raw ../shared/data/FB15k-237 \
        --literals ../shared/data/MMKB/FB15K/FB15K_NumericalTriples.txt.gz \
        --root /tmp/mm_bench/FB15k-237 --out /tmp/mm_bench/fb15k237_num.pt

then (a full recipe run takes hours on a CPU; --max-time-s caps it):

    python examples/literale.py --data /tmp/mm_bench/fb15k237_num.pt \
        --num-threads 1 --max-time-s 600
"""
import argparse
import os.path as osp

import torch

from pyg_mmkg.data.safe_load import safe_torch_load
from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.nn.models import LiteralE
from pyg_mmkg.train import Trainer

parser = argparse.ArgumentParser()
parser.add_argument('--data', default='/tmp/mm_bench/fb15k237_num.pt')
parser.add_argument('--scorer', default='distmult',
                    choices=['distmult', 'complex'])
parser.add_argument('--gate', default='gated', choices=['gated', 'linear'])
parser.add_argument('--epochs', type=int, default=None,
                    help='default: the recipe (100)')
parser.add_argument('--batch-size', type=int, default=None,
                    help='default: the recipe (128)')
parser.add_argument('--max-time-s', type=float, default=None)
parser.add_argument('--num-threads', type=int, default=1)
args = parser.parse_args()
torch.set_num_threads(args.num_threads)

if not osp.exists(args.data):
    raise SystemExit(f"'{args.data}' does not exist; build it with "
                     f"benchmarks/methods/literale_prepare.py (see above)")
data = safe_torch_load(args.data)
torch.manual_seed(0)
model = LiteralE.from_data(data, hidden_channels=200, scorer=args.scorer,
                           gate=args.gate)
options = {k: v for k, v in dict(epochs=args.epochs,
                                 batch_size=args.batch_size,
                                 max_time_s=args.max_time_s).items()
           if v is not None}
trainer = Trainer(model, data, eval_every=1, progress=False, plot=False,
                  **options)  # every other option: the published recipe
print(trainer.recipe.describe())
result = trainer.fit()
print(f"{model}\n  test MRR {result['test']['mrr']:.4f}")

h, r, t = triples(data, 'test')
fi = filter_index(data)
model.eval()
for mode in ['shuffle', 'zero']:
    with model.ablate('numeric', mode):
        res = evaluate(model, h, r, t, filter_index=fi)['both']
    print(f"  literals {mode}: test MRR {float(res['mrr']):.4f}")
