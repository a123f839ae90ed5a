r"""Does a model trained on VTKG-I with the bundled clipart images use them?

For a run directory written by ``pyg-mmkg train`` (or by the Trainer), it
evaluates the validation-selected checkpoint on the test triples (filtered,
both sides, realistic ranks) and reports, as one JSON line per variant:

* ``full``: the model as trained;
* ``image shuffled`` / ``text shuffled``: the image (text) features permuted
  among the entities that have them, averaged over 3 permutations;
* the same metrics split by whether the *answer* entity of each query has an
  image (tail queries rank t, head queries rank h): ``with image`` and
  ``without image`` queries.

    python benchmarks/methods/image_evidence.py RUN --out rows.jsonl
"""
import argparse
import json

import torch

from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.train import load_run

KEYS = ('mrr', 'mr', 'hits@1', 'hits@3', 'hits@10')


def _side(model, h, r, t, fi, side, index):
    if index.numel() == 0:
        return None
    res = evaluate(model, h[index], r[index], t[index], filter_index=fi,
                   sides=(side, ))[side]
    return {k: float(res[k]) * index.numel() for k in KEYS}, index.numel()


def bundled_has_image(data):
    r"""Which entities have a bundled clipart image (also for runs that
    did not load the image modality)."""
    import os.path as osp

    from pyg_mmkg.datasets.vista import bundled_dir
    feats = torch.load(osp.join(bundled_dir(), 'image_features.pt'),
                       weights_only=True)
    names = open(osp.join(bundled_dir(), 'entities.txt')).read().split()
    if list(data['entity'].name) != names:
        raise ValueError('the run is not on the bundled VTKG-I')
    return feats['entity_mask'].any(-1)


def split_metrics(model, data, fi):
    r"""Test metrics pooled over both sides, for all queries and for the
    queries whose answer entity has / lacks an image."""
    h, r, t = triples(data, 'test')
    has = bundled_has_image(data)
    out = {}
    for name, keep in (('all', None), ('with image', True),
                       ('without image', False)):
        total, count = {k: 0.0 for k in KEYS}, 0
        for side, answer in (('tail', t), ('head', h)):
            index = torch.arange(h.numel()) if keep is None else (
                (has[answer] == keep).nonzero().view(-1))
            part = _side(model, h, r, t, fi, side, index)
            if part is not None:
                for k in KEYS:
                    total[k] += part[0][k]
                count += part[1]
        out[name] = dict({k: total[k] / max(count, 1) for k in KEYS},
                         queries=count)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('run_dir')
    parser.add_argument('--label', default=None)
    parser.add_argument('--permutations', type=int, default=3)
    parser.add_argument('--out', default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, data, config = load_run(args.run_dir)
    model.eval()
    fi = filter_index(data)
    try:  # A run stopped before its end has checkpoints but no results.
        results = json.load(open(f'{args.run_dir}/results.json'))
    except FileNotFoundError:
        results = {'note': 'stopped early: best checkpoint so far'}
    base = dict(run=args.label or args.run_dir.rstrip('/').split('/')[-1],
                model=config.model, modalities=config.modalities,
                model_kwargs=config.model_kwargs, dim=config.dim,
                seed=config.seed, best_epoch=results.get('best_epoch'),
                epochs_trained=results.get('epochs_trained'),
                val_mrr=(results.get('val') or {}).get('mrr'),  # best epoch's val
                images='clipart (openclipart-png / tuxpaint-stamps-default)',
                note=results.get('note'))
    rows = []
    with torch.no_grad():
        rows.append(dict(base, variant='full',
                         test=split_metrics(model, data, fi)))
        for modality in ('image', 'text'):
            if modality not in getattr(model, 'feature_modalities', ()):
                continue
            runs = []
            for seed in range(args.permutations):
                with model.ablate(modality, 'shuffle', seed=seed):
                    runs.append(split_metrics(model, data, fi))
            avg = {part: {k: sum(x[part][k] for x in runs) / len(runs)
                          for k in runs[0][part]} for part in runs[0]}
            rows.append(dict(base, variant=f'{modality} shuffled', test=avg))
    for row in rows:
        t = row['test']
        print(f"{row['run']:34s} {row['variant']:15s} test MRR "
              f"{t['all']['mrr']:.4f} | with image {t['with image']['mrr']:.4f}"
              f" ({t['with image']['queries']}) | without "
              f"{t['without image']['mrr']:.4f} "
              f"({t['without image']['queries']})", flush=True)
    if args.out:
        with open(args.out, 'a') as f:
            for row in rows:
                f.write(json.dumps(row) + '\n')


if __name__ == '__main__':
    main()
