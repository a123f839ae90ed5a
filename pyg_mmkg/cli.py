r"""The :obj:`pyg-mmkg` command.

.. code-block:: console

    pyg-mmkg datasets              # list datasets, offline ones marked
    pyg-mmkg info VTKG-I           # statistics and features
    pyg-mmkg models                # model names for --model
    pyg-mmkg train --dataset VTKG-I --model complex [--config cfg.json] ...
    pyg-mmkg evaluate runs/VTKG-I-complex-... [--split test]
    pyg-mmkg predict RUN --head Lisbon --relation capital_of [--k 10]
    pyg-mmkg tune space.yaml --study-dir studies/x [--n-trials 20]
    pyg-mmkg features ...          # feature extraction
"""
import argparse
import dataclasses
import json
import os
import sys
import time
import typing
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

# PyG 2.8 calls the deprecated torch.jit.script at import time; the warning
# says nothing to a pyg-mmkg user, so the command line hides it.
warnings.filterwarnings('ignore', message='`torch.jit.script` is deprecated',
                        category=FutureWarning)

_FIELD_HELP = {
    'dataset': 'dataset name (see `pyg-mmkg datasets`), raw KG folder, or '
    'a file saved with torch.save(data)',
    'model': 'model name (see `pyg-mmkg models`)',
    'modalities': 'comma-separated modalities the model may use, e.g. '
    'structure,text',
    'model_kwargs': 'JSON object of further model arguments',
    'scheduler_kwargs': 'JSON object of scheduler arguments',
    'recipe': "'published': start from the model's published training "
    "recipe (every option you do not give takes the recipe's value); "
    "'none': the generic defaults shown here",
}

# Options that may change when a run is resumed: they do not alter what
# the checkpointed optimiser, sampler and model have done so far.
_RESUMABLE = ('epochs', 'patience', 'min_epochs', 'max_time_s',
              'eval_every', 'eval_batch_size', 'progress', 'device',
              'dataset', 'root')


def _base_type(tp):
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _base_type(args[0])
    return origin or tp


def _none_or(convert):
    def parse(text: str):
        if text.lower() in ('none', 'null'):
            return None
        return convert(text)

    parse.__name__ = getattr(convert, '__name__', 'value')
    return parse


def _json_dict(text: str) -> Dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got "
                                         f"'{text}'")
    return value


def _comma_list(text: str) -> List[str]:
    return [x.strip() for x in text.split(',') if x.strip()]


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    from pyg_mmkg.train.config import TrainConfig
    hints = typing.get_type_hints(TrainConfig)
    group = parser.add_argument_group(
        'training options (override --config; defaults as in TrainConfig)')
    for field in dataclasses.fields(TrainConfig):
        flag = '--' + field.name.replace('_', '-')
        tp = _base_type(hints[field.name])
        default = (field.default if field.default is not dataclasses.MISSING
                   else field.default_factory())
        helptext = _FIELD_HELP.get(field.name, '')
        helptext = f'{helptext} (default: {default})'.strip()
        # Absent flags stay absent (SUPPRESS), so that an explicit 'none'
        # is told apart from "not given".
        if tp is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=helptext)
        elif tp is dict:
            group.add_argument(flag, type=_json_dict,
                               default=argparse.SUPPRESS, metavar='JSON',
                               help=helptext)
        elif tp is list:
            group.add_argument(flag, type=_comma_list,
                               default=argparse.SUPPRESS, metavar='A,B',
                               help=helptext)
        else:
            convert = {int: int, float: float}.get(tp, str)
            optional = typing.get_origin(hints[field.name]) is typing.Union
            group.add_argument(flag, type=(_none_or(convert) if optional
                                           else convert),
                               default=argparse.SUPPRESS,
                               metavar=field.name.upper(), help=helptext)


def build_parser(features: bool = True) -> argparse.ArgumentParser:
    r"""The argument parser of :obj:`pyg-mmkg`.

    Args:
        features (bool, optional): Build the options of :obj:`features`
            (which imports torch); :obj:`False` lists the command only, so
            that :obj:`--help` and the other commands start fast.
            (default: :obj:`True`)
    """
    parser = argparse.ArgumentParser(
        prog='pyg-mmkg',
        description='Multimodal knowledge graphs for PyTorch Geometric.')
    from pyg_mmkg import __version__
    parser.add_argument('--version', action='version',
                        version=f'%(prog)s {__version__}')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True

    p = sub.add_parser('datasets', help='list the datasets')
    p.add_argument('--json', action='store_true', help='print JSON')

    p = sub.add_parser('info', help='statistics of a dataset')
    p.add_argument('dataset', help='dataset name or folder')
    p.add_argument('--root', default=None, help='dataset root folder')

    sub.add_parser('models', help='list the model names')

    p = sub.add_parser('train', help='train and evaluate a model')
    p.add_argument('--config', default=None, metavar='FILE',
                   help='JSON or YAML file of TrainConfig fields')
    p.add_argument('--run-dir', default=None,
                   help='output folder (default: runs/<dataset>-<model>-'
                   '<time>)')
    p.add_argument('--resume', action='store_true',
                   help='continue the run in --run-dir from its last '
                   'checkpoint')
    p.add_argument('--num-threads', type=int, default=None,
                   help='torch.set_num_threads (1 is fastest for small '
                   'graphs on a busy machine)')
    p.add_argument('--trackers', type=_comma_list, default=None,
                   metavar='A,B', help='console,jsonl,csv,tensorboard '
                   '(default: console,jsonl,csv)')
    _add_config_arguments(p)

    p = sub.add_parser('evaluate', help='evaluate a trained run')
    p.add_argument('run_dir', help='a run directory written by `train`')
    p.add_argument('--split', default='test', choices=['train', 'val',
                                                       'test'])
    p.add_argument('--checkpoint', default='best', choices=['best', 'last'])
    p.add_argument('--dataset', default=None,
                   help='dataset name or path (needed for runs trained on '
                   'data given in Python; checked against the fingerprint '
                   'in model.json)')
    p.add_argument('--root', default=None, help='override the dataset root')
    p.add_argument('--per-relation', action='store_true',
                   help='also print per-relation metrics')
    p.add_argument('--rank-types', type=_comma_list, default=['realistic'],
                   metavar='A,B',
                   help='realistic,optimistic,pessimistic')
    p.add_argument('--batch-size', type=int, default=None)
    p.add_argument('--num-threads', type=int, default=None,
                   help='torch.set_num_threads')
    p.add_argument('--json', action='store_true', help='print JSON')

    from pyg_mmkg._cli_use import add_predict_parser, add_tune_parser
    add_predict_parser(sub)
    add_tune_parser(sub)

    if features:
        _add_features_parser(sub)
    else:
        p = sub.add_parser('features', add_help=False,
                           help='feature extraction (texts and images of a '
                           'dataset); pyg-mmkg features --help')
        p.add_argument('args', nargs=argparse.REMAINDER)
    return parser


def _features_module():
    import importlib
    try:
        return importlib.import_module('pyg_mmkg.features.cli')
    except ModuleNotFoundError as e:
        if e.name in ('pyg_mmkg.features.cli', 'pyg_mmkg.features'):
            return None
        raise


def _add_features_parser(sub) -> None:
    try:
        module = _features_module()
    except Exception as e:  # A broken optional dependency chain.
        module, error = None, e
    else:
        error = None
    if module is not None and hasattr(module, 'add_parser'):
        module.add_parser(sub)
        return
    p = sub.add_parser('features', help='feature extraction (unavailable)')
    p.set_defaults(_features_error=error)
    p.add_argument('args', nargs=argparse.REMAINDER)


# Commands ###################################################################


def _cmd_datasets(args) -> int:
    from pyg_mmkg.datasets import list_datasets
    rows = list_datasets()
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != 'cls'}
                          for r in rows], indent=2, default=str))
        return 0
    table = [('name', 'offline', 'entities', 'relations', 'train', 'valid',
              'test', 'notes')]
    for r in rows:
        offline = r.get('available_offline', r.get('bundled', False))
        stats = r.get('stats') or {}
        notes = r.get('description') or ''
        if not notes:
            if r.get('bundled'):
                notes = 'bundled with pyg-mmkg'
            elif r.get('downloadable'):
                notes = 'downloadable'
            elif r.get('manual'):
                notes = 'manual download'
        table.append((r['name'], 'yes' if offline else 'no',
                      *(f"{stats[k]:,}" if k in stats else '-'
                        for k in ('num_entities', 'num_relations', 'train',
                                  'val', 'test')), notes))
    _print_table(table)
    return 0


def _print_table(rows: Sequence[Sequence[Any]]) -> None:
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for j, row in enumerate(rows):
        print('  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if j == 0:
            print('  '.join('-' * w for w in widths))


def _feature_lines(data) -> List[str]:
    import torch
    lines = []
    for node_type in ('entity', 'relation'):
        if node_type not in data.node_types:
            continue
        store = data[node_type]
        for key in sorted(store.keys()):
            value = store[key]
            if not (key.startswith('x_') and isinstance(value, torch.Tensor)):
                continue
            mask_key = {'x_text': 'has_text', 'x_image': 'has_image',
                        'x_numeric': None}.get(key)
            cover = ''
            if mask_key and mask_key in store:
                m = store[mask_key]
                cover = f', {int(m.sum())}/{m.numel()} have it'
            lines.append(f'  {node_type}.{key}: '
                         f'{list(value.shape)} {str(value.dtype)[6:]}'
                         f'{cover}')
    encoders = getattr(data, 'feature_encoders', None) if hasattr(
        data, 'feature_encoders') else None
    if encoders:
        for key, value in encoders.items():
            lines.append(f'  encoder of {key}: {value}')
    return lines


def _cmd_info(args) -> int:
    from pyg_mmkg.data import num_entities, num_relations, triples
    from pyg_mmkg.train.run import load_data
    data = load_data(args.dataset, args.root)
    print(f'dataset:   {args.dataset}')
    print(f'entities:  {num_entities(data):,}')
    print(f'relations: {num_relations(data):,}')
    for split in ('train', 'val', 'test'):
        print(f'{split + ":":<10} {triples(data, split)[0].numel():,} '
              f'triples')
    record = getattr(data, 'source_files', None)
    if record:  # a folder read by KGFolder: the files used and not used
        from pyg_mmkg.datasets.folder import describe_source_files
        layout = getattr(data, 'layout', None)
        print(f'files:     {describe_source_files(record, layout)}')
    lines = _feature_lines(data)
    print('features:' + ('' if lines else ' none (structure only)'))
    for line in lines:
        print(line)
    return 0


def _cmd_models(args) -> int:
    from pyg_mmkg.train.registry import list_models
    for name in list_models():
        print(name)
    return 0


def _slug(text: str) -> str:
    text = os.path.basename(os.path.normpath(str(text))) or 'data'
    return ''.join(c if c.isalnum() or c in '+-.' else '_' for c in text)


def _metrics_table(results: Dict[str, Any]) -> None:
    keys = ['mrr', 'mr', 'hits@1', 'hits@3', 'hits@10']
    rows = [['split'] + [k.upper() if k != 'mrr' else 'MRR' for k in keys]]
    for split in ('val', 'test'):
        if split in results:
            rows.append([split] + [
                f'{results[split][k]:.2f}' if k == 'mr' else
                f'{results[split][k]:.4f}' for k in keys
            ])
    _print_table(rows)


def _resume_config(run_dir: Path, flags: Dict[str, Any]):
    r"""The recorded configuration of :obj:`run_dir`, with the flags that
    may change on resume; any other flag that differs is refused (the
    checkpointed optimiser, scheduler and sampler would ignore it, and
    config.json must never record a value that was not used)."""
    from pyg_mmkg.train import TrainConfig
    path = run_dir / 'config.json'
    if not path.exists():
        raise FileNotFoundError(f"Cannot resume: '{run_dir}' has no "
                                f"config.json")
    recorded = TrainConfig.from_file(path)
    flags = dict(flags)
    if 'model_kwargs' in flags:  # The given keys, over the recorded ones.
        flags['model_kwargs'] = dict(recorded.model_kwargs,
                                     **flags['model_kwargs'])
    # Compare normalised values (case, aliases) field by field:
    given = recorded.replace(**flags) if flags else recorded
    refused = [f"--{k.replace('_', '-')} {v!r} (the run used "
               f"{getattr(recorded, k)!r})" for k, v in flags.items()
               if k not in _RESUMABLE
               and not _same_setting(k, getattr(given, k),
                                     getattr(recorded, k))]
    if refused:
        allowed = ', '.join('--' + k.replace('_', '-') for k in _RESUMABLE)
        raise ValueError(f"--resume continues '{run_dir}' with its recorded "
                         f"configuration; these options cannot change: "
                         f"{'; '.join(refused)}. Start a new run "
                         f"directory to train with them (options that may "
                         f"change on resume: {allowed})")
    return given


def _same_setting(name: str, given: Any, recorded: Any) -> bool:
    if name == 'model' and given != recorded:
        from pyg_mmkg.train.registry import _discover
        cls = _discover(given)
        return cls is not None and cls is _discover(recorded)
    return given == recorded


def _config_file_values(path: str) -> Dict[str, Any]:
    from pyg_mmkg.train import TrainConfig
    from_file = TrainConfig.from_file(path)
    return {k: v for k, v in from_file.to_dict().items()
            if k in from_file.explicit_fields}


def _cmd_train(args) -> int:
    from pyg_mmkg.train import (DistributedTrainer, TrainConfig, Trainer,
                                get_tracker)
    from pyg_mmkg.train._distributed_utils import (DEFAULT_TIMEOUT_S,
                                                   launched_distributed)
    from pyg_mmkg.train.recipes import apply_recipe, describe_recipe
    config_fields = TrainConfig.field_names()
    flags = {k: getattr(args, k) for k in config_fields if hasattr(args, k)}
    run_dir = Path(args.run_dir) if args.run_dir else None
    if args.resume:
        if run_dir is None:
            raise ValueError('--resume needs --run-dir')
        # A --config file counts like flags: refused where it differs.
        values = _config_file_values(args.config) if args.config else {}
        values.update(flags)
        config = _resume_config(run_dir, values)
    else:
        values = _config_file_values(args.config) if args.config else {}
        values.update(flags)
        config = TrainConfig.from_dict(values)
    if config.dataset is None:
        raise ValueError('--dataset is required (or set it in --config)')
    if os.path.exists(config.dataset):  # Re-evaluable from anywhere.
        config.dataset = os.path.abspath(config.dataset)
    if run_dir is None:
        stamp = time.strftime('%Y%m%d-%H%M%S')
        run_dir = Path('runs') / (f'{_slug(config.dataset)}-'
                                  f'{_slug(config.model)}-{stamp}')
    names = args.trackers
    if names is None:  # The default set; --no-progress silences the console
        names = ['console', 'jsonl', 'csv']  # (an explicit one stays).
        if not config.progress:
            names = [n for n in names if n != 'console']
    config, recipe = apply_recipe(config, config.model)
    print(describe_recipe(config, recipe, config.model))
    trainer_cls, extra = Trainer, {}
    if launched_distributed():  # torchrun --nproc-per-node K (K > 1)
        trainer_cls = DistributedTrainer
        extra['timeout_s'] = float(os.environ.get(
            'PYG_MMKG_DIST_TIMEOUT_S', DEFAULT_TIMEOUT_S))
        if int(os.environ.get('RANK', '0')) != 0:
            names = []  # Rank 0 tracks.
    trackers = [get_tracker(n, run_dir) for n in names]
    trainer = trainer_cls.from_config(config, run_dir=run_dir,
                                      trackers=trackers, **extra)
    trainer.announce_recipe = False  # printed above
    c = trainer.config
    print(f'{trainer.model!r} on {config.dataset} ({trainer.device}); '
          f'regime={c.regime} loss={c.loss_name} optimizer={c.optimizer} '
          f'lr={c.lr} batch_size={c.batch_size} epochs={c.epochs}'
          + (f' negatives={c.num_negatives}' if c.regime == 'slcwa' else '')
          + f'; run directory: {run_dir}')
    t0 = time.perf_counter()
    try:
        results = trainer.fit(resume=args.resume)
    finally:
        trainer.close()
    print(f'best epoch {results["best_epoch"]} of '
          f'{results["epochs_trained"]} (selected on val/{config.metric}); '
          f'{time.perf_counter() - t0:.1f}s')
    _metrics_table(results)
    return 0


def _cmd_evaluate(args) -> int:
    from pyg_mmkg.evaluation import FilterIndex, evaluate
    from pyg_mmkg.data import num_entities, num_relations, triples
    from pyg_mmkg.train.run import load_run
    from pyg_mmkg.train.utils import resolve_device
    from pyg_mmkg._cli_use import run_data
    data = run_data(args.run_dir, args.dataset, args.root)
    model, data, config = load_run(args.run_dir, data, args.checkpoint)
    device = resolve_device(config.device)
    model = model.to(device)
    # Validation ranks as in model selection (config.val_filter: train +
    # val by default, so test membership never shapes it); test and train
    # with the full train + val + test filter.
    names = ('train', 'val', 'test')
    if args.split == 'val' and config.val_filter != 'train+val+test':
        names = ('train', 'val')
    splits = [triples(data, s) for s in names]
    fi = FilterIndex.from_triples(splits, num_entities(data),
                                  num_relations(data)).to(device)
    h, r, t = (x.to(device) for x in triples(data, args.split))
    result = evaluate(model, h, r, t, filter_index=fi,
                      batch_size=args.batch_size or config.eval_batch_size,
                      rank_types=tuple(args.rank_types),
                      per_relation=args.per_relation)
    if args.per_relation and hasattr(result, 'with_relation_names'):
        from pyg_mmkg.predict import node_names
        result = result.with_relation_names(
            node_names(data, 'relation', num_relations(data)))
    if args.json:
        print(json.dumps(result, indent=2, default=float))
        return 0
    print(f'{args.split} split of {config.dataset} '
          f'({args.checkpoint} checkpoint of {args.run_dir}; filtered with '
          f'{"+".join(names)}):')
    if hasattr(result, 'table'):
        print(result.table())
        if args.per_relation:
            print(result.table(per_relation=True))
    else:  # pragma: no cover - plain dict results
        print(json.dumps(result, indent=2, default=float))
    return 0


def _cmd_features(args) -> int:
    error = getattr(args, '_features_error', None)
    module = None if error is not None else _features_module()
    if module is None or not hasattr(module, 'run'):
        detail = f' ({error})' if error is not None else ''
        print(f'error: feature extraction is not available in this '
              f'installation{detail}', file=sys.stderr)
        return 2
    return int(module.run(args) or 0)


def _use(name: str):
    from pyg_mmkg import _cli_use
    return getattr(_cli_use, name)


_COMMANDS = {
    'datasets': _cmd_datasets,
    'info': _cmd_info,
    'models': _cmd_models,
    'train': _cmd_train,
    'evaluate': _cmd_evaluate,
    'predict': lambda args: _use('cmd_predict')(args),
    'tune': lambda args: _use('cmd_tune')(args),
    'features': _cmd_features,
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    r"""Entry point of :obj:`pyg-mmkg`; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith('-')), None)
    parser = build_parser(features=command == 'features')
    args = parser.parse_args(argv)
    threads = getattr(args, 'num_threads', None)
    if threads is not None:
        if threads < 1:
            parser.error(f'--num-threads must be a positive integer (got '
                         f'{threads})')
        import torch
        torch.set_num_threads(threads)
    try:
        return _COMMANDS[args.command](args)
    except (ValueError, OSError, ImportError) as e:
        # OSError: also a full disk, a read-only or locked run directory.
        print(f'error: {e}', file=sys.stderr)
        return 1


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
