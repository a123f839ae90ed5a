"""Training and evaluation speed on FB15k-237: pyg-mmkg vs. PyG vs. PyKEEN
vs. a minimal pure-PyTorch loop (TransE, DistMult, ComplEx, RotatE).

Usage (from the repository root, in the project venv)::

    python benchmarks/speed/bench_speed.py            # everything (~20 min idle)
    python benchmarks/speed/bench_speed.py --models distmult --threads 1 \
        --epochs 1 --skip-pykeen                      # quick check

The FB15k-237 files are read from ``../shared/data/FB15k-237`` beside the
repository, or from ``--data DIR``; the triples handed to the PyKEEN part
are written to a fresh temporary folder of the run; PyKEEN's own venv is
made once under ``~/.cache/pyg_mmkg/benchmarks`` (or ``--pykeen-venv``).

Settings: dim 200, batch 1024, one negative per positive, learning rate
0.01, the loss of ``torch_geometric.nn.kge`` for each model (margin ranking
for TransE/DistMult, BCE for ComplEx/RotatE).

* ``lib``: ``pyg_mmkg.train.Trainer.train_epoch()`` (sLCWA regime, uniform
  ``NegativeSampler`` via ``TripleLoader``, fused Adam chosen by the trainer).
* ``pyg``: ``torch_geometric.nn.kge`` model, ``model.loader()``,
  ``model.loss()``, ``torch.optim.Adam`` (default, as in PyG's example).
* ``pykeen``: ``SLCWATrainingLoop`` in its own venv (``pykeen_part.py``).
* ``pure``: ``pure_torch.PureTorchKGE`` with ``Adam(fused=True)``.

Evaluation: ``pyg_mmkg.evaluation.evaluate`` (filtered, head + tail, full
test set), PyG's ``KGEModel.test`` (raw, tail only, a subset) and PyKEEN's
filtered ``RankBasedEvaluator`` (head + tail, a subset).
Within one (threads, model) cell the in-process implementations run their
epochs interleaved (rotating order) so that changes of the machine load hit
them alike. Results go to ``benchmarks/speed/results.json``.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
from pure_torch import PureTorchKGE  # noqa: E402
from _paths import REPO, cache_dir, shared_data  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MARGIN_MODELS = ('transe', 'distmult')


def load_fb15k237(data_dir=None):
    r"""FB15k-237 from ``data_dir`` (default: ``../shared/data/FB15k-237``
    beside the repository): the contract graph and a dict of its id triples
    (``num_nodes``, ``num_relations``, ``train``/``val``/``test``), which
    the other speed scripts read instead of a file this one wrote."""
    from pyg_mmkg.data import (num_entities, num_relations, read_kg_folder,
                               triples)
    data = read_kg_folder(shared_data('FB15k-237', data_dir))
    split = {s: triples(data, s) for s in ('train', 'val', 'test')}
    return data, {'num_nodes': num_entities(data),
                  'num_relations': num_relations(data), **split}


def loadavg():
    return os.getloadavg()


def log(msg):
    print(f'[{time.strftime("%H:%M:%S")}] {msg}', file=sys.stderr, flush=True)


def ensure_pykeen_venv(VENV):
    py = os.path.join(VENV, 'bin', 'python')
    ok = os.path.exists(py) and subprocess.run(
        [py, '-c', 'import pykeen'], capture_output=True).returncode == 0
    if not ok:
        log('installing PyKEEN into its own venv (once)')
        subprocess.run(['python3', '-m', 'venv', VENV], check=True)
        subprocess.run([os.path.join(VENV, 'bin', 'pip'), 'install', '-q',
                        'torch==2.14.1', 'pykeen'], check=True)
    return py


# Implementations: each exposes warmup(n_batches) and epoch() ###############

class Pure:
    def __init__(self, name, N, R, train, dim, lr):
        self.m = PureTorchKGE(name, N, R, dim=dim, lr=lr)
        self.train, self.bs = train, 1024

    def warmup(self, n):
        self.m.train_epoch(*self.train, self.bs, max_batches=n)

    def epoch(self):
        self.m.train_epoch(*self.train, self.bs)


class Lib:
    def __init__(self, name, data, dim, lr, train=None):
        from pyg_mmkg.nn.kge import ComplEx, DistMult, RotatE, TransE
        from pyg_mmkg.train import Trainer, TrainConfig
        from pyg_mmkg.data import num_entities, num_relations
        cls = dict(transe=TransE, distmult=DistMult, complex=ComplEx,
                   rotate=RotatE)[name]
        N, R = num_entities(data), num_relations(data)
        torch.manual_seed(0)
        self.model = cls(N, R, dim)
        margin = name in MARGIN_MODELS
        cfg = TrainConfig(model=name, dim=dim, regime='slcwa',
                          num_negatives=1, sampler='uniform',
                          loss='margin' if margin else 'bce',
                          margin=1.0 if margin else None,
                          label_smoothing=0.0, optimizer='adam', lr=lr,
                          batch_size=1024, progress=False, device='cpu',
                          patience=None)
        self.trainer = Trainer(self.model, data, cfg, plot=False)
        self.fused = bool(self.trainer.optimizer.defaults.get('fused'))
        if train is not None:  # a training subset (epoch fraction)
            from pyg_mmkg.train.batches import build_batches
            self.trainer.batches = build_batches(
                train, N, R, cfg, self.trainer.generator,
                self.trainer.device)

    def warmup(self, n):
        for i, batch in enumerate(self.trainer.batches):
            if i >= n:
                break
            self.trainer.training_step(batch)

    def epoch(self):
        self.trainer.train_epoch()


class PyG:
    def __init__(self, name, N, R, train, dim, lr):
        from torch_geometric.nn import kge
        cls = dict(transe=kge.TransE, distmult=kge.DistMult,
                   complex=kge.ComplEx, rotate=kge.RotatE)[name]
        torch.manual_seed(0)
        self.model = cls(N, R, dim)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.loader = self.model.loader(*train, batch_size=1024, shuffle=True)

    def _run(self, n=None):
        self.model.train()
        total = 0.0
        for i, (h, r, t) in enumerate(self.loader):
            if n is not None and i >= n:
                break
            self.opt.zero_grad()
            loss = self.model.loss(h, r, t)
            loss.backward()
            self.opt.step()
            total += float(loss) * h.numel()
        return total

    def warmup(self, n):
        self._run(n)

    def epoch(self):
        self._run()


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def train_subset(train, fraction):
    n = train[0].numel()
    if fraction >= 1:
        return train, 1.0
    m = int(round(n * fraction))
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))[:m]
    return tuple(x[perm] for x in train), n / m


def run_cell(name, threads, data, split, N, R, fi, args, fraction):
    torch.set_num_threads(threads)
    train, scale = train_subset(split['train'], fraction)
    impls = {'pure': Pure(name, N, R, train, args.dim, args.lr),
             'lib': Lib(name, data, args.dim, args.lr,
                        train if fraction < 1 else None),
             'pyg': PyG(name, N, R, train, args.dim, args.lr)}
    for impl in impls.values():
        impl.warmup(args.warmup_batches)
    times = {k: [] for k in impls}
    order = list(impls)
    for rep in range(args.epochs):
        for k in order[rep % 3:] + order[:rep % 3]:
            times[k].append(timed(impls[k].epoch) * scale)
        log(f'{name} t={threads} rep {rep}: ' + ', '.join(
            f'{k} {v[-1]:.2f}s' for k, v in times.items()))
    cell = {'epoch_s': times, 'lib_fused_adam': impls['lib'].fused,
            'epoch_fraction': fraction, 'threads': torch.get_num_threads()}

    # Evaluation. pyg-mmkg: filtered, head + tail, full test set.
    from pyg_mmkg.evaluation import evaluate
    test = split['test']
    lib_model = impls['lib'].model
    t0 = time.perf_counter()
    res = evaluate(lib_model, *test, filter_index=fi)
    dt = time.perf_counter() - t0
    cell['lib_eval'] = {'queries': 2 * test[0].numel(), 's': dt,
                        'qps': 2 * test[0].numel() / dt,
                        'mrr': float(res['both']['mrr'])}
    # PyG: raw, tail only, a subset (as in examples/kge_fb15k_237.py).
    n = args.pyg_eval_queries
    pyg_model = impls['pyg'].model.eval()
    t0 = time.perf_counter()
    pyg_model.test(*(x[:n] for x in test), batch_size=20000, k=10, log=False)
    dt = time.perf_counter() - t0
    cell['pyg_eval'] = {'queries': n, 's': dt, 'qps': n / dt}
    log(f'{name} t={threads} eval: lib {cell["lib_eval"]["qps"]:.0f} q/s, '
        f'pyg {cell["pyg_eval"]["qps"]:.1f} q/s')
    return cell


def run_pykeen(py, threads, args, fraction):
    cmd = [py, os.path.join(HERE, 'pykeen_part.py'), '--triples',
           args.triples_pt,
           '--models', args.models, '--threads', str(threads), '--epochs',
           str(args.epochs), '--dim', str(args.dim), '--lr', str(args.lr),
           '--eval-triples', str(args.pykeen_eval_triples),
           '--train-fraction', str(fraction)]
    log('running: ' + ' '.join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        log(proc.stderr[-4000:])
        return {'error': proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--models', default='transe,distmult,complex,rotate')
    p.add_argument('--threads', default='1,2')
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--warmup-batches', type=int, default=20)
    p.add_argument('--dim', type=int, default=200)
    p.add_argument('--lr', type=float, default=0.01)
    p.add_argument('--pyg-eval-queries', type=int, default=50)
    p.add_argument('--fractions', default='1,0.25',
                   help='epoch fraction per thread count: a fraction < 1 '
                   'trains on that random part of the training triples '
                   'and scales the time to a full epoch')
    p.add_argument('--pykeen-eval-triples', type=int, default=200)
    p.add_argument('--skip-pykeen', action='store_true')
    p.add_argument('--out', default=os.path.join(HERE, 'results.json'))
    p.add_argument('--data', default=None, metavar='DIR',
                   help='FB15k-237 folder (default: ../shared/data/'
                   'FB15k-237 beside the repository)')
    p.add_argument('--pykeen-venv', default=cache_dir('pykeen-venv'),
                   help='virtual environment for PyKEEN (made once)')
    args = p.parse_args()
    args.data = shared_data('FB15k-237', args.data)
    if REPO not in sys.path:
        sys.path.insert(0, REPO)  # this checkout's pyg_mmkg
    with tempfile.TemporaryDirectory(prefix='bench_speed_') as tmp:
        args.triples_pt = os.path.join(tmp, 'fb15k237_triples.pt')
        run(args)


def run(args):
    warnings.filterwarnings('ignore')

    start = time.time()
    env = {'load_start': loadavg(), 'python': platform.python_version(),
           'torch': torch.__version__, 'cpu': platform.processor(),
           'os_cpu_count': os.cpu_count(),
           'command': 'python ' + ' '.join(sys.argv)}
    try:
        with open('/proc/cpuinfo') as f:
            env['cpu'] = next(line.split(':', 1)[1].strip() for line in f
                              if line.startswith('model name'))
    except Exception:
        pass
    import torch_geometric
    env['torch_geometric'] = torch_geometric.__version__

    from pyg_mmkg.data import (num_entities, num_relations, read_kg_folder,
                               triples)
    from pyg_mmkg.evaluation import FilterIndex
    data = read_kg_folder(args.data)
    N, R = num_entities(data), num_relations(data)
    split = {s: triples(data, s) for s in ('train', 'val', 'test')}
    fi = FilterIndex.from_triples(list(split.values()), N, R)
    torch.save({'num_nodes': N, 'num_relations': R, **split},
               args.triples_pt)
    env.update(num_nodes=N, num_relations=R,
               num_train=split['train'][0].numel(),
               num_test=split['test'][0].numel())
    log(f'data: {N} entities, {R} relations; load {loadavg()}')

    py = None if args.skip_pykeen else ensure_pykeen_venv(args.pykeen_venv)
    recorded = {k: v for k, v in vars(args).items()
                if k not in ('triples_pt', 'pykeen_venv')}
    recorded['data'] = os.path.relpath(args.data, REPO)
    results = {'env': env, 'args': recorded, 'cells': {}, 'pykeen': {}}
    fractions = [float(x) for x in args.fractions.split(',')]
    for i, threads in enumerate(int(x) for x in args.threads.split(',')):
        frac = fractions[min(i, len(fractions) - 1)]
        for name in args.models.split(','):
            key = f'{name}/t{threads}'
            results['cells'][key] = run_cell(name, threads, data, split, N, R,
                                             fi, args, frac)
            results['cells'][key]['load'] = loadavg()
        if py is not None:
            results['pykeen'][f't{threads}'] = run_pykeen(py, threads, args,
                                                          frac)
            with open(args.out, 'w') as f:  # partial results
                json.dump(results, f, indent=1)
    env['load_end'] = loadavg()
    env['total_s'] = time.time() - start
    with open(args.out, 'w') as f:
        json.dump(results, f, indent=1)
    print(tables(results))


def med(xs):
    return statistics.median(xs) if xs else float('nan')


def tables(res):
    out = ['| model | threads | pure-torch fused (s/epoch) | pyg-mmkg '
           'Trainer | PyG | PyKEEN | pyg-mmkg / pure | PyG / pure | '
           'PyKEEN / pure |', '|' + '---|' * 9]
    ev = ['| model | threads | pyg-mmkg filtered h+t (q/s, full test) | '
          'PyG KGEModel.test raw tail (q/s, subset) | PyKEEN filtered h+t '
          '(q/s, subset) |', '|' + '---|' * 5]
    for key, cell in res['cells'].items():
        name, t = key.split('/')
        e = cell['epoch_s']
        pure, lib, pyg = med(e['pure']), med(e['lib']), med(e['pyg'])
        pk = res['pykeen'].get(t, {}).get('models', {}).get(name)
        pkt = med(pk['epoch_s']) if pk else float('nan')
        out.append(f'| {name} | {t[1:]} | {pure:.2f} | {lib:.2f} | {pyg:.2f}'
                   f' | {pkt:.2f} | {lib / pure:.2f}x | {pyg / pure:.2f}x | '
                   f'{pkt / pure:.2f}x |')
        pkq = pk['eval_qps'] if pk else float('nan')
        ev.append(f'| {name} | {t[1:]} | {cell["lib_eval"]["qps"]:.0f} | '
                  f'{cell["pyg_eval"]["qps"]:.1f} | {pkq:.1f} |')
    return '\n'.join(out) + '\n\n' + '\n'.join(ev)


if __name__ == '__main__':
    main()
