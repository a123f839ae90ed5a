r"""The models, data and configurations of the data-parallel tests, built
identically in the test process (one process) and in the rank processes
of :mod:`ddp_worker` (a uniquely named module, see train_testing)."""
import torch

from pyg_mmkg.nn.kge import DistMult
from pyg_mmkg.train import TrainConfig
from train_testing import synthetic_kg

# Global batch sizes that two ranks cannot split evenly (shards of 18 and
# 19 examples): a loss scale of 1/2 per rank instead of b_k / B shows.
BASE = dict(recipe='none', epochs=1, eval_every=1, patience=None,
            optimizer='sgd', lr=0.5, progress=False, device='cpu', seed=3)

CASES = ('distmult_slcwa', 'complex_kvsall', 'mose_kvsall', 'ikrl_sum',
         'distmult_sparse')


def mm_kg(num_nodes: int = 24, seed: int = 0):
    r"""A small multimodal KG (text and image features)."""
    gen = torch.Generator().manual_seed(seed)
    data = synthetic_kg(num_nodes)
    store = data['entity']
    store.x_text = torch.randn(num_nodes, 8, generator=gen)
    store.has_text = torch.rand(num_nodes, generator=gen) > 0.2
    store.x_image = torch.randn(num_nodes, 2, 6, generator=gen)
    store.image_mask = torch.rand(num_nodes, 2, generator=gen) > 0.3
    store.has_image = store.image_mask.any(1)
    return data


def build(case: str):
    r"""Returns :obj:`(model, data, config)` of a case, seeded."""
    from pyg_mmkg.nn.kge import ComplEx, DistMult
    from pyg_mmkg.nn.models import IKRL, MoSE
    from pyg_mmkg.data import num_entities, num_relations
    torch.manual_seed(0)
    if case == 'distmult_slcwa':
        data = synthetic_kg()
        model = DistMult(num_entities(data), num_relations(data), 8)
        config = TrainConfig(**BASE, regime='slcwa', batch_size=37,
                             num_negatives=3, loss='softplus',
                             regularizer='n3', regularizer_weight=0.1)
    elif case == 'distmult_sparse':  # Sparse gradients (gloo only).
        data = synthetic_kg()
        model = DistMult(num_entities(data), num_relations(data), 8,
                         sparse=True)
        config = TrainConfig(**BASE, regime='slcwa', batch_size=37,
                             num_negatives=3, loss='softplus')
    elif case == 'complex_kvsall':
        data = synthetic_kg()
        model = ComplEx(num_entities(data), num_relations(data), 8,
                        reciprocal=True)
        config = TrainConfig(**BASE, regime='kvsall', batch_size=37,
                             loss='bce')
    elif case == 'mose_kvsall':
        data = mm_kg()
        model = MoSE.from_data(data, hidden_channels=4,
                               init_scale=0.5)
        config = TrainConfig(**BASE, regime='kvsall', batch_size=37)
    elif case == 'ikrl_sum':  # Its loss sums over the batch.
        data = mm_kg()
        model = IKRL.from_data(data, hidden_channels=6,
                               relation_negatives=False, norm_weight=0.0)
        config = TrainConfig(**{**BASE, 'lr': 0.01}, regime='slcwa',
                             batch_size=37, num_negatives=2)
    elif case == 'fit_start_hook':  # Hook weights differ per rank.
        data = synthetic_kg()
        model = NoisyStart(num_entities(data), num_relations(data), 8)
        config = TrainConfig(**BASE, regime='slcwa', batch_size=37)
    else:  # pragma: no cover
        raise ValueError(case)
    return model, data, config


class NoisyStart(DistMult):
    r"""A model whose :obj:`on_fit_start` draws from the global random
    stream, which :class:`DistributedTrainer` decorrelates across ranks."""
    def on_fit_start(self, trainer):
        with torch.no_grad():
            self.node_emb.weight.add_(torch.randn_like(self.node_emb.weight))


def state(model) -> dict:
    r"""A detached copy of the parameters of :obj:`model`."""
    return {k: v.detach().clone() for k, v in model.named_parameters()}


#: A command line trained on 2 ranks and on 1 process (the dataset and
#: run directory are added).
CLI_ARGS = ['train', '--model', 'distmult', '--recipe', 'none', '--regime',
            'slcwa', '--epochs', '2', '--eval-every', '1', '--batch-size',
            '29', '--device', 'cpu', '--num-threads', '1', '--no-progress',
            '--trackers', 'jsonl']


def write_kg_folder(folder) -> None:
    r"""Writes the synthetic KG as a plain TSV folder (for the CLI)."""
    from pyg_mmkg.data import triples
    data = synthetic_kg()
    names, rels = data['entity'].name, data['relation'].name
    folder.mkdir(parents=True, exist_ok=True)
    for split, file in (('train', 'train.txt'), ('val', 'valid.txt'),
                        ('test', 'test.txt')):
        h, r, t = (x.tolist() for x in triples(data, split))
        (folder / file).write_text(''.join(
            f'{names[a]}\t{rels[b]}\t{names[c]}\n'
            for a, b, c in zip(h, r, t)))
