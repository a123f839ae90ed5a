r"""Markdown table of the VTKG-I clipart-image rows written by
image_evidence.py (mean ± std over the seeds present; the last row wins when
a run was evaluated twice).

    python benchmarks/methods/image_table.py /tmp/mm_runs_img/vtkg_i_image_rows.jsonl
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
        row = json.loads(line)
        rows[(row['run'], row['variant'])] = row
    groups = collections.OrderedDict()
    for row in rows.values():
        kw = row.get('model_kwargs') or {}
        model = row['model'] + (f"-{kw['scorer']}" if 'scorer' in kw else '')
        key = (model, '+'.join(row['modalities']), row['variant'])
        groups.setdefault(key, []).append(row)
    print('| model | modalities | variant | seeds | test MRR | H@1 | H@10 | '
          'MRR, answer has image | MRR, answer has none |')
    print('|---|---|---|---|---|---|---|---|---|')
    for (model, mods, variant), rs in sorted(groups.items()):
        t = [r['test'] for r in rs]
        seeds = ','.join(str(r['seed']) for r in sorted(rs, key=lambda r:
                                                        r['seed']))
        print(f"| {model} | {mods} | {variant} | {seeds} | "
              f"{fmt([x['all']['mrr'] for x in t])} | "
              f"{fmt([x['all']['hits@1'] for x in t])} | "
              f"{fmt([x['all']['hits@10'] for x in t])} | "
              f"{fmt([x['with image']['mrr'] for x in t])} | "
              f"{fmt([x['without image']['mrr'] for x in t])} |")


if __name__ == '__main__':
    main(sys.argv[1])
