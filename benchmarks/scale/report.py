r"""Renders the tables of :obj:`benchmarks/results/scale.md` from the raw
records :obj:`scale_steps.json` and :obj:`scale_memory.json` (printed to
stdout)."""
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / 'results'


def _load(name):
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else []


def _fmt(value, digits=1):
    if value is None:
        return '-'
    return f'{value:,.{digits}f}'


def steps_table() -> str:
    r"""The step-time table (one row per configuration)."""
    lines = ['| regime | N | embedding update | steps timed | s / 1,000 '
             'steps | median step (ms) | peak RSS (GiB) | load avg |',
             '|---|---:|---|---:|---:|---:|---:|---:|']
    order = {'dense_adam': 0, 'dense_adagrad': 1, 'sparse_adam': 2,
             'rowwise_adagrad': 3}
    rows = sorted(_load('scale_steps.json'), key=lambda r: (
        r['regime'] != 'slcwa', r['num_entities'],
        order.get(r['optimizer'], 9)))
    for r in rows:
        if 'error' in r:
            lines.append(f"| {r['regime']} | {r['num_entities']:,} | "
                         f"{r['optimizer']} | - | {r['error']} | - | - | - |")
            continue
        lines.append(
            f"| {r['regime']} | {r['num_entities']:,} | {r['optimizer']} | "
            f"{r['steps']} | {_fmt(r['s_per_1000_steps'])} | "
            f"{_fmt(r['median_step_ms'])} | {_fmt(r['peak_rss_gib'], 2)} | "
            f"{_fmt(r.get('loadavg_1min'))} |")
    return '\n'.join(lines)


def memory_table() -> str:
    r"""The load + epoch + evaluation memory table."""
    lines = ['| N | features | RSS graph (GiB) | RSS after load | peak '
             'after epoch | peak after eval | epoch steps (of) | eval '
             'queries | eval s |',
             '|---:|---|---:|---:|---:|---:|---:|---:|---:|']
    for r in sorted(_load('scale_memory.json'),
                    key=lambda r: (r['num_entities'], r['features'])):
        if 'error' in r:
            lines.append(f"| {r['num_entities']:,} | {r['features']} | "
                         f"{r['error']} | | | | | | |")
            continue
        lines.append(
            f"| {r['num_entities']:,} | {r['features']} | "
            f"{_fmt(r['rss_graph_gib'], 2)} | "
            f"{_fmt(r['rss_after_load_gib'], 2)} | "
            f"{_fmt(r['peak_after_epoch_gib'], 2)} | "
            f"{_fmt(r['peak_after_eval_gib'], 2)} | "
            f"{r['epoch_steps']} ({r['epoch_steps_total']}) | "
            f"{r['eval_queries']} | {_fmt(r['eval_s'])} |")
    return '\n'.join(lines)


if __name__ == '__main__':
    print(steps_table())
    print()
    print(memory_table())
