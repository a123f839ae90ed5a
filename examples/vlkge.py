r"""VL-KGE (frozen text features averaged with a structural embedding,
scored by DistMult) on the bundled VTKG-I, transductive and inductive
(about a minute on a CPU).

    python examples/vlkge.py [--root DIR] [--epochs 30] [--num-threads 1]

The text ablation shuffles the text features among entities (five
permutations) and prints what the numbers show: whether shuffling lowers
the test MRR by more than the spread of the permutations. On VTKG-I with
30 epochs (one thread) it does not: 0.316 with text, 0.340 +- 0.014 with
the text shuffled, 0.232 without text, so the transductive gain over
structure-only does not come from entity-specific text. For entities
unseen in training (the inductive part), the text model reaches 0.160
against 0.055 without text.
"""
import argparse
import copy
import os.path as osp
import tempfile

import torch

from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.datasets import VTKG_I
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.nn.models import VLKGE
from pyg_mmkg.train import Trainer

parser = argparse.ArgumentParser()
parser.add_argument('--root', default=osp.join(tempfile.gettempdir(),
                                               'pyg_mmkg', 'VTKG-I'))
parser.add_argument('--epochs', type=int, default=30)
parser.add_argument('--scorer', default='distmult',
                    choices=['transe', 'distmult', 'complex', 'rotate'])
parser.add_argument('--num-threads', type=int, default=None,
                    help='torch.set_num_threads (default: the trainer\'s '
                    'choice for the graph size)')
args = parser.parse_args()
if args.num_threads is not None:
    torch.set_num_threads(args.num_threads)

data = VTKG_I(args.root)[0]
fi = filter_index(data)
config = dict(regime='slcwa', num_negatives=32, filtered_negatives=True,
              optimizer='adagrad', lr=0.1, batch_size=512,
              epochs=args.epochs, eval_every=5, patience=3, progress=False,
              plot=False)


def train(data, modalities, inductive=False):
    torch.manual_seed(0)
    # d = 384 = size of the MiniLM features: no projection is learned (for
    # ComplEx/RotatE, d is the rank and the features fill the real part).
    # inductive=True: entities outside the training triples get no
    # structural embedding (the official WikiArt setting).
    model = VLKGE.from_data(data, hidden_channels=384, scorer=args.scorer,
                            modalities=modalities, inductive=inductive)
    Trainer(model, data, **config).fit()  # logistic loss (model hook)
    return model


def mrr(model, split_triples):
    return evaluate(model, *split_triples, filter_index=fi)['both']['mrr']


test = triples(data, 'test')
results = {}
for modalities in [('structure', ), ('structure', 'text')]:
    model = train(data, modalities)
    results[modalities] = mrr(model, test)
    print(f'{model}\n  test MRR {results[modalities]:.4f}')
with_text = results[('structure', 'text')]
shuffled = []
for seed in range(5):  # Several permutations: one can be lucky.
    with model.ablate('text', mode='shuffle', seed=seed):
        shuffled.append(mrr(model, test))
shuffled = torch.tensor(shuffled)
print(f'  text shuffled among entities (5 permutations): test MRR '
      f'{shuffled.mean():.4f} +- {shuffled.std():.4f}')
# Say only what these numbers show.
loss = with_text - float(shuffled.mean())
if loss > 2 * float(shuffled.std()) and loss > 0.005:
    print(f'  -> the model uses entity-specific text: shuffling it costs '
          f'{loss:.4f} MRR')
else:
    print(f'  -> shuffling the text does not lower the MRR ({-loss:+.4f}): '
          f'this run gives no evidence that the model uses entity-specific '
          f'text; its difference to structure-only '
          f'({with_text - results[("structure", )]:+.4f}) does not come '
          f'from matching texts to entities')

# Inductive: hold 15 entities out of training; their test triples are
# answered from the text features alone.
gen = torch.Generator().manual_seed(0)
held = torch.randperm(data['entity'].num_nodes, generator=gen)[:15]
is_held = torch.zeros(data['entity'].num_nodes, dtype=torch.bool)
is_held[held] = True
store = data['entity', 'to', 'entity']
touches = is_held[store.edge_index[0]] | is_held[store.edge_index[1]]
inductive = copy.copy(data)
inductive['entity', 'to', 'entity'].train_mask = store.train_mask & ~touches
inductive['entity', 'to', 'entity'].val_mask = store.val_mask & ~touches
inductive['entity', 'to', 'entity'].test_mask = touches
unseen = triples(inductive, 'test')
print(f'inductive: {unseen[0].numel()} test triples touch an entity unseen '
      f'in training')
for modalities in [('structure', ), ('structure', 'text')]:
    model = train(inductive, modalities, inductive=True)
    print(f'  {modalities}: test MRR {mrr(model, unseen):.4f}')
