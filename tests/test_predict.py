r"""Prediction by name (issue 16: `predict_tails/heads/relations` with top-k,
filtered on request, from a model or a run directory, and `pyg-mmkg
predict`), checked against a brute-force ranking of every triple."""
import json

import pytest
import torch
from torch_geometric.nn.kge import TransE as PyGTransE

from pyg_mmkg.cli import main
from pyg_mmkg.data import make_kg_data, triples
from pyg_mmkg.nn.kge import ComplEx
from pyg_mmkg.predict import (Predictor, predict_heads, predict_relations,
                              predict_tails)

N, R = 23, 4


def _data():
    g = torch.Generator().manual_seed(3)
    h = torch.randint(0, N, (120, ), generator=g)
    r = torch.randint(0, R, (120, ), generator=g)
    t = torch.randint(0, N, (120, ), generator=g)
    splits = {'train': (h[:90], r[:90], t[:90]),
              'val': (h[90:105], r[90:105], t[90:105]),
              'test': (h[105:], r[105:], t[105:])}
    return make_kg_data([f'city{i}' for i in range(N)],
                        [f'rel{i}' for i in range(R)], splits)


def _known(data):
    out = set()
    for s in ('train', 'val', 'test'):
        h, r, t = triples(data, s)
        out |= set(zip(h.tolist(), r.tolist(), t.tolist()))
    return out


def _brute(model, data, target, a, b, k, filtered):
    r"""Scores every candidate triple one forward call each way, sorts by
    score and drops known triples by a Python set lookup."""
    known = _known(data)
    count = R if target == 'relation' else N
    cand = torch.arange(count)
    one = torch.ones(count, dtype=torch.long)
    if target == 'tail':
        trip = (one * a, one * b, cand)
    elif target == 'head':
        trip = (cand, one * a, one * b)
    else:
        trip = (one * a, cand, one * b)
    model.eval()
    with torch.no_grad():
        scores = model(*trip).tolist()
    rows = [(s, i) for i, s in enumerate(scores)
            if not (filtered and (int(trip[0][i]), int(trip[1][i]),
                                  int(trip[2][i])) in known)]
    rows.sort(key=lambda x: -x[0])
    return [i for _, i in rows[:k]], [s for s, _ in rows[:k]]


@pytest.fixture(scope='module')
def setup():
    torch.manual_seed(0)
    data = _data()
    return data, ComplEx(N, R, 8)


@pytest.mark.parametrize('filtered', [False, True])
def test_tails_heads_relations_match_brute_force(setup, filtered):
    data, model = setup
    pred = predict_tails(model, head='city3', relation='rel1', k=5,
                         filtered=filtered, data=data)
    ids, scores = _brute(model, data, 'tail', 3, 1, 5, filtered)
    assert pred.ids[0].tolist() == ids
    assert torch.allclose(pred.scores[0], torch.tensor(scores), atol=1e-5)
    assert pred.names[0] == [f'city{i}' for i in ids]

    pred = predict_heads(model, relation='rel2', tail='city7', k=4,
                         filtered=filtered, data=data)
    assert pred.ids[0].tolist() == _brute(model, data, 'head', 2, 7, 4,
                                          filtered)[0]

    pred = predict_relations(model, head='city1', tail='city2', k=3,
                             filtered=filtered, data=data)
    assert pred.ids[0].tolist() == _brute(model, data, 'relation', 1, 2, 3,
                                          filtered)[0]


def test_known_flags_and_filtered_padding(setup):
    data, model = setup
    known = _known(data)
    h, r, _ = next(iter(sorted(known)))
    pred = predict_tails(model, h, r, k=N, data=data)  # ids, unfiltered
    flags = [(h, r, t) in known for t in pred.ids[0].tolist()]
    assert pred.known[0].tolist() == flags and any(flags)
    # Filtered with k = N: the known tails are padding, dropped by rows().
    pred = predict_tails(model, h, r, k=N, filtered=True, data=data)
    answers = [row['id'] for row in pred.rows()]
    assert sorted(answers) == sorted(set(range(N)) - {
        t for (a, b, t) in known if (a, b) == (h, r)})


def test_batched_queries_and_small_budget_match(setup):
    data, model = setup
    heads = [f'city{i}' for i in range(N)]
    # 4 bytes per candidate row: one query per call.
    small = Predictor(model, data, max_bytes=4).tails(heads, 'rel0', k=3,
                                                     filtered=True)
    big = Predictor(model, data).tails(heads, 'rel0', k=3, filtered=True)
    assert torch.equal(small.ids, big.ids)
    for i in range(N):
        assert small.ids[i].tolist() == _brute(model, data, 'tail', i, 0, 3,
                                               True)[0]
    # A budget of three float32 score rows (plus top-k workspace) scores
    # at most three queries per call.
    rows = []
    score_tails = model.score_tails
    model.score_tails = lambda h, r, **kw: rows.append(h.numel()) or \
        score_tails(h, r, **kw)
    try:
        Predictor(model, data, max_bytes=3 * N * 12).tails(heads, 'rel0')
    finally:
        del model.score_tails
    assert max(rows) == 3 and sum(rows) == N


def test_plain_pyg_model_is_chunked_over_candidates():
    r"""A PyG KGEModel without score_tails is scored through model(h,r,t);
    a tiny byte budget splits the candidates, and the running top-k must
    equal the brute-force top-k."""
    torch.manual_seed(1)
    data = _data()
    model = PyGTransE(N, R, 8)
    calls = []
    forward = model.forward

    def spy(h, r, t):
        calls.append(h.numel())
        return forward(h, r, t)

    model.forward = spy
    pred = Predictor(model, data, max_bytes=8 * 4 * 16 * 5)  # 5 triples
    out = pred.tails(['city0', 'city5'], 'rel3', k=4, filtered=True)
    assert max(calls) <= 5
    model.forward = forward
    for q, head in enumerate((0, 5)):
        assert out.ids[q].tolist() == _brute(model, data, 'tail', head, 3,
                                             4, True)[0]


def test_reciprocal_heads_are_ranked_as_in_evaluation():
    r"""With reciprocal relations a head query is the tail query of the
    inverse relation (as `evaluate` ranks it), not model(h, r, t)."""
    torch.manual_seed(2)
    data = _data()
    model = ComplEx(N, R, 8, reciprocal=True)
    model.eval()
    with torch.no_grad():  # (?, rel1, city4) = (city4, rel1 + R, ?)
        expect = model.score_tails(torch.tensor([4]),
                                   torch.tensor([1 + R]))[0]
    pred = predict_heads(model, 'rel1', 'city4', k=6, data=data)
    assert pred.ids[0].tolist() == expect.topk(6).indices.tolist()


def test_unknown_name_suggests(setup):
    data, model = setup
    with pytest.raises(ValueError, match="Unknown entity 'cty3'.*city3"):
        predict_tails(model, 'cty3', 'rel0', data=data)


def test_run_directory_python_and_cli(tmp_path, capsys):
    torch.manual_seed(0)
    data = _data()
    path = tmp_path / 'kg.pt'
    torch.save(data, path)
    run = tmp_path / 'run'
    assert main(['train', '--dataset', str(path), '--model', 'distmult',
                 '--dim', '8', '--epochs', '1', '--run-dir', str(run),
                 '--no-progress']) == 0
    from pyg_mmkg.train import load_run
    model, data2, _ = load_run(run)
    expect = _brute(model, data2, 'tail', 3, 1, 3, True)[0]
    pred = predict_tails(run, 'city3', 'rel1', k=3, filtered=True)
    assert pred.ids[0].tolist() == expect
    capsys.readouterr()
    assert main(['predict', str(run), '--head', 'city3', '--relation',
                 'rel1', '--k', '3', '--filtered', '--json']) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r['tail'] for r in rows] == [f'city{i}' for i in expect]
    assert main(['predict', str(run), '--head', 'city3', '--tail',
                 'city4', '--k', '2']) == 0
    assert '(city3, ?, city4)' in capsys.readouterr().out
    assert main(['predict', str(run), '--head', 'city3']) == 1
    assert 'exactly two' in capsys.readouterr().err
