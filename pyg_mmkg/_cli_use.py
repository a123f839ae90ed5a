r"""The :obj:`pyg-mmkg predict` and :obj:`pyg-mmkg tune` commands (kept out
of :mod:`pyg_mmkg.cli` so that it stays short; nothing heavy is imported
until a command runs)."""
import argparse
import json
from pathlib import Path


def run_data(run_dir: str, dataset, root):
    r"""The data that :obj:`--dataset` / :obj:`--root` name for the run in
    :obj:`run_dir` (:obj:`None` when neither is given: :func:`load_run`
    then loads the data the run recorded). A missing :obj:`--dataset` is
    read from the run's :obj:`config.json`; a missing :obj:`--root` too,
    unless :obj:`--dataset` names other data.

    Args:
        run_dir (str): The run directory.
        dataset (str, optional): :obj:`--dataset`.
        root (str, optional): :obj:`--root`.
    """
    if dataset is None and root is None:
        return None
    from pyg_mmkg.train.config import TrainConfig
    from pyg_mmkg.train.run import load_data
    config_path = Path(run_dir) / 'config.json'
    if not config_path.exists():
        raise FileNotFoundError(f"'{run_dir}' is not a run directory (no "
                                f"config.json)")
    cfg = TrainConfig.from_file(config_path)
    name = dataset if dataset is not None else cfg.dataset
    if name is None:
        raise ValueError(f"'{run_dir}' was trained on data given in Python: "
                         f"pass --dataset")
    return load_data(name, root if root is not None
                     else None if dataset is not None else cfg.root)


def add_predict_parser(sub) -> None:
    r"""Adds :obj:`pyg-mmkg predict`.

    Args:
        sub: The sub-parsers of :obj:`pyg-mmkg`.
    """
    p = sub.add_parser(
        'predict', help='top-k tails, heads or relations by name',
        description='--head and --relation: tails; --relation and --tail: '
        'heads; --head and --tail: relations.')
    p.add_argument('run_dir', help='a run directory written by `train`')
    p.add_argument('--head', default=None, help='head entity name or id')
    p.add_argument('--relation', default=None,
                   help='relation name or id')
    p.add_argument('--tail', default=None, help='tail entity name or id')
    p.add_argument('--k', type=int, default=10, help='answers (default 10)')
    p.add_argument('--filtered', action='store_true',
                   help='leave out known train/val/test triples')
    p.add_argument('--checkpoint', default='best', choices=['best', 'last'])
    p.add_argument('--dataset', default=None,
                   help='dataset name or path (for runs trained on data '
                   'given in Python)')
    p.add_argument('--root', default=None, help='override the dataset root')
    p.add_argument('--num-threads', type=int, default=None,
                   help='torch.set_num_threads')
    p.add_argument('--json', action='store_true', help='print JSON rows')


def add_tune_parser(sub) -> None:
    r"""Adds :obj:`pyg-mmkg tune`.

    Args:
        sub: The sub-parsers of :obj:`pyg-mmkg`.
    """
    p = sub.add_parser('tune', help='hyper-parameter search (Optuna)')
    p.add_argument('space', help='search space file (JSON or YAML): base '
                   'options, space, n_trials, pruner')
    p.add_argument('--study-dir', required=True, help='study folder '
                   '(study.db, trials/, best.json); run again to continue')
    p.add_argument('--n-trials', type=int, default=None,
                   help='finished trials to reach, earlier ones included')
    p.add_argument('--dataset', default=None,
                   help="override the space file's base dataset")
    p.add_argument('--num-threads', type=int, default=None,
                   help='torch.set_num_threads')
    p.add_argument('--progress', action=argparse.BooleanOptionalAction,
                   default=False, help='console progress of each trial')


def cmd_predict(args) -> int:
    r"""Runs :obj:`pyg-mmkg predict`.

    Args:
        args (argparse.Namespace): The parsed arguments.
    """
    from pyg_mmkg.predict import Predictor
    given = {k for k in ('head', 'relation', 'tail')
             if getattr(args, k) is not None}
    if len(given) != 2:
        raise ValueError('give exactly two of --head, --relation and --tail '
                         '(the third is predicted)')
    data = run_data(args.run_dir, args.dataset, args.root)
    predictor = Predictor(args.run_dir, data, checkpoint=args.checkpoint)
    if 'tail' not in given:
        pred = predictor.tails(args.head, args.relation, args.k,
                               args.filtered)
    elif 'head' not in given:
        pred = predictor.heads(args.relation, args.tail, args.k,
                               args.filtered)
    else:
        pred = predictor.relations(args.head, args.tail, args.k,
                                   args.filtered)
    if args.json:
        print(json.dumps(pred.rows(), indent=2))
    else:
        print(pred)
    return 0


def cmd_tune(args) -> int:
    r"""Runs :obj:`pyg-mmkg tune`.

    Args:
        args (argparse.Namespace): The parsed arguments.
    """
    from pyg_mmkg.tune import read_space, tune
    spec = read_space(args.space)
    if args.dataset is not None:
        spec['base'] = dict(spec['base'], dataset=args.dataset)
    study = tune(spec, args.study_dir, args.n_trials,
                 progress=args.progress)
    states = [t.state.name.lower() for t in study.trials]
    print(f"{len(states)} trials in {args.study_dir}: "
          + ', '.join(f'{states.count(s)} {s}' for s in sorted(set(states))))
    try:
        best = study.best_trial
    except ValueError:
        print('no complete trial yet')
        return 0
    print(f"best trial {best.number}: val {best.value:.4f} with "
          f"{json.dumps(best.params)}; run directory "
          f"{best.user_attrs.get('run_dir')}")
    return 0
