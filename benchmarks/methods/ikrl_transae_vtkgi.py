r"""Do IKRL and TransAE use the bundled VTKG-I clipart images?

For a run directory written by ``pyg-mmkg train`` it evaluates the
validation-selected checkpoint on the test triples (filtered, both sides,
realistic ranks), split by whether the *answer* entity has an image (the
split of :mod:`image_evidence`), and writes one JSON line per variant:

* IKRL: each test-time score (``ibr``, what the released ``Test.cpp``
  scores; ``sbr``; ``union``), as trained, with the image features shuffled
  among the entities that have them (mean of 3 permutations), and with the
  images dropped (every entity then uses e_S as e_I, so IBR = SBR);
* any other model: as trained, and each feature modality it has (text,
  image) shuffled (mean of 3 permutations).

    python benchmarks/methods/ikrl_transae_vtkgi.py RUN --out rows.jsonl
"""
import argparse
import json
import os.path as osp
import sys

import torch

from pyg_mmkg.data import filter_index
from pyg_mmkg.train import load_run

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from image_evidence import split_metrics  # noqa: E402


def averaged(model, data, fi, modality, permutations):
    runs = []
    for seed in range(permutations):
        with model.ablate(modality, 'shuffle', seed=seed):
            runs.append(split_metrics(model, data, fi))
    return {part: {k: sum(x[part][k] for x in runs) / len(runs)
                   for k in runs[0][part]} for part in runs[0]}


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
                optimizer=config.optimizer, lr=config.lr,
                max_time_s=config.max_time_s, seed=config.seed,
                best_epoch=results.get('best_epoch'),
                epochs_trained=results.get('epochs_trained'),
                train_time_s=results.get('train_time_s'),
                val_mrr=results.get('val', {}).get('mrr'),
                images='clipart (openclipart-png / tuxpaint-stamps-default)',
                note=results.get('note'))
    rows = []
    feats = tuple(getattr(model, 'feature_modalities', ()))
    with torch.no_grad():
        if config.model == 'ikrl':
            trained = model.variant
            for variant in ('ibr', 'sbr', 'union'):
                model.variant = variant
                b = dict(base, score=variant, trained_variant=trained)
                rows.append(dict(b, variant='full',
                                 test=split_metrics(model, data, fi)))
                if 'image' in feats:
                    rows.append(dict(b, variant='image shuffled',
                                     test=averaged(model, data, fi, 'image',
                                                   args.permutations)))
                    with model.ablate('image', 'drop'):
                        rows.append(dict(b, variant='image dropped',
                                         test=split_metrics(model, data,
                                                            fi)))
        else:
            rows.append(dict(base, variant='full',
                             test=split_metrics(model, data, fi)))
            for modality in feats:
                rows.append(dict(base, variant=f'{modality} shuffled',
                                 test=averaged(model, data, fi, modality,
                                               args.permutations)))
    for row in rows:
        t = row['test']
        print(f"{row['run']:30s} {row.get('score', ''):5s} "
              f"{row['variant']:15s} test MRR {t['all']['mrr']:.4f} "
              f"H@10 {t['all']['hits@10']:.3f} | with image "
              f"{t['with image']['mrr']:.4f} ({t['with image']['queries']})"
              f" | without {t['without image']['mrr']:.4f} "
              f"({t['without image']['queries']})", flush=True)
    if args.out:
        with open(args.out, 'a') as f:
            for row in rows:
                f.write(json.dumps(row) + '\n')


if __name__ == '__main__':
    main()
