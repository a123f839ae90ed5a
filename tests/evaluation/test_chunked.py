import pytest
import torch

from pyg_mmkg.evaluation import FilterIndex, NaNScoreError, evaluate
from pyg_mmkg.evaluation.chunked import (BYTES_PER_ENTRY, candidate_scorer,
                                         chunk_sizes, chunked_ranks)
from pyg_mmkg.nn.kge import ComplEx, DistMult, TransE

RANK_TYPES = ('optimistic', 'pessimistic', 'realistic')


def _graph(n, r, num, seed=0):
    g = torch.Generator().manual_seed(seed)
    h = torch.randint(0, n, (num, ), generator=g)
    rel = torch.randint(0, r, (num, ), generator=g)
    t = torch.randint(0, n, (num, ), generator=g)
    return h, rel, t


def _oracle(model, h, r, t, known, side):
    # Brute force, one query at a time, from the definitions, with DistMult's
    # score <e_h, w_r, e_t> in Python floats (reciprocal head queries
    # (?, r, t) are the tail queries (t, r + R, ?)): optimistic =
    # 1 + #{e unfiltered: s_e > s_true}; pessimistic = #{e unfiltered:
    # s_e >= s_true}, the answer counted; known answers except the true one
    # are filtered out.
    ent = model.node_emb.weight.tolist()
    rel = model.rel_emb.weight.tolist()
    opt, pes = [], []
    n = model.num_nodes

    def dm(a, w, b):
        return sum(x * y * z for x, y, z in zip(a, w, b))

    for i in range(h.numel()):
        hi, ri, ti = int(h[i]), int(r[i]), int(t[i])
        answer = ti if side == 'tail' else hi
        if side == 'tail':
            scores = [dm(ent[hi], rel[ri], ent[e]) for e in range(n)]
        elif model.reciprocal:
            scores = [dm(ent[ti], rel[ri + model.num_relations], ent[e])
                      for e in range(n)]
        else:
            scores = [dm(ent[e], rel[ri], ent[ti]) for e in range(n)]
        true = scores[answer]
        keep = [e for e in range(n) if e == answer or
                (((hi, ri, e) if side == 'tail' else (e, ri, ti))
                 not in known)]
        opt.append(1 + sum(scores[e] > true for e in keep))
        pes.append(sum(scores[e] >= true for e in keep))
    return torch.tensor(opt), torch.tensor(pes)


@pytest.mark.parametrize('reciprocal', [False, True])
def test_chunked_ranks_equal_brute_force_oracle_with_ties(reciprocal):
    # Small integer embeddings: every score is exact whatever the summation
    # order, with many ties, so the oracle's scalar scores are the truth.
    torch.manual_seed(0)
    n, r = 13, 2
    model = DistMult(n, r, 3, reciprocal=reciprocal)
    with torch.no_grad():
        model.node_emb.weight.copy_(torch.randint(-2, 3, (n, 3)).float())
        model.rel_emb.weight.copy_(
            torch.randint(-1, 2, model.rel_emb.weight.shape).float())
    h, rel, t = _graph(n, r, 40)
    fi = FilterIndex(h, rel, t, n, r)
    known = set(zip(h.tolist(), rel.tolist(), t.tolist()))
    q = slice(0, 15)
    encoded = model.encode()
    for side in ('tail', 'head'):
        oracle = _oracle(model, h[q], rel[q], t[q], known, side)
        score = candidate_scorer(model, side, encoded)
        node, target = ((h[q], t[q]) if side == 'tail' else (t[q], h[q]))
        lookup = (fi.tails if side == 'tail' else
                  (lambda a, b: fi.heads(b, a)))
        for batch, chunk in [(1, 1), (4, 3), (7, 5), (15, 13), (3, 100)]:
            ranks = chunked_ranks(score, node, rel[q], target, n, lookup,
                                  batch, chunk)
            assert torch.equal(ranks.optimistic, oracle[0]), (side, chunk)
            assert torch.equal(ranks.pessimistic, oracle[1]), (side, chunk)


@pytest.mark.parametrize('cls,kwargs', [
    (DistMult, {}), (DistMult, {'reciprocal': True}), (ComplEx, {}),
    (TransE, {}),
])
def test_chunked_evaluate_equals_unchunked_exactly(cls, kwargs):
    torch.manual_seed(1)
    n, r = 60, 4
    model = cls(n, r, 8, **kwargs)
    h, rel, t = _graph(n, r, 300, seed=1)
    fi = FilterIndex(h, rel, t, n, r)
    args = (model, h[:40], rel[:40], t[:40])
    kw = dict(filter_index=fi, rank_types=RANK_TYPES, per_relation=True)
    full = evaluate(*args, **kw)
    for chunk in (2, 7, 60):
        out = evaluate(*args, candidate_chunk_size=chunk, batch_size=16,
                       **kw)
        assert out == full, chunk
    # Raw setting too:
    assert evaluate(*args[:4], candidate_chunk_size=9) == evaluate(*args)


def test_memory_budget_bounds_every_score_matrix():
    n, r = 2000, 3
    model = DistMult(n, r, 4)
    h, rel, t = _graph(n, r, 200, seed=2)
    seen = []
    original = model.scorer.score_tails

    def spy(*args):
        out = original(*args)
        seen.append(out.numel())
        return out
    model.scorer.score_tails = spy
    budget = 64 * 1024  # 4096 entries
    out = evaluate(model, h, rel, t, filter_index=FilterIndex(h, rel, t, n,
                   r), memory_budget=budget, batch_size=8, sides=('tail', ))
    assert seen and max(seen) * BYTES_PER_ENTRY <= budget
    model.scorer.score_tails = original
    ref = evaluate(model, h, rel, t, filter_index=FilterIndex(h, rel, t, n,
                   r), sides=('tail', ))
    assert out == ref


def test_chunk_sizes_and_nan():
    assert chunk_sizes(10**6, 500, 16 * 128 * 1000) == (128, 1000)
    assert chunk_sizes(50, 3, 10**9) == (3, 50)
    model = DistMult(10, 2, 4)
    with torch.no_grad():
        model.node_emb.weight[7] = float('nan')
    h, rel, t = _graph(10, 2, 5, seed=3)
    with pytest.raises(NaNScoreError, match='NaN scores'):
        evaluate(model, h, rel, t, candidate_chunk_size=3)
