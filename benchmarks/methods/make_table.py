r"""Turns the JSON lines of evaluate_run.py into a markdown table: test
metrics as mean ± std over seeds, plus the validation MRR used to select.

    python benchmarks/methods/make_table.py /tmp/mm_runs/vtkg_i_rows.jsonl
"""
import json
import re
import statistics
import sys
from collections import OrderedDict


def fmt(values, digits=3):
    mean = statistics.mean(values)
    if len(values) == 1:
        return f'{mean:.{digits}f}'
    return f'{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}'


def main(paths):
    groups = OrderedDict()
    for path in paths:
        for line in open(path):
            row = json.loads(line)
            mods = '+'.join(row['modalities'] or ['all'])
            name = re.sub(r'-s\d+$', '', row['run'])  # Seeds pooled.
            key = (name, mods, row['variant'])
            groups.setdefault(key, []).append(row)
    print('| run | modalities | variant | seeds | val MRR | '
          'test MRR | H@1 | H@3 | H@10 | MR | epochs (best) | train s |')
    print('|---|---|---|---|---|---|---|---|---|---|---|---|')
    for (name, mods, variant), rows in groups.items():
        test = {k: [r['test'][k] for r in rows] for k in rows[0]['test']}
        val = [r['val']['mrr'] for r in rows]
        epochs = '/'.join(f"{r['epochs_trained']}({r['best_epoch']})"
                          for r in rows)
        secs = fmt([r['train_time_s'] for r in rows], 0)
        print(f"| {name} | {mods} | {variant} | {len(rows)} | "
              f"{fmt(val)} | {fmt(test['mrr'])} | {fmt(test['hits@1'])} | "
              f"{fmt(test['hits@3'])} | {fmt(test['hits@10'])} | "
              f"{fmt(test['mr'], 1)} | {epochs} | {secs} |")


if __name__ == '__main__':
    main(sys.argv[1:])
