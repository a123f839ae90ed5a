import pickle

import pytest
import torch
from torch_geometric.nn.kge import DistMult, KGEModel
from torch_geometric.testing import withCUDA

from pyg_mmkg.evaluation import (
    EvaluationResult,
    FilterIndex,
    NaNScoreError,
    evaluate,
    kge_test,
)

N, R = 11, 3
RANK_TYPES = ('optimistic', 'pessimistic', 'realistic')
KS = (1, 3, 10)


class TableModel(torch.nn.Module):
    r"""Implements the spec interface (:meth:`encode`, :meth:`score_tails`,
    :meth:`score_heads`) with a score table :obj:`[R, N, N]`."""
    def __init__(self, table):
        super().__init__()
        self.table = torch.nn.Parameter(table)
        self.num_relations, self.num_nodes = table.size(0), table.size(1)
        self.encode_calls, self.batch_sizes, self.modes = 0, [], []

    def encode(self):
        self.encode_calls += 1
        return (self.table * 1, )

    def forward(self, head_index, rel_type, tail_index, encoded=None):
        table = self.table if encoded is None else encoded[0]
        return table[rel_type, head_index, tail_index]

    def _log(self, index, encoded):
        assert encoded is not None, "'encoded' was not passed"
        self.batch_sizes.append(index.numel())
        self.modes.append(self.training)

    def score_tails(self, head_index, rel_type, encoded=None):
        self._log(head_index, encoded)
        return encoded[0][rel_type, head_index]

    def score_heads(self, rel_type, tail_index, encoded=None):
        self._log(tail_index, encoded)
        return encoded[0][rel_type, :, tail_index]


class PyGTableModel(KGEModel):
    r"""A plain PyG model: only :meth:`forward`."""
    def __init__(self, table):
        super().__init__(table.size(1), table.size(0), hidden_channels=1)
        self.table = torch.nn.Parameter(table)
        self.max_triples = None

    def forward(self, head_index, rel_type, tail_index):
        if self.max_triples and head_index.numel() > self.max_triples:
            raise torch.cuda.OutOfMemoryError('CUDA out of memory (test)')
        return self.table[rel_type, head_index, tail_index]


class FastDistMult(DistMult):
    r"""PyG's DistMult plus vectorised :meth:`score_tails` / heads."""
    def score_tails(self, head_index, rel_type):
        return (self.node_emb(head_index) *
                self.rel_emb(rel_type)) @ self.node_emb.weight.t()

    def score_heads(self, rel_type, tail_index):
        return (self.rel_emb(rel_type) *
                self.node_emb(tail_index)) @ self.node_emb.weight.t()


def make_data(seed=0, num_test=23):
    gen = torch.Generator().manual_seed(seed)
    table = torch.randint(0, 4, (R, N, N), generator=gen).float()  # Ties.
    h = torch.randint(N, (60, ), generator=gen)
    r = torch.randint(R, (60, ), generator=gen)
    t = torch.randint(N, (60, ), generator=gen)
    # Duplicate triples and several true answers per query:
    h, r = torch.cat([h, h[:8], h[8:16]]), torch.cat([r, r[:8], r[8:16]])
    t = torch.cat([t, t[:8], torch.randint(N, (8, ), generator=gen)])
    perm = torch.randperm(h.numel(), generator=gen)
    h, r, t = h[perm], r[perm], t[perm]
    test = (h[:num_test], r[:num_test], t[:num_test])
    return table, (h, r, t), test


def oracle_ranks(table, test, known, side):
    scores = table.tolist()
    out = []
    for h, r, t in zip(*(x.tolist() for x in test)):
        if side == 'tail':
            cand, true_c = scores[r][h], t
            is_known = [(h, r, c) in known for c in range(N)]
        else:
            cand, true_c = [scores[r][c][t] for c in range(N)], h
            is_known = [(c, r, t) in known for c in range(N)]
        better = tied = 0
        for c, s in enumerate(cand):
            if c == true_c or is_known[c]:
                continue
            better += s > cand[true_c]
            tied += s == cand[true_c]
        out.append((1 + better, 1 + better + tied))
    return out


def oracle_metrics(pairs, rank_type):
    ranks = [{
        'optimistic': o,
        'pessimistic': p,
        'realistic': (o + p) / 2
    }[rank_type] for o, p in pairs]
    out = {
        'mr': sum(ranks) / len(ranks),
        'mrr': sum(1 / x for x in ranks) / len(ranks)
    }
    out.update({f'hits@{k}': sum(x <= k for x in ranks) / len(ranks)
                for k in KS})
    return out


def assert_side(entry, pairs):
    assert entry['num_queries'] == len(pairs)
    for rank_type in RANK_TYPES:
        expected = oracle_metrics(pairs, rank_type)
        assert entry[rank_type].keys() == expected.keys()
        for name, value in expected.items():
            assert entry[rank_type][name] == pytest.approx(value, abs=1e-12)
    for name, value in entry['optimistic'].items():  # The primary type.
        assert entry[name] == value


@withCUDA
@pytest.mark.parametrize('filtered', [False, True])
@pytest.mark.parametrize('batch_size', [1, 4, None])
def test_matches_oracle(device, filtered, batch_size):
    table, (h, r, t), test = make_data()
    known = set(zip(h.tolist(), r.tolist(), t.tolist())) if filtered else {}
    index = FilterIndex(h, r, t, N, R) if filtered else None
    model = TableModel(table).to(device)
    result = evaluate(model, *test, filter_index=index, batch_size=batch_size,
                      rank_types=RANK_TYPES, ks=KS, per_relation=True)
    assert model.encode_calls == 1
    if batch_size == 4:  # 23 queries: 5 full batches and one of 3.
        assert model.batch_sizes == 2 * [4, 4, 4, 4, 4, 3]

    pairs = {side: oracle_ranks(table, test, known, side)
             for side in ('head', 'tail')}
    pairs['both'] = pairs['head'] + pairs['tail']
    for side in ('head', 'tail', 'both'):
        assert_side(result[side], pairs[side])

    rels = test[1].tolist()
    assert sorted(result['per_relation']) == sorted(set(rels))
    for rel, entry in result['per_relation'].items():
        sub = {s: [p for p, x in zip(pairs[s], rels) if x == rel]
               for s in ('head', 'tail')}
        sub['both'] = sub['head'] + sub['tail']
        for side in ('head', 'tail', 'both'):
            assert_side(entry[side], sub[side])


def test_filter_never_removes_true_answer():
    table = torch.zeros(1, 5, 5)
    table[0, 0, 1:4] = 5.0  # (0, 0, 1), (0, 0, 2), (0, 0, 3) all true.
    h, r, t = torch.tensor([0, 0, 0]), torch.zeros(3, dtype=torch.long), \
        torch.tensor([1, 2, 3])
    model = TableModel(table)
    raw = evaluate(model, h, r, t, sides=('tail', ), rank_types=RANK_TYPES)
    assert raw['tail']['optimistic']['mr'] == 1.0
    assert raw['tail']['pessimistic']['mr'] == 3.0
    index = FilterIndex(h, r, t, 5, 1)
    out = evaluate(model, h, r, t, filter_index=index, sides=('tail', ),
                   rank_types=RANK_TYPES)
    for rank_type in RANK_TYPES:
        assert out['tail'][rank_type]['mr'] == 1.0
        assert out['tail'][rank_type]['hits@1'] == 1.0
    assert 'head' not in out and out['both']['num_queries'] == 3


@pytest.mark.parametrize('filtered', [False, True])
def test_pyg_fallback_matches_oracle(filtered):
    table, (h, r, t), test = make_data(seed=3)
    known = set(zip(h.tolist(), r.tolist(), t.tolist())) if filtered else {}
    index = FilterIndex(h, r, t, N, R) if filtered else None
    model = PyGTableModel(table)
    model.max_triples = 2 * N + 5  # Chunks that straddle queries.
    result = evaluate(model, *test, filter_index=index, batch_size=8,
                      rank_types=RANK_TYPES)
    for side in ('head', 'tail'):
        assert_side(result[side], oracle_ranks(table, test, known, side))


def test_pyg_distmult_fallback_equals_fast_path():
    torch.manual_seed(0)
    _, (h, r, t), test = make_data(seed=4)
    fast = FastDistMult(N, R, hidden_channels=6)
    slow = DistMult(N, R, hidden_channels=6)
    with torch.no_grad():  # Small integers: exact scores, many ties.
        fast.node_emb.weight.copy_(torch.randint(-2, 3, (N, 6)))
        fast.rel_emb.weight.copy_(torch.randint(-1, 2, (R, 6)))
    slow.load_state_dict(fast.state_dict())
    index = FilterIndex(h, r, t, N, R)
    kwargs = dict(filter_index=index, rank_types=RANK_TYPES,
                  per_relation=True, batch_size=5)
    out_fast = evaluate(fast, *test, **kwargs)
    out_slow = evaluate(slow, *test, **kwargs)
    assert out_fast.flat(per_relation=True) == out_slow.flat(
        per_relation=True)
    assert out_fast['both']['optimistic']['mr'] < out_fast['both'][
        'pessimistic']['mr']  # There are ties.


class OOMModel(TableModel):
    def __init__(self, table, max_batch, error):
        super().__init__(table)
        self.max_batch, self.error = max_batch, error

    def _log(self, index, encoded):
        super()._log(index, encoded)
        if index.numel() > self.max_batch:
            raise self.error


@pytest.mark.parametrize('error', [
    torch.cuda.OutOfMemoryError('CUDA out of memory. Tried to allocate'),
    RuntimeError('[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: '
                 "can't allocate memory: you tried to allocate 12 GB"),
])
def test_out_of_memory_halves_batch(error):
    table, (h, r, t), test = make_data(seed=5)
    index = FilterIndex(h, r, t, N, R)
    ref = evaluate(TableModel(table), *test, filter_index=index,
                   batch_size=64, rank_types=RANK_TYPES)
    model = OOMModel(table, max_batch=3, error=error)
    out = evaluate(model, *test, filter_index=index, batch_size=16,
                   rank_types=RANK_TYPES)
    assert out.flat() == ref.flat()
    # 16 -> 8 -> 4 -> 2 on the first batch, then 2 for the rest:
    assert model.batch_sizes[:4] == [16, 8, 4, 2]
    assert set(model.batch_sizes[4:]) == {1, 2}
    assert sum(model.batch_sizes[3:]) == 2 * 23


def test_errors_that_are_not_recovered():
    table, _, test = make_data()
    model = OOMModel(table, max_batch=3, error=RuntimeError('boom'))
    with pytest.raises(RuntimeError, match='boom'):
        evaluate(model, *test, batch_size=16)
    assert model.batch_sizes == [16]  # No retry on other errors.
    model = OOMModel(table, max_batch=0,
                     error=torch.cuda.OutOfMemoryError('out of memory'))
    with pytest.raises(torch.cuda.OutOfMemoryError):
        evaluate(model, *test, batch_size=4)
    assert model.batch_sizes == [4, 2, 1]


def test_nan_error_and_training_mode_restored():
    table, _, test = make_data()
    model = TableModel(table)
    model.train()
    evaluate(model, *test, batch_size=7)
    assert model.training and model.modes and not any(model.modes)
    model.eval()
    evaluate(model, *test, batch_size=7)
    assert not model.training

    h, r, t = (int(x[5]) for x in test)
    with torch.no_grad():
        model.table[r, h, (t + 1) % N] = float('nan')
    model.train()
    with pytest.raises(NaNScoreError, match=(
            rf'NaN scores for 1 tail queries of the batch, e\.g\., for the '
            rf'triple \(head={h}, relation={r}, tail={t}\)')) as info:
        evaluate(model, *test, batch_size=4, sides=('tail', ))
    assert 5 in info.value.rows.tolist()
    assert model.training  # Restored after the error as well.


def test_kge_test_vs_pyg_test():
    torch.manual_seed(1)
    model = DistMult(20, 4, hidden_channels=8)  # Random floats: no ties.
    h, r, t = (torch.randint(n, (15, )) for n in (20, 4, 20))
    mr, mrr, hits = model.test(h, r, t, batch_size=7, k=3, log=False)
    out = evaluate(model, h, r, t, sides=('tail', ), ks=(3, ),
                   rank_types=('optimistic', 'pessimistic'))['tail']
    assert out['optimistic'] == out['pessimistic']
    assert out['mr'] == pytest.approx(mr + 1, abs=1e-5)  # PyG is 0-based.
    assert out['mrr'] == pytest.approx(mrr, abs=1e-6)
    assert out['hits@3'] == pytest.approx(hits, abs=1e-12)

    index = FilterIndex(h, r, t, 20, 4)
    both = evaluate(model, h, r, t, filter_index=index, ks=(3, ))['both']
    assert kge_test(model, h, r, t, batch_size=4, k=3,
                    filter_index=index) == (both['mr'], both['mrr'],
                                            both['hits@3'])
    raw = evaluate(model, h, r, t, ks=(3, ))['both']
    assert kge_test(model, h, r, t, k=3) == (raw['mr'], raw['mrr'],
                                             raw['hits@3'])


def test_result_object(capsys):
    table, (h, r, t), test = make_data()
    result = evaluate(TableModel(table), *test, filter_index=FilterIndex(
        h, r, t, N, R), rank_types=('realistic', 'optimistic'),
                      per_relation=True, log=True)
    assert 'Evaluating' in capsys.readouterr().err  # tqdm progress bar.
    assert isinstance(result, EvaluationResult)
    text = str(result)
    lines = text.splitlines()
    assert lines[0].split() == ['side', 'rank', 'queries', 'mr', 'mrr',
                                'hits@1', 'hits@3', 'hits@10']
    assert len(lines) == 2 + 3 * 2 + 1  # Header, rule, rows, note.
    assert lines[-3].split()[:2] == ['both', 'realistic']
    assert f"{result['both']['realistic']['mrr']:.4f}" in lines[-3]
    assert "result['per_relation']" in lines[-1]
    per_rel = result.table(per_relation=True).splitlines()
    assert per_rel[0].split()[0] == 'relation'
    assert len(per_rel) == 2 + 3 * 2 * len(result['per_relation'])

    flat = result.flat()
    assert flat['both.realistic.mrr'] == result['both']['mrr']
    assert flat['head.optimistic.hits@3'] == result['head']['optimistic'][
        'hits@3']
    assert flat['tail.num_queries'] == 23
    assert len(flat) == 3 * (1 + 2 * 5)
    assert repr(result).startswith('EvaluationResult(mr=')

    clone = pickle.loads(pickle.dumps(result))
    assert clone == result and clone.rank_types == result.rank_types


def test_invalid_arguments():
    table, (h, r, t), test = make_data()
    model = TableModel(table)
    with pytest.raises(ValueError, match="'sides'"):
        evaluate(model, *test, sides=('left', ))
    with pytest.raises(ValueError, match="'rank_types'"):
        evaluate(model, *test, rank_types=('mean', ))
    with pytest.raises(ValueError, match="'ks'"):
        evaluate(model, *test, ks=(0, ))
    with pytest.raises(ValueError, match="'batch_size'"):
        evaluate(model, *test, batch_size=0)
    with pytest.raises(ValueError, match='same number of elements'):
        evaluate(model, test[0], test[1][:-1], test[2])
    with pytest.raises(ValueError, match='filter index has 12 entities'):
        evaluate(model, *test, filter_index=FilterIndex(h, r, t, N + 1, R))
    with pytest.raises(ValueError, match="neither 'score_tails'"):
        evaluate(lambda h, r, t: h.float(), *test)
    model.num_nodes = N + 1  # Scores have N columns.
    with pytest.raises(ValueError, match=r'Expected scores of shape '
                       r'\[23, 12\] from the model \(got \(23, 11\)\)'):
        evaluate(model, *test)
