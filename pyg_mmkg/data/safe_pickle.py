r"""Reading feature pickles (:obj:`pickle.dump` of a :obj:`dict` of tensors
or arrays, as VL-KGE publishes them) without letting the file run code."""
import io
import os
import pickle
from typing import Any

import torch

from pyg_mmkg.data.safe_load import FileLoadError, UnsafeFileError, \
    safe_torch_load

__all__ = ['safe_pickle_load']


def _tensor_from_bytes(data: bytes) -> Any:
    # torch.storage._load_from_bytes unpickles with weights_only=False;
    # the nested storage is read with weights_only=True instead.
    return torch.load(io.BytesIO(data), map_location='cpu',
                      weights_only=True)


def _allowed() -> dict:
    import collections

    import numpy
    from torch import _utils
    core = getattr(numpy, '_core', None) or numpy.core
    allowed = {
        ('torch._utils', '_rebuild_tensor_v2'): _utils._rebuild_tensor_v2,
        ('torch.storage', '_load_from_bytes'): _tensor_from_bytes,
        ('collections', 'OrderedDict'): collections.OrderedDict,
        ('numpy', 'ndarray'): numpy.ndarray,
        ('numpy', 'dtype'): numpy.dtype,
    }
    # NumPy 1 pickles name numpy.core, NumPy 2 numpy._core:
    for mod in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed[(mod, '_reconstruct')] = core.multiarray._reconstruct
        allowed[(mod, 'scalar')] = core.multiarray.scalar
    return allowed


def _check_dtype_state(inst: Any, state: Any) -> bool:
    # numpy.dtype.__setstate__ trusts its state: a BUILD may clear an
    # object dtype's flags (or give a void dtype object fields), and an
    # array of that dtype then reads PyObject pointers from the file's
    # bytes. A state may only restate the dtype it is applied to, with
    # another byte order for a numeric dtype (as big-endian arrays need).
    own = inst.__reduce__()[2]
    if not isinstance(state, tuple) or len(state) != len(own):
        return False
    if state[0] != own[0] or any(
            a is not b and not (type(a) is type(b) and a == b)
            for a, b in zip(state[2:], own[2:])):
        return False
    return state[1] == own[1] or (inst.kind in 'biufcmM'
                                  and state[1] in ('<', '>', '=', '|'))


class _Unpickler(pickle._Unpickler):
    # The pure-Python unpickler, so that BUILD can be checked (below).
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, path: str):
        super().__init__(file)
        self._path = path
        self._allowed = _allowed()

    def _load_build(self):
        import numpy
        inst = self.stack[-2] if len(self.stack) > 1 else None
        if isinstance(inst, numpy.dtype) and not _check_dtype_state(
                inst, self.stack[-1]):
            raise UnsafeFileError(
                self._path, "sets the state of a NumPy dtype to one that "
                "differs from the dtype (forged flags or fields could "
                "make an array read objects from raw bytes); it was not "
                "loaded")
        pickle._Unpickler.load_build(self)

    def _refuse_ndarray(self, func: Any) -> None:
        # NumPy's pickles only name numpy.ndarray as the subtype passed to
        # _reconstruct; called, the class accepts a buffer with a negative
        # offset and reads (or writes) memory outside it.
        import numpy
        if func is numpy.ndarray:
            raise UnsafeFileError(
                self._path, "calls 'numpy.ndarray' itself (an array over a "
                "raw buffer, possibly outside it); it was not loaded")

    def _load_reduce(self):
        self._refuse_ndarray(self.stack[-2])
        pickle._Unpickler.load_reduce(self)

    def _load_newobj(self):
        self._refuse_ndarray(self.stack[-2])
        pickle._Unpickler.load_newobj(self)

    def _load_newobj_ex(self):
        self._refuse_ndarray(self.stack[-3])
        pickle._Unpickler.load_newobj_ex(self)

    def _instantiate(self, klass, args):  # INST and OBJ
        self._refuse_ndarray(klass)
        pickle._Unpickler._instantiate(self, klass, args)

    dispatch[pickle.BUILD[0]] = _load_build
    dispatch[pickle.REDUCE[0]] = _load_reduce
    dispatch[pickle.NEWOBJ[0]] = _load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = _load_newobj_ex

    def find_class(self, module: str, name: str) -> Any:
        found = self._allowed.get((module, name))
        if found is None:
            raise UnsafeFileError(
                self._path, f"needs '{module}.{name}' to be unpickled, "
                f"which is not a tensor, array or container; it was not "
                f"loaded")
        return found


def safe_pickle_load(path: str) -> Any:
    r"""Loads a pickle of containers, tensors and NumPy arrays (or a file
    written by :func:`torch.save`, read with :obj:`weights_only=True`);
    any other class in the file raises an :class:`UnsafeFileError` before
    it is constructed.

    Args:
        path (str): The file.
    """
    with open(path, 'rb') as f:
        head = f.read(4)
        f.seek(0)
        if head.startswith(b'PK'):  # torch.save's zip format.
            return safe_torch_load(path)
        try:
            return _Unpickler(f, os.fspath(path)).load()
        except UnsafeFileError:
            raise
        except Exception as e:  # Truncated, not a pickle, ...
            raise FileLoadError(path, f'cannot be read as a pickle '
                                f'({type(e).__name__}: {e})') from None
