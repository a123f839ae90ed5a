r"""safe_pickle_load against crafted pickles that use only allow-listed
globals (numpy.dtype, numpy.ndarray, collections.OrderedDict) yet corrupt
NumPy's dtype flags through a BUILD opcode, so that an array reads
PyObject pointers from the file's bytes."""
import pickle
import struct

import numpy as np
import pytest
import torch

from pyg_mmkg.data.safe_load import UnsafeFileError
from pyg_mmkg.data.safe_pickle import safe_pickle_load


def _glob(mod, name):
    return b'c' + mod.encode() + b'\n' + name.encode() + b'\n'


def _str(s):
    return b'X' + struct.pack('<I', len(s)) + s.encode()


def _dtype(spec):  # numpy.dtype(spec, False, True)
    return _glob('numpy', 'dtype') + b'(' + _str(spec) + b'\x89\x88tR'


def _object_array_from_bytes(dtype_pickle):
    # {'x': numpy.ndarray((1,), <dtype>, b'AAAAAAAA')}
    return (b'\x80\x02' + _glob('collections', 'OrderedDict') + b']('
            + _str('x') + _glob('numpy', 'ndarray') + b'(K\x01\x85'
            + dtype_pickle + b'C\x08' + b'A' * 8 + b'tRta\x85R.')


def _structured_flags_cleared():
    # dtype('V8') BUILT into [('a', 'O')] with flags 0 (no 'has object').
    state = (b'(K\x03' + _str('|') + b'N' + _str('a') + b'\x85}'
             + _str('a') + _dtype('O8') + b'K\x00\x86sK\x08K\x01K\x00t')
    return _dtype('V8') + state + b'b'


def _object_flags_cleared():
    # dtype('O8') BUILT with flags 0.
    state = b'(K\x03' + _str('|') + b'NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t'
    return _dtype('O8') + state + b'b'


@pytest.mark.parametrize('dtype_pickle', [_structured_flags_cleared(),
                                          _object_flags_cleared()])
def test_dtype_state_cannot_forge_object_arrays(tmp_path, dtype_pickle):
    path = tmp_path / 'features.pkl'
    path.write_bytes(_object_array_from_bytes(dtype_pickle))
    with pytest.raises(UnsafeFileError):
        out = safe_pickle_load(str(path))
        # Never index `out`: its object field points at 0x4141414141414141.
        assert not out['x'].dtype.hasobject  # (never reached when safe)


def test_real_pickles_still_load(tmp_path):
    obj = {'a': np.arange(4, dtype='>f8'), 'b': np.ones((2, 3), 'f4'),
           'c': [np.float32(1.5), np.int64(3)], 'd': torch.arange(3.),
           'e': {'img': np.zeros(2, dtype=np.float16)}}
    for protocol in (3, 4):  # (2 needs _codecs.encode, 5 _frombuffer)
        path = tmp_path / f'p{protocol}.pkl'
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
        out = safe_pickle_load(str(path))
        np.testing.assert_array_equal(out['a'], obj['a'])
        np.testing.assert_array_equal(out['b'], obj['b'])
        assert out['c'][0] == np.float32(1.5) and out['c'][1] == 3
        assert torch.equal(out['d'], obj['d'])
        assert out['e']['img'].dtype == np.float16


def _ndarray_call(opcode):
    # numpy.ndarray((1,), 'i8', b'AAAAAAAA', -8): NumPy accepts a negative
    # offset into the buffer, i.e. reads memory before it (a large one
    # crashes the process). Numpy's own pickles never call the class.
    args = (b'(K\x01\x85' + _str('i8') + b'C\x08' + b'A' * 8
            + b'\x8a\x01\xf8t')
    head = b'\x80\x02' + _glob('numpy', 'ndarray')
    if opcode == 'REDUCE':
        return head + args + b'R.'
    if opcode == 'INST':  # numpy.ndarray(*items after the mark)
        return b'\x80\x02' + args[:-1] + b'inumpy\nndarray\n.'
    return head + args + b'\x81.'  # NEWOBJ: ndarray.__new__(ndarray, ...)


@pytest.mark.parametrize('opcode', ['REDUCE', 'NEWOBJ', 'INST'])
def test_ndarray_class_cannot_be_called(tmp_path, opcode):
    path = tmp_path / 'features.pkl'
    path.write_bytes(_ndarray_call(opcode))
    with pytest.raises(UnsafeFileError):
        safe_pickle_load(str(path))
