"""Atomic checkpoint files and random-number-generator state capture."""
import os
import random
from typing import Any, Dict, Optional, Union

import numpy as np
import torch

from pyg_mmkg.data.io import atomic_path
from pyg_mmkg.data.io import atomic_save  # noqa: F401 (re-exported)

PathLike = Union[str, os.PathLike]


def atomic_write_text(path: PathLike, text: str) -> None:
    r"""Writes :obj:`text` to :obj:`path` atomically (see
    :func:`pyg_mmkg.data.io.atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, 'w') as f:
        f.write(text)


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
