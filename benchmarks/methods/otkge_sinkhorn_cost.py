r"""OTKGE's Sinkhorn share of a training step, and where the released
scaling-form solver breaks down, on real features (one thread, CPU time).

For each data file / modality: the CPU seconds of one plan refresh (K = 10
entities, log domain) and of one published training step (batch 2000
queries, 1vsAll CE + N3, backward, Adagrad) at the given ranks; the Sinkhorn
iterations used; and, at initialisation, the share of kernel entries
exp(-lambda C) that underflow to zero in float32 with the released
solver's column-marginal error.

    python benchmarks/methods/otkge_sinkhorn_cost.py \
        --data /tmp/mm_runs/wn9_text.pt --vtkg-root /tmp/mm_bench/VTKG-I \
        --out benchmarks/methods/otkge_sinkhorn_cost.json
"""
import argparse
import json
import time

import torch

from pyg_mmkg.data.safe_load import safe_torch_load
from pyg_mmkg.data import triples
from pyg_mmkg.nn.models import OTKGE
from pyg_mmkg.nn.models._sinkhorn import log_sinkhorn


def scaling_form(C, lam=0.1, iters=1000, tol=1e-9):
    # The released scaling iterations (float32, 1e-16 in the divisions,
    # the previous iterate kept on nan/inf), batched: rows ~ a, cols ~ b.
    K = torch.exp(-lam * C)
    n, m = C.shape[-2:]
    a, b = torch.full((n, ), 1.0 / n), torch.full((m, ), 1.0 / m)
    u = torch.full(C.shape[:-1], 1.0 / n)
    v = torch.full(C.shape[:-2] + (m, ), 1.0 / m)
    for _ in range(iters):
        v_new = b / (torch.einsum('...i,...ij->...j', u, K) + 1e-16)
        u_new = a / (torch.einsum('...ij,...j->...i', K, v_new) + 1e-16)
        if not (torch.isfinite(u_new).all() and torch.isfinite(v_new).all()):
            break
        u, v = u_new, v_new
    P = u.unsqueeze(-1) * K * v.unsqueeze(-2)
    return (K == 0).float().mean().item(), (P.sum(-2) - b).pow(2).sum(
        -1).max().item()


def measure(data, modalities, dim, label):
    torch.manual_seed(0)
    model = OTKGE.from_data(data, hidden_channels=dim, modalities=modalities,
                            frequency_weight=True)
    opt = torch.optim.Adagrad(model.parameters(), lr=0.1)
    h, r, t = triples(data, 'train')
    idx = torch.randperm(h.numel())[:1000]
    h, r, t = h[idx], r[idx], t[idx]
    ent_s = torch.cat([model.node_emb.weight, model.node_emb_im.weight], -1)
    out = dict(data=label, modalities=list(modalities), dim=dim)
    for m in model.feature_modalities:
        x, mask = model.feature(m)
        xs, es = x[:10], ent_s[:10].detach()
        C = model.ot_scale * (xs.unsqueeze(1) - es.unsqueeze(2)).pow(2)
        _, it = log_sinkhorn(C, epsilon=1 / model.ot_lambda)
        under, err = scaling_form(C)
        out[m] = dict(feature_dim=x.size(-1), max_abs=x.abs().max().item(),
                      sinkhorn_iters=it, kernel_underflow=under,
                      released_marginal_sq_err=err)
    plan, step = [], []
    for _ in range(3):
        t0 = time.process_time()
        model.refresh_plans(ent_s)
        plan.append(time.process_time() - t0)
        t0 = time.process_time()
        loss = model.loss(h, r, t)  # 2000 queries, plan refreshed inside
        opt.zero_grad()
        loss.backward()
        opt.step()
        step.append(time.process_time() - t0)
    out.update(plan_cpu_s=min(plan), step_cpu_s=min(step),
               sinkhorn_share=min(plan) / min(step), queries=2 * h.numel())
    print(json.dumps(out), flush=True)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', required=True, help='WN9-IMG + text file')
    parser.add_argument('--vtkg-root', default=None)
    parser.add_argument('--dims', default='100,500')
    parser.add_argument('--out', default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    wn9 = safe_torch_load(args.data)
    for dim in map(int, args.dims.split(',')):
        rows.append(measure(wn9, ('structure', 'text'), dim, 'WN9-IMG'))
        rows.append(measure(wn9, ('structure', ), dim, 'WN9-IMG'))
    if args.vtkg_root:
        from pyg_mmkg.datasets import VTKG_I
        vtkg = VTKG_I(args.vtkg_root)[0]
        rows.append(measure(vtkg, ('structure', 'text', 'image'), 64,
                            'VTKG-I'))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()
