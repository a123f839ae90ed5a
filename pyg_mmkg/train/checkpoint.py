"""Atomic checkpoint files and random-number-generator state capture."""
import os
import random
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np
import torch

PathLike = Union[str, os.PathLike]


def _tmp_path(path: Path) -> Path:
    return path.with_name(f'.{path.name}.tmp-{os.getpid()}')


def _fsync_dir(folder: Path) -> None:
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


def atomic_save(obj: Any, path: PathLike) -> None:
    r"""Saves :obj:`obj` with :meth:`torch.save` so that :obj:`path` holds
    either its previous content or the complete new one, never a partial
    file: the object is written to a temporary file in the same folder,
    flushed to disk, and moved over :obj:`path` with :meth:`os.replace`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    try:
        with open(tmp, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: PathLike, text: str) -> None:
    r"""Writes :obj:`text` to :obj:`path` atomically (temporary file and
    :meth:`os.replace`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    try:
        with open(tmp, 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise


def load_checkpoint(path: PathLike,
                    map_location: Optional[Any] = 'cpu') -> Dict[str, Any]:
    r"""Loads a checkpoint written by :func:`atomic_save` (tensors, numbers,
    strings and containers only, so :obj:`weights_only=True` loading is
    used)."""
    return torch.load(path, map_location=map_location, weights_only=True)


def get_rng_state(
        generator: Optional[torch.Generator] = None) -> Dict[str, Any]:
    r"""Captures the states of Python's, NumPy's and PyTorch's (CPU and
    CUDA) random number generators, plus that of :obj:`generator`, as plain
    tensors and numbers (safe for :obj:`weights_only` loading)."""
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
    r"""Restores the states captured by :func:`get_rng_state`."""
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
    r"""Seeds Python's, NumPy's and PyTorch's generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
