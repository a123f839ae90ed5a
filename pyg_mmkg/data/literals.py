r"""Numeric literals of entities (LiteralE's input) from
``entity <TAB> attribute <TAB> value`` files: the layout of PyKEEN's literal
files and of MMKB's ``*_NumericalTriples.txt`` (whose attributes are
``<http://...>`` IRIs)."""
from __future__ import annotations

import math
from collections import Counter
from typing import Any, Dict, List, Sequence, Tuple

import torch
from torch import Tensor

from pyg_mmkg.data.io import RawFormatError, iter_lines, resolve

__all__ = ['read_numeric_literals', 'attach_numeric_literals']


def read_numeric_literals(
    path: str,
    entity_names: Sequence[str],
    min_count: int = 0,
    exclude: Sequence[str] = (),
    unknown: str = 'error',
) -> Tuple[Tensor, Tensor, List[str]]:
    r"""Reads numeric literals into a matrix with one column per attribute.

    Args:
        path (str): The file (``.gz`` allowed) of ``entity <TAB> attribute
            <TAB> value`` lines.
        entity_names (Sequence[str]): The graph's entity names, in id order.
        min_count (int, optional): Keep attributes occurring *more* than
            this many times in the file (LiteralE's :obj:`filter_literal.py`
            keeps :math:`> 5`). (default: :obj:`0`)
        exclude (Sequence[str], optional): Drop attributes containing any of
            these substrings (LiteralE drops
            ``http://rdf.freebase.com/key/``). (default: :obj:`()`)
        unknown (str, optional): Lines of entities not in
            :obj:`entity_names`: :obj:`"error"` (raise, naming file and
            line) or :obj:`"skip"` (*e.g.* FB15k literals for FB15k-237).
            (default: :obj:`"error"`)

    Returns:
        :obj:`(x [N, L] float, mask [N, L] bool, attributes)`, attributes
        sorted by name; an entity with several values of one attribute keeps
        the last one (as LiteralE's :obj:`preprocess_num_lit.py`).
    """
    if unknown not in ('error', 'skip'):
        raise ValueError(f"'unknown' must be 'error' or 'skip' (got "
                         f"'{unknown}')")
    real = resolve(path)
    index = {name: i for i, name in enumerate(entity_names)}
    counts: Counter = Counter()
    values: Dict[Tuple[int, str], float] = {}  # the last value wins
    for line_no, line in iter_lines(real):
        parts = line.split('\t')
        if len(parts) != 3:
            raise RawFormatError(real, line_no, f'expected 3 tab-separated '
                                 f'fields (entity, attribute, value), got '
                                 f'{len(parts)}')
        ent, attr, raw = (p.strip() for p in parts)
        raw = raw.strip('"')
        try:
            value = float(raw)
        except ValueError:
            raise RawFormatError(real, line_no, f"value '{raw}' of "
                                 f"'{attr}' is not numeric") from None
        if not math.isfinite(value):
            raise RawFormatError(real, line_no, f"value '{raw}' is not "
                                 f"finite")
        # Attributes are counted over the whole file, as
        # filter_literal.py counts the FB15k file before
        # preprocess_num_lit.py keeps the dataset's entities:
        counts[attr] += 1
        if ent not in index:
            if unknown == 'error':
                raise RawFormatError(real, line_no,
                                     f"unknown entity '{ent}'")
            continue
        values[(index[ent], attr)] = value
    attrs = sorted(a for a, c in counts.items()
                   if c > min_count and not any(s in a for s in exclude))
    col = {a: j for j, a in enumerate(attrs)}
    x = torch.zeros(len(entity_names), len(attrs))
    mask = torch.zeros(len(entity_names), len(attrs), dtype=torch.bool)
    kept = [(i, col[a], v) for (i, a), v in values.items() if a in col]
    if kept:
        i, j, v = zip(*kept)
        x[list(i), list(j)] = torch.tensor(v, dtype=torch.float)
        mask[list(i), list(j)] = True
    return x, mask, attrs


def attach_numeric_literals(data: Any, path: str, **kwargs: Any) -> Any:
    r"""Reads :obj:`path` with :func:`read_numeric_literals` for the
    entities of :obj:`data` (by :obj:`data['entity'].name`) and stores
    :obj:`x_numeric`, :obj:`numeric_mask` and
    :obj:`data.numeric_predicates` in place; returns :obj:`data`."""
    store = data['entity']
    x, mask, attrs = read_numeric_literals(path, list(store.name), **kwargs)
    store.x_numeric, store.numeric_mask = x, mask
    data.numeric_predicates = attrs
    return data
