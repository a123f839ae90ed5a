r"""The two-stage training of :class:`~pyg_mmkg.nn.models.MKGformer` as
published: stage 1 (entity modeling, only the new token rows learn) and
stage 2 (full fine-tuning, multi-label BCE over all entities, AdamW without
decay on bias/LayerNorm, linear warm-up over 10 % of the steps), with the
epoch selected on validation Hits@10 and early stopping on validation MRR
(patience 5), as ``MKG/main.py`` and ``MKG/lit_models/transformer.py``."""
import copy
import time
from typing import Any, Callable, Dict, Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def param_groups(model: torch.nn.Module, weight_decay: float) -> list:
    r"""AdamW groups of the trainable parameters: no decay on names with
    :obj:`bias` or :obj:`LayerNorm.weight` (the official rule).

    Args:
        model (torch.nn.Module): The model.
        weight_decay (float): Decay of the other parameters.
    """
    no_decay = ('bias', 'LayerNorm.weight')
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [
        dict(params=[p for n, p in named
                     if not any(k in n for k in no_decay)],
             weight_decay=weight_decay),
        dict(params=[p for n, p in named if any(k in n for k in no_decay)],
             weight_decay=0.0),
    ]


def linear_warmup(optimizer: torch.optim.Optimizer, total: int,
                  ratio: float = 0.1):
    r"""Linear warm-up over :obj:`ratio` of :obj:`total` steps, then linear
    decay to zero (``get_linear_schedule_with_warmup``).

    Args:
        optimizer (torch.optim.Optimizer): The optimiser.
        total (int): Training steps.
        ratio (float, optional): Warm-up fraction. (default: :obj:`0.1`)
    """
    warm = int(total * ratio)

    def factor(step: int) -> float:
        if step < warm:
            return step / max(1, warm)
        return max(0.0, (total - step) / max(1, total - warm))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def kvsall_queries(data: Any, num_relations: int):
    r"""Unique training queries of both directions, :math:`(h, r)` and
    :math:`(t, r + R)`, and their answers as (query, entity) pairs.

    Args:
        data: The graph.
        num_relations (int): :math:`R`.
    """
    from pyg_mmkg.data import triples
    h, r, t = triples(data, 'train')
    known = torch.cat([h, t])
    rel = torch.cat([r, r + num_relations])
    answer = torch.cat([t, h])
    key = known * (2 * num_relations) + rel
    uniq, inverse = torch.unique(key, return_inverse=True)
    return (uniq // (2 * num_relations), uniq % (2 * num_relations),
            inverse, answer)


def _run_epoch(steps: list, loss_fn: Callable[[Tensor], Tensor], opt,
               sched, after_step: Optional[Callable[[], None]]) -> float:
    total = 0.0
    for idx in steps:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(idx)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        if after_step is not None:
            after_step()
        total += float(loss) * idx.numel()
    return total / max(1, sum(i.numel() for i in steps))


def fit_two_stages(model: Any, data: Any, stage1: Optional[dict] = None,
                   stage2: Optional[dict] = None, max_time_s: float = None,
                   seed: int = 0, log: Callable[[str], None] = print
                   ) -> Dict[str, Any]:
    r"""Trains :obj:`model` in the two published stages and returns
    validation history, the selected epoch and its test result. The model
    ends with the selected state.

    Args:
        model (MKGformer): The model.
        data: The graph.
        stage1 (dict, optional): :obj:`lr`, :obj:`batch_size`,
            :obj:`epochs`, :obj:`label_smoothing`, :obj:`weight_decay`
            (default: :obj:`model.stage1_recipe[None]`); :obj:`epochs=0`
            skips stage 1.
        stage2 (dict, optional): :obj:`lr`, :obj:`batch_size`,
            :obj:`epochs`, :obj:`weight_decay`, :obj:`patience`,
            :obj:`warmup` (default: the model's recipe, warm-up 0.1).
        max_time_s (float, optional): Wall-clock budget of stage 2.
        seed (int, optional): Seed of the shuffling.
        log (callable, optional): Progress output.
    """
    from pyg_mmkg.data import filter_index, triples
    from pyg_mmkg.evaluation import evaluate
    s1 = dict(model.stage1_recipe[None], **(stage1 or {}))
    rec = model.recipes[None].config
    s2 = dict(lr=rec['lr'], batch_size=rec['batch_size'],
              epochs=rec['epochs'], weight_decay=rec['weight_decay'],
              patience=rec['patience'], warmup=0.1)
    s2.update(stage2 or {})
    gen = torch.Generator().manual_seed(seed)
    N, out = model.num_nodes, {'stage1': [], 'val': []}
    fi = filter_index(data)
    val, test = triples(data, 'val'), triples(data, 'test')

    # Stage 1: only the new token rows of the word embeddings change.
    if s1['epochs'] > 0:
        model.set_stage(1)
        model.train()
        emb = model.word_embeddings.weight
        old = emb.detach()[:model.vocab].clone()
        opt = torch.optim.AdamW(param_groups(model, s1['weight_decay']),
                                lr=s1['lr'], eps=1e-8)

        def restore():  # AdamW's decoupled decay would shrink old rows
            with torch.no_grad():
                emb[:model.vocab].copy_(old)
        for epoch in range(s1['epochs']):
            t0 = time.time()
            perm = torch.randperm(N, generator=gen)
            loss = _run_epoch(
                list(perm.split(s1['batch_size'])),
                lambda i: model.entity_modeling_loss(
                    i, s1['label_smoothing']), opt, None, restore)
            out['stage1'].append(dict(epoch=epoch + 1, loss=loss,
                                      seconds=time.time() - t0))
            log(f'stage 1 epoch {epoch + 1}: loss {loss:.4f} '
                f'({time.time() - t0:.1f}s)')
        model.set_stage(2)

    # Stage 2: full fine-tuning, multi-label BCE on KvsAll queries.
    qh, qr, q_of, ans = kvsall_queries(data, model.num_relations)
    Q = qh.numel()
    bs = s2['batch_size']
    total = s2['epochs'] * ((Q + bs - 1) // bs)
    opt = torch.optim.AdamW(param_groups(model, s2['weight_decay']),
                            lr=s2['lr'], eps=1e-8)
    sched = linear_warmup(opt, total, s2['warmup'])

    def bce(idx: Tensor) -> Tensor:
        pos = torch.full((Q, ), -1, dtype=torch.long)
        pos[idx] = torch.arange(idx.numel())
        sel = pos[q_of] >= 0
        target = torch.zeros(idx.numel(), N)
        target[pos[q_of[sel]], ans[sel]] = 1.0
        scores = model.score_tails(qh[idx], qr[idx])
        return F.binary_cross_entropy_with_logits(scores, target)

    best, best_state, best_mrr, waited = -1.0, None, -1.0, 0
    start = time.time()
    for epoch in range(s2['epochs']):
        model.train()
        t0 = time.time()
        perm = torch.randperm(Q, generator=gen)
        loss = _run_epoch(list(perm.split(bs)), bce, opt, sched, None)
        secs = time.time() - t0
        res = evaluate(model, *val, filter_index=fi, batch_size=64)['both']
        row = dict(epoch=epoch + 1, loss=loss, seconds=secs,
                   steps=(Q + bs - 1) // bs,
                   **{k: float(res[k]) for k in ('mrr', 'hits@1', 'hits@3',
                                                 'hits@10')})
        out['val'].append(row)
        log(f"stage 2 epoch {epoch + 1}: loss {loss:.4f} val MRR "
            f"{row['mrr']:.4f} H@10 {row['hits@10']:.4f} ({secs:.1f}s)")
        if row['hits@10'] > best:
            best, best_state = row['hits@10'], copy.deepcopy(
                model.state_dict())
            out['best_epoch'] = epoch + 1
        if row['mrr'] > best_mrr:
            best_mrr, waited = row['mrr'], 0
        else:
            waited += 1
            if waited >= s2['patience']:
                break
        if max_time_s is not None and time.time() - start > max_time_s:
            log('time budget reached')
            break
    model.load_state_dict(best_state)
    res = evaluate(model, *test, filter_index=fi, batch_size=64)
    out['test'] = {k: float(res['both'][k])
                   for k in ('mr', 'mrr', 'hits@1', 'hits@3', 'hits@10')}
    return out
