r"""Post-hoc evaluation of a run directory written by `pyg-mmkg train`.

For MoSE runs it fits the boosting (BI) and meta-learner (MI) ensembles on
the VALIDATION triples (never test) and reports every branch and ensemble;
for every run it evaluates the validation-selected checkpoint with modalities
ablated. Rows are appended as JSON lines to --out.

    python benchmarks/methods/evaluate_run.py /tmp/mm_runs/mose-st-s0 \
        --ensembles --ablate text:shuffle --out /tmp/mm_runs/rows.jsonl
"""
import argparse
import json
import time

import torch

from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.train import load_run

KEYS = ('mrr', 'mr', 'hits@1', 'hits@3', 'hits@10')


def metrics(model, data, fi, split):
    h, r, t = triples(data, split)
    res = evaluate(model, h, r, t, filter_index=fi)['both']
    return {k: float(res[k]) for k in KEYS}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('run_dir')
    parser.add_argument('--label', default=None)
    parser.add_argument('--ensembles', action='store_true',
                        help='MoSE: branches, AI, BI and MI (fit on val)')
    parser.add_argument('--ablate', action='append', default=[],
                        help='modality:mode, e.g. text:shuffle')
    parser.add_argument('--merged-filter', action='store_true',
                        help="also rank with the VL-KGE code's filter, "
                        "which merges both query directions")
    parser.add_argument('--out', default=None)
    args = parser.parse_args()
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if device.type == 'cpu':
        torch.set_num_threads(1)

    model, data, config = load_run(args.run_dir)
    model = model.to(device).eval()
    fi = filter_index(data).to(device)
    results = json.load(open(f'{args.run_dir}/results.json'))
    label = args.label or args.run_dir.rstrip('/').split('/')[-1]
    base = dict(run=label, model=config.model, dataset=config.dataset,
                modalities=config.modalities, dim=config.dim,
                seed=config.seed, best_epoch=results['best_epoch'],
                epochs_trained=results['epochs_trained'],
                train_time_s=round(results['train_time_s'], 1))
    rows = []

    def add(variant, fit_s=0.0, fi=fi):
        row = dict(base, variant=variant, fit_s=round(fit_s, 1))
        row['val'] = metrics(model, data, fi, 'val')
        row['test'] = metrics(model, data, fi, 'test')
        rows.append(row)
        print(f"{label:28s} {variant:18s} val MRR {row['val']['mrr']:.4f} "
              f"test MRR {row['test']['mrr']:.4f} "
              f"H@1 {row['test']['hits@1']:.4f} "
              f"H@10 {row['test']['hits@10']:.4f}", flush=True)

    selected = getattr(model, 'ensemble', None)
    add(f'selected({selected})' if selected else 'selected')
    if args.ensembles and hasattr(model, 'fit_ensemble'):
        vh, vr, vt = triples(data, 'val')
        for branch in model.branches:
            model.set_ensemble(branch)
            add(f'branch:{branch}')
        for method, name in [('average', 'AI'), ('boosting', 'BI'),
                             ('meta', 'MI')]:
            t0 = time.perf_counter()
            model.fit_ensemble(vh, vr, vt, method=method, filter_index=fi)
            add(name, time.perf_counter() - t0)
        model.set_ensemble('average')
    for spec in args.ablate:
        modality, mode = spec.split(':')
        if modality not in model.active_modalities:
            continue
        with model.ablate(modality, mode):
            add(f'ablate:{modality}:{mode}')
    if args.merged_filter:
        # (h, r, ?) also filters every e with (e, r, h) known and
        # (?, r, t) every e with (t, r, e): over-filtering, for comparison.
        from pyg_mmkg.evaluation import FilterIndex
        h, r, t = triples(data, 'all')
        merged = FilterIndex(torch.cat([h, t]), torch.cat([r, r]),
                             torch.cat([t, h]), fi.num_nodes,
                             fi.num_relations).to(device)
        add('merged-filter (official VL-KGE code)', fi=merged)
    if args.out:
        with open(args.out, 'a') as f:
            for row in rows:
                f.write(json.dumps(row) + '\n')


if __name__ == '__main__':
    main()
