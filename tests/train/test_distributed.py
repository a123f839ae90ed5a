r"""Data-parallel training on 2 CPU processes (gloo) against one process:
the same weights after a step on the same global batch, the same epoch
loss, exactly the same evaluation metrics, resuming with another world
size, sparse embeddings, and a clear error when a rank dies."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ddp_cases import CASES, CLI_ARGS, build, state, write_kg_folder
from pyg_mmkg.train import Trainer
from pyg_mmkg.train.distributed import (check_sparse_support, shard_batch,
                                        sparse_modules)
from pyg_mmkg.train.batches import TrainBatch

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _launch(out: Path, world_size: int = 2, timeout: float = 300):
    port = _free_port()
    procs = []
    for rank in range(world_size):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank),
                   WORLD_SIZE=str(world_size), MASTER_ADDR='127.0.0.1',
                   MASTER_PORT=str(port), OMP_NUM_THREADS='1',
                   PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE)]))
        procs.append(subprocess.Popen(
            [sys.executable, str(HERE / 'ddp_worker.py'), str(out)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True))
    t0, outputs = time.monotonic(), []
    try:
        for p in procs:
            left = max(1.0, timeout - (time.monotonic() - t0))
            outputs.append(p.communicate(timeout=left)[0])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return [p.returncode for p in procs], outputs, time.monotonic() - t0


@pytest.fixture(scope='module')
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp('ddp')
    write_kg_folder(out / 'kg')
    codes, outputs, _ = _launch(out)
    # Rank 1 kills itself in the last scenario (see ddp_worker.py).
    assert codes == [0, 17], '\n'.join(outputs)[-4000:]
    return out, [torch.load(out / f'rank{k}.pt', weights_only=False)
                 for k in range(2)]


def _single(case: str, **overrides):
    model, data, config = build(case)
    trainer = Trainer(model, data, config.replace(**overrides), trackers=[],
                      plot=False)
    return model, trainer


@pytest.mark.parametrize('case', CASES)
def test_one_step_equals_one_process(two_ranks, case):
    _, ranks = two_ranks
    model, trainer = _single(case)
    before = state(model)
    trainer.training_step(next(iter(trainer.batches)))
    after = state(model)
    moved = False
    for name, value in after.items():
        for r in ranks:  # Both ranks hold the single-process weights.
            torch.testing.assert_close(r[case]['state'][name], value,
                                       rtol=1e-5, atol=1e-6)
        moved |= not torch.equal(value, before[name])
    assert moved


def test_fit_start_hook_weights_equal_on_all_ranks(two_ranks):
    # E.g. IMF's structural pre-training: rank 0's result is broadcast.
    _, ranks = two_ranks
    for name, value in ranks[0]['fit_start_hook']['state'].items():
        assert torch.equal(ranks[1]['fit_start_hook']['state'][name], value)


def test_epoch_loss_and_weights_equal_one_process(two_ranks):
    _, ranks = two_ranks
    model, trainer = _single('distmult_slcwa', batch_size=45)
    loss = trainer.train_epoch()  # Batches 45, 45, 6 of 96 triples.
    for r in ranks:
        assert r['epoch']['loss'] == pytest.approx(loss, rel=1e-5)
        for name, value in state(model).items():
            torch.testing.assert_close(r['epoch']['state'][name], value,
                                       rtol=1e-5, atol=1e-6)


def test_evaluation_exactly_single_process(two_ranks):
    _, ranks = two_ranks
    model, trainer = _single('distmult_slcwa', batch_size=45)
    trainer.train_epoch()
    kwargs = dict(rank_types=('realistic', 'optimistic', 'pessimistic'),
                  ks=(1, 2, 5), per_relation=True, batch_size=4)
    for split in ('val', 'test'):
        single = trainer.evaluate(split, **kwargs)
        assert single['both']['num_queries'] == 2 * trainer.split_triples[
            split][0].numel()
        for r in ranks:
            assert r['eval'][split] == single  # Exactly.


def test_checkpoint_by_rank0_resumes_on_one_process(two_ranks, tmp_path):
    out, ranks = two_ranks
    run = out / 'run'
    lines = (run / 'metrics.jsonl').read_text().strip().splitlines()
    assert len(lines) == 1  # Rank 0 alone tracked epoch 1.
    assert ranks[0]['fit']['test'] == ranks[1]['fit']['test']
    # Resume the 2-rank run for a second epoch on one process; it matches
    # an uninterrupted single-process run of two epochs.
    model, data, config = build('distmult_slcwa')
    resumed = Trainer(model, data, config.replace(epochs=2), run_dir=run,
                      trackers=[], plot=False)
    resumed.fit(resume=True)
    resumed.close()
    ref_model, ref = _single('distmult_slcwa', epochs=2)
    ref.fit()
    assert resumed.epoch == 2
    for name, value in state(ref_model).items():
        torch.testing.assert_close(state(model)[name], value, rtol=1e-4,
                                   atol=1e-5)


def test_torchrun_command_line_equals_one_process(two_ranks, tmp_path):
    import json

    from pyg_mmkg.cli import main as cli
    out, _ = two_ranks
    assert cli(CLI_ARGS + ['--dataset', str(out / 'kg'), '--run-dir',
                           str(tmp_path / 'one')]) == 0
    two = json.loads((out / 'cli' / 'results.json').read_text())
    one = json.loads((tmp_path / 'one' / 'results.json').read_text())
    for split in ('val', 'test'):
        for key, value in one[split].items():
            assert two[split][key] == pytest.approx(value, rel=1e-6), key
    assert two['best_epoch'] == one['best_epoch']
    lines = (out / 'cli' / 'metrics.jsonl').read_text().splitlines()
    assert len(lines) == 2  # One tracker (rank 0) for two epochs.


def test_dead_rank_fails_with_clear_error(two_ranks):
    out, _ = two_ranks
    seconds, message = (out / 'error.txt').read_text().split('\n', 1)
    assert 'Rank 0 of 2' in message and 'probably died' in message
    assert float(seconds) < 20 + 10  # The timeout, at most.


@pytest.mark.parametrize('reduction', ['mean', 'sum'])
@pytest.mark.parametrize('B,world', [(37, 2), (5, 3), (2, 3)])
def test_shard_loss_scale(reduction, B, world):
    # DDP averages the W ranks' gradients of (scale_k * loss of shard k);
    # that average must be the gradient of the loss of the global batch,
    # here the mean or sum of x_i^2 over its examples.
    def loss(v):
        return v.pow(2).mean() if reduction == 'mean' else v.pow(2).sum()
    x = torch.linspace(-1, 2, B, dtype=torch.double, requires_grad=True)
    loss(x).backward()
    expected, x.grad = x.grad.clone(), None
    idx = torch.arange(B)
    batch = TrainBatch('1vsall', idx, idx, tail_index=idx)
    covered = []
    for rank in range(world):
        shard = shard_batch(batch, rank, world, reduction)
        (loss(x[shard.head_index]) * shard.loss_scale / world).backward()
        if shard.loss_scale > 0:
            covered += shard.head_index.tolist()
        assert shard.num_examples == B / world
    torch.testing.assert_close(x.grad, expected)
    assert sorted(covered) == list(range(B))  # Disjoint, complete.


def test_sparse_embeddings_need_gloo():
    from pyg_mmkg.nn.kge import DistMult
    model = DistMult(10, 2, 4, sparse=True)
    assert sparse_modules(model)
    check_sparse_support(model, 'gloo')
    with pytest.raises(ValueError, match="gloo' backend only"):
        check_sparse_support(model, 'nccl')
    check_sparse_support(DistMult(10, 2, 4), 'nccl')


def test_backend_from_device():
    from pyg_mmkg.train.distributed import backend_for
    assert backend_for(torch.device('cpu')) == 'gloo'
    assert backend_for(torch.device('cuda', 1)) == 'nccl'


def test_no_process_group_clear_error(monkeypatch):
    from pyg_mmkg.train.distributed import init_distributed
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError, match='start the job with torchrun'):
        init_distributed(torch.device('cpu'))


def test_sparse_embedding_optimizer_is_refused_with_nccl():
    # --embedding-optimizer switches the tables to sparse gradients when the
    # optimiser is built (inside Trainer.__init__); the check that runs after
    # it must then refuse nccl and name the flag.
    from pyg_mmkg.nn.kge import DistMult
    from pyg_mmkg.train import TrainConfig
    from pyg_mmkg.train._distributed_utils import check_sparse_support
    from pyg_mmkg.train.optim import build_optimizer
    model = DistMult(10, 3, 8)
    check_sparse_support(model, 'nccl')  # dense: fine
    build_optimizer(TrainConfig(embedding_optimizer='rowwise_adagrad',
                                optimizer='adam', lr=0.1), model)
    with pytest.raises(ValueError, match='--embedding-optimizer dense'):
        check_sparse_support(model, 'nccl')
    check_sparse_support(model, 'gloo')
