r"""Run directories: exclusive lock, checksummed checkpoints, full and
read-only disks (issue 17, parts 3 and 6)."""
import errno
import io
import os
import re
import subprocess
import sys
import tempfile

import pytest
import torch

from pyg_mmkg.cli import main
from pyg_mmkg.train import TrainConfig, Trainer, build_model, read_jsonl
from pyg_mmkg.train.trackers import Tracker

CONFIG = TrainConfig(model='distmult', dim=8, epochs=2, batch_size=64,
                     progress=False)


def make_trainer(kg, run_dir, **overrides):
    config = CONFIG.replace(**overrides)
    torch.manual_seed(0)
    return Trainer(build_model(config, kg), kg, config, run_dir=run_dir,
                   plot=False)


# Lock ######################################################################

class StartSecondRun(Tracker):
    r"""Starts a second run in the same directory while the first one is
    in its first epoch; keeps what happened."""
    def __init__(self, second):
        self.second, self.error = second, None

    def log_metrics(self, metrics, step):
        if step == 1 and self.error is None:
            try:
                self.second.fit()
            except Exception as e:  # noqa: BLE001 - checked by the test
                self.error = e


def test_second_run_in_same_dir_fails_at_once(kg, tmp_path):
    second = make_trainer(kg, tmp_path)
    first = make_trainer(kg, tmp_path)
    spy = StartSecondRun(second)
    first.tracker.trackers.append(spy)
    first.fit()
    assert isinstance(spy.error, OSError)
    assert 'in use by another run' in str(spy.error)
    assert str(tmp_path) in str(spy.error)
    # Only the first run wrote: one metrics line per epoch, in order.
    assert [r['step'] for r in read_jsonl(tmp_path / 'metrics.jsonl')
            if 'loss' in r] == [1, 2]
    assert second.epoch == 0
    # Released after fit: the run can be continued.
    third = make_trainer(kg, tmp_path, epochs=3)
    assert third.fit(resume=True)['epochs_trained'] == 3


def test_cli_second_run_gets_clear_message(kg, tmp_path, capsys):
    from pyg_mmkg.train.lock import RunDirLock
    path = tmp_path / 'kg.pt'
    torch.save(kg, path)
    with RunDirLock(tmp_path / 'run'):  # a run in progress
        assert main(['train', '--dataset', str(path), '--model', 'distmult',
                     '--epochs', '1', '--run-dir',
                     str(tmp_path / 'run')]) == 1
    err = capsys.readouterr().err
    assert 'in use by another run' in err and f'process {os.getpid()}' in err
    assert not (tmp_path / 'run' / 'metrics.jsonl').exists()


def test_lock_released_on_crash_and_process_death(kg, tmp_path):
    from pyg_mmkg.train.lock import RunDirLock
    trainer = make_trainer(kg, tmp_path)

    def boom():
        raise RuntimeError('crash')
    trainer.train_epoch = boom
    with pytest.raises(RuntimeError, match='crash'):
        trainer.fit()
    RunDirLock(tmp_path).acquire().release()  # free again
    # A process killed while holding the lock does not keep it.
    import pyg_mmkg.train.lock as lock_module
    code = ('import importlib.util as u, os, sys, signal\n'
            's = u.spec_from_file_location("lock", sys.argv[1])\n'
            'm = u.module_from_spec(s); s.loader.exec_module(m)\n'
            'm.RunDirLock(sys.argv[2]).acquire()\n'
            'os.kill(os.getpid(), signal.SIGKILL)\n')
    proc = subprocess.run([sys.executable, '-c', code, lock_module.__file__,
                           str(tmp_path)])
    assert proc.returncode == -9
    RunDirLock(tmp_path).acquire().release()


# Checkpoint checksums ######################################################

def flip(path, pos):
    data = bytearray(path.read_bytes())
    data[pos] ^= 0x01
    path.write_bytes(bytes(data))


def test_flipped_byte_never_resumes_silently(kg, tmp_path):
    from pyg_mmkg.data.safe_load import FileLoadError
    from pyg_mmkg.train import load_checkpoint
    make_trainer(kg, tmp_path).fit()
    last = tmp_path / 'checkpoints' / 'last.pt'
    original = last.read_bytes()
    good = load_checkpoint(last)
    buf = io.BytesIO()
    torch.save(good, buf)
    reference = buf.getvalue()
    size = len(original)
    silent = 0
    for pos in range(0, size, max(1, size // 300)):
        last.write_bytes(original)
        flip(last, pos)
        try:
            state = load_checkpoint(last)
        except FileLoadError as e:
            assert str(last) in str(e)
            continue
        buf = io.BytesIO()
        torch.save(state, buf)
        silent += buf.getvalue() != reference  # loaded, but different
    assert silent == 0
    # The attack of the issue: the last byte of the model's weights.
    last.write_bytes(original)
    weights = good['model']['rel_emb.weight'] if 'rel_emb.weight' in \
        good['model'] else next(iter(good['model'].values()))
    needle = weights.numpy().tobytes()
    pos = original.find(needle)
    assert pos >= 0
    flip(last, pos + len(needle) - 1)
    with pytest.raises(FileLoadError, match='checksum mismatch'):
        make_trainer(kg, tmp_path, epochs=3).fit(resume=True)


@pytest.mark.parametrize('content', ['empty', 'truncated', 'tensor',
                                     'state_dict', 'best'])
def test_bad_last_checkpoint_names_the_file(kg, tmp_path, content):
    from pyg_mmkg.train import CheckpointError
    make_trainer(kg, tmp_path).fit()
    last = tmp_path / 'checkpoints' / 'last.pt'
    if content == 'empty':
        last.write_bytes(b'')
    elif content == 'truncated':
        last.write_bytes(last.read_bytes()[:len(last.read_bytes()) // 2])
    elif content == 'tensor':
        torch.save(torch.ones(3), last)
    elif content == 'state_dict':  # another library's weights
        torch.save({'layer.weight': torch.ones(2, 2)}, last)
    else:  # best.pt copied over last.pt: no optimiser state
        last.write_bytes((tmp_path / 'checkpoints' / 'best.pt').read_bytes())
    with pytest.raises(CheckpointError, match=re.escape(str(last))):
        make_trainer(kg, tmp_path, epochs=3).fit(resume=True)


def test_old_checkpoint_without_checksum_loads_with_warning(tmp_path):
    from pyg_mmkg.train import atomic_save, load_checkpoint
    path = tmp_path / 'best.pt'
    atomic_save({'model': {'w': torch.ones(2)}, 'epoch': 4}, path)
    with pytest.warns(UserWarning, match='without a checksum'):
        assert load_checkpoint(path)['epoch'] == 4


# Full and read-only disks ##################################################

def test_disk_full_keeps_previous_checkpoint(kg, tmp_path, monkeypatch,
                                             capsys):
    make_trainer(kg, tmp_path).fit()
    last = tmp_path / 'checkpoints' / 'last.pt'
    before = last.read_bytes()
    real_save = torch.save

    def full_disk_save(obj, f, *args, **kwargs):
        if isinstance(f, io.BytesIO):  # serialising in memory works
            return real_save(obj, f, *args, **kwargs)
        with open('/dev/full', 'wb') as full:  # a real ENOSPC
            return real_save(obj, full, *args, **kwargs)

    monkeypatch.setattr(torch, 'save', full_disk_save)
    with pytest.raises(OSError) as e:
        make_trainer(kg, tmp_path, epochs=3).fit(resume=True)
    assert e.value.errno == errno.ENOSPC
    assert 'no space left on the device' in str(e.value)
    assert str(last) in str(e.value) and 'previous version is kept' in \
        str(e.value)
    monkeypatch.undo()
    assert last.read_bytes() == before
    assert sorted(os.listdir(last.parent)) == ['best.pt', 'last.pt']
    # Space freed: the run continues from the kept checkpoint.
    assert make_trainer(kg, tmp_path, epochs=3).fit(
        resume=True)['epochs_trained'] == 3


def test_read_only_run_dir_message(kg, tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, 'Read-only file system')
    monkeypatch.setattr(tempfile, 'mkstemp', read_only)
    with pytest.raises(OSError, match='read-only file system') as e:
        make_trainer(kg, tmp_path / 'run').fit()
    assert str(tmp_path / 'run') in str(e.value)
