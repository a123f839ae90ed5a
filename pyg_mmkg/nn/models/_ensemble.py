r"""Post-hoc ensembles of per-modality scores (used by :class:`MoSE`)."""
import copy
import math
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Linear

ENSEMBLES = ('average', 'boosting', 'meta')
RULES = ('official', 'unique')
PAIRS = ('genuine', 'all')


def sign_patterns(scores: Tensor, target: Tensor,
                  exclude_row: Tensor = None,
                  exclude_col: Tensor = None,
                  pairs: str = 'genuine') -> Tuple[Tensor, Tensor]:
    r"""Encodes, for every (query, candidate) pair, which modalities order
    it correctly, as a bit pattern :math:`\sum_m 2^m [s_m(c) < s_m(t)]`.

    Args:
        scores (torch.Tensor): Per-modality scores :obj:`[B, M, N]`.
        target (torch.Tensor): The true answer :obj:`[B]` of each query.
        exclude_row (torch.Tensor, optional): Query index of candidates to
            leave out (*e.g.* other known answers). (default: :obj:`None`)
        exclude_col (torch.Tensor, optional): Their entity index.
            (default: :obj:`None`)
        pairs (str, optional): :obj:`"genuine"`: the target itself and the
            excluded candidates are not valid pairs; :obj:`"all"` (the
            official code, whose filtered scores are :math:`-10^6`): they
            are valid pairs that every modality orders correctly.
            (default: :obj:`"genuine"`)

    Returns:
        :obj:`(code [B, N] long, valid [B, N] bool)`.
    """
    if pairs not in PAIRS:
        raise ValueError(f"Unknown boosting pairs '{pairs}' (choose from "
                         f"{', '.join(PAIRS)})")
    B, M, N = scores.shape
    true = scores.gather(2, target.view(B, 1, 1).expand(B, M, 1))
    correct = (scores < true).long()
    weight = (2**torch.arange(M, device=scores.device)).view(1, M, 1)
    code = (correct * weight).sum(1)
    valid = torch.ones(B, N, dtype=torch.bool, device=scores.device)
    known = torch.zeros(B, N, dtype=torch.bool, device=scores.device)
    known[torch.arange(B, device=scores.device), target] = True
    if exclude_row is not None and exclude_row.numel() > 0:
        known[exclude_row, exclude_col] = True
    if pairs == 'all':
        code = code.masked_fill(known, 2**M - 1)
    else:
        valid = ~known
    return code, valid


def pattern_counts(code: Tensor, valid: Tensor, group: Tensor,
                   num_groups: int, num_modalities: int) -> Tensor:
    r"""Counts the valid pairs of each bit pattern per group (relation):
    returns :obj:`[num_groups, 2^M]`."""
    P = 2**num_modalities
    key = (group.view(-1, 1) * P + code)[valid]
    return torch.bincount(key, minlength=num_groups * P).view(
        num_groups, P).to(torch.float64)


def boosting_weights(counts: Tensor, num_queries: Tensor,
                     min_queries: int = 10, rule: str = 'official',
                     eps: float = 1e-10) -> Tensor:
    r"""Per-group modality weights of the boosting inference of MoSE
    (AdaBoost over (query, candidate) pairs, one run per relation), computed
    exactly from the counts of the :math:`2^M` sign patterns.

    Pair weights :math:`D` start uniform, with total mass one per query (as
    the official row-normalised weights). Each of :math:`M` rounds computes
    :math:`\alpha_m = \frac{1}{2} \ln((\sum D[y_m = +1] + \epsilon) /
    (\sum D[y_m = -1] + \epsilon))` for every modality, picks a modality
    :math:`b` by :obj:`rule`, and updates :math:`D \leftarrow D
    \exp(-\alpha_b y_b)`, renormalised to sum one:

    * :obj:`"official"` (`weight_learning.py` of the official code): the
      best :math:`\alpha` among modalities whose *accumulated* weight is
      :math:`\leq 0` (a modality picked with a negative :math:`\alpha` can
      be picked again), and :math:`w_b \mathrel{+}= \alpha_b`.
    * :obj:`"unique"`: the best :math:`\alpha` among modalities not picked
      yet, and :math:`w_b = \alpha_b` (each modality is weighted once).

    With two modalities both rules give the same weights. Groups with fewer
    than :obj:`min_queries` queries get uniform weights :math:`1/M`.

    Args:
        counts (torch.Tensor): :obj:`[G, 2^M]` pattern counts.
        num_queries (torch.Tensor): :obj:`[G]` queries per group.
        min_queries (int, optional): Minimal number of queries of a group.
            (default: :obj:`10`)
        rule (str, optional): :obj:`"official"` or :obj:`"unique"`.
            (default: :obj:`"official"`)
        eps (float, optional): :math:`\epsilon`, as the official code.
            (default: :obj:`1e-10`)

    Returns:
        torch.Tensor: The weights :obj:`[G, M]` (unnormalised, may be
        negative).
    """
    if rule not in RULES:
        raise ValueError(f"Unknown boosting rule '{rule}' (choose from "
                         f"{', '.join(RULES)})")
    G, P = counts.shape
    M = P.bit_length() - 1
    device = counts.device
    bits = ((torch.arange(P, device=device).view(P, 1) >>
             torch.arange(M, device=device).view(1, M)) & 1).to(counts.dtype)
    sign = 2 * bits - 1  # [P, M]
    mass = num_queries.to(device, counts.dtype).view(G, 1)
    D = counts / counts.sum(1, keepdim=True).clamp(min=1) * mass
    weight = torch.zeros(G, M, dtype=counts.dtype, device=device)
    chosen = torch.zeros(G, M, dtype=torch.bool, device=device)
    arange = torch.arange(G, device=device)
    for _ in range(M):
        plus, minus = D @ bits, D @ (1 - bits)
        alpha = 0.5 * torch.log((plus + eps) / (minus + eps))
        blocked = chosen if rule == 'unique' else weight > 0
        best = alpha.masked_fill(blocked, float('-inf')).argmax(1)
        a = alpha[arange, best]
        if rule == 'unique':
            weight[arange, best] = a
        else:
            weight[arange, best] += a
        chosen[arange, best] = True
        D = D * torch.exp(-a.view(G, 1) * sign[:, best].t())
        D = D / D.sum(1, keepdim=True).clamp(min=1e-300)
    few = num_queries.to(device) < min_queries
    weight[few] = 1.0 / M
    return weight.to(torch.float32)


def queries(model, head_index, rel_type, tail_index, filter_index,
            encoded):
    r"""Yields per query side (tail, head): a function scoring a slice
    of queries :obj:`[b, M, N]`, the targets, the relation used for the
    ensemble weights and a filter lookup."""
    R = model.num_relations
    sides = [('tail', head_index, tail_index, rel_type),
             ('head', tail_index, head_index,
              rel_type + R if model.reciprocal else rel_type)]
    for side, query, target, rel_w in sides:
        def score(idx, side=side):
            if side == 'tail':
                return model.branch_score_tails(head_index[idx],
                                                rel_type[idx], encoded)
            return model.branch_score_heads(rel_type[idx], tail_index[idx],
                                            encoded)

        def known(idx, side=side):
            if filter_index is None:
                return None, None
            if side == 'tail':
                return filter_index.tails(head_index[idx], rel_type[idx])
            return filter_index.heads(rel_type[idx], tail_index[idx])

        yield score, target, rel_w, known


def fit_boosting(model, h, r, t, filter_index, encoded, batch_size,
                 min_queries, rule='official', pairs='genuine'):
    r"""Fits :obj:`model.ensemble_weight` by :func:`boosting_weights` (with
    :obj:`rule`) on the head and tail queries of the triples
    :obj:`(h, r, t)` and the :obj:`pairs` of :func:`sign_patterns`,
    streamed in batches (memory :math:`O(R \cdot 2^M)` besides one
    batch)."""
    num_rel, M = model.ensemble_weight.shape
    counts = torch.zeros(num_rel, 2**M, dtype=torch.float64,
                         device=h.device)
    num_queries = torch.zeros(num_rel, dtype=torch.long, device=h.device)
    for score, target, rel_w, known in queries(
            model, h, r, t, filter_index, encoded):
        for idx in torch.arange(h.numel(), device=h.device).split(
                batch_size):
            row, col = known(idx)
            code, valid = sign_patterns(score(idx), target[idx], row, col,
                                        pairs)
            counts += pattern_counts(code, valid, rel_w[idx], num_rel, M)
            num_queries += torch.bincount(rel_w[idx], minlength=num_rel)
    model.ensemble_weight.copy_(
        boosting_weights(counts, num_queries, min_queries, rule))


def holdout_split(num_triples: int, holdout: float,
                  generator: torch.Generator) -> Tuple[Tensor, Tensor]:
    r"""Splits triple indices at random into a fitting part and a held-out
    :obj:`holdout` fraction; both query directions of a triple stay on the
    same side. Returns :obj:`(fit, out)`."""
    perm = torch.randperm(num_triples, generator=generator)
    num_out = int(round(holdout * num_triples))
    return perm[num_out:], perm[:num_out]


def reset_meta(meta: torch.nn.Module, generator: torch.Generator) -> None:
    r"""Draws the initial weights of the meta-learner as
    :meth:`torch.nn.Linear.reset_parameters` does, from :obj:`generator`
    (the global random state is left untouched)."""
    for layer in meta:
        if isinstance(layer, Linear):
            torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5),
                                           generator=generator)
            bound = 1 / math.sqrt(layer.in_features)
            torch.nn.init.uniform_(layer.bias, -bound, bound,
                                   generator=generator)


def fit_meta(model, h, r, t, filter_index, encoded, batch_size, epochs,
             lr, holdout, seed):
    r"""Trains :obj:`model.meta` with softmax cross-entropy on the
    unfiltered branch scores of the head and tail queries of a
    :obj:`1 - holdout` part of the triples :obj:`(h, r, t)`, and keeps the
    epoch with the best filtered MRR on the queries of the held-out
    triples. All randomness comes from a local generator seeded with
    :obj:`seed`."""
    from pyg_mmkg.evaluation import compute_ranks
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        reset_meta(model.meta, gen)
    model.meta.requires_grad_(True)
    optimizer = torch.optim.Adagrad(model.meta.parameters(), lr=lr)
    sides = list(queries(model, h, r, t, filter_index, encoded))
    fit, out = holdout_split(h.numel(), holdout, gen)
    # Queries (side, triple index):
    side = torch.arange(2).repeat_interleave(h.numel())
    index = torch.arange(h.numel()).repeat(2)
    in_fit = torch.zeros(h.numel(), dtype=torch.bool)
    in_fit[fit] = True
    fit_q, out_q = in_fit[index].nonzero().view(-1), (
        ~in_fit[index]).nonzero().view(-1)

    def batches(sel, shuffle):
        if shuffle:
            sel = sel[torch.randperm(sel.numel(), generator=gen)]
        for s in (0, 1):
            part = sel[side[sel] == s]
            for b in part.split(batch_size):
                idx = index[b].to(h.device)
                score, target, _, known = sides[s]
                yield score(idx).detach(), target[idx], known(idx)

    best, best_state = float('-inf'), None
    for _ in range(epochs):
        for scores, target, _ in batches(fit_q, shuffle=True):
            optimizer.zero_grad()
            logits = model.meta(scores.movedim(1, -1)).squeeze(-1)
            F.cross_entropy(logits, target).backward()
            optimizer.step()
        if out.numel() == 0:
            continue
        with torch.no_grad():
            rr = []
            for scores, target, (row, col) in batches(out_q, False):
                logits = model.meta(scores.movedim(1, -1)).squeeze(-1)
                ranks = compute_ranks(logits, target, row, col)
                rr.append(1.0 / ranks.realistic.double())
            mrr = float(torch.cat(rr).mean())
        if mrr > best:
            best, best_state = mrr, copy.deepcopy(model.meta.state_dict())
    if best_state is not None:
        model.meta.load_state_dict(best_state)
    model.meta.requires_grad_(False)


def select_ensemble(model, head_index, rel_type, tail_index, filter_index,
                    holdout, seed, **kwargs) -> str:
    r"""Fits the ensembles of :obj:`model` on a :obj:`1 - holdout` part of
    the triples, keeps the one with the best filtered MRR on the held-out
    rest (see :meth:`MoSE.select_ensemble`) and returns its name."""
    from pyg_mmkg.evaluation import evaluate
    h, r, t = (x.view(-1) for x in (head_index, rel_type, tail_index))
    gen = torch.Generator().manual_seed(seed)
    fit, out = holdout_split(h.numel(), holdout, gen)
    if fit.numel() == 0 or out.numel() == 0:
        raise ValueError(f'Cannot hold out {holdout} of {h.numel()} '
                         f'validation triples for the ensemble choice')
    fit, out = fit.to(h.device), out.to(h.device)
    scores = {}
    for method in ENSEMBLES:
        model.fit_ensemble(h[fit], r[fit], t[fit], method=method,
                           filter_index=filter_index, seed=seed, **kwargs)
        scores[method] = float(evaluate(
            model, h[out], r[out], t[out],
            filter_index=filter_index)['both']['mrr'])
    best = max(ENSEMBLES, key=lambda m: scores[m])
    model.set_ensemble(best)
    model.ensemble_validation = scores
    print(f'MoSE ensembles fitted on {fit.numel()} validation triples, '
          f'MRR on the {out.numel()} held-out ones: ' + ', '.join(
              f'{m}={v:.4f}' for m, v in scores.items()) + f' -> {best}')
    return best
