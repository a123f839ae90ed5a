r"""Quickstart: the bundled VTKG-I as a PyG HeteroData, a PyG-compatible KGE
model, the trainer, and filtered head+tail evaluation (about 20 s on a CPU).

    python examples/quickstart.py [--num-threads N]
"""
import argparse
import os.path as osp
import tempfile

import torch

from pyg_mmkg.data import filter_index, train_graph, triples
from pyg_mmkg.datasets import VTKG_I
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.nn.kge import ComplEx
from pyg_mmkg.train import Trainer

parser = argparse.ArgumentParser()
parser.add_argument('--num-threads', type=int, default=None,
                    help='torch.set_num_threads (default: the trainer '
                    'uses one thread for graphs this small)')
args = parser.parse_args()
if args.num_threads is not None:
    torch.set_num_threads(args.num_threads)
torch.manual_seed(0)

dataset = VTKG_I(osp.join(tempfile.gettempdir(), 'pyg_mmkg', 'VTKG-I'))
data = dataset[0]
print(data)
print('entity text features:', tuple(data['entity'].x_text.shape),
      'from', data.feature_encoders['entity.x_text'])

h, r, t = triples(data, 'train')
edge_index, edge_type = train_graph(data)  # train edges only (+ inverses)
print(f'{h.numel()} training triples; message-passing graph with '
      f'{edge_index.size(1)} edges of {int(edge_type.max()) + 1} types')

# A drop-in for torch_geometric.nn.ComplEx that also scores 1-N.
model = ComplEx(data['entity'].num_nodes, dataset.num_relations,
                hidden_channels=128, reciprocal=True)
trainer = Trainer(model, data, regime='kvsall', loss='bce',
                  label_smoothing=0.1, lr=0.01, batch_size=256, epochs=60,
                  eval_every=5, patience=5, progress=False, plot=False)
results = trainer.fit()
print('selected epoch (validation MRR):', results['best_epoch'])

# Filtered (train + valid + test) head and tail ranking, realistic ties.
result = evaluate(model, *triples(data, 'test'), filter_index=filter_index(data),
                  rank_types=('realistic', 'optimistic', 'pessimistic'))
print(result)
