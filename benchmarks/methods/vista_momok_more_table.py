r"""Prints the markdown tables of the structure-only MKG runs
(``mkg_structure.py`` rows) and of the WN9-IMG / FB15k-237 VISTA and MoMoK
runs (``vista_momok_text.sh`` rows, written by ``evaluate_run.py``).

    python benchmarks/methods/vista_momok_more_table.py \
        --mkg /tmp/mkg/rows.jsonl --text /tmp/vm_runs/rows.jsonl
"""
import argparse
import json

# MRR (%) of the MoMoK paper's Table 2 (images + text) and of its TuckER
# baseline row (also the engine issue's reproduction target).
PAPER = {'MKG-W': (35.89, 29.59), 'MKG-Y': (37.91, 37.05),
         'DB15K': (39.57, 33.86)}


def read(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def mkg_table(rows):
    print('| dataset | model | loss | d | MRR | H@1 | H@3 | H@10 | MR | '
          'head / tail MRR | val MRR | epochs (best) | steps/epoch | '
          's/epoch | paper MRR: MoMoK / TuckER |')
    print('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    order = {'MKG-W': 0, 'MKG-Y': 1, 'DB15K': 2}
    for r in sorted(rows, key=lambda r: (order[r['dataset']], r['model'])):
        t = r['test']
        name = 'MoMoK (structure)' if r['model'] == 'momok' else 'TuckER'
        print(f"| {r['dataset']} | {name} | {r['loss']} | {r['args']['dim']} "
              f"| {100 * t['mrr']:.2f} | {100 * t['hits@1']:.2f} "
              f"| {100 * t['hits@3']:.2f} | {100 * t['hits@10']:.2f} "
              f"| {t['mr']:.0f} | {100 * r['test_head_mrr']:.2f} / "
              f"{100 * r['test_tail_mrr']:.2f} | {100 * r['val_mrr']:.2f} "
              f"| {r['epochs']} ({r['best_epoch']}) | {r['steps_per_epoch']} "
              f"| {r['epoch_s_mean']:.0f} | {PAPER[r['dataset']][0]} / "
              f"{PAPER[r['dataset']][1]} |")


def text_table(rows):
    print('| dataset | model | modalities | variant | val MRR | test MRR | '
          'H@1 | H@3 | H@10 | MR | epochs (best) | train s | s/epoch |')
    print('|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    datasets, models = ['wn9', 'fb'], ['vista', 'vista-lowdrop', 'momok']
    variants = ['selected', 'ablate:text:shuffle']

    def key(r):
        ds, model, setting = r['run'].split()
        return (datasets.index(ds), models.index(model), setting,
                variants.index(r['variant']))

    for r in sorted(rows, key=key):
        ds, model, setting = r['run'].split()
        v, t = r['val'], r['test']
        variant = {'selected': '–', 'ablate:text:shuffle':
                   'text shuffled'}.get(r['variant'], r['variant'])
        epochs = r['epochs_trained']
        ds = {'wn9': 'WN9-IMG', 'fb': 'FB15k-237'}[ds]
        model = {'vista': 'VISTA', 'vista-lowdrop': 'VISTA, low dropout',
                 'momok': 'MoMoK (CE)'}[model]
        print(f"| {ds} | {model} | {setting} | {variant} | {v['mrr']:.3f} "
              f"| {t['mrr']:.3f} | {t['hits@1']:.3f} | {t['hits@3']:.3f} "
              f"| {t['hits@10']:.3f} | {t['mr']:.1f} "
              f"| {epochs} ({r['best_epoch']}) | {r['train_time_s']:.0f} "
              f"| {r['train_time_s'] / max(epochs, 1):.0f} |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--mkg', default=None)
    p.add_argument('--text', default=None)
    args = p.parse_args()
    if args.mkg:
        mkg_table(read(args.mkg))
        print()
    if args.text:
        text_table(read(args.text))


if __name__ == '__main__':
    main()
