r"""Markdown rows of the issue-12 IKRL / TransAE runs on VTKG-I with the
bundled clipart images, from the JSON lines of ``ikrl_transae_vtkgi.py``
(mean ± std over seeds where there are several).

    python benchmarks/methods/ikrl_transae_table.py ROWS.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict


def fmt(values):
    if len(values) == 1:
        return f'{values[0]:.3f}'
    return f'{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}'


def main():
    groups = defaultdict(list)
    for line in open(sys.argv[1]):
        row = json.loads(line)
        label = row['run'].rsplit('-s', 1)[0]
        groups[(label, row.get('score', '–'), row['variant'])].append(row)
    print('| run | test score | variant | seeds | epochs | test MRR | H@1 | '
          'H@10 | MRR, answer has image | MRR, answer has none |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for (label, score, variant), rows in groups.items():
        t = [r['test'] for r in rows]
        print(f"| {label} | {score} | {variant} | "
              f"{','.join(str(r['seed']) for r in rows)} | "
              f"{'/'.join(str(r['epochs_trained']) for r in rows)} | "
              f"{fmt([x['all']['mrr'] for x in t])} | "
              f"{fmt([x['all']['hits@1'] for x in t])} | "
              f"{fmt([x['all']['hits@10'] for x in t])} | "
              f"{fmt([x['with image']['mrr'] for x in t])} | "
              f"{fmt([x['without image']['mrr'] for x in t])} |")


if __name__ == '__main__':
    main()
