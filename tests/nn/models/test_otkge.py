r"""OTKGE against an independent transcription of the official equations
(Lion-ZS/OTKGE@aa4caa1 code/sinkhorn_cal1.py, code/models.py OTKGE_wn,
code/regularizers.py N3, code/datasets.py get_weight) and its Sinkhorn
solver against POT."""
import copy
import math

import pytest
import torch

from pyg_mmkg.data import triples
from pyg_mmkg.nn.models import OTKGE
from pyg_mmkg.nn.models._sinkhorn import log_sinkhorn
from pyg_mmkg.nn.models.otkge import ot_projection
from pyg_mmkg.train.batches import TrainBatch
from pyg_mmkg.train.recipes import get_recipe

# Transcription of the official code (float64, loops as released) #########


def official_sinkhorn_knopp(a, b, C, reg, max_iter=1000, stop=1e-9,
                            eval_freq=10):
    # sinkhorn_knopp(a, b, C) after its C = C.t(): rows ~ a, columns ~ b.
    K = torch.exp(-reg * C)
    u = torch.ones(C.shape[0], dtype=C.dtype) / C.shape[0]
    v = torch.ones(C.shape[1], dtype=C.dtype) / C.shape[1]
    it, err = 1, 1.0
    while err > stop and it <= max_iter:
        upre, vpre = u, v
        v = b / (u @ K + 1e-16)
        u = a / (K @ v + 1e-16)
        if (torch.isnan(u).any() or torch.isnan(v).any()
                or torch.isinf(u).any() or torch.isinf(v).any()):
            u, v = upre, vpre
            break
        if it % eval_freq == 0:
            err = float(((b - (u @ K) * v)**2).sum())
        it += 1
    return u.reshape(-1, 1) * K * v.reshape(1, -1)


def official_cal_ot(mm, st, delta, scale, number=10, **kw):
    mm_dim, st_dim = mm.shape[-1], st.shape[-1]
    mm_dis = torch.ones(mm_dim, dtype=mm.dtype) / mm_dim
    st_dis = torch.ones(st_dim, dtype=mm.dtype) / st_dim
    plans = []
    for i in range(number):
        cost = (mm[i].reshape(-1, mm_dim) - st[i].reshape(st_dim, -1))**2
        cost = cost * scale  # [st_dim, mm_dim]
        # sinkhorn(mm_dis, st_dis, cost.t()) -> sinkhorn_knopp(st_dis,
        # mm_dis, cost.t()) which transposes C back; result .t().
        plans.append(official_sinkhorn_knopp(st_dis, mm_dis, cost, 0.1,
                                              **kw).t())
    return torch.stack(plans).mean(0) * st_dim * scale + delta


def official_forward(x, E, R, X_img, X_ling, T_img, T_ling, alpha, gamma,
                     rank):
    emb = ((1 - alpha - gamma) * E + alpha * (X_img @ T_img) +
           gamma * (X_ling @ T_ling))
    lhs, rel, rhs = emb[x[:, 0]], R[x[:, 1]], emb[x[:, 2]]
    lhs = lhs[:, :rank], lhs[:, rank:]
    rel = rel[:, :rank], rel[:, rank:]
    rhs = rhs[:, :rank], rhs[:, rank:]
    to_score = emb[:, :rank], emb[:, rank:]
    scores = ((lhs[0] * rel[0] - lhs[1] * rel[1]) @ to_score[0].t() +
              (lhs[0] * rel[1] + lhs[1] * rel[0]) @ to_score[1].t())
    factors = (torch.sqrt(lhs[0]**2 + lhs[1]**2),
               torch.sqrt(rel[0]**2 + rel[1]**2),
               torch.sqrt(rhs[0]**2 + rhs[1]**2))
    return scores, factors


def official_n3(factors, weight):
    return sum(weight * torch.sum(torch.abs(f)**3) / f.shape[0]
               for f in factors)


# Sinkhorn ################################################################


def test_log_sinkhorn_matches_pot():
    ot = pytest.importorskip('ot')
    gen = torch.Generator().manual_seed(0)
    for n, m, eps in [(5, 7, 0.5), (8, 3, 2.0), (6, 6, 10.0)]:
        C = torch.rand(n, m, generator=gen, dtype=torch.float64) * 3
        a = torch.rand(n, generator=gen, dtype=torch.float64) + 0.1
        b = torch.rand(m, generator=gen, dtype=torch.float64) + 0.1
        a, b = a / a.sum(), b / b.sum()
        P, _ = log_sinkhorn(C, a, b, epsilon=eps, max_iter=5000, tol=1e-20)
        ref = ot.sinkhorn(a.numpy(), b.numpy(), C.numpy(), eps,
                          numItermax=5000, stopThr=1e-14)
        assert torch.allclose(P, torch.as_tensor(ref), atol=1e-10)
        assert torch.allclose(P.sum(1), a) and torch.allclose(P.sum(0), b)


def test_log_sinkhorn_where_the_kernel_underflows():
    ot = pytest.importorskip('ot')
    gen = torch.Generator().manual_seed(1)
    # Costs of 8000 and more with epsilon 10 (OTKGE's lambda 0.1):
    # exp(-C / 10) underflows even in float64 (below exp(-745)).
    C = torch.rand(6, 9, generator=gen, dtype=torch.float64) * 100 + 8000
    C = C + 50 * torch.arange(6, dtype=C.dtype).view(-1, 1)
    K = torch.exp(-C / 10)
    assert (K == 0).all()
    P, _ = log_sinkhorn(C, epsilon=10.0, max_iter=5000, tol=1e-20)
    a, b = torch.full((6, ), 1 / 6.0, dtype=C.dtype), torch.full(
        (9, ), 1 / 9.0, dtype=C.dtype)
    assert torch.isfinite(P).all()
    assert torch.allclose(P.sum(1), a) and torch.allclose(P.sum(0), b)
    ref = ot.sinkhorn(a.numpy(), b.numpy(), C.numpy(), 10.0,
                      method='sinkhorn_log', numItermax=5000, stopThr=1e-12)
    assert torch.allclose(P, torch.as_tensor(ref), atol=1e-10)
    # The released scaling form returns no transport plan there:
    plain = official_sinkhorn_knopp(a, b, C, 0.1)
    assert not torch.allclose(plain.sum(0), b)
    # Float32 (the official dtype) is exact as well:
    P32, _ = log_sinkhorn(C.float(), epsilon=10.0, max_iter=5000, tol=1e-12)
    assert torch.allclose(P32.double(), P, rtol=1e-3, atol=1e-8)


def test_log_sinkhorn_iterates_as_released():
    gen = torch.Generator().manual_seed(2)
    C = torch.rand(2, 7, 5, generator=gen, dtype=torch.float64) * 40
    a = torch.full((7, ), 1 / 7.0, dtype=C.dtype)
    b = torch.full((5, ), 1 / 5.0, dtype=C.dtype)
    for iters in [1, 2, 3, 25]:  # Same iterate, not only the same limit.
        P, it = log_sinkhorn(C, epsilon=10.0, max_iter=iters, tol=0.0)
        assert it == iters
        for k in range(2):
            ref = official_sinkhorn_knopp(a, b, C[k], 0.1, max_iter=iters,
                                          stop=0.0)
            assert torch.allclose(P[k], ref, rtol=1e-9, atol=1e-15)
    # Stopping: the squared column error, checked every 10 iterations.
    _, it = log_sinkhorn(C[0], epsilon=10.0, tol=1e-9)
    assert it % 10 == 0 and it < 1000


# OTKGE against the official equations ########################################


def tiny(seed=0, N=12, R=2, k=3, d_img=4, d_txt=5):
    gen = torch.Generator().manual_seed(seed)
    # float32 features (the model stores them in float32), used in float64:
    f = dict(image=((torch.randn(N, d_img, generator=gen) * 0.2).double(),
                    torch.ones(N, dtype=torch.bool)),
             text=((torch.randn(N, d_txt, generator=gen) * 0.2).double(),
                   torch.ones(N, dtype=torch.bool)))
    model = OTKGE(N, R, k, features=f, alpha=0.1, gamma=0.8,
                  ot_scale=100.0, n3_weight=5e-3).double()
    with torch.no_grad():
        for p in [model.node_emb.weight, model.node_emb_im.weight,
                  model.rel_emb.weight, model.rel_emb_im.weight]:
            p.copy_(torch.randn(p.shape, generator=gen,
                                dtype=torch.float64) * 0.2)
    return model, f


def test_ot_projection_matches_official_cal_ot():
    gen = torch.Generator().manual_seed(3)
    # Scales where the official 1e-16 in its divisions is negligible:
    x = torch.randn(10, 6, generator=gen, dtype=torch.float64) * 0.2
    e = torch.randn(10, 8, generator=gen, dtype=torch.float64) * 0.2
    delta = torch.zeros(6, 8, dtype=torch.float64)
    for scale in [100.0, 300.0]:
        ref = official_cal_ot(x, e, delta, scale)
        got = ot_projection(x, e, scale, 0.1)
        assert torch.allclose(got, ref, rtol=1e-9)
        assert not torch.allclose(got, torch.full_like(got, got.mean()),
                                  rtol=1e-3)  # a non-trivial plan


def test_encode_score_and_loss_match_official_forward():
    model, f = tiny()
    k, N = 3, 12
    E = torch.cat([model.node_emb.weight, model.node_emb_im.weight], -1)
    R = torch.cat([model.rel_emb.weight, model.rel_emb_im.weight], -1)
    T = {m: official_cal_ot(f[m][0], E.detach(), model.delta[m].detach(),
                            100.0) for m in ('image', 'text')}
    gen = torch.Generator().manual_seed(4)
    x = torch.stack([torch.randint(0, N, (7, ), generator=gen),
                     torch.randint(0, 4, (7, ), generator=gen),
                     torch.randint(0, N, (7, ), generator=gen)], 1)
    ref_scores, factors = official_forward(x, E, R, f['image'][0],
                                           f['text'][0], T['image'],
                                           T['text'], 0.1, 0.8, k)
    ref_loss = (torch.nn.functional.cross_entropy(ref_scores, x[:, 2]) +
                official_n3(factors, 5e-3))
    encoded = model.encode()  # training mode: computes the plans
    for m in ('image', 'text'):
        assert torch.allclose(model.projection(m), T[m], rtol=1e-9)
    scores = model.score_tails(x[:, 0], x[:, 1], encoded)
    assert torch.allclose(scores, ref_scores, rtol=1e-9, atol=1e-12)
    loss = model.training_loss(TrainBatch('1vsall', x[:, 0], x[:, 1],
                                          x[:, 2]), encoded)
    assert torch.allclose(loss, ref_loss, rtol=1e-9)
    # Frequency-weighted cross-entropy (official -weight):
    w = torch.rand(N, generator=gen, dtype=torch.float64) + 0.1
    model.entity_weight = w
    ref = (torch.nn.functional.cross_entropy(ref_scores, x[:, 2], weight=w)
           + official_n3(factors, 5e-3))
    loss = model.training_loss(TrainBatch('1vsall', x[:, 0], x[:, 1],
                                          x[:, 2]), encoded)
    assert torch.allclose(loss, ref, rtol=1e-9)


def test_only_delta_and_tables_get_gradients_not_the_plan():
    model, _ = tiny()
    h, r, t = torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([2, 3])
    model.loss(h, r, t).backward()
    assert model.delta['image'].grad.abs().sum() > 0
    assert not model.plan_image.requires_grad


def test_frequency_weight_from_training_triples_only(mm_data):
    model = OTKGE.from_data(mm_data, hidden_channels=2,
                            frequency_weight=True)
    head, _, tail = triples(mm_data, 'train')
    counts = [0.0] * model.num_nodes
    for h, t in zip(head.tolist(), tail.tolist()):  # get_weight's loop
        counts[h] += 1
        counts[t] += 1
    top = max(counts)
    ref = torch.tensor([c / top * 0.9 + 0.1 for c in counts])
    assert torch.allclose(model.entity_weight, ref)
    # Held-out triples never matter:
    data = copy.copy(mm_data)
    store = data['entity', 'to', 'entity']
    edge_index = store.edge_index.clone()
    held = store.val_mask | store.test_mask
    edge_index[0, held] = 0
    store.edge_index = edge_index
    other = OTKGE.from_data(data, hidden_channels=2, frequency_weight=True)
    assert torch.equal(other.entity_weight, model.entity_weight)


def test_structure_weight_and_plan_cache(mm_data):
    model = OTKGE.from_data(mm_data, hidden_channels=2,
                            modalities=('structure', 'text'), gamma=0.7)
    assert math.isclose(model.weight('structure'), 0.3)
    full = OTKGE.from_data(mm_data, hidden_channels=2)
    assert math.isclose(full.weight('structure'), 0.1)
    cached = OTKGE.from_data(mm_data, hidden_channels=2, sample='random',
                             plan_every=3, ot_entities=4)
    plans = []
    for _ in range(4):
        cached.encode()
        plans.append(cached.plan_text.clone())
        with torch.no_grad():
            cached.node_emb.weight.add_(0.5)
    assert torch.equal(plans[0], plans[1]) and torch.equal(plans[1],
                                                           plans[2])
    assert not torch.equal(plans[2], plans[3])
    cached.eval()  # evaluation reuses the cached plan
    cached.encode()
    assert torch.equal(cached.plan_text, plans[3])


def test_recipes():
    wn, fb = get_recipe(OTKGE, 'WN9-IMG'), get_recipe(OTKGE, 'FBIMG')
    assert get_recipe(OTKGE) is wn
    assert (wn.config['batch_size'], wn.config['epochs']) == (2000, 200)
    assert (fb.config['batch_size'], fb.config['epochs']) == (5000, 150)
    assert wn.config['model_kwargs']['gamma'] == 0.8
    assert fb.config['model_kwargs']['gamma'] == 0.7
    assert fb.config['model_kwargs']['ot_scale'] == 300.0
    assert fb.config['model_kwargs']['n3_weight'] == 1e-3
    assert wn.config['dim'] == 500 and wn.config['lr'] == 0.1
