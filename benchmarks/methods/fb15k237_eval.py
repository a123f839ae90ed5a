r"""Cheap post-hoc evaluation of a MoSE run on FB15k-237 (2-core CPU budget):
each branch alone, AI (average) and AI with the text shuffled across
entities, on the validation-selected checkpoint (checkpoints/best.pt), without
refitting BI/MI (the trainer's `ensemble='auto'` already fits them on
validation and prints their validation MRR). Rows go to --out as in
evaluate_run.py.

    python benchmarks/methods/fb15k237_eval.py RUN --out ROWS.jsonl
"""
import argparse
import json

import torch

from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.train import load_run

KEYS = ('mrr', 'mr', 'hits@1', 'hits@3', 'hits@10')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('run_dir')
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, data, config = load_run(args.run_dir)
    model = model.eval()
    fi = filter_index(data)
    label = args.run_dir.rstrip('/').split('/')[-1]

    def metrics(split):
        h, r, t = triples(data, split)
        res = evaluate(model, h, r, t, filter_index=fi)['both']
        return {k: float(res[k]) for k in KEYS}

    def add(variant):
        row = dict(run=label, model=config.model, modalities=config.modalities,
                   dim=config.dim, variant=variant, val=metrics('val'),
                   test=metrics('test'))
        print(json.dumps(row), flush=True)
        with open(args.out, 'a') as f:
            f.write(json.dumps(row) + '\n')

    for branch in model.branches:
        model.set_ensemble(branch)
        add(f'branch:{branch}')
    model.set_ensemble('average')
    add('AI')
    with model.ablate('text', 'shuffle'):
        add('AI, ablate:text:shuffle')


if __name__ == '__main__':
    main()
