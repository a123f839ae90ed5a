r"""How fast 1-N training leaves random-level ranking on a sparse graph:
binary cross-entropy over all entities (ConvE/TuckER/MoMoK) against softmax
cross-entropy, same model, data, optimiser and batches.

KvsAll queries with reciprocal relations, label smoothing 0.1 (targets
:math:`0.9 y + 0.1 / N`; CE normalises them per query), Adam, one thread.
Every 100 steps, filtered MRR per side on 1,000 fixed validation triples.

    python benchmarks/reproduction/bce_vs_ce_probe.py --dataset MKG-Y \
        --root /tmp/mkg/MKG-Y --model distmult --loss bce
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

from pyg_mmkg.data import filter_index, num_entities, num_relations, triples
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.loader import KvsAllLoader
from pyg_mmkg.nn.kge import DistMult, TuckER
from pyg_mmkg.train.losses import one_to_n_ce_loss
from pyg_mmkg.train.run import load_data


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--dataset', required=True)
    p.add_argument('--root', required=True)
    p.add_argument('--model', choices=['distmult', 'tucker'], required=True)
    p.add_argument('--loss', choices=['bce', 'ce'], required=True)
    p.add_argument('--dim', type=int, default=64)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--steps', type=int, default=600)
    p.add_argument('--out', default=None)
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    data = load_data(args.dataset, root=args.root, modalities=['structure'])
    N, R = num_entities(data), num_relations(data)
    h, r, t = triples(data, 'train')
    vh, vr, vt = triples(data, 'val')
    fi = filter_index(data)
    if args.model == 'distmult':
        model = DistMult(N, R, args.dim, reciprocal=True)
    else:
        model = TuckER(N, R, args.dim, reciprocal=True, label_smoothing=0.0)
    loader = KvsAllLoader(h, r, t, N, R, batch_size=args.batch_size,
                          label_smoothing=0.1, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sel = torch.randperm(vh.numel(), generator=torch.Generator().manual_seed(
        0))[:1000]
    curve, step, t0 = [], 0, time.perf_counter()
    while step < args.steps:
        for b in loader:
            model.train()
            s = model.score_tails(b.query_head, b.query_rel)
            loss = (F.binary_cross_entropy_with_logits(s, b.targets)
                    if args.loss == 'bce' else one_to_n_ce_loss(s, b.targets))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 100 == 0:
                res = evaluate(model, vh[sel], vr[sel], vt[sel],
                               filter_index=fi)
                curve.append(dict(step=step, loss=float(loss),
                                  head_mrr=res['head']['mrr'],
                                  tail_mrr=res['tail']['mrr'],
                                  s=time.perf_counter() - t0))
                print(json.dumps(curve[-1]), flush=True)
            if step >= args.steps:
                break
    if args.out:
        with open(args.out, 'a') as f:
            f.write(json.dumps(dict(args=vars(args), curve=curve)) + '\n')


if __name__ == '__main__':
    main()
