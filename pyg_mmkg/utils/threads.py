r"""A default number of CPU threads for small graphs.

PyTorch starts one intra-op thread per core. On a small knowledge graph
(VTKG-I: 181 entities) every operation is tiny, and the threads spend
their time synchronising: `examples/mose.py` took 98 s with the default
threads and 14 s with one on a shared two-core machine. The
:class:`~pyg_mmkg.train.Trainer` and
:func:`~pyg_mmkg.evaluation.evaluate` therefore run graphs below
:data:`SMALL_GRAPH_ENTITIES` entities with at most
:data:`SMALL_GRAPH_THREADS` threads, unless the user chose a number
(:obj:`torch.set_num_threads`, :obj:`OMP_NUM_THREADS` or
:obj:`MKL_NUM_THREADS`; :obj:`PYG_MMKG_AUTO_THREADS=0` turns it off).
"""
import contextlib
import functools
import os
from typing import Any, Callable, Iterator, Optional

import torch

__all__ = ['graph_threads', 'with_graph_threads', 'default_num_threads',
           'user_chose_threads', 'SMALL_GRAPH_ENTITIES',
           'SMALL_GRAPH_THREADS']

#: Graphs with fewer entities count as small (see the module docstring).
SMALL_GRAPH_ENTITIES = 2000
#: The most threads a small graph gets by default.
SMALL_GRAPH_THREADS = 1

# Torch's own choice, as found when this module was first imported: a
# different value later means the user set one.
_STARTUP_THREADS = torch.get_num_threads()


def user_chose_threads() -> bool:
    r"""Whether the number of threads was chosen by the user (environment
    variables or a :obj:`torch.set_num_threads` call since start-up)."""
    if any(os.environ.get(k) for k in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')):
        return True
    return torch.get_num_threads() != _STARTUP_THREADS


def default_num_threads(num_entities: int) -> Optional[int]:
    r"""The thread count for a graph of :obj:`num_entities` entities, or
    :obj:`None` to keep PyTorch's.

    Args:
        num_entities (int): The number of entities.
    """
    if os.environ.get('PYG_MMKG_AUTO_THREADS', '1') == '0':
        return None
    if num_entities < SMALL_GRAPH_ENTITIES:
        return SMALL_GRAPH_THREADS
    return None


@contextlib.contextmanager
def graph_threads(num_entities: int, device: Optional[torch.device] = None
                  ) -> Iterator[int]:
    r"""Runs the block with :func:`default_num_threads` threads (on the
    CPU, where the user has not chosen) and restores the previous number
    afterwards; yields the number in effect.

    Args:
        num_entities (int): The number of entities.
        device (torch.device, optional): The training device; nothing
            changes for accelerators. (default: :obj:`None`)
    """
    before = torch.get_num_threads()
    wanted = default_num_threads(num_entities)
    if (wanted is None or wanted >= before or user_chose_threads()
            or (device is not None and torch.device(device).type != 'cpu')):
        yield before
        return
    torch.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        torch.set_num_threads(before)


def with_graph_threads(fn: Callable) -> Callable:
    r"""Decorates :obj:`fn(model, ...)` to run under :func:`graph_threads`
    for :obj:`model.num_nodes` entities on the model's device (*e.g.*
    :func:`pyg_mmkg.evaluation.evaluate`).

    Args:
        fn (callable): A function whose first argument is a model.
    """
    @functools.wraps(fn)
    def wrapper(model: Any, *args: Any, **kwargs: Any) -> Any:
        num_nodes = getattr(model, 'num_nodes', None)
        if not isinstance(num_nodes, int):
            return fn(model, *args, **kwargs)
        device = None
        if isinstance(model, torch.nn.Module):
            device = next((p.device for p in model.parameters()), None)
        with graph_threads(num_nodes, device):
            return fn(model, *args, **kwargs)

    return wrapper
