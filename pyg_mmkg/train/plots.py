"""Loss and metric curves of a run, saved as PNG (needs matplotlib)."""
import os
import warnings
from pathlib import Path
from typing import Any, Dict, List, Sequence, Union

PathLike = Union[str, os.PathLike]


def _series(records: Sequence[Dict[str, Any]], key: str):
    steps, values = [], []
    for record in records:
        value = record.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            steps.append(record['step'])
            values.append(value)
    return steps, values


def plot_curves(records: Sequence[Dict[str, Any]], out_dir: PathLike,
                ) -> List[Path]:
    r"""Draws the training loss (:obj:`loss.png`) and the validation
    metrics (:obj:`metrics.png`) of :obj:`records` (the rows of
    :obj:`metrics.jsonl`) into :obj:`out_dir`.

    Returns the written files; returns an empty list with a warning when
    matplotlib is not installed (:obj:`pip install 'pyg-mmkg[plot]'`).

    Args:
        records (Sequence[dict]): The rows of :obj:`metrics.jsonl` (see
            :func:`read_jsonl`).
        out_dir (str or os.PathLike): The folder the figures are written to.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except Exception:
        warnings.warn("Skipping plots: matplotlib is not available "
                      "(pip install 'pyg-mmkg[plot]')", stacklevel=2)
        return []

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    groups = {
        'loss.png': ('training loss', ['loss']),
        'metrics.png': ('validation', [
            k for k in ['val/mrr', 'val/hits@1', 'val/hits@3', 'val/hits@10']
            if any(k in r for r in records)
        ]),
    }
    for file_name, (title, keys) in groups.items():
        curves = [(k, *_series(records, k)) for k in keys]
        curves = [c for c in curves if c[1]]
        if not curves:
            continue
        fig = Figure(figsize=(6, 4))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        for key, steps, values in curves:
            ax.plot(steps, values, marker='o' if len(steps) < 30 else None,
                    markersize=3, label=key)
        ax.set_xlabel('epoch')
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = out_dir / file_name
        fig.savefig(path, dpi=100)
        written.append(path)
    return written
