r"""Prints the Markdown table of a ``run_all.py`` results file (test metrics
in %, paper MRR and the gap)::

    python benchmarks/reproduction/make_table.py \
        benchmarks/reproduction/gpu_run/results.json
"""
import json
import sys


def main(path: str) -> None:
    res = json.load(open(path))
    print('| dataset | model | MRR | H@1 | H@3 | H@10 | head / tail MRR | '
          'paper MRR | gap | val MRR | epochs (best) | stop | wall s |')
    print('|' + '---|' * 13)
    for row in res['runs']:
        if 'error' in row:
            print(f"| {row['dataset']} | {row['model']} | error: "
                  f"{row['error']} |" + ' |' * 11)
            continue
        t, v = row['test'], row['val']
        stop = ('time cap' if row['capped'] else
                'early stop' if row['stopped_early'] else 'max epochs')
        print(f"| {row['dataset']} | {row['model']} | {100 * t['mrr']:.2f} | "
              f"{100 * t['hits@1']:.2f} | {100 * t['hits@3']:.2f} | "
              f"{100 * t['hits@10']:.2f} | {100 * t['head_mrr']:.2f} / "
              f"{100 * t['tail_mrr']:.2f} | {row['paper_mrr']:.2f} | "
              f"{100 * t['mrr'] - row['paper_mrr']:+.2f} | "
              f"{100 * v['mrr']:.2f} | {row['epochs_trained']} "
              f"({row['best_epoch']}) | {stop} | {row['wall_s']:.1f} |")


if __name__ == '__main__':
    main(sys.argv[1])
