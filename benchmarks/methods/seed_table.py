r"""Mean and standard deviation over seeds of ``vista_vtkgi.py`` or
``momok_bench.py`` results (one JSON file per seed), as markdown rows.

    python benchmarks/methods/seed_table.py \
        benchmarks/methods/vista_vtkgi_results.json \
        benchmarks/methods/vista_vtkgi_results_s1.json \
        benchmarks/methods/vista_vtkgi_results_s2.json
"""
import json
import statistics
import sys

KEYS = ('mrr', 'hits@1', 'hits@3', 'hits@10', 'mr')


def fmt(values, digits=3):
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f'{mean:.{digits}f} ± {std:.{digits}f}'


def main(paths):
    runs = [json.load(open(p)) for p in paths]
    print('| modalities | variant | test MRR | H@1 | H@3 | H@10 | MR | '
          'best epochs | s/epoch |')
    print('|---|---|---|---|---|---|---|---|---|')
    for setting in ('structure', 'structure+text'):
        for variant, field in (('–', 'test'),
                               ('text shuffled', 'test_text_shuffle')):
            rows = [r[setting][field] for r in runs
                    if field in r.get(setting, {})]
            if not rows:
                continue
            cells = [fmt([x[k] for x in rows], 1 if k == 'mr' else 3)
                     for k in KEYS]
            best = '/'.join(str(r[setting]['best_epoch']) for r in runs)
            sec = fmt([r[setting]['epoch_s_mean'] for r in runs], 1)
            print(f'| {setting} | {variant} | ' + ' | '.join(cells) +
                  f' | {best} | {sec} |')


if __name__ == '__main__':
    main(sys.argv[1:])
