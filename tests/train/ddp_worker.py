r"""One rank of the data-parallel tests (started by test_distributed.py with
RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT set). Usage:
:obj:`python ddp_worker.py OUT_DIR`."""
import os
import sys
import time
import warnings

import torch

torch.set_num_threads(1)
warnings.filterwarnings('ignore')


def main(out: str) -> int:
    import torch.distributed as dist

    from ddp_cases import CASES, CLI_ARGS, build, state
    from pyg_mmkg.train import DistributedError, DistributedTrainer
    rank = int(os.environ['RANK'])
    results = {}
    for case in CASES:  # One step on the first global batch.
        model, data, config = build(case)
        trainer = DistributedTrainer(model, data, config, trackers=[],
                                     plot=False, timeout_s=60)
        batch = next(iter(trainer.batches))
        loss = trainer.training_step(batch)
        results[case] = {'state': state(model), 'loss': float(loss)}
    # A model's on_fit_start hook that draws from the (per-rank) random
    # stream: rank 0's weights are broadcast afterwards.
    model, data, config = build('fit_start_hook')
    trainer = DistributedTrainer(model, data, config, trackers=[],
                                 plot=False, timeout_s=60)
    trainer._fit_start()
    results['fit_start_hook'] = {'state': state(model)}
    # A whole epoch (uneven last batch) and the epoch's mean loss:
    model, data, config = build('distmult_slcwa')
    trainer = DistributedTrainer(model, data, config.replace(batch_size=45),
                                 trackers=[], plot=False, timeout_s=60)
    results['epoch'] = {'loss': trainer.train_epoch(), 'state': state(model)}
    # Evaluation, with every option that reaches the metrics:
    kwargs = dict(rank_types=('realistic', 'optimistic', 'pessimistic'),
                  ks=(1, 2, 5), per_relation=True, batch_size=4)
    results['eval'] = {split: trainer.evaluate(split, **kwargs)
                       for split in ('val', 'test')}
    # Training to a run directory, one epoch, resumed later on 1 process:
    model, data, config = build('distmult_slcwa')
    trainer = DistributedTrainer(model, data, config.replace(epochs=1),
                                 run_dir=os.path.join(out, 'run'),
                                 plot=False, timeout_s=60)
    results['fit'] = trainer.fit()
    trainer.close()
    # The command line under a torchrun-like environment:
    from pyg_mmkg.cli import main as cli
    assert cli(CLI_ARGS + ['--dataset', os.path.join(out, 'kg'), '--run-dir',
                           os.path.join(out, 'cli')]) == 0
    torch.save(results, os.path.join(out, f'rank{rank}.pt'))
    dist.barrier()
    # Last: rank 1 dies in its second training step of a new run; rank 0
    # must stop with a DistributedError, not hang.
    model, data, config = build('distmult_slcwa')
    trainer = DistributedTrainer(model, data, config, trackers=[],
                                 plot=False, timeout_s=20)
    if rank == 1:
        calls, step = [], trainer._compute_loss

        def dying(batch):
            calls.append(1)
            if len(calls) == 2:
                os._exit(17)
            return step(batch)
        trainer._compute_loss = dying
    t0 = time.monotonic()
    try:
        trainer.fit()
    except DistributedError as e:
        with open(os.path.join(out, 'error.txt'), 'w') as f:
            f.write(f'{time.monotonic() - t0:.1f}\n{e}')
        os._exit(0)  # The process group is broken: skip its teardown.
    return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
