"""Experiment trackers: console, JSON lines, CSV, TensorBoard."""
import csv
import json
import math
import os
from pathlib import Path
from typing import (Any, Callable, Dict, Iterable, List, Optional, Sequence,
                    Union)

PathLike = Union[str, os.PathLike]


def flatten_dict(values: Dict[str, Any], sep: str = '/',
                 prefix: str = '') -> Dict[str, Any]:
    r"""Flattens nested dictionaries, *e.g.* :obj:`{'val': {'mrr': 0.3}}`
    becomes :obj:`{'val/mrr': 0.3}`."""
    out = {}
    for key, value in values.items():
        name = f'{prefix}{sep}{key}' if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten_dict(value, sep, name))
        else:
            out[name] = value
    return out


def _to_jsonable(value: Any) -> Any:
    if hasattr(value, 'item') and getattr(value, 'numel', lambda: 1)() == 1:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


class Tracker:
    r"""The tracker interface: a run logs its parameters once and a
    dictionary of scalars per step (epoch)."""
    def log_params(self, params: Dict[str, Any]) -> None:
        r"""Logs the run's (hyper-)parameters.

        Args:
            params (Dict[str, Any]): The parameters.
        """

    def log_metrics(self, metrics: Dict[str, Any], step: int) -> None:
        r"""Logs scalar :obj:`metrics` (nested dictionaries are flattened
        with :obj:`'/'`) at :obj:`step`.

        Args:
            metrics (Dict[str, Any]): The (possibly nested) scalars.
            step (int): The step (epoch).
        """
        raise NotImplementedError

    def truncate(self, step: int) -> None:
        r"""Drops records logged after :obj:`step` (called when a run
        resumes from the checkpoint of epoch :obj:`step`).

        Args:
            step (int): The last step to keep.
        """

    def close(self) -> None:
        r"""Flushes and releases resources."""

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.close()

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'


class ConsoleTracker(Tracker):
    r"""Prints one line per step (through :meth:`tqdm.write` so that
    progress bars stay intact).

    Args:
        print_fn (callable, optional): Output function.
            (default: :meth:`tqdm.tqdm.write`)
        precision (int): Digits of floats. (default: :obj:`4`)
        keys (Sequence[str], optional): Print only these metrics (in this
            order); :obj:`None` prints all. (default: :obj:`None`)
        require (str, optional): Print a step only if one of its metric
            names starts with this prefix, *e.g.* :obj:`"val/"` for
            validation epochs only. (default: :obj:`None`)
    """
    def __init__(self, print_fn: Optional[Callable[[str], None]] = None,
                 precision: int = 4, keys: Optional[Sequence[str]] = None,
                 require: Optional[str] = None):
        if print_fn is None:
            from tqdm import tqdm
            print_fn = tqdm.write
        self.print_fn = print_fn
        self.precision = precision
        self.keys = None if keys is None else list(keys)
        self.require = require

    @classmethod
    def compact(cls, **kwargs) -> 'ConsoleTracker':
        r"""The trainer's default: the loss and main validation metrics of
        validation epochs only."""
        return cls(keys=['loss', 'val/mrr', 'val/hits@1', 'val/hits@10'],
                   require='val/', **kwargs)

    def log_params(self, params: Dict[str, Any]) -> None:
        text = ', '.join(f'{k}={v}' for k, v in flatten_dict(params).items())
        self.print_fn(f'params: {text}')

    def log_metrics(self, metrics: Dict[str, Any], step: int) -> None:
        metrics = flatten_dict(metrics)
        if self.require is not None and not any(
                k.startswith(self.require) for k in metrics):
            return
        keys = metrics if self.keys is None else [
            k for k in self.keys if k in metrics
        ]
        parts = []
        for key in keys:
            value = _to_jsonable(metrics[key])
            if isinstance(value, float):
                value = f'{value:.{self.precision}f}'
            parts.append(f'{key}={value}')
        self.print_fn(f'[{step}] ' + ' '.join(parts))


class JSONLinesTracker(Tracker):
    r"""Appends one JSON object per step, :obj:`{"step": ..., **metrics}`,
    to :obj:`path`.

    Args:
        path (str): The :obj:`.jsonl` file.
    """
    def __init__(self, path: PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def log_metrics(self, metrics: Dict[str, Any], step: int) -> None:
        record = {'step': int(step)}
        record.update({k: _to_jsonable(v)
                       for k, v in flatten_dict(metrics).items()})
        with open(self.path, 'a') as f:
            f.write(json.dumps(record) + '\n')

    def truncate(self, step: int) -> None:
        if not self.path.exists():
            return
        records = [r for r in read_jsonl(self.path) if r['step'] <= step]
        from pyg_mmkg.train.checkpoint import atomic_write_text
        atomic_write_text(self.path,
                          ''.join(json.dumps(r) + '\n' for r in records))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}('{self.path}')"


def read_jsonl(path: PathLike) -> List[Dict[str, Any]]:
    r"""Reads the records of a JSON-lines file (skipping a torn last
    line).

    Args:
        path (str or os.PathLike): The JSON-lines file.
    """
    records = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    return records


class CSVTracker(Tracker):
    r"""Writes all steps to a CSV file with one column per metric; the file
    is rewritten (atomically) whenever a new metric appears, so that the
    header always covers every column.

    Args:
        path (str): The :obj:`.csv` file.
    """
    def __init__(self, path: PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows: List[Dict[str, Any]] = []
        self.columns: List[str] = ['step']
        if self.path.exists():  # Continue an existing file (resume).
            with open(self.path, newline='') as f:
                reader = csv.DictReader(f)
                self.columns = list(reader.fieldnames or ['step'])
                self.rows = [dict(r) for r in reader]

    def _rewrite(self) -> None:
        from pyg_mmkg.train.checkpoint import atomic_write_text
        import io
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns, restval='')
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.path, buf.getvalue())

    def log_metrics(self, metrics: Dict[str, Any], step: int) -> None:
        row = {'step': int(step)}
        row.update({k: _to_jsonable(v)
                    for k, v in flatten_dict(metrics).items()})
        self.rows.append(row)
        new = [k for k in row if k not in self.columns]
        if new or not self.path.exists():
            self.columns += new
            self._rewrite()
        else:
            with open(self.path, 'a', newline='') as f:
                csv.DictWriter(f, fieldnames=self.columns,
                               restval='').writerow(row)

    def truncate(self, step: int) -> None:
        self.rows = [r for r in self.rows if int(r['step']) <= step]
        if self.path.exists():
            self._rewrite()

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}('{self.path}')"


class TensorBoardTracker(Tracker):
    r"""Logs scalars to TensorBoard (needs the :obj:`track` extra).

    Args:
        log_dir (str): The event-file folder.
    """
    def __init__(self, log_dir: PathLike):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except Exception as e:
            raise ImportError(
                "'TensorBoardTracker' needs the 'tensorboard' package "
                "(pip install 'pyg-mmkg[track]')") from e
        self.log_dir = str(log_dir)
        self.writer = SummaryWriter(log_dir=self.log_dir)

    def log_params(self, params: Dict[str, Any]) -> None:
        text = '\n'.join(f'{k}: {v}'
                         for k, v in flatten_dict(params).items())
        self.writer.add_text('params', text)

    def log_metrics(self, metrics: Dict[str, Any], step: int) -> None:
        for key, value in flatten_dict(metrics).items():
            value = _to_jsonable(value)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(key, value, global_step=step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}('{self.log_dir}')"


class MultiTracker(Tracker):
    r"""Forwards every call to several trackers.

    Args:
        trackers (Iterable[Tracker]): The trackers.
    """
    def __init__(self, trackers: Iterable[Tracker]):
        self.trackers = list(trackers)

    def log_params(self, params: Dict[str, Any]) -> None:
        for tracker in self.trackers:
            tracker.log_params(params)

    def log_metrics(self, metrics: Dict[str, Any], step: int) -> None:
        for tracker in self.trackers:
            tracker.log_metrics(metrics, step)

    def truncate(self, step: int) -> None:
        for tracker in self.trackers:
            tracker.truncate(step)

    def close(self) -> None:
        for tracker in self.trackers:
            tracker.close()

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.trackers})'


def get_tracker(name: str, run_dir: Optional[PathLike] = None) -> Tracker:
    r"""Builds a tracker by name: :obj:`"console"` (compact),
    :obj:`"jsonl"`,
    :obj:`"csv"` or :obj:`"tensorboard"` (file trackers write into
    :obj:`run_dir`).

    Args:
        name (str): :obj:`'console'`, :obj:`'jsonl'`, :obj:`'csv'` or
            :obj:`'tensorboard'`.
        run_dir (str or os.PathLike, optional): The folder file trackers write
            into. (default: :obj:`None`)
    """
    name = name.lower()
    if name == 'console':
        return ConsoleTracker.compact()
    if run_dir is None:
        raise ValueError(f"Tracker '{name}' needs a run directory")
    run_dir = Path(run_dir)
    if name in ('jsonl', 'json', 'jsonlines'):
        return JSONLinesTracker(run_dir / 'metrics.jsonl')
    if name == 'csv':
        return CSVTracker(run_dir / 'metrics.csv')
    if name in ('tensorboard', 'tb'):
        return TensorBoardTracker(run_dir / 'tensorboard')
    raise ValueError(f"Unknown tracker '{name}' (choose from console, "
                     f"jsonl, csv, tensorboard)")
