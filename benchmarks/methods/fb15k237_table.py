r"""Prints the FB15k-237 rows of evaluate_run.py (JSON lines) as the markdown
table of benchmarks/results/methods.md (one seed per row).

    python benchmarks/methods/fb15k237_table.py /tmp/fb_runs/fb15k237_rows.jsonl
"""
import json
import sys

NAMES = {'mose': 'MoSE', 'vlkge': 'VL-DistMult'}


def main(path):
    print('| model | modalities | variant | val MRR | test MRR | H@1 | H@3 | '
          'H@10 | MR | epochs (best) | train s |')
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    for line in open(path):
        r = json.loads(line)
        v, t = r['val'], r['test']
        print(f"| {NAMES.get(r['model'], r['model'])} (d={r['dim']}) | "
              f"{'+'.join(r['modalities'])} | {r['variant']} | "
              f"{v['mrr']:.3f} | {t['mrr']:.3f} | {t['hits@1']:.3f} | "
              f"{t['hits@3']:.3f} | {t['hits@10']:.3f} | {t['mr']:.1f} | "
              f"{r.get('epochs_trained', '″')}({r.get('best_epoch', '″')}) | "
              f"{r.get('train_time_s', '″')} |")


if __name__ == '__main__':
    main(sys.argv[1])
