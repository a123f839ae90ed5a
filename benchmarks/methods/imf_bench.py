r"""IMF on MKG-W / MKG-Y / DB15K / WN9-IMG under a wall-clock budget:
structure only, or structure + text, with the eval-time text-shuffle
ablation and, optionally, a model trained on shuffled text
(``--train-shuffle-text``, the control for what the text carries). No
images. The text is

* MKG-Y / DB15K: the entity *names* encoded by all-MiniLM-L6-v2;
* MKG-W: the DBpedia names of its Wikidata entities (K-ON's ``ent_links``,
  read by the loader into ``data['entity'].text``), encoded the same way;
* WN9-IMG: the MiniLM features of the WordNet glosses, read from the graph
  written by ``prepare_wn9.py`` (``--text-features``), matched by entity
  name;
* any graph file with its own text features (``--data``, e.g. FB15k-237
  from ``fb15k237_prepare.py``, MiniLM of "name: description").

KvsAll with reciprocal relations, selection on validation MRR, test
evaluated once on the selected checkpoint; the same budget and optimiser
as the TuckER rows of ``mkg_structure.py``.

Usage (from the repository root; data in ``../shared/data``)::

    python benchmarks/methods/imf_bench.py --dataset MKG-Y \
        --root /tmp/imf/MKG-Y --stage --setting structure+text \
        --loss ce --max-time-s 900 --out ROWS.jsonl
    python benchmarks/methods/prepare_wn9.py --raw ../shared/data/WN9-IMG \
        --root /tmp/imf/wn9prep --out /tmp/imf/wn9_text.pt
    python benchmarks/methods/imf_bench.py --dataset WN9-IMG \
        --root /tmp/imf/WN9-IMG --stage --setting structure+text \
        --text-features /tmp/imf/wn9_text.pt --loss ce --dim 64 \
        --max-time-s 600 --out ROWS.jsonl
    python benchmarks/methods/imf_bench.py --data fb15k237_text.pt \
        --name FB15k-237 --setting structure+text --loss ce \
        --max-time-s 900 --out ROWS.jsonl
"""
import argparse
import json
import os.path as osp
import time

import torch

from pyg_mmkg.nn.models import IMF
from pyg_mmkg.train import TrainConfig, Trainer
from pyg_mmkg.train.run import load_data

# Siblings in benchmarks/methods/:
from ablation import shuffled_test_metrics
from mkg_structure import FILES, SHARED, stage


def name_text(name: str) -> str:
    r"""Readable text of an entity name: the last path segment of a URI,
    underscores as spaces (``<http://dbpedia.org/resource/Anarchism>`` ->
    ``Anarchism``, ``Count_Max_(1991_film)`` -> ``Count Max (1991 film)``).
    """
    name = name.strip().strip('<>')
    return name.rsplit('/', 1)[-1].replace('_', ' ')


def permute_text(data, seed: int) -> None:
    r"""Permutes the rows of ``data['entity'].x_text`` (and ``has_text``)
    across the entities with a seeded random permutation: the text model is
    then trained on text that belongs to other entities.

    Args:
        data (HeteroData): The graph with text features.
        seed (int): The seed of the permutation.
    """
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(data['entity'].num_nodes, generator=gen)
    data['entity'].x_text = data['entity'].x_text[perm]
    if 'has_text' in data['entity']:
        data['entity'].has_text = data['entity'].has_text[perm]


def attach_name_text(data, cache_dir: str) -> None:
    r"""Encodes the entity names with MiniLM into ``data['entity'].x_text``
    (cached in :obj:`cache_dir`). MKG-W's entities are Wikidata ids: their
    names are the DBpedia names the loader reads from ``ent_links``
    (``data['entity'].text``); the other datasets' names come from their
    URIs (:func:`name_text`).

    Args:
        data (HeteroData): The graph; its entities need names.
        cache_dir (str): The feature cache folder.
    """
    from pyg_mmkg.features import attach_features
    from pyg_mmkg.features.hf import HFTextEncoder, minilm_path
    names = data['entity'].name
    if str(names[0]).startswith('http://www.wikidata.org/'):
        if 'text' not in data['entity']:
            raise SystemExit('MKG-W names need ent_links (staged by --stage)')
        texts = list(data['entity'].text)
    else:
        texts = [name_text(n) for n in names]
    attach_features(data, text_encoder=HFTextEncoder(minilm_path()),
                    entity_texts=texts, cache_dir=cache_dir, batch_size=256,
                    progress=False)


def attach_saved_text(data, path: str) -> None:
    r"""Copies ``entity.x_text`` (and ``has_text``) from a saved graph (the
    output of ``prepare_wn9.py``) into :obj:`data`, matching the entities
    by name, so that the features follow :obj:`data`'s entity order.

    Args:
        data (HeteroData): The graph to fill.
        path (str): The saved graph with text features.

    Raises:
        ValueError: If an entity of :obj:`data` has no row in the file.
    """
    from pyg_mmkg.data.safe_load import safe_torch_load
    saved = safe_torch_load(path)
    pos = {n: i for i, n in enumerate(saved['entity'].name)}
    names = list(data['entity'].name)
    missing = [n for n in names if n not in pos]
    if missing:
        raise ValueError(f"{len(missing)} entities of the dataset have no "
                         f"text features in '{path}', e.g. {missing[:3]}")
    idx = torch.tensor([pos[n] for n in names])
    data['entity'].x_text = saved['entity'].x_text[idx].float()
    if 'has_text' in saved['entity']:
        data['entity'].has_text = saved['entity'].has_text[idx].bool()


def load_graph(args, modalities, error=None):
    r"""The graph of ``--dataset`` (text: ``--text-features`` or the
    MiniLM-encoded names) or of ``--data`` (text: the file's own
    ``x_text``), with the text rows permuted when ``--train-shuffle-text``
    is given.

    Args:
        args (argparse.Namespace): The parsed command line.
        modalities (list of str): The modalities of the run.
        error (callable, optional): Reports a command-line error.
    """
    if args.data is not None:
        data = load_data(args.data, modalities=modalities)
        if 'text' in modalities:
            if 'x_text' not in data['entity']:
                raise ValueError(f"'{args.data}' holds no "
                                 f"data['entity'].x_text")
            if args.train_shuffle_text:
                permute_text(data, 1000 + args.seed)
        return data
    if args.root is None:
        raise ValueError('--dataset needs --root')
    if args.stage:
        stage(args.dataset, args.root, args.shared)
    data = load_data(args.dataset, root=args.root, modalities=['structure'])
    if 'text' in modalities:
        if args.text_features:
            attach_saved_text(data, args.text_features)
        elif args.dataset == 'WN9-IMG':
            msg = ('WN9-IMG text comes from --text-features (the graph '
                   'written by prepare_wn9.py); its names are WordNet ids')
            if error is None:
                raise ValueError(msg)
            error(msg)
        else:
            attach_name_text(data, osp.join(args.root, 'feature_cache'))
        if args.train_shuffle_text:
            permute_text(data, 1000 + args.seed)
    return data


def build_parser():
    r"""The command line parser."""
    p = argparse.ArgumentParser()
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--dataset', choices=sorted(FILES))
    src.add_argument('--data', default=None,
                     help='a graph file saved with torch.save(data) (e.g. '
                     'by fb15k237_prepare.py); text = its x_text')
    p.add_argument('--name', default=None,
                   help="the row's dataset label (default: --dataset, or "
                   "the --data file's stem)")
    p.add_argument('--root', default=None)
    p.add_argument('--stage', action='store_true')
    p.add_argument('--shared', default=SHARED)
    p.add_argument('--setting', default='structure',
                   choices=['structure', 'structure+text'])
    p.add_argument('--text-features', default=None,
                   help='saved graph with entity.x_text (prepare_wn9.py '
                   'output); default: MiniLM-encoded entity names')
    p.add_argument('--train-shuffle-text', action='store_true')
    p.add_argument('--loss', choices=['bce', 'ce'], default='ce')
    p.add_argument('--dim', type=int, default=128)
    p.add_argument('--batch-size', type=int, default=256)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--contrastive-weight', type=float, default=0.0)
    p.add_argument('--epochs', type=int, default=500)
    p.add_argument('--eval-every', type=int, default=2)
    p.add_argument('--patience', type=int, default=5)
    p.add_argument('--max-time-s', type=float, default=900)
    p.add_argument('--shuffle-seeds', type=int, default=3)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--run-dir', default='runs/imf')
    p.add_argument('--out', required=True, help='JSON lines, appended')
    return p


def fit_imf(model, data, args, name: str):
    r"""Trains :obj:`model` with the benchmark's IMF configuration (KvsAll,
    Adam, the trainer's label smoothing 0 since IMF applies its own
    :math:`0.9 y + 1/N` targets) and the budget of :obj:`args`; returns the
    trainer, its results and the row fields every IMF benchmark records
    (test metrics, validation MRR, epochs, times).

    Args:
        model (IMF): The model.
        data (HeteroData): The graph.
        args (argparse.Namespace): :obj:`lr`, :obj:`batch_size`,
            :obj:`epochs`, :obj:`eval_every`, :obj:`patience`,
            :obj:`max_time_s`, :obj:`seed` and :obj:`run_dir`.
        name (str): The run folder's name under :obj:`args.run_dir`.
    """
    config = TrainConfig(
        regime='kvsall', optimizer='adam', lr=args.lr,
        batch_size=args.batch_size, epochs=args.epochs, label_smoothing=0.0,
        eval_every=args.eval_every, patience=args.patience,
        max_time_s=args.max_time_s, progress=False, device='cpu',
        seed=args.seed, eval_batch_size=512)
    trainer = Trainer(model, data, config, plot=False,
                      run_dir=osp.join(args.run_dir, name))
    t0 = time.perf_counter()
    res = trainer.fit()
    wall = time.perf_counter() - t0
    times = [m['time/epoch_s'] for m in trainer.history]
    fitted = {
        'test': {k: res['test'][k]
                 for k in ('mrr', 'hits@1', 'hits@3', 'hits@10', 'mr')},
        'val_mrr': res['val']['mrr'],
        'best_epoch': res['best_epoch'],
        'epochs': res['epochs_trained'],
        'train_s': res['train_time_s'],
        'epoch_s_mean': sum(times) / max(len(times), 1),
        'wall_s': wall,
    }
    return trainer, res, fitted


def parse_args(argv=None):
    r"""The parsed command line.

    Args:
        argv (list of str, optional): The arguments (default:
            :obj:`sys.argv[1:]`).
    """
    return build_parser().parse_args(argv)


def main(argv=None):
    r"""Trains and evaluates one IMF run; appends its row to ``--out``.

    Args:
        argv (list of str, optional): The arguments.
    """
    p = build_parser()
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    dataset = args.name or args.dataset or osp.splitext(
        osp.basename(args.data))[0]

    modalities = args.setting.split('+')
    data = load_graph(args, modalities, p.error)
    torch.manual_seed(args.seed)
    model = IMF.from_data(data, hidden_channels=args.dim,
                          modalities=modalities, branch_loss=args.loss,
                          contrastive_weight=args.contrastive_weight)
    name = (f'{dataset}-imf-{args.setting}'
            f'{"-trainshuf" if args.train_shuffle_text else ""}-'
            f'{args.loss}-d{args.dim}-s{args.seed}')
    trainer, res, fitted = fit_imf(model, data, args, name)
    test = res['test']
    row = {
        'dataset': dataset, 'model': 'imf', 'setting': args.setting,
        'train_shuffle_text': args.train_shuffle_text, 'loss': args.loss,
        'args': vars(args),
        'text': (None if 'text' not in modalities else
                 'file' if args.data else 'saved' if args.text_features
                 else 'minilm-names'),
        **fitted,
        'test_head_mrr': test['head_mrr'],
        'test_tail_mrr': test['tail_mrr'],
        'steps_per_epoch': len(trainer.batches),
        'num_parameters': sum(p.numel() for p in model.parameters()),
    }
    if 'text' in modalities:
        shuffled = shuffled_test_metrics(model, data, 'text',
                                         args.shuffle_seeds)
        row['test_eval_text_shuffle'] = {
            k: shuffled[k] for k in ('mrr', 'hits@1', 'hits@3', 'hits@10')}
    print(json.dumps(row), flush=True)
    with open(args.out, 'a') as f:
        f.write(json.dumps(row) + '\n')


if __name__ == '__main__':
    main()
