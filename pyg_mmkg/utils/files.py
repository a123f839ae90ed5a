r"""File utilities shared by every subpackage: atomic writes and short
quoting of values in error messages.

This module sits below :mod:`pyg_mmkg.data` and :mod:`pyg_mmkg.features` and
imports neither, so the import arrows run one way
(``data -> features -> utils``).
"""
from __future__ import annotations

import contextlib
import errno
import os
import os.path as osp
import tempfile
from typing import Iterator, Optional, Union

import torch

__all__ = ['atomic_path', 'atomic_save', 'shorten', 'quote']


def shorten(text, limit: int = 200) -> str:
    r"""Returns :obj:`text` as a string of at most :obj:`limit` characters
    plus a note of how many were left out, so that an error message never
    quotes a huge line or value in full.

    Args:
        text (Any): The value to shorten (converted with :obj:`str`).
        limit (int, optional): The most characters kept. (default: :obj:`200`)
    """
    text = str(text)
    if len(text) <= limit:
        return text
    return f'{text[:limit]}... [{len(text) - limit} more characters]'


def quote(text, limit: int = 200) -> str:
    r""":func:`repr` of :obj:`text` cut to :obj:`limit` characters (see
    :func:`shorten`); every error that quotes a line or name uses it.

    Args:
        text (Any): The value to quote (converted with :obj:`str`).
        limit (int, optional): The most characters kept. (default: :obj:`200`)
    """
    text = str(text)
    if len(text) <= limit:
        return repr(text)
    return (f'{text[:limit]!r}... [{len(text) - limit} more '
            f'characters]')


@contextlib.contextmanager
def atomic_path(path: Union[str, os.PathLike]) -> Iterator[str]:
    r"""The one way files are written atomically in this package: yields a
    fresh temporary path in the folder of :obj:`path` (unique, so parallel
    processes writing the same target never share it) for the caller to
    write; once the block ends, the file is flushed to disk, given the
    umask's permissions and moved onto :obj:`path` with :func:`os.replace`.
    If the block (or the move) fails, the temporary file is removed and
    :obj:`path` keeps its previous content. A full disk, a read-only file
    system or a missing permission raises an :class:`OSError` whose message
    says so and names :obj:`path`.

    Args:
        path (str or os.PathLike): The target file.
    """
    path = os.fspath(path)
    folder = osp.dirname(osp.abspath(path))
    tmp = None
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.',
                                   suffix='.tmp', dir=folder)
        os.close(fd)
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        umask = os.umask(0)  # mkstemp creates 0600 files: use the umask.
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None and osp.exists(tmp):
            os.remove(tmp)
        message = _write_error_message(e, path, folder)
        if message is not None:
            raise OSError(e.errno, message) from e
        raise
    _fsync_dir(folder)


_WRITE_ERRORS = {
    errno.ENOSPC: 'no space left on the device holding {folder}',
    errno.EDQUOT: 'disk quota exceeded on the device holding {folder}',
    errno.EROFS: '{folder} is on a read-only file system',
    errno.EACCES: 'permission denied in {folder}',
    errno.EPERM: 'operation not permitted in {folder}',
}


def _write_error_message(e: BaseException, path: str,
                         folder: str) -> Optional[str]:
    if not isinstance(e, OSError) or e.errno not in _WRITE_ERRORS:
        return None
    reason = _WRITE_ERRORS[e.errno].format(folder=repr(folder))
    kept = ('its previous version is kept' if osp.exists(path) else
            'nothing was written')
    return f'Cannot write {path!r}: {reason} ({kept})'


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_save(obj, path: Union[str, os.PathLike]) -> None:
    r"""``torch.save`` through :func:`atomic_path`, so an interrupted write
    never leaves a partial file at :obj:`path`.

    Args:
        obj (Any): The object to save.
        path (str or os.PathLike): The target file.
    """
    with atomic_path(path) as tmp, open(tmp, 'wb') as f:
        torch.save(obj, f)
