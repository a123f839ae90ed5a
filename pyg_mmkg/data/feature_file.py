r"""The one feature-file format of pyg-mmkg, read wherever a feature file is
accepted.

``pyg-mmkg features`` writes, and :class:`~pyg_mmkg.datasets.KGFolder`
(``feature_files=``), every dataset class and ``pyg-mmkg train --dataset
FILE`` read, a :func:`torch.save` d dict:

.. code-block:: python

    {
        'format': 'pyg-mmkg-features',   # FORMAT
        'version': 1,
        'dataset': 'VTKG-I',             # name, or absolute folder path
        'root': '/data/VTKG-I',          # or None
        'feature_encoders': {'entity.x_text': 'hf-mean:all-MiniLM-L6-v2'},
        'feature_dims': {'entity.x_text': 384},
        'entity': {'name': [...], 'x_text': Tensor[N, D],
                   'has_text': BoolTensor[N], 'x_image': Tensor[N, K, D],
                   'image_mask': BoolTensor[N, K],
                   'has_image': BoolTensor[N]},
        'relation': {...},               # as 'entity'
    }

Rows are matched to the graph by :obj:`name`, never by position, so a file
fits any graph with the same entity names (a graph re-numbered by another
loader included). A file written before :obj:`name` was stored (version 0)
is matched by position when its row count equals the graph's.

Two plainer forms are also accepted for one key of ``feature_files``: a
dict name -> tensor (VISTA's layout) and a tensor in id order. Every file is
loaded with :obj:`weights_only=True`; every error names the file.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Any, Dict, Optional, Sequence

import torch
from torch import Tensor

from pyg_mmkg.data.io import RawFormatError, resolve, shorten

__all__ = ['FORMAT', 'VERSION', 'FEATURE_KEYS', 'make_feature_file',
           'is_feature_file', 'load_feature_file', 'apply_feature_file']

FORMAT = 'pyg-mmkg-features'
VERSION = 1
#: The tensors of one node type a feature file may hold.
FEATURE_KEYS = ('x_text', 'has_text', 'x_image', 'image_mask', 'has_image')
_MASKS = {'x_text': ('has_text', ), 'x_image': ('image_mask', 'has_image')}


def make_feature_file(data: Any, dataset: Optional[str] = None,
                      root: Optional[str] = None) -> Dict[str, Any]:
    r"""Returns the feature-file dict of the features attached to
    :obj:`data` (save it with :func:`torch.save`).

    Args:
        data (HeteroData): A contract graph with features (and
            :obj:`feature_encoders` / :obj:`feature_dims`).
        dataset (str, optional): The dataset the features belong to: a
            registered name or a folder (stored as an absolute path), so
            that ``pyg-mmkg train --dataset FILE`` can load its graph.
        root (str, optional): The dataset's root folder (stored absolute).
    """
    if dataset is not None and osp.isdir(dataset):
        dataset = osp.abspath(dataset)
    out: Dict[str, Any] = {
        'format': FORMAT, 'version': VERSION, 'dataset': dataset,
        'root': osp.abspath(root) if root is not None else None,
        'feature_encoders': dict(getattr(data, 'feature_encoders', None)
                                 or {}),
        'feature_dims': dict(getattr(data, 'feature_dims', None) or {}),
    }
    for node_type in ('entity', 'relation'):
        store: Dict[str, Any] = {}
        if node_type in data.node_types:
            s = data[node_type]
            store = {k: s[k] for k in FEATURE_KEYS if k in s}
            if store and 'name' in s:
                store['name'] = list(s.name)
        out[node_type] = store
    return out


def is_feature_file(obj: Any) -> bool:
    r"""Whether a loaded object is a feature file (also version 0, the
    dict ``pyg-mmkg features`` wrote before :obj:`format` existed).

    Args:
        obj: What :func:`torch.load` returned.
    """
    if not isinstance(obj, dict):
        return False
    if obj.get('format') == FORMAT:
        return True
    return 'feature_encoders' in obj and isinstance(obj.get('entity'), dict)


def load_feature_file(path: str) -> Dict[str, Any]:
    r"""Loads and checks a feature file (with :obj:`weights_only=True`).

    Args:
        path (str): The ``.pt`` file.

    Raises:
        FileNotFoundError: naming the file when it is missing.
        RawFormatError: naming the file when it cannot be loaded or is not
            a feature file.
    """
    real = resolve(os.fspath(path), required=False)
    if real is None:
        raise FileNotFoundError(f"Feature file '{path}' is missing")
    obj = _load(real)
    if not is_feature_file(obj):
        raise RawFormatError(real, None, f"not a pyg-mmkg feature file (a "
                             f"dict with format '{FORMAT}', as `pyg-mmkg "
                             f"features` writes); got {_describe(obj)}")
    if obj.get('version', 0) > VERSION:
        raise RawFormatError(real, None, f"feature file version "
                             f"{obj['version']} is newer than this "
                             f"pyg-mmkg reads ({VERSION}); upgrade pyg-mmkg")
    for node_type in ('entity', 'relation'):
        store = obj.get(node_type) or {}
        if not isinstance(store, dict):
            raise RawFormatError(real, None, f"'{node_type}' must be a dict")
        for key, value in store.items():
            if key in FEATURE_KEYS and not isinstance(value, Tensor):
                raise RawFormatError(real, None, f"{node_type}.{key} is a "
                                     f"{type(value).__name__}, expected a "
                                     f"tensor")
    return obj


def _load(real: str) -> Any:
    try:
        return torch.load(real, map_location='cpu', weights_only=True)
    except Exception as e:  # corrupt, truncated, or needs unsafe classes
        raise RawFormatError(real, None, f'cannot load features '
                             f'({shorten(e)})') from None


def _describe(obj: Any) -> str:
    if isinstance(obj, dict):
        keys = sorted(map(str, obj))[:6]
        return f'a dict with keys {keys}'
    if isinstance(obj, Tensor):
        return f'a tensor of shape {tuple(obj.shape)}'
    return f'a {type(obj).__name__}'


def _rows(real: str, file_names: Optional[Sequence[str]],
          names: Sequence[str], node_type: str, n_rows: int) -> Tensor:
    r"""For each graph name, its row in the file (-1 where absent)."""
    if file_names is None:  # version 0: by position, counts must agree
        if n_rows != len(names):
            raise RawFormatError(real, None, f"{node_type} features have "
                                 f"{n_rows} rows but the graph has "
                                 f"{len(names)} {node_type}s (the file "
                                 f"stores no names to match them by)")
        return torch.arange(len(names))
    if len(file_names) != n_rows:
        raise RawFormatError(real, None, f"{node_type}: {len(file_names)} "
                             f"names for {n_rows} feature rows")
    where = {n: i for i, n in enumerate(file_names)}
    if len(where) != len(file_names):  # Which row a name means is unknown.
        seen: set = set()
        dup = next(n for n in file_names if n in seen or seen.add(n))
        raise RawFormatError(real, None, f"{node_type} name {dup!r} has "
                             f"several rows ({len(file_names) - len(where)} "
                             f"repeated names): rows cannot be matched by "
                             f"name")
    rows = torch.tensor([where.get(n, -1) for n in names], dtype=torch.long)
    found = int((rows >= 0).sum())
    if found == 0:
        raise RawFormatError(real, None, f"none of the graph's "
                             f"{len(names)} {node_type} names is in the "
                             f"file (e.g. {list(names[:3])} vs "
                             f"{list(file_names[:3])}): features of "
                             f"another dataset?")
    if found < len(names):
        import warnings

        from pyg_mmkg.utils.align import FeatureMatchWarning
        warnings.warn(f"'{real}': {len(names) - found} of {len(names)} "
                      f"{node_type}s have no row in the file; they get "
                      f"zero features", FeatureMatchWarning, stacklevel=3)
    return rows


def apply_feature_file(data: Any, path: str,
                       keys: Optional[Sequence[str]] = None) -> Any:
    r"""Attaches the features of a feature file to :obj:`data`, matched by
    entity and relation name; returns :obj:`data`.

    Args:
        data (HeteroData): A contract graph.
        path (str): A feature file (see :mod:`pyg_mmkg.data.feature_file`).
        keys (list[str], optional): Only these features, e.g.
            :obj:`['entity.x_text']`; each must be in the file.
            (default: all features of the file)
    """
    obj = load_feature_file(path)
    real = resolve(os.fspath(path))
    present = [f'{nt}.{attr}' for nt in ('entity', 'relation')
               for attr in _MASKS if attr in (obj.get(nt) or {})]
    wanted = list(present if keys is None else keys)
    missing = [k for k in wanted if k not in present]
    if missing:
        raise RawFormatError(real, None, f"has no {missing[0]} (it holds "
                             f"{present or 'no features'})")
    encoders = dict(getattr(data, 'feature_encoders', None) or {})
    dims = dict(getattr(data, 'feature_dims', None) or {})
    for key in wanted:
        node_type, attr = key.split('.', 1)
        stored = obj[node_type]
        names = list(data[node_type].name)
        x = stored[attr].float()
        rows = _rows(real, stored.get('name'), names, node_type, x.size(0))
        ok = rows >= 0
        out = x.new_zeros((len(names), ) + tuple(x.shape[1:]))
        out[ok] = x[rows[ok]]
        if not torch.isfinite(out).all():
            raise RawFormatError(real, None, f'{key} contains NaN or inf '
                                 f'values')
        store = data[node_type]
        store[attr] = out
        for mask_key in _MASKS[attr]:
            if mask_key in stored:
                m = stored[mask_key].bool()
                full = m.new_zeros((len(names), ) + tuple(m.shape[1:]))
                full[ok] = m[rows[ok]]
            elif mask_key == 'has_image':
                full = store.image_mask.any(-1)
            elif mask_key == 'image_mask':
                full = out.abs().sum(-1) > 0
            else:
                full = ok & (out.abs().sum(-1) > 0)
            store[mask_key] = full
        encoders[key] = obj.get('feature_encoders', {}).get(
            key, f'file:{osp.basename(real)}')
        dims[key] = int(out.size(-1))
    data.feature_encoders, data.feature_dims = encoders, dims
    return data
