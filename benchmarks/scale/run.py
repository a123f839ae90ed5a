r"""Runs the scale benchmark rows (one process each) and writes their raw
records to :obj:`benchmarks/results/scale_<part>.json`.

From a fresh clone::

    python benchmarks/scale/run.py steps   # training step time, memory
    python benchmarks/scale/run.py memory  # load + epoch + evaluation

:obj:`--quick` runs the smallest rows only (a smoke test).
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RESULTS = ROOT / 'benchmarks' / 'results'

# (num_entities, optimizer, regime, steps): fewer steps where a step is slow
# (dense updates of millions of rows); the rate is per 1,000 steps anyway.
STEP_ROWS = [
    (15_000, 'dense_adam', 'slcwa', 100),
    (15_000, 'sparse_adam', 'slcwa', 100),
    (15_000, 'rowwise_adagrad', 'slcwa', 100),
    (1_000_000, 'dense_adam', 'slcwa', 20),
    (1_000_000, 'sparse_adam', 'slcwa', 100),
    (1_000_000, 'rowwise_adagrad', 'slcwa', 100),
    (5_000_000, 'sparse_adam', 'slcwa', 100),
    (5_000_000, 'rowwise_adagrad', 'slcwa', 100),
    (5_000_000, 'dense_adam', 'slcwa', 10),
    (15_000, 'dense_adam', 'kvsall', 30),
    (15_000, 'sparse_adam', 'kvsall', 30),
    (15_000, 'rowwise_adagrad', 'kvsall', 30),
    (100_000, 'dense_adam', 'kvsall', 10),
    (100_000, 'sparse_adam', 'kvsall', 10),
    (100_000, 'rowwise_adagrad', 'kvsall', 10),
]
# (num_entities, training steps of the epoch, test triples evaluated)
MEMORY_ROWS = [(1_000_000, 200, 200), (5_000_000, 200, 100)]


def _run(cmd, timeout):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1')
    t0 = time.time()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env,
                             timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {'error': f'timeout after {timeout} s'}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith('{')]
    if lines and 'error' in json.loads(lines[-1]):
        return json.loads(lines[-1])
    if out.returncode != 0 or not lines:
        return {'error': f'exit code {out.returncode}',
                'stderr_tail': out.stderr[-400:],
                'wall_s': time.time() - t0}
    return json.loads(lines[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('part', choices=['steps', 'memory'])
    p.add_argument('--quick', action='store_true')
    p.add_argument('--timeout', type=int, default=1800)
    p.add_argument('--sizes', default=None,
                   help='comma-separated entity counts: run these rows only '
                        '(their records are merged into the json)')
    args = p.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_path = RESULTS / f'scale_{args.part}.json'
    sizes = (None if args.sizes is None else
             {int(v) for v in args.sizes.split(',')})
    records = []
    if sizes is not None and out_path.exists():  # Keep the other rows.
        records = [r for r in json.loads(out_path.read_text())
                   if r['num_entities'] not in sizes]
    if args.part == 'steps':
        rows = [r for r in STEP_ROWS if (not args.quick or r[0] == 15_000)
                and (sizes is None or r[0] in sizes)]
        for n, opt, regime, steps in rows:
            cmd = [sys.executable, str(HERE / 'bench_steps.py'),
                   '--num-entities', str(n), '--optimizer', opt,
                   '--regime', regime, '--steps', str(steps)]
            rec = _run(cmd, args.timeout)
            rec.update(num_entities=n, optimizer=opt, regime=regime)
            print(json.dumps(rec), flush=True)
            records.append(rec)
            out_path.write_text(json.dumps(records, indent=1) + '\n')
    else:
        rows = [(100_000, 100, 100)] if args.quick else MEMORY_ROWS
        rows = [r for r in rows if sizes is None or r[0] in sizes]
        for n, steps, num_eval in rows:
            for fmt in ('fp16', 'fp32'):
                cmd = [sys.executable, str(HERE / 'bench_memory.py'),
                       '--num-entities', str(n), '--features', fmt,
                       '--max-steps', str(steps), '--eval-triples',
                       str(num_eval)]
                rec = _run(cmd, args.timeout)
                rec.update(num_entities=n, features=fmt)
                print(json.dumps(rec), flush=True)
                records.append(rec)
                out_path.write_text(json.dumps(records, indent=1) + '\n')

if __name__ == '__main__':
    main()
