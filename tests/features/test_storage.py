import gc
import os

import pytest
import torch

from pyg_mmkg.features.storage import load_feature_table, save_feature_table


def _maps():
    with open('/proc/self/maps') as f:
        return f.read()


def test_fp16_round_trip_and_mmap(tmp_path):
    x = torch.randn(1000, 24)
    path = tmp_path / 'x.pt'
    save_feature_table(x, path)
    y = load_feature_table(path)
    assert y.dtype == torch.float16 and y.shape == x.shape
    assert torch.equal(y, x.half())  # Exactly the float16 rounding.
    # Memory-mapped: the file is mapped into the process while the tensor
    # lives (Linux: /proc/self/maps), and an eager load does not map it.
    if os.path.exists('/proc/self/maps'):
        assert str(path) in _maps()
        del y
        gc.collect()
        eager = load_feature_table(path, mmap=False)
        assert str(path) not in _maps()
        assert torch.equal(eager, x.half())
    assert load_feature_table(path, dtype=torch.float32).dtype == (
        torch.float32)


def test_fp16_range_check_and_single_tensor(tmp_path):
    with pytest.raises(ValueError, match='bfloat16'):
        save_feature_table(torch.tensor([[1e5]]), tmp_path / 'big.pt')
    save_feature_table(torch.tensor([[1e5]]), tmp_path / 'bf.pt',
                       dtype=torch.bfloat16)
    torch.save({'x': torch.zeros(2)}, tmp_path / 'dict.pt')
    with pytest.raises(ValueError, match='single tensor'):
        load_feature_table(tmp_path / 'dict.pt')
