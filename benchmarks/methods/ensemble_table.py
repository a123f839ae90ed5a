r"""Markdown table of ``evaluate_run.py --ensembles`` rows (MoSE branches,
AI/BI/MI fitted on validation, modality shuffles): mean ± std over the
seeds present; the last row wins when a run was evaluated twice.

    python benchmarks/methods/ensemble_table.py ROWS.jsonl
"""
import collections
import json
import statistics
import sys


def fmt(values):
    if len(values) == 1:
        return f'{values[0]:.3f}'
    return f'{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}'


def main(path):
    rows = {}
    for line in open(path):
        r = json.loads(line)
        rows[(r['run'], r['variant'])] = r
    groups = collections.defaultdict(list)
    for r in rows.values():
        groups[(r['model'], '+'.join(r['modalities']), r['variant'])].append(r)
    print('| model | modalities | variant | seeds | val MRR | test MRR | H@1 '
          '| H@10 |')
    print('|---|---|---|---|---|---|---|---|')
    for (model, mods, variant), rs in sorted(groups.items()):
        rs.sort(key=lambda r: r['seed'])
        seeds = ','.join(str(r['seed']) for r in rs)
        cells = [fmt([r['val']['mrr'] for r in rs])]
        cells += [fmt([r['test'][k] for r in rs])
                  for k in ('mrr', 'hits@1', 'hits@10')]
        print(f"| {model} | {mods} | {variant} | {seeds} | "
              + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main(sys.argv[1])
