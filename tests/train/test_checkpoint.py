import os
import random

import numpy as np
import pytest
import torch

from pyg_mmkg.data.safe_load import safe_torch_load
from pyg_mmkg.train import (atomic_save, get_rng_state, load_checkpoint,
                            save_checkpoint, set_rng_state)
from pyg_mmkg.train.checkpoint import atomic_write_text


def test_save_checkpoint_roundtrip(tmp_path):
    path = tmp_path / 'sub' / 'ckpt.pt'
    save_checkpoint({'epoch': 3, 'w': torch.arange(4.)}, path)
    state = load_checkpoint(path)
    assert state['epoch'] == 3 and torch.equal(state['w'], torch.arange(4.))
    assert os.listdir(path.parent) == ['ckpt.pt']


def test_crash_mid_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / 'last.pt'
    atomic_save({'epoch': 1, 'w': torch.ones(3)}, path)

    real_save = torch.save

    def torn_save(obj, f, *args, **kwargs):
        # Write a partial file, then die (power cut, OOM kill, Ctrl-C).
        real_save(obj, f, *args, **kwargs)
        f.seek(0)
        f.truncate(10)
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, 'save', torn_save)
    with pytest.raises(KeyboardInterrupt):
        atomic_save({'epoch': 2, 'w': torch.zeros(3)}, path)
    monkeypatch.undo()

    state = safe_torch_load(path)
    assert state['epoch'] == 1 and torch.equal(state['w'], torch.ones(3))
    assert os.listdir(tmp_path) == ['last.pt']  # No temporary left over.


def test_crash_in_replace_keeps_previous_text(tmp_path, monkeypatch):
    path = tmp_path / 'config.json'
    atomic_write_text(path, 'old')

    def failing_replace(src, dst):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', failing_replace)
    with pytest.raises(OSError, match='disk full'):
        atomic_write_text(path, 'new')
    monkeypatch.undo()
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['config.json']


def draw(generator):
    return (random.random(), float(np.random.rand()),
            float(torch.rand(1)), float(torch.rand(1, generator=generator)))


def test_rng_state_roundtrip_through_file(tmp_path):
    gen = torch.Generator().manual_seed(7)
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    draw(gen)
    save_checkpoint({'rng': get_rng_state(gen)}, tmp_path / 'rng.pt')
    expected = [draw(gen) for _ in range(3)]

    other = torch.Generator().manual_seed(99)
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    # Loading must work with `weights_only=True`:
    set_rng_state(load_checkpoint(tmp_path / 'rng.pt')['rng'], other)
    assert [draw(other) for _ in range(3)] == expected
