"""Checksummed atomic checkpoint files and random-number-generator state
capture."""
import hashlib
import io
import os
import random
import warnings
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np
import torch

from pyg_mmkg.data.io import atomic_path
from pyg_mmkg.data.io import atomic_save  # noqa: F401 (re-exported)
from pyg_mmkg.data.io import shorten
from pyg_mmkg.data.safe_load import (FileLoadError, UnsafeFileError,
                                     safe_torch_load)

PathLike = Union[str, os.PathLike]


def atomic_write_text(path: PathLike, text: str) -> None:
    r"""Writes :obj:`text` to :obj:`path` atomically (see
    :func:`pyg_mmkg.data.io.atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, 'w') as f:
        f.write(text)


FORMAT = 'pyg-mmkg-checkpoint'
VERSION = 2

# The keys a training checkpoint (``last.pt``) must hold to be resumed.
RESUME_KEYS = ('epoch', 'finished', 'model', 'optimizer', 'scheduler',
               'scaler', 'early_stopping', 'rng', 'history')


class CheckpointError(FileLoadError):
    r"""A checkpoint that is corrupt, truncated, empty, fails its checksum
    or is not a pyg-mmkg checkpoint; the message names the file."""


def save_checkpoint(obj: Any, path: PathLike) -> None:
    r"""Writes :obj:`obj` to :obj:`path` atomically (see
    :func:`pyg_mmkg.data.io.atomic_path`) with a SHA-256 checksum:
    :obj:`obj` is serialised with :func:`torch.save`, and the file holds
    ``{'format', 'version', 'sha256', 'payload'}`` with those bytes as a
    ``uint8`` tensor, so that :func:`load_checkpoint` detects any changed
    byte.

    Args:
        obj (Any): The checkpoint (tensors, numbers, strings, containers).
        path (str or os.PathLike): The target file.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    raw = buffer.getbuffer()
    wrapper = {'format': FORMAT, 'version': VERSION,
               'sha256': hashlib.sha256(raw).hexdigest(),
               'payload': torch.frombuffer(bytearray(raw), dtype=torch.uint8)}
    del raw
    atomic_save(wrapper, path)


def load_checkpoint(path: PathLike, map_location: Optional[Any] = 'cpu',
                    required: Sequence[str] = ()) -> Dict[str, Any]:
    r"""Loads a checkpoint written by :func:`save_checkpoint`, after
    checking its SHA-256 checksum; files are only ever unpickled with
    :obj:`weights_only=True` (see
    :func:`pyg_mmkg.data.safe_load.safe_torch_load`).

    A checkpoint written before checksums existed (a plain dictionary with
    a :obj:`'model'` entry, saved by :func:`atomic_save`) is still loaded,
    with a warning that it cannot be verified.

    Args:
        path (str): The file.
        map_location (optional): As in :func:`torch.load`.
        required (list[str]): Keys the checkpoint must hold.

    Raises:
        CheckpointError: The file is empty, truncated, corrupt, fails its
            checksum, is not a pyg-mmkg checkpoint or lacks a
            :obj:`required` key.
        UnsafeFileError: The file would need a class outside the
            allow-list to be loaded.
    """
    path = os.fspath(path)
    try:
        outer = safe_torch_load(path, map_location)
    except UnsafeFileError:
        raise
    except FileLoadError as e:
        raise CheckpointError(path, str(e).split(': ', 1)[-1]) from None
    if isinstance(outer, dict) and outer.get('format') == FORMAT:
        payload, digest = outer.get('payload'), outer.get('sha256')
        if not (torch.is_tensor(payload) and payload.dtype == torch.uint8
                and isinstance(digest, str)):
            raise CheckpointError(path, 'malformed pyg-mmkg checkpoint '
                                  '(no payload or checksum)')
        raw = payload.cpu().numpy().tobytes()
        if hashlib.sha256(raw).hexdigest() != digest:
            raise CheckpointError(
                path, 'checksum mismatch: the file was changed or damaged '
                'after it was written; it was not loaded')
        try:
            state = safe_torch_load(io.BytesIO(raw), map_location,
                                    name=path)
        except UnsafeFileError:
            raise
        except FileLoadError as e:
            raise CheckpointError(path, str(e).split(': ', 1)[-1]) from None
    elif isinstance(outer, dict) and 'model' in outer:
        warnings.warn(f"'{path}' was written without a checksum (by an "
                      f"older pyg-mmkg) and cannot be verified", stacklevel=2)
        state = outer
    else:
        raise CheckpointError(
            path, f'not a pyg-mmkg checkpoint (it holds a '
            f'{type(outer).__name__}'
            + (f' with keys {shorten(sorted(map(str, outer)))}'
               if isinstance(outer, dict) else '') + ')')
    if not isinstance(state, dict):
        raise CheckpointError(path, f'not a pyg-mmkg checkpoint (it holds '
                              f'a {type(state).__name__})')
    missing = [k for k in required if k not in state]
    if missing:
        raise CheckpointError(path, f'not a training checkpoint of this '
                              f'kind: it lacks {missing}')
    return state


def get_rng_state(
        generator: Optional[torch.Generator] = None) -> Dict[str, Any]:
    r"""Captures the states of Python's, NumPy's and PyTorch's (CPU and
    CUDA) random number generators, plus that of :obj:`generator`, as plain
    tensors and numbers (safe for :obj:`weights_only` loading).

    Args:
        generator (torch.Generator, optional): An extra generator (e.g. the
            data loader's) whose state is captured too. (default: :obj:`None`)
    """
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, py_state, gauss_next = random.getstate()
    state = {
        'python': (version, torch.tensor(py_state, dtype=torch.int64),
                   gauss_next),
        'numpy': (kind, torch.from_numpy(keys.astype(np.int64)), int(pos),
                  int(has_gauss), float(cached)),
        'torch': torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    if generator is not None:
        state['generator'] = generator.get_state()
    return state


def set_rng_state(state: Dict[str, Any],
                  generator: Optional[torch.Generator] = None) -> None:
    r"""Restores the states captured by :func:`get_rng_state`.

    Args:
        state (dict): A state returned by :func:`get_rng_state`.
        generator (torch.Generator, optional): The extra generator to restore.
            (default: :obj:`None`)
    """
    version, py_state, gauss_next = state['python']
    random.setstate((version, tuple(int(x) for x in py_state.tolist()),
                     gauss_next))
    kind, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos,
                         has_gauss, cached))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        cuda_states = state['cuda']
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)
    if generator is not None and 'generator' in state:
        generator.set_state(state['generator'])


def seed_everything(seed: int) -> None:
    r"""Seeds Python's, NumPy's and PyTorch's generators.

    Args:
        seed (int): The seed.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
