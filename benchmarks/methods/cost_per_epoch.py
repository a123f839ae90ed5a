r"""Training cost per epoch of RSME, OTKGE, IMF, ComplEx-N3 and TuckER on
WN9-IMG with the MiniLM gloss text, measured side by side in one process
on one thread, so that the ratios between the rows are meaningful.

Every model is built and trained by the library
(:meth:`pyg_mmkg.train.Trainer.from_config`, which applies the model's
published recipe to every field not set here, and
:meth:`~pyg_mmkg.train.Trainer.training_step`: encode, loss, backward,
optimiser step). For each model, size and batch size, the script runs
``--warmup`` steps, then times ``--steps`` steps (CPU seconds of this
process and wall seconds), and extrapolates to one epoch as the mean step
time times the number of steps of an epoch (``len(trainer.batches)``: the
1vsAll regime passes over train plus its reciprocal copies, 23,482
queries on WN9-IMG; KvsAll over the distinct (head, relation) queries of
both directions). Evaluation is not included.

Each model is measured at its published batch size and at one common
batch size (``--common-batch``). OTKGE's Sinkhorn share is the time spent
in :meth:`~pyg_mmkg.nn.models.OTKGE.refresh_plans` (the plan refresh of
the published setting: every step, K = 10 entities) during the timed
steps, over the time of those steps.

WN9-IMG has no image features here, so RSME's single image slot holds
the entity's 384-d MiniLM gloss vector (the cost of its projection grows
with the feature size; ``--rsme-image-dim 4096`` adds a row with random
4096-d features, the size of a VGG fc7 vector, for the cost only).

From the repository root (data in ``../shared/data``; the MiniLM gloss
features are encoded into ``--work`` on the first call when ``--data`` is
absent)::

    python benchmarks/methods/cost_per_epoch.py \
        --out benchmarks/results/cost_per_epoch_wn9.json
"""
import argparse
import json
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

import torch

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.dirname(HERE))
from _paths import shared_root  # noqa: E402

from pyg_mmkg.data.safe_load import safe_torch_load  # noqa: E402
from pyg_mmkg.train import TrainConfig, Trainer  # noqa: E402

# name: (TrainConfig fields, published batch, where the batch comes from).
# Recipes of RSME, OTKGE and IMF come from the library (Trainer applies
# them); ComplEx-N3 and TuckER have none in the library, so their fields
# are set here.
MODELS: Dict[str, Dict[str, Any]] = {
    'rsme': dict(
        config=dict(model='rsme', modalities=['structure', 'image']),
        batch=1000, source='RSME recipe (wangmengsd/RSME)'),
    'otkge-structure+text': dict(
        config=dict(model='otkge', modalities=['structure', 'text']),
        batch=2000, source='OTKGE recipe, WN9-IMG command'),
    'otkge-structure': dict(
        config=dict(model='otkge', modalities=['structure']),
        batch=2000, source='OTKGE recipe, WN9-IMG command'),
    'imf-structure': dict(
        config=dict(model='imf', modalities=['structure'],
                    model_kwargs=dict(branch_loss='ce')),
        batch=256, source='IMF recipe (main.py defaults)'),
    'imf-structure+text': dict(
        config=dict(model='imf', modalities=['structure', 'text'],
                    model_kwargs=dict(branch_loss='ce')),
        batch=256, source='IMF recipe (main.py defaults)'),
    'complex-n3': dict(
        config=dict(model='complex', regime='1vsall', loss='ce',
                    label_smoothing=0.0, regularizer='n3',
                    regularizer_weight=5e-3, optimizer='adagrad', lr=0.1),
        batch=1000, source='kbc-style 1vsAll CE + N3, Adagrad 0.1 '
        '(RSME\'s structure-only control); no library recipe'),
    'tucker': dict(
        # As mkg_structure.py: the trainer applies the smoothing.
        config=dict(model='tucker', regime='kvsall', loss='bce',
                    label_smoothing=0.1, optimizer='adam', lr=5e-4,
                    model_kwargs=dict(label_smoothing=0.0)),
        batch=128, source='TuckER paper (KvsAll BCE, smoothing 0.1, '
        'Adam, batch 128); no library recipe'),
}


def build_data(data_path: str, raw: str, work: str) -> str:
    r"""Returns :obj:`data_path`, first writing it with ``prepare_wn9.py``
    (after encoding the glosses with ``text_features.py`` into
    :obj:`work`) when it does not exist.

    Args:
        data_path (str): The WN9-IMG graph with MiniLM gloss features.
        raw (str): The raw WN9-IMG folder (its parent holds WN18RR and
            WN18, the gloss sources).
        work (str): A scratch folder for the feature cache.
    """
    if osp.isfile(data_path):
        return data_path
    os.makedirs(work, exist_ok=True)
    cache = osp.join(work, 'features')
    py = sys.executable
    subprocess.run([py, osp.join(osp.dirname(HERE), 'features',
                                 'text_features.py'),
                    '--datasets', 'WN9-IMG', '--data-dir', osp.dirname(raw),
                    '--cache-dir', cache, '--threads', '1',
                    '--results', osp.join(work, 'features.md')], check=True)
    subprocess.run([py, osp.join(HERE, 'prepare_wn9.py'), '--raw', raw,
                    '--root', osp.join(work, 'WN9-IMG'), '--out', data_path,
                    '--features', osp.join(
                        cache, 'WN9-IMG.hf-mean_all-MiniLM-L6-v2_last.pt')],
                   check=True)
    return data_path


def with_image_slot(data: Any, dim: Optional[int]) -> Any:
    r"""A shallow copy of :obj:`data` whose ``entity.x_image`` is the text
    vector (:obj:`dim` ``None``) or a random :obj:`dim`-d vector.

    Args:
        data (HeteroData): WN9-IMG with ``entity.x_text``.
        dim (int, optional): The size of random image features.
    """
    import copy
    out = copy.copy(data)
    x = data['entity'].x_text
    if dim is not None:
        gen = torch.Generator().manual_seed(0)
        x = torch.rand(x.size(0), dim, generator=gen)
    out['entity'].x_image = x.float()
    out['entity'].has_image = torch.ones(x.size(0), dtype=torch.bool)
    return out


def measure(name: str, data: Any, dim: int, batch: int, steps: int,
            warmup: int) -> Dict[str, Any]:
    r"""Times :obj:`steps` training steps of one model (after
    :obj:`warmup` untimed ones) and extrapolates them to an epoch.

    Args:
        name (str): A key of :obj:`MODELS` (or ``rsme-<dim>d``).
        data (HeteroData): The graph.
        dim (int): The model size (:obj:`hidden_channels`).
        batch (int): The batch size.
        steps (int): The timed steps.
        warmup (int): The untimed steps before them.
    """
    spec = MODELS[name.split(':')[0]]
    fields = dict(spec['config'])
    fields.update(dim=dim, batch_size=batch, seed=0, device='cpu',
                  progress=False, dataset='WN9-IMG')
    trainer = Trainer.from_config(TrainConfig(**fields), data=data,
                                  plot=False)
    model = trainer.model
    sinkhorn = [0.0, 0.0]  # CPU s, wall s inside refresh_plans
    if hasattr(model, 'refresh_plans'):
        inner = model.refresh_plans

        def timed_refresh(ent_s):
            c, w = time.process_time(), time.perf_counter()
            inner(ent_s)
            sinkhorn[0] += time.process_time() - c
            sinkhorn[1] += time.perf_counter() - w

        model.refresh_plans = timed_refresh
    model.train()
    it = iter(trainer.batches)

    def next_batch():
        nonlocal it
        try:
            return next(it)
        except StopIteration:
            it = iter(trainer.batches)
            return next(it)

    for _ in range(warmup):
        trainer.training_step(next_batch())
    sinkhorn[:] = [0.0, 0.0]
    cpu, wall = [], []
    for _ in range(steps):
        b = next_batch()
        c, w = time.process_time(), time.perf_counter()
        loss = trainer.training_step(b)
        float(loss)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    n_steps = len(trainer.batches)
    row = dict(
        model=name, dim=dim, batch_size=trainer.config.batch_size,
        published_batch=spec['batch'], regime=trainer.config.regime,
        optimizer=trainer.config.optimizer,
        num_parameters=sum(p.numel() for p in model.parameters()
                           if p.requires_grad),
        steps_per_epoch=n_steps, timed_steps=steps,
        step_cpu_s=statistics.mean(cpu),
        step_cpu_s_median=statistics.median(cpu),
        step_wall_s=statistics.mean(wall),
        epoch_cpu_s=statistics.mean(cpu) * n_steps,
        epoch_wall_s=statistics.mean(wall) * n_steps,
        source=spec['source'])
    if hasattr(model, 'refresh_plans') and model.feature_modalities:
        row.update(sinkhorn_cpu_share=sinkhorn[0] / sum(cpu),
                   sinkhorn_wall_share=sinkhorn[1] / sum(wall))
    print(json.dumps(row), flush=True)
    return row


def table(path: str) -> str:
    r"""The markdown table of a JSON file written by this script: one line
    per model, size and batch, with CPU seconds per step and per epoch and
    the epoch cost relative to ComplEx-N3 at the same size and batch
    kind (published or common).

    Args:
        path (str): The JSON file.
    """
    with open(path) as f:
        rows = json.load(f)['rows']

    def kind(r):
        return 'published' if r['batch_size'] == r['published_batch'] \
            else 'common'

    ref = {(r['dim'], kind(r)): r['epoch_cpu_s'] for r in rows
           if r['model'] == 'complex-n3'}
    out = ['| model | d | batch | steps / epoch | params | CPU s / step '
           '| CPU s / epoch | × ComplEx-N3 | wall s / epoch | Sinkhorn share |',
           '|---|---|---|---|---|---|---|---|---|---|']
    for r in sorted(rows, key=lambda r: (kind(r) != 'published', r['dim'],
                                         list(MODELS).index(r['model']))):
        name = r['model']
        if name == 'rsme':
            name += f" ({r.get('image_slot', '')})"
        share = r.get('sinkhorn_cpu_share')
        rel = ref.get((r['dim'], kind(r)))
        rel = '' if rel is None else f"{r['epoch_cpu_s'] / rel:.1f}"
        share = '' if share is None else f'{100 * share:.0f} %'
        out.append(
            f"| {name} | {r['dim']} | {r['batch_size']} ({kind(r)}) | "
            f"{r['steps_per_epoch']} | {r['num_parameters'] / 1e6:.2f} M | "
            f"{r['step_cpu_s']:.3f} | {r['epoch_cpu_s']:.1f} | "
            f"{rel} | {r['epoch_wall_s']:.1f} | {share} |")
    return '\n'.join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--table', default=None,
                   help='print the markdown table of this JSON file and exit')
    p.add_argument('--raw', default=osp.join(shared_root(), 'data',
                                             'WN9-IMG'))
    p.add_argument('--work', default=osp.join('runs', 'cost_per_epoch'))
    p.add_argument('--data', default=None,
                   help='WN9-IMG graph with MiniLM gloss features '
                   '(prepare_wn9.py output); default: WORK/wn9_text.pt')
    p.add_argument('--dims', default='64,100')
    p.add_argument('--common-batch', type=int, default=512)
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--models', default=','.join(MODELS))
    p.add_argument('--rsme-image-dim', type=int, default=None,
                   help='also time RSME with random image features of '
                   'this size')
    p.add_argument('--out', default=osp.join(
        osp.dirname(osp.dirname(HERE)), 'benchmarks', 'results',
        'cost_per_epoch_wn9.json'))
    args = p.parse_args()
    if args.table:
        print(table(args.table))
        return
    torch.set_num_threads(1)
    path = build_data(args.data or osp.join(args.work, 'wn9_text.pt'),
                      args.raw, args.work)
    data = safe_torch_load(path)
    rsme_data = {None: with_image_slot(data, None)}
    names: List[str] = args.models.split(',')
    if args.rsme_image_dim:
        rsme_data[args.rsme_image_dim] = with_image_slot(
            data, args.rsme_image_dim)
    load = [os.getloadavg()]
    t0 = time.perf_counter()
    rows = []
    for dim in map(int, args.dims.split(',')):
        for name in names:
            for batch in dict.fromkeys([MODELS[name]['batch'],
                                        args.common_batch]):
                variants = [None]
                if name == 'rsme' and args.rsme_image_dim:
                    variants.append(args.rsme_image_dim)
                for v in variants:
                    g = rsme_data[v] if name == 'rsme' else data
                    row = measure(name, g, dim, batch, args.steps,
                                  args.warmup)
                    row['feature_dim'] = (
                        None if 'text' not in name and name != 'rsme'
                        else g['entity'].x_text.size(-1) if v is None
                        else v)
                    if name == 'rsme':
                        row['image_slot'] = ('MiniLM text' if v is None
                                             else f'random {v}-d')
                    rows.append(row)
            load.append(os.getloadavg())
    meta = dict(
        data='WN9-IMG + MiniLM gloss features (384-d), 6,555 entities, '
        '11,741 training triples', threads=torch.get_num_threads(),
        torch=torch.__version__, machine=platform.machine(),
        processor=platform.processor(), warmup=args.warmup,
        steps=args.steps, common_batch=args.common_batch,
        total_wall_s=time.perf_counter() - t0,
        loadavg_1_5_15=[list(x) for x in load])
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(dict(meta=meta, rows=rows), f, indent=1)
    print(f'-> {args.out}')


if __name__ == '__main__':
    main()
