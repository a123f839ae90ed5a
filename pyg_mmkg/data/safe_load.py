r"""Loading PyTorch files without ever running code from them.

Every ``.pt`` file pyg-mmkg reads (a user's :obj:`torch.save(data)` file,
processed dataset caches, checkpoints, feature files) goes through
:func:`safe_torch_load`: :obj:`torch.load(weights_only=True)` with an
explicit allow-list of PyTorch Geometric's data classes. There is no
fallback to :obj:`weights_only=False`: a file that needs any other class is
refused with an error naming the file and the class.
"""
from __future__ import annotations

import io
import os
import pickle
import re
import zipfile
from typing import Any, List, Optional, Union

import torch

from pyg_mmkg.data.io import shorten

__all__ = ['FileLoadError', 'UnsafeFileError', 'allowed_globals',
           'safe_torch_load']

Source = Union[str, os.PathLike, io.BytesIO]


class FileLoadError(ValueError):
    r"""A file that cannot be loaded (corrupt, truncated, empty or of the
    wrong kind); the message names the file."""
    def __init__(self, path: Any, message: str):
        self.path = os.fspath(path) if isinstance(
            path, (str, os.PathLike)) else str(path)
        super().__init__(f"'{self.path}': {message}")


class UnsafeFileError(FileLoadError):
    r"""A file that would need a class outside the allow-list (and thus
    possibly run code) to be unpickled; it was not loaded."""


def allowed_globals() -> List[Any]:
    r"""The classes, beyond tensors and plain containers, that
    :func:`safe_torch_load` lets a file construct: PyG's data objects and
    their storages, :class:`~torch_geometric.EdgeIndex` and
    :class:`~torch_geometric.Index`."""
    import collections

    import torch_geometric
    from torch_geometric.data import Data, HeteroData
    from torch_geometric.data.storage import (BaseStorage, EdgeStorage,
                                              GlobalStorage, NodeStorage)
    out = [Data, HeteroData, BaseStorage, NodeStorage, EdgeStorage,
           GlobalStorage, collections.OrderedDict, collections.defaultdict,
           dict, list, set, tuple]
    for name in ('EdgeIndex', 'Index'):
        if hasattr(torch_geometric, name):
            out.append(getattr(torch_geometric, name))
    try:
        from torch_geometric.edge_index import SortOrder
        from torch_geometric.index import CatMetadata
        out += [SortOrder, CatMetadata]
    except ImportError:  # pragma: no cover - older PyG
        pass
    return out


_GLOBAL = re.compile(r'GLOBAL ([\w.]+)')


def safe_torch_load(source: Source, map_location: Any = 'cpu',
                    name: Optional[str] = None) -> Any:
    r"""Loads a file written by :func:`torch.save` with
    :obj:`weights_only=True` and :func:`allowed_globals`; never with
    :obj:`weights_only=False`.

    Args:
        source (str or file-like): The file.
        map_location (optional): As in :func:`torch.load`.
            (default: :obj:`'cpu'`)
        name (str, optional): How to name the file in errors (default: the
            path).

    Raises:
        UnsafeFileError: The file needs a class outside the allow-list.
        FileLoadError: The file is missing, empty, truncated or not a
            PyTorch file.
    """
    label = name or (os.fspath(source) if isinstance(
        source, (str, os.PathLike)) else '<buffer>')
    try:
        with torch.serialization.safe_globals(allowed_globals()):
            return torch.load(source, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as e:
        msg = str(e)
        match = _GLOBAL.search(msg)
        if match is not None:
            raise UnsafeFileError(
                label, f"refusing to load: the file needs "
                f"'{shorten(match.group(1), 120)}', which is not a tensor, "
                f"a plain container or a PyG data class (pyg-mmkg never "
                f"unpickles files with weights_only=False, since that can "
                f"run code from the file). If you trust it, load it "
                f"yourself and pass the object instead") from None
        raise UnsafeFileError(label, f'refusing to load: the file is not '
                              f'plain data ({shorten(_last_line(msg))})'
                              ) from None
    except FileNotFoundError:
        raise
    except (RuntimeError, EOFError, OSError, ValueError, KeyError,
            IndexError, TypeError, AttributeError, zipfile.BadZipFile,
            UnicodeDecodeError) as e:
        size = _size(source)
        what = 'is empty' if size == 0 else 'is truncated or corrupt'
        raise FileLoadError(label, f'cannot be loaded: the file {what} or '
                            f'not a PyTorch file ({type(e).__name__}: '
                            f'{shorten(_last_line(str(e)))})') from None


def _last_line(msg: str) -> str:
    lines = [x.strip() for x in msg.strip().splitlines() if x.strip()]
    for line in lines:
        if 'error' in line.lower() and 'weights only load failed' \
                not in line.lower():
            return line
    return lines[-1] if lines else msg


def _size(source: Source) -> Optional[int]:
    try:
        if isinstance(source, (str, os.PathLike)):
            return os.path.getsize(source)
        return len(source.getbuffer())
    except (OSError, AttributeError):
        return None
