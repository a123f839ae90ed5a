"""PyKEEN's part of the speed benchmark (run inside the PyKEEN venv).

Reads the ID triples written by ``bench_speed.py``, trains each model with
PyKEEN's sLCWA training loop (batch 1024, one negative per positive,
head-or-tail corruption, Adam) and times every epoch with a callback, then
times PyKEEN's filtered :class:`RankBasedEvaluator` (head + tail) on a
subset of the test triples. Prints one JSON object on the last stdout line.
"""
import argparse
import json
import sys
import time

import torch


def build(name, tf, dim):
    from pykeen import losses, models
    margin = losses.MarginRankingLoss(margin=1.0)
    bce = losses.BCEWithLogitsLoss()
    common = dict(triples_factory=tf, embedding_dim=dim, random_seed=0)
    if name == 'transe':  # PyG: L1 distance, margin ranking loss.
        return models.TransE(scoring_fct_norm=1, loss=margin, **common)
    if name == 'distmult':  # PyG: margin ranking loss, no regulariser.
        return models.DistMult(loss=margin, regularizer=None, **common)
    if name == 'complex':  # PyG: binary cross-entropy, no regulariser.
        return models.ComplEx(loss=bce, regularizer=None, **common)
    if name == 'rotate':  # PyG: binary cross-entropy.
        return models.RotatE(loss=bce, **common)
    raise ValueError(name)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--triples', required=True)
    p.add_argument('--models', default='transe,distmult,complex,rotate')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--dim', type=int, default=200)
    p.add_argument('--batch-size', type=int, default=1024)
    p.add_argument('--lr', type=float, default=0.01)
    p.add_argument('--eval-triples', type=int, default=200)
    p.add_argument('--eval-batch-size', type=int, default=256)
    p.add_argument('--train-fraction', type=float, default=1.0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    import pykeen
    from pykeen.evaluation import RankBasedEvaluator
    from pykeen.training import SLCWATrainingLoop
    from pykeen.training.callbacks import TrainingCallback
    from pykeen.triples import TriplesFactory

    data = torch.load(args.triples)
    N, R = int(data['num_nodes']), int(data['num_relations'])
    mapped = {s: torch.stack(data[s], dim=1) for s in ('train', 'val', 'test')}
    ent_ids = {str(i): i for i in range(N)}
    rel_ids = {str(i): i for i in range(R)}
    train, scale = mapped['train'], 1.0
    if args.train_fraction < 1:  # same subset as bench_speed.train_subset
        n = train.size(0)
        m = int(round(n * args.train_fraction))
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))
        train, scale = train[perm[:m]], n / m
    tf = TriplesFactory(train, ent_ids, rel_ids)

    class Timer(TrainingCallback):
        def __init__(self):
            super().__init__()
            self.stamps = []

        def pre_step(self, **kwargs):  # first batch of the run
            if not self.stamps:
                self.stamps.append(time.perf_counter())

        def post_epoch(self, epoch, epoch_loss, **kwargs):
            self.stamps.append(time.perf_counter())

    out = {'pykeen_version': pykeen.get_version(),
           'torch_version': torch.__version__,
           'threads': torch.get_num_threads(), 'models': {}}
    for name in args.models.split(','):
        torch.manual_seed(0)
        model = build(name, tf, args.dim)
        opt = torch.optim.Adam(model.get_grad_params(), lr=args.lr)
        loop = SLCWATrainingLoop(
            model=model, triples_factory=tf, optimizer=opt,
            negative_sampler='basic',
            negative_sampler_kwargs=dict(num_negs_per_pos=1,
                                         corruption_scheme=('head', 'tail')))
        timer = Timer()
        # One extra (warm-up) epoch; the first stamp is taken after the
        # loop's set-up, at the first optimiser step.
        loop.train(triples_factory=tf, num_epochs=args.epochs + 1,
                   batch_size=args.batch_size, use_tqdm=False,
                   use_tqdm_batch=False, callbacks=[timer])
        s = timer.stamps
        epochs = [(s[i + 1] - s[i]) * scale for i in range(len(s) - 1)]

        evaluator = RankBasedEvaluator(filtered=True)
        sub = mapped['test'][:args.eval_triples]
        t0 = time.perf_counter()
        res = evaluator.evaluate(
            model, sub, batch_size=args.eval_batch_size, use_tqdm=False,
            additional_filter_triples=[mapped['train'], mapped['val'],
                                       mapped['test']])
        dt = time.perf_counter() - t0
        out['models'][name] = {
            'epoch_s': epochs[1:],  # first (partial) epoch is the warm-up
            'warmup_s': epochs[0], 'epoch_fraction': args.train_fraction,
            'eval_queries': 2 * sub.size(0), 'eval_s': dt,
            'eval_qps': 2 * sub.size(0) / dt,
            'eval_mrr': float(res.get_metric('both.realistic.'
                                             'inverse_harmonic_mean_rank')),
        }
        print(f'[pykeen] {name}: {out["models"][name]}', file=sys.stderr)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
