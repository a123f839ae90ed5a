r"""An exclusive lock on a run directory, so that two runs never write
into the same one."""
import errno
import os
from pathlib import Path
from typing import Optional, Union

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ['RunDirLock', 'RunDirLockedError']

LOCK_NAME = '.lock'


class RunDirLockedError(OSError):
    r"""The run directory is in use by another run."""


class RunDirLock:
    r"""An exclusive, non-blocking :func:`fcntl.flock` on
    :obj:`run_dir/.lock`. The lock file holds the owner's process id (for
    the error message of a second run); it stays in place, since removing
    it would let a third run lock a fresh file while a second still holds
    the old one. The operating system releases the lock when the process
    dies, so a crashed run never leaves the directory locked.

    On platforms without :mod:`fcntl` (Windows) no lock is taken.

    Args:
        run_dir (str): The run directory (created if needed).
    """
    def __init__(self, run_dir: Union[str, os.PathLike]):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self._fd: Optional[int] = None

    @property
    def locked(self) -> bool:
        return self._fd is not None

    def acquire(self) -> 'RunDirLock':
        r"""Takes the lock; raises :class:`RunDirLockedError` at once if
        another run holds it."""
        if self._fd is not None or fcntl is None:
            return self
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            from pyg_mmkg.utils.files import _write_error_message
            message = _write_error_message(e, str(self.path),
                                           str(self.run_dir))
            if message is None:
                raise
            raise OSError(e.errno, message) from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            owner = _read_owner(fd)
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RunDirLockedError(
                    errno.EWOULDBLOCK,
                    f"Run directory '{self.run_dir}' is in use by another "
                    f"run{owner} (it holds '{self.path}'); wait for it to "
                    f"finish or choose another run directory") from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f'{os.getpid()}\n'.encode())
        self._fd = fd
        return self

    def release(self) -> None:
        r"""Releases the lock (no-op if not held)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def __enter__(self) -> 'RunDirLock':
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self):  # pragma: no cover - interpreter shutdown
        try:
            self.release()
        except Exception:
            pass


def _read_owner(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return ''
    return f' (process {text})' if text.isdigit() else ''
