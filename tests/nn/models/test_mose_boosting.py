r"""MoSE-BI against an independent port of the official boosting loop.

The port below transcribes ``src/weight_learning.py`` and the per-relation
driver of ``src/ensemble.py`` of OreOZhao/MoSE4MKGC at 192d9ff (explicit
(M, T, E) matrices, one relation at a time, float64 instead of float32).
"""
import pytest
import torch

from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.nn.models import MoSE
from pyg_mmkg.nn.models._ensemble import (boosting_weights, pattern_counts,
                                          sign_patterns)


# ---- port of weight_learning.py ------------------------------------------
def official_rank_matrix(ent_scores, target_scores):
    # get_rank_pm_matrix: +1 where the candidate scores below the target.
    rank = torch.zeros(ent_scores.shape, dtype=torch.float64)
    rank[ent_scores >= target_scores] = -1
    rank[ent_scores < target_scores] = 1
    return rank


def official_round_weights(pair_weight, rank):
    # get_modal_weights_for_one_round
    M = rank.shape[0]
    wrong = torch.zeros(M, dtype=torch.float64)
    correct = torch.zeros(M, dtype=torch.float64)
    for m in range(M):
        wrong[m] = wrong[m] + pair_weight[rank[m] == -1].sum() + 1e-10
        correct[m] = correct[m] + pair_weight[rank[m] == 1].sum() + 1e-10
    return 0.5 * torch.log(correct / wrong)


def official_weights_from_rank(rank):
    # learn_rel_specific_modal_weights, from step 2 on.
    M, T, E = rank.shape
    if T < 10:
        return torch.ones(M, dtype=torch.float64) / M
    pair_weight = torch.ones(T, E, dtype=torch.float64)
    pair_weight = pair_weight / pair_weight.sum(dim=1, keepdim=True)
    last = torch.zeros(M, dtype=torch.float64)
    for _ in range(M):
        modal = official_round_weights(pair_weight, rank)
        for mod in torch.argsort(modal, descending=True):
            if last[mod] <= 0:  # "not selected before"
                best = mod
                break
        last[best] += modal[best]
        pair_weight = pair_weight * torch.exp(-modal[best] * rank[best])
        pair_weight = pair_weight / pair_weight.sum()
    return last


def official_relation_weights(scores, target, group, num_groups, known=()):
    r"""ensemble.get_boost_weight_for_relation on filtered scores: known
    answers and the target itself get -1e6 (``get_ranking_score(filt=True)``),
    the target score is the unfiltered one. :obj:`scores` is [B, M, N]."""
    B = scores.size(0)
    target_scores = scores[torch.arange(B), :, target].t().unsqueeze(-1)
    filt = scores.clone().double()
    filt[torch.arange(B), :, target] = -1e6
    for b, c in known:
        filt[b, :, c] = -1e6
    filt = filt.permute(1, 0, 2)  # M, T, E
    out = []
    for g in range(num_groups):
        sel = group == g
        out.append(official_weights_from_rank(official_rank_matrix(
            filt[:, sel], target_scores[:, sel].double())))
    return torch.stack(out)


def correlated_scores(seed, B=120, M=3, N=40, G=4, corr=0.9):
    gen = torch.Generator().manual_seed(seed)
    shared = torch.randn(B, 1, N, generator=gen)
    scores = corr * shared + (1 - corr) * torch.randn(B, M, N, generator=gen)
    target = torch.randint(0, N, (B, ), generator=gen)
    scores[torch.arange(B), :, target] += torch.tensor([1.5, 1.0, 0.5])[:M]
    group = torch.randint(0, G, (B, ), generator=gen)
    return scores, target, group


def library_weights(scores, target, group, G, row=None, col=None,
                    pairs='all', rule='official'):
    code, valid = sign_patterns(scores, target, row, col, pairs)
    counts = pattern_counts(code, valid, group, G, scores.size(1))
    return boosting_weights(counts, torch.bincount(group, minlength=G),
                            min_queries=10, rule=rule)


def test_official_rule_matches_port_with_three_correlated_branches():
    num_differ = 0
    for seed in range(5):
        scores, target, group = correlated_scores(seed)
        G = int(group.max()) + 1
        row, col = torch.tensor([0, 3, 7]), torch.tensor([5, 1, 2])
        known = [(0, 5), (3, 1), (7, 2)]
        expected = official_relation_weights(scores, target, group, G, known)
        weight = library_weights(scores, target, group, G, row, col)
        assert torch.allclose(weight.double(), expected, atol=1e-5), seed
        # The previous rule (each modality once) disagrees here:
        unique = library_weights(scores, target, group, G, row, col,
                                 rule='unique')
        num_differ += int(((unique == 0) != (weight == 0)).any())
    assert num_differ >= 3


def test_both_rules_agree_with_two_branches():
    scores, target, group = correlated_scores(0, M=2)
    G = int(group.max()) + 1
    official = library_weights(scores, target, group, G)
    unique = library_weights(scores, target, group, G, rule='unique')
    assert torch.allclose(official, unique)
    assert torch.allclose(official.double(), official_relation_weights(
        scores, target, group, G), atol=1e-5)
    with pytest.raises(ValueError, match='boosting rule'):
        library_weights(scores, target, group, G, rule='adaboost')
    with pytest.raises(ValueError, match='boosting pairs'):
        library_weights(scores, target, group, G, pairs='some')


def correlated_mose(data):
    r"""Three branches whose scores are correlated: the feature branches mix
    in the structural embedding and start from its relation table."""
    torch.manual_seed(0)
    model = MoSE.from_data(data, hidden_channels=4, init_scale=0.5,
                           alpha=0.3, scale=1.0)
    with torch.no_grad():
        for m in ('text', 'image'):
            rel = torch.cat([model.rel_emb.weight, model.rel_emb_im.weight],
                            -1)
            model.rel_mod[m].weight.copy_(rel + 0.3 * torch.randn_like(rel))
    return model


@pytest.mark.parametrize('pairs', ['genuine', 'all'])
def test_fit_ensemble_boosting_matches_official_port(mm_data, pairs):
    model = correlated_mose(mm_data)
    assert model.branches == ('structure', 'text', 'image')
    fi = filter_index(mm_data)
    # Enough queries per relation and side (>= 10) for boosting: the
    # training triples play the validation set here.
    h, r, t = triples(mm_data, 'train')
    kwargs = {} if pairs == 'genuine' else dict(pairs='all')
    model.fit_ensemble(h, r, t, method='boosting', filter_index=fi,
                       **kwargs)
    R = model.num_relations
    with torch.no_grad():
        scores = torch.cat([model.branch_score_tails(h, r),
                            model.branch_score_heads(r, t)]).double()
    target, group = torch.cat([t, h]), torch.cat([r, r + R])
    known = set()
    row, col = fi.tails(h, r)
    known |= {(int(a), int(b)) for a, b in zip(row, col)}
    row, col = fi.heads(r, t)
    known |= {(int(a) + h.numel(), int(b)) for a, b in zip(row, col)}
    if pairs == 'all':
        expected = official_relation_weights(scores, target, group, 2 * R,
                                             known)
    else:  # Known answers and the target are left out of the pairs:
        B = scores.size(0)
        ts = scores[torch.arange(B), :, target].t().unsqueeze(-1)
        rank = official_rank_matrix(scores.permute(1, 0, 2), ts)
        for b, c in known | {(b, int(target[b])) for b in range(B)}:
            rank[:, b, c] = 0
        expected = torch.stack([official_weights_from_rank(rank[:, group == g])
                                for g in range(2 * R)])
    assert (torch.bincount(group) >= 10).all()
    assert torch.allclose(model.ensemble_weight.double(), expected,
                          atol=1e-5)
    # The correlated branches make the rules differ on this graph:
    unique = model.ensemble_weight.clone()
    model.fit_ensemble(h, r, t, method='boosting', filter_index=fi,
                       rule='unique', **kwargs)
    assert not torch.allclose(model.ensemble_weight, unique)
