"""sLCWA step time against the number of negatives k: pyg-mmkg vs PyKEEN vs
PyG's KGEModel vs a pure-torch loop, interleaved in one process.

One command from a fresh clone (creates a venv with PyKEEN and PyG on the
first run, then re-runs itself inside it)::

    python benchmarks/speed/k_sweep.py [--fb15k237 DIR]

``--fb15k237 DIR``: a folder with FB15k-237's ``train.txt`` (or
``train.txt.gz``); without it, ``../shared/data/FB15k-237`` beside the
repository if present, else PyG's ``FB15k_237`` dataset is downloaded.
The small KG is the bundled VTKG-I (~100 entities).

Every implementation takes the same positive batches, draws its own k
negatives per positive (head or tail corrupted, p = 1/2, per negative),
scores, computes the loss, back-propagates and takes one Adam step. Per cell
(dataset, scorer, loss, k) each implementation runs ``--steps`` steps per
repeat, implementations alternate (rotating order) within every repeat, and
the ratios are taken per repeat and their median reported.

* pyg-mmkg: ``NegativeSampler`` + ``objectives.slcwa_scores`` (the
  Trainer's sLCWA scoring) + ``train.losses``, fused Adam (as the Trainer).
* pure: hand-written, ``F.embedding`` gathers of the B (1 + k) triples,
  scored by the formula, same loss, fused Adam.
* PyG: ``torch_geometric.nn.kge`` model, ``random_sample`` on the positives
  repeated k times, same loss, Adam.
* PyKEEN: ``BasicNegativeSampler`` + ``SLCWATrainingLoop``'s batch step
  (``_process_batch_static``), its loss, Adam, ``post_parameter_update``
  (TransE: entity normalization after the step).
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
VENV = osp.join(osp.expanduser('~'), '.cache', 'pyg-mmkg-bench',
                'pykeen-venv')


def ensure_venv(venv):
    py = osp.join(venv, 'bin', 'python')
    if not osp.exists(py):
        import torch
        version = torch.__version__.split('+')[0]
        subprocess.check_call([sys.executable, '-m', 'venv', venv])
        subprocess.check_call([py, '-m', 'pip', 'install', '-q',
                               f'torch=={version}', 'pykeen',
                               'torch_geometric'])
    return py


def load_triples(args):
    import torch
    from pyg_mmkg.data import (num_entities, num_relations, read_kg_folder,
                               triples)
    out = {}
    small = read_kg_folder(osp.join(ROOT, 'pyg_mmkg', 'datasets', 'bundled',
                                    'VTKG-I'))
    out['VTKG-I'] = (num_entities(small), num_relations(small),
                     torch.stack(triples(small, 'train'), 1))
    shared = osp.join(ROOT, '..', 'shared', 'data', 'FB15k-237')
    folder = args.fb15k237 or (shared if osp.isdir(shared) else None)
    if folder:
        fb = read_kg_folder(folder)
        out['FB15k-237'] = (num_entities(fb), num_relations(fb),
                            torch.stack(triples(fb, 'train'), 1))
    else:
        from torch_geometric.datasets import FB15k_237
        d = FB15k_237(osp.join(osp.expanduser('~'), '.cache',
                               'pyg-mmkg-bench', 'FB15k-237'),
                      split='train')[0]
        out['FB15k-237'] = (d.num_nodes, int(d.edge_type.max()) + 1,
                            torch.stack([d.edge_index[0], d.edge_type,
                                         d.edge_index[1]], 1))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--fb15k237', default=None)
    p.add_argument('--venv', default=VENV)
    p.add_argument('--models', default='transe,distmult,complex,rotate')
    p.add_argument('--datasets', default='VTKG-I,FB15k-237')
    p.add_argument('--ks', default='1,32,128,256',
                   help='256 runs for TransE and RotatE only')
    p.add_argument('--nssa-ks', default='32,128')
    p.add_argument('--dim', type=int, default=128)
    p.add_argument('--batch-size', type=int, default=256)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--vlkge', action='store_true',
                   help='also time VL-KGE (structure + text features)')
    p.add_argument('--out', default=osp.join(HERE, 'k_sweep.json'))
    args = p.parse_args()
    try:
        import pykeen  # noqa: F401
        import torch_geometric  # noqa: F401
    except ImportError:
        py = ensure_venv(args.venv)
        env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep +
                   os.environ.get('PYTHONPATH', ''))
        os.execve(py, [py, osp.abspath(__file__)] + sys.argv[1:], env)

    import torch
    torch.set_num_threads(args.threads)
    sys.path.insert(0, HERE)
    from k_sweep_impls import IMPLS, make_impl

    data = load_triples(args)
    res = {'args': vars(args), 'torch': torch.__version__,
           'loadavg_start': os.getloadavg(), 'cells': []}
    ks = [int(k) for k in args.ks.split(',')]
    for ds in args.datasets.split(','):
        N, R, train = data[ds]
        cells = []
        for name in args.models.split(','):
            loss = 'margin' if name in ('transe', 'distmult') else 'bce'
            for k in ks:
                if k > 128 and name not in ('transe', 'rotate'):
                    continue
                cells.append((name, loss, k))
            cells += [(name, 'nssa', int(k))
                      for k in args.nssa_ks.split(',') if k]
        if args.vlkge:
            cells += [('vlkge', 'softplus', int(k)) for k in (1, 32, 128)]
        for name, loss, k in cells:
            cell = run_cell(ds, N, R, train, name, loss, k, args, IMPLS,
                            make_impl)
            res['cells'].append(cell)
            print(json.dumps(cell), flush=True)
            with open(args.out, 'w') as f:
                json.dump(res, f, indent=1)
    res['loadavg_end'] = os.getloadavg()
    with open(args.out, 'w') as f:
        json.dump(res, f, indent=1)


def run_cell(ds, N, R, train, name, loss, k, args, impls, make_impl):
    import torch
    g = torch.Generator().manual_seed(0)
    B, steps = args.batch_size, args.steps
    need = (args.repeats + 1) * steps * B
    idx = torch.randint(train.size(0), (need, ), generator=g)
    batches = train[idx].view(-1, B, 3)
    names = ['pyg-mmkg', 'pyg-mmkg-old'] if name == 'vlkge' else impls
    runners = {i: make_impl(i, name, loss, N, R, train, k, args)
               for i in names}
    runners = {i: f for i, f in runners.items() if f is not None}
    for f in runners.values():  # warm-up
        for b in batches[:2]:
            f(b)
    times = {i: [] for i in runners}
    order = list(runners)
    load = [os.getloadavg()[0]]
    for rep in range(args.repeats):
        order = order[1:] + order[:1]
        chunk = batches[(rep + 1) * steps:(rep + 2) * steps]
        for i in order:
            ts = []
            for b in chunk:
                t0 = time.perf_counter()
                runners[i](b)
                ts.append(time.perf_counter() - t0)
            times[i].append(statistics.median(ts) * 1e3)
    load.append(os.getloadavg()[0])
    cell = {'dataset': ds, 'model': name, 'loss': loss, 'k': k,
            'ms_per_step': {i: statistics.median(v)
                            for i, v in times.items()},
            'raw_ms': times, 'loadavg_1min': load}
    for ref in ('pykeen', 'pure', 'pyg', 'pyg-mmkg-old'):
        if ref in times and 'pyg-mmkg' in times:
            cell[f'mmkg_over_{ref}'] = statistics.median(
                a / b for a, b in zip(times['pyg-mmkg'], times[ref]))
    return cell


if __name__ == '__main__':
    main()
