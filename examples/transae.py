r"""TransAE (a multimodal autoencoder whose bottleneck is the entity
embedding, TransE on the codes) on WN9-IMG with MiniLM gloss features as
its text input, against TransE at the same time budget, with the text
shuffled across entities at test, and inductively: entities held out of
training are embedded from their features alone.

Build the data file once (see benchmarks/results/methods.md):

    python benchmarks/methods/prepare_wn9.py --raw ../shared/data/WN9-IMG \
        --root /tmp/mm_bench/WN9-IMG --out /tmp/mm_bench/wn9_text.pt

then, per model and setting (one JSON row each on stdout and in --out):

    python examples/transae.py --model transae --setting transductive \
        --max-time-s 600 --num-threads 1
    python examples/transae.py --model transe --setting inductive ...

TransAE trains with its published recipe (RMSprop 0.01, batch 128, margin
1, beta 0.4, d = 50, Hits@10 selection every 10 epochs); TransE with the
same optimiser, batch, margin, dimension and negatives.
"""
import argparse
import copy
import json
import os.path as osp

import torch

from pyg_mmkg.data.safe_load import safe_torch_load
from pyg_mmkg.data import (filter_index, num_entities, num_relations,
                           triples)
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.nn.kge import TransE
from pyg_mmkg.nn.models import TransAE
from pyg_mmkg.train import Trainer
from pyg_mmkg.train.utils import summarize

parser = argparse.ArgumentParser()
parser.add_argument('--data', default='/tmp/mm_bench/wn9_text.pt')
parser.add_argument('--model', default='transae',
                    choices=['transae', 'transe'])
parser.add_argument('--setting', default='transductive',
                    choices=['transductive', 'inductive'])
parser.add_argument('--held-out', type=int, default=300,
                    help='entities removed from training (inductive)')
parser.add_argument('--max-time-s', type=float, default=None)
parser.add_argument('--epochs', type=int, default=None)
parser.add_argument('--seed', type=int, default=0)
parser.add_argument('--num-threads', type=int, default=1)
parser.add_argument('--out', default=None, help='JSON lines file')
args = parser.parse_args()
torch.set_num_threads(args.num_threads)
if not osp.exists(args.data):
    raise SystemExit(f"'{args.data}' does not exist (see the docstring)")
data = safe_torch_load(args.data)

if args.setting == 'inductive':
    # Hold entities out: every triple touching one is a test triple.
    gen = torch.Generator().manual_seed(args.seed)
    N = data['entity'].num_nodes
    held = torch.zeros(N, dtype=torch.bool)
    held[torch.randperm(N, generator=gen)[:args.held_out]] = True
    store = data['entity', 'to', 'entity']
    touch = held[store.edge_index[0]] | held[store.edge_index[1]]
    data = copy.copy(data)
    edges = data['entity', 'to', 'entity']
    edges.train_mask = store.train_mask & ~touch
    edges.val_mask = store.val_mask & ~touch
    edges.test_mask = touch

torch.manual_seed(args.seed)
options = dict(seed=args.seed, progress=False, plot=False)
if args.max_time_s is not None:
    options['max_time_s'] = args.max_time_s
if args.epochs is not None:
    options['epochs'] = args.epochs
if args.model == 'transae':
    model = TransAE.from_data(data, hidden_channels=50, modalities=('text', ))
    trainer = Trainer(model, data, **options)  # the published recipe
else:
    model = TransE(num_entities(data), num_relations(data), 50, margin=1.0)
    same = dict(regime='slcwa', num_negatives=1, loss='margin', margin=1.0,
                optimizer='rmsprop', lr=0.01, batch_size=128, epochs=2000,
                eval_every=10, metric='hits@10', patience=None)
    trainer = Trainer(model, data, **{**same, **options})
result = trainer.fit()
row = dict(model=args.model, setting=args.setting, seed=args.seed,
           epochs=result['epochs_trained'], best_epoch=result['best_epoch'],
           train_time_s=round(result['train_time_s'], 1),
           test=result['test'])
if args.model == 'transae':
    h, r, t = triples(data, 'test')
    model.eval()
    with model.ablate('text', 'shuffle'):
        row['test_text_shuffled'] = summarize(
            evaluate(model, h, r, t, filter_index=filter_index(data)))
print(json.dumps(row))
if args.out:
    with open(args.out, 'a') as f:
        f.write(json.dumps(row) + '\n')
