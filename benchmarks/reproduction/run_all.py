r"""Structure-only reproduction of the unimodal baselines of the MoMoK
paper (TransE, DistMult, ComplEx, RotATE, TuckER on MKG-W, MKG-Y, DB15K)
through :class:`pyg_mmkg.train.Trainer`.

Every run is selected on validation MRR (filtered, realistic ranks, head +
tail) and evaluated once on test. Because the budget is a wall-clock one,
each run gets a share of ``--total-budget`` seconds: when its share is used
up the current epoch is made the last one (it is validated, the best
validated weights are restored and tested), exactly like reaching
``--epochs``. The equivalent ``pyg-mmkg train`` command (without the cap) is
stored with each result.

Example (files from ``--shared`` linked into ``<data-root>/<name>/raw``)::

    python benchmarks/reproduction/run_all.py --shared /work/shared/data \
        --data-root /tmp/repro_data --out results.json --total-budget 220
"""
import argparse
import json
import os
import os.path as osp
import shutil
import sys
import time
import traceback

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from pyg_mmkg.train import TrainConfig, Trainer  # noqa: E402
from pyg_mmkg.train.checkpoint import seed_everything  # noqa: E402
from pyg_mmkg.train.run import build_model, select_modalities  # noqa: E402

# dataset -> (class name, [(file under --shared, raw name)])
FILES = {
    'MKG-W': ('MKG_W', [('MKG-W/' + f, f) for f in (
        'entity2id.txt', 'relation2id.txt', 'train.txt.gz', 'valid.txt',
        'test.txt')]),
    'MKG-Y': ('MKG_Y', [('MKG-Y/' + f, f) for f in (
        'entity2id.txt', 'relation2id.txt', 'train.txt', 'valid.txt',
        'test.txt')]),
    'DB15K': ('DB15K', [('DB15K/' + f, f) for f in (
        'entity2id.txt', 'relation2id.txt', 'train2id.txt', 'valid2id.txt',
        'test2id.txt')]),
}


def stage(shared: str, root: str, name: str, copy: bool = False) -> None:
    raw = osp.join(root, name, 'raw')
    os.makedirs(raw, exist_ok=True)
    for src, dst in FILES[name][1]:
        path = osp.join(raw, dst)
        if not osp.exists(path):
            if copy:
                shutil.copy(osp.join(shared, src), path)
            else:
                os.symlink(osp.join(shared, src), path)


def load(root: str, name: str):
    import pyg_mmkg.datasets as datasets
    cls = getattr(datasets, FILES[name][0])
    return cls(osp.join(root, name))[0]


class CappedTrainer(Trainer):
    r"""A :class:`Trainer` whose run ends (as if :obj:`epochs` were reached)
    with the first epoch that finishes after :obj:`deadline`."""
    deadline = float('inf')

    def train_epoch(self) -> float:
        loss = super().train_epoch()
        if time.perf_counter() > self.deadline:
            # ``self.epoch`` is still the previous epoch here:
            self.config.epochs = min(self.config.epochs, self.epoch + 1)
        return loss


def cli_command(dataset: str, cfg: dict) -> str:
    parts = [f'pyg-mmkg train --dataset {dataset} --root DATA/{dataset}']
    for key, value in cfg.items():
        if key in ('progress',):
            continue
        flag = '--' + key.replace('_', '-')
        if isinstance(value, bool):
            parts.append(flag if value else f'--no-{key.replace("_", "-")}')
        elif isinstance(value, dict):
            parts.append(f"{flag} '{json.dumps(value)}'")
        elif isinstance(value, list):
            parts.append(f'{flag} {",".join(map(str, value))}')
        else:
            parts.append(f'{flag} {value}')
    return ' '.join(parts) + ' --num-threads 1'


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--config', default=osp.join(
        osp.dirname(osp.abspath(__file__)), 'configs.json'))
    parser.add_argument('--shared', default=None,
                        help='folder with MKG-W/, MKG-Y/, DB15K/ raw files '
                        '(staged into --data-root)')
    parser.add_argument('--copy', action='store_true',
                        help='copy instead of symlinking when staging')
    parser.add_argument('--data-root', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--total-budget', type=float, default=220.0,
                        help='seconds for all runs together')
    parser.add_argument('--reserve', type=float, default=3.0,
                        help='seconds per run kept for the final val/test '
                        'evaluation')
    parser.add_argument('--only', default=None,
                        help='comma list of DATASET:model to run')
    parser.add_argument('--override', default='{}',
                        help='JSON of TrainConfig fields for every run')
    parser.add_argument('--device', default='auto')
    parser.add_argument('--num-threads', type=int, default=None)
    args = parser.parse_args()
    if args.num_threads:
        torch.set_num_threads(args.num_threads)

    start = time.perf_counter()
    spec = json.load(open(args.config))
    override = json.loads(args.override)
    if torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    runs = [(d, m) for d in spec['datasets'] for m in spec['models']]
    if args.only:
        keep = set(args.only.split(','))
        runs = [(d, m) for d, m in runs if f'{d}:{m}' in keep]
    env = dict(torch=torch.__version__,
               cuda=(torch.cuda.get_device_name()
                     if torch.cuda.is_available() else None),
               threads=torch.get_num_threads(), python=sys.version.split()[0])
    try:
        import torch_geometric
        env['torch_geometric'] = torch_geometric.__version__
    except Exception:  # pragma: no cover
        pass
    print(json.dumps(env), flush=True)
    results = dict(env=env, total_budget=args.total_budget, runs=[])
    cache = {}

    def dump():
        tmp = args.out + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(results, f, indent=1)
        os.replace(tmp, args.out)

    for i, (dataset, model_name) in enumerate(runs):
        cfg = dict(spec['common'])
        cfg.update(spec['models'][model_name])
        cfg.update(override)
        cfg['device'] = args.device
        row = dict(dataset=dataset, model=model_name, config=cfg,
                   command=cli_command(dataset, cfg),
                   paper_mrr=spec['paper_mrr'][dataset][model_name])
        t0 = time.perf_counter()
        try:
            if dataset not in cache:
                if args.shared:
                    stage(args.shared, args.data_root, dataset, args.copy)
                data = select_modalities(load(args.data_root, dataset),
                                         ['structure'])
                cache[dataset] = dict(data=data, filter_index=None,
                                      load_s=time.perf_counter() - t0)
            entry = cache[dataset]
            config = TrainConfig(**cfg)
            seed_everything(config.seed)
            model = build_model(config, entry['data'])
            trainer = CappedTrainer(model, entry['data'], config,
                                    trackers=[], plot=False,
                                    filter_index=entry['filter_index'])
            entry['filter_index'] = trainer.filter_index  # build once
            left = args.total_budget - (time.perf_counter() - start)
            share = left / (len(runs) - i)
            trainer.deadline = time.perf_counter() + max(
                share - args.reserve, 1.0)
            t1 = time.perf_counter()
            res = trainer.fit()
            if trainer.device.type == 'cuda':
                torch.cuda.synchronize()
            row.update(res)
            row['budget_s'] = share
            row['capped'] = (trainer.config.epochs < cfg['epochs']
                             and not res['stopped_early'])
            row['fit_s'] = time.perf_counter() - t1
            row['device'] = str(trainer.device)
        except Exception as e:  # Keep going with the other runs.
            row['error'] = f'{type(e).__name__}: {e}'
            row['traceback'] = traceback.format_exc()
        row['wall_s'] = time.perf_counter() - t0
        results['runs'].append(row)
        dump()
        test = row.get('test', {})
        print(f"{dataset:6s} {model_name:9s} epochs={row.get('epochs_trained')}"
              f" best={row.get('best_epoch')} capped={row.get('capped')}"
              f" wall={row['wall_s']:.1f}s val_mrr="
              f"{row.get('val', {}).get('mrr', float('nan')):.4f}"
              f" test_mrr={test.get('mrr', float('nan')):.4f}"
              f" h@1={test.get('hits@1', float('nan')):.4f}"
              f" h@10={test.get('hits@10', float('nan')):.4f}"
              f" {row.get('error', '')}", flush=True)
    results['total_s'] = time.perf_counter() - start
    dump()


if __name__ == '__main__':
    main()
