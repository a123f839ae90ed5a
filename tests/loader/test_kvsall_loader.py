from collections import defaultdict

import pytest
import torch

from pyg_mmkg.loader import KvsAllLoader


def random_triples(N=9, R=3, E=70, seed=0):
    gen = torch.Generator().manual_seed(seed)
    h = torch.randint(0, N, (E, ), generator=gen)
    r = torch.randint(0, R, (E, ), generator=gen)
    t = torch.randint(0, N, (E, ), generator=gen)
    return h, r, t


def brute_force_answers(h, r, t, R, reciprocal):
    answers = defaultdict(set)
    for a, b, c in zip(h.tolist(), r.tolist(), t.tolist()):
        answers[(a, b)].add(c)
        if reciprocal:
            answers[(c, b + R)].add(a)
    return answers


@pytest.mark.parametrize('reciprocal', [True, False])
def test_kvsall_targets_match_brute_force(reciprocal):
    N, R = 9, 3
    h, r, t = random_triples(N, R)
    answers = brute_force_answers(h, r, t, R, reciprocal)
    loader = KvsAllLoader(h, r, t, num_nodes=N, num_relations=R,
                          reciprocal=reciprocal, batch_size=7, seed=0)
    assert loader.num_queries == len(answers)
    assert loader.num_query_relations == (2 * R if reciprocal else R)

    seen = []
    for batch in loader:
        assert batch.targets.shape == (batch.query_head.numel(), N)
        assert batch.targets.dtype == torch.float
        for q in range(batch.query_head.numel()):
            key = (int(batch.query_head[q]), int(batch.query_rel[q]))
            expected = torch.zeros(N)
            expected[list(answers[key])] = 1.0
            assert torch.equal(batch.targets[q], expected)
            seen.append(key)
    assert sorted(seen) == sorted(answers)  # Every query exactly once.


def test_label_smoothing():
    N, R, eps = 9, 3, 0.1
    h, r, t = random_triples(N, R)
    plain = KvsAllLoader(h, r, t, N, R, batch_size=1000, shuffle=False)
    smooth = KvsAllLoader(h, r, t, N, R, batch_size=1000, shuffle=False,
                          label_smoothing=eps)
    y = next(iter(plain)).targets
    y_smooth = next(iter(smooth)).targets
    assert torch.allclose(y_smooth, (1 - eps) * y + eps / N)
    deg = y.sum(dim=1)
    assert torch.allclose(y_smooth.sum(dim=1), (1 - eps) * deg + eps)
    assert torch.allclose(y_smooth[y == 1], torch.tensor(1 - eps + eps / N))
    assert torch.allclose(y_smooth[y == 0], torch.tensor(eps / N))


def test_one_vs_all():
    N, R = 9, 3
    h, r, t = random_triples(N, R)
    loader = KvsAllLoader(h, r, t, N, R, mode='1vsall', batch_size=16,
                          seed=0)
    assert loader.num_queries == 2 * h.numel()
    batches = list(loader)
    qh = torch.cat([b.query_head for b in batches])
    qr = torch.cat([b.query_rel for b in batches])
    ans = torch.cat([b.targets for b in batches])
    assert ans.dtype == torch.long and ans.dim() == 1
    got = sorted(zip(qh.tolist(), qr.tolist(), ans.tolist()))
    expected = sorted(
        list(zip(h.tolist(), r.tolist(), t.tolist())) +
        list(zip(t.tolist(), (r + R).tolist(), h.tolist())))
    assert got == expected  # Duplicates are kept, one query per triple.


def test_deterministic_given_seed():
    h, r, t = random_triples()
    b1 = next(iter(KvsAllLoader(h, r, t, 9, 3, batch_size=5, seed=2)))
    b2 = next(iter(KvsAllLoader(h, r, t, 9, 3, batch_size=5, seed=2)))
    assert torch.equal(b1.query_head, b2.query_head)
    assert torch.equal(b1.targets, b2.targets)


def test_errors():
    h, r, t = random_triples()
    with pytest.raises(ValueError, match="Unknown mode"):
        KvsAllLoader(h, r, t, 9, 3, mode='kvs')
    with pytest.raises(ValueError, match="apply label smoothing in the loss"):
        KvsAllLoader(h, r, t, 9, 3, mode='1vsall', label_smoothing=0.1)
    with pytest.raises(ValueError, match=r"must be in \[0, 1\)"):
        KvsAllLoader(h, r, t, 9, 3, label_smoothing=1.0)
