r"""Norms of the parts that VL-KGE averages, for VL-KGE runs on VTKG-I
(issue 11: do the image features dominate the unweighted average?).

For each run directory: the L2 norm of the raw features (text, image) over
the entities that have them, and of what enters the average at the
validation-selected checkpoint: the structural embedding (real table), the
projected text and the projected image, as median and mean over entities.
One JSON line per run.

    python benchmarks/methods/vlkge_norms.py RUN [RUN ...] --out rows.jsonl
"""
import argparse
import json

import torch

from pyg_mmkg.train import load_run


def _stats(x):
    n = x.norm(dim=-1)
    return dict(median=round(float(n.median()), 3),
                mean=round(float(n.mean()), 3), count=int(n.numel()))


@torch.no_grad()
def norms(run_dir):
    model, data, config = load_run(run_dir)
    model.eval()
    row = dict(run=run_dir.rstrip('/').split('/')[-1], seed=config.seed,
               modalities=config.modalities, dim=config.dim,
               scorer=config.model_kwargs.get('scorer'),
               normalize=bool(getattr(model, 'normalize', False)))
    if model.use_structure:
        row['structure'] = _stats(model.node_emb.weight)
    for m in model.feature_modalities:
        x, mask = model.feature(m)
        mask = mask.bool()
        row[f'raw {m}'] = dict(_stats(x[mask]), size=int(x.size(-1)))
        row[f'projected {m}'] = _stats(model.proj[m](x)[mask])
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('runs', nargs='+')
    parser.add_argument('--out', default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for run in args.runs:
        row = norms(run)
        print(json.dumps(row))
        if args.out:
            with open(args.out, 'a') as f:
                f.write(json.dumps(row) + '\n')


if __name__ == '__main__':
    main()
