r"""RSME on the bundled VTKG-I with its real clipart images (EfficientNet-Lite0
features of the bundled ``image_features.pt``), published recipe (1vsAll CE,
Adagrad 0.1, batch 1000, rank 1000, 50 epochs, alpha 0.7, beta 0.5), beside:

* ``complex-n3``: the same model and recipe with the structure only
  (ComplEx-N3 with reciprocal relations: the structure-only control);
* ``rsme-first-image``: RSME on the first listed image instead of the
  pHash-central one (what the filter gate changes);
* ``rsme-relation-alpha``: the relation-specific sigmoid alpha mode;
* ``rsme-train-image-term``: the gated image-similarity term also in the
  training score (``train_image_term=True``; published: inference only).

Every run is evaluated on the test triples (filtered, both sides) as
trained, with the images shuffled among the entities that have one (mean
of 3 permutations) and with the inference-only image term removed
(beta = 1), split by whether the answer entity has an image
(:func:`image_evidence.split_metrics`). One command, one thread:

    python benchmarks/methods/rsme_vtkgi.py --seeds 0 1 \
        --out benchmarks/methods/rsme_vtkgi_results.json
"""
import argparse
import json
import os.path as osp
import sys
import time

import torch

from pyg_mmkg.data import filter_index
from pyg_mmkg.datasets import VTKG_I
from pyg_mmkg.nn.models import RSME
from pyg_mmkg.nn.models.rsme import phash_image_slot
from pyg_mmkg.train import Trainer

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from image_evidence import split_metrics  # noqa: E402

VARIANTS = {
    'rsme': dict(image='phash'),
    'complex-n3': dict(modalities=('structure', )),
    'rsme-first-image': dict(image='first'),
    'rsme-relation-alpha': dict(image='phash', alpha_mode='relation'),
    'rsme-train-image-term': dict(image='phash', train_image_term=True),
}


def evaluate_variants(model, data, fi, permutations):
    out = {'full': split_metrics(model, data, fi)}
    if 'image' in model.feature_modalities:
        runs = []
        for seed in range(permutations):
            with model.ablate('image', 'shuffle', seed=seed):
                runs.append(split_metrics(model, data, fi))
        out['image shuffled'] = {
            part: {k: sum(x[part][k] for x in runs) / len(runs)
                   for k in runs[0][part]} for part in runs[0]}
        beta = model.beta
        model.beta = 1.0
        out['no image term (beta=1)'] = split_metrics(model, data, fi)
        model.beta = beta
    return out


def table(rows):
    r"""Markdown rows: mean ± std over seeds per (variant, evaluation)."""
    import statistics
    groups = {}
    for row in rows:
        for what, res in row['test'].items():
            groups.setdefault((row['variant'], what), []).append((row, res))
    out = ['| variant | evaluated | seeds | val MRR | test MRR | H@1 | H@10 '
           '| MRR, answer has image | MRR, answer has none | train s |',
           '|---|---|---|---|---|---|---|---|---|---|']

    def ms(values):
        if len(values) == 1:
            return f'{values[0]:.3f}'
        return f'{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}'

    for (variant, what), items in groups.items():
        rs = [r for r, _ in items]
        res = [x for _, x in items]
        out.append('| ' + ' | '.join([
            variant, what, ','.join(str(r['seed']) for r in rs),
            ms([r['val_mrr'] for r in rs]),
            ms([x['all']['mrr'] for x in res]),
            ms([x['all']['hits@1'] for x in res]),
            ms([x['all']['hits@10'] for x in res]),
            ms([x['with image']['mrr'] for x in res]),
            ms([x['without image']['mrr'] for x in res]),
            f"{statistics.mean(r['train_time_s'] for r in rs):.0f}"]) + ' |')
    return '\n'.join(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--root', default='/tmp/mm_bench/VTKG-I')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS))
    parser.add_argument('--permutations', type=int, default=3)
    parser.add_argument('--out', default=None)
    parser.add_argument('--table', default=None, metavar='JSON',
                        help='only print the markdown table of a results '
                        'file')
    args = parser.parse_args()
    if args.table:
        print(table(json.load(open(args.table))))
        return
    torch.set_num_threads(1)
    data = VTKG_I(args.root)[0]
    fi = filter_index(data)
    # RSME's filter gate over the bundled image files (RSME.from_data).
    moved = int((phash_image_slot(data) != 0).sum())
    rows = []
    for seed in args.seeds:
        for name in args.variants:
            spec = dict(VARIANTS[name])
            pick = spec.pop('image', 'phash')
            torch.manual_seed(seed)
            model = RSME.from_data(data, image_selection=pick, **spec)
            start = time.perf_counter()
            trainer = Trainer(model, data, progress=False, plot=False,
                              seed=seed, device='cpu')
            result = trainer.fit()
            train_s = time.perf_counter() - start
            model.eval()
            with torch.no_grad():
                test = evaluate_variants(model, data, fi, args.permutations)
            R = model.num_relations
            row = dict(variant=name, seed=seed, image_pick=pick,
                       pick_not_first=moved if pick == 'phash' else 0,
                       gate_open=int(model.gate[:R].sum()), relations=R,
                       recipe=trainer.recipe.describe(),
                       best_epoch=result.get('best_epoch'),
                       epochs_trained=result.get('epochs_trained'),
                       val_mrr=result['val']['mrr'], train_time_s=train_s,
                       test=test)
            rows.append(row)
            for what, res in test.items():
                print(f"{name:20s} s{seed} {what:24s} test MRR "
                      f"{res['all']['mrr']:.4f} H@10 "
                      f"{res['all']['hits@10']:.3f} | with image "
                      f"{res['with image']['mrr']:.4f} | without "
                      f"{res['without image']['mrr']:.4f}  "
                      f"({train_s:.0f} s)", flush=True)
            if args.out:
                with open(args.out, 'w') as f:
                    json.dump(rows, f, indent=1)
    print(table(rows))


if __name__ == '__main__':
    main()
