r"""RSME against an independent transcription of the official equations
(wangmengsd/RSME@d46e6d5: models.py ComplEx, MRP.py, utils.py), written
with plain loops and numpy on tiny random tensors."""
import math
from collections import defaultdict

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pyg_mmkg.data import make_kg_data
from pyg_mmkg.nn.models import RSME
from pyg_mmkg.nn.models._rsme_gate import mean_rank_proportion
from pyg_mmkg.train.batches import TrainBatch

N, R, K, D = 9, 3, 4, 6


def _model(alpha_mode='constant', **kwargs):
    torch.manual_seed(0)
    x = torch.randn(N, D)
    mask = torch.ones(N, dtype=torch.bool)
    mask[[2, 7]] = False
    x[~mask] = 0.0
    mrp = torch.tensor([0.2, 0.8, float('nan')])
    model = RSME(N, R, K, features={'image': (x, mask)}, mrp=mrp,
                 alpha_mode=alpha_mode, remember_rate=50.0, beta=0.3,
                 **kwargs)
    for p in model.parameters():  # non-trivial values everywhere
        p.data.normal_()
    return model, x, mrp


def _official_tensors(model):
    # The official layout: r_embeddings[0].weight [N, 2k] = [re; im],
    # r_embeddings[1].weight [2R, 2k], post_mats [D, 2k].
    E = torch.cat([model.node_emb.weight, model.node_emb_im.weight], 1)
    Rel = torch.cat([model.rel_emb.weight, model.rel_emb_im.weight], 1)
    return E.detach(), Rel.detach(), model.proj.weight.detach().t()


def _official_gate(mrp, rate):
    # utils.get_img_vec_array_forget: 1 if rel_rank < rate/100 else 0
    # (relations without a rank: 0), then torch.cat((pd, pd)).
    pd = [1.0 if (not math.isnan(m) and m < rate / 100.0) else 0.0
          for m in mrp.tolist()]
    return torch.tensor(pd + pd)


def _official_alpha(mrp):
    # utils.get_img_vec_sig_alpha: 1 / (1 + exp(rank)), missing: 1/(1+e).
    a = [1 / (1 + math.exp(m)) if not math.isnan(m) else 1 / (1 + math.e)
         for m in mrp.tolist()]
    return torch.tensor(a + a)


def _cplx_rows(lhs, rel, to_score, k):
    # Official forward: (l0 r0 - l1 r1) @ T0^T + (l0 r1 + l1 r0) @ T1^T
    l0, l1, r0, r1 = lhs[:, :k], lhs[:, k:], rel[:, :k], rel[:, k:]
    return ((l0 * r0 - l1 * r1) @ to_score[:, :k].t() +
            (l0 * r1 + l1 * r0) @ to_score[:, k:].t())


def _official_str_scores(model, x, h, r):
    E, Rel, W = _official_tensors(model)
    img = x @ W
    rows = []
    for i in range(h.numel()):  # the official per-query loop
        if model.alpha_mode == 'constant':
            a = 0.7
        else:
            a = float(_official_alpha(model.mrp)[r[i]])
        emb = (1 - a) * E + a * img
        rows.append(_cplx_rows(emb[h[i:i + 1]], Rel[r[i:i + 1]], emb, K))
    return torch.cat(rows)


def _official_inference(model, x, h, r, beta=0.3):
    # get_ranking: beta * scores_str + (1 - beta) * score_img * rel_pd[r]
    s = _official_str_scores(model, x, h, r)
    lhs_img = F.normalize(x[h], p=2, dim=1)
    rhs_img = F.normalize(x, p=2, dim=1).t()
    gate = _official_gate(model.mrp, 50.0)[r].unsqueeze(1)
    return beta * s + (1 - beta) * (lhs_img @ rhs_img) * gate


@pytest.mark.parametrize('alpha_mode', ['constant', 'relation'])
def test_inference_score_matches_official(alpha_mode):
    model, x, _ = _model(alpha_mode)
    h = torch.tensor([0, 1, 2, 5, 8, 3])
    r = torch.tensor([0, 1, 2, 3, 4, 5])  # reciprocal ids included
    t = torch.tensor([4, 7, 6, 0, 1, 8])
    with torch.no_grad():
        expected = _official_inference(model, x, h, r)
        got = model.score_tails(h, r)
        assert torch.allclose(got, expected, atol=1e-5, rtol=1e-5)
        # The official `score` on single triples (cosine_similarity):
        assert torch.allclose(model(h, r, t), expected[torch.arange(6), t],
                              atol=1e-5, rtol=1e-5)
        # Head queries are tail queries of the reciprocal relation:
        heads = model.score_heads(r[:3], t[:3])
        assert torch.allclose(
            heads, _official_inference(model, x, t[:3], r[:3] + R),
            atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('alpha_mode', ['constant', 'relation'])
@pytest.mark.parametrize('train_image_term', [False, True])
def test_training_loss_matches_official(alpha_mode, train_image_term):
    model, x, _ = _model(alpha_mode, n3_weight=0.05,
                         train_image_term=train_image_term)
    h = torch.tensor([0, 1, 2, 5, 8, 3, 3])
    r = torch.tensor([0, 1, 2, 3, 4, 5, 1])
    t = torch.tensor([4, 7, 6, 0, 1, 8, 2])
    loss = model.training_loss(TrainBatch('1vsall', h, r, t), model.encode())
    # KBCOptimizer.epoch: CrossEntropyLoss(predictions, truth) + N3.
    if train_image_term:
        pred = _official_inference(model, x, h, r)
    else:
        pred = _official_str_scores(model, x, h, r)
    E, Rel, W = _official_tensors(model)
    a = (0.7 if alpha_mode == 'constant' else
         _official_alpha(model.mrp)[r].unsqueeze(1))
    emb_h = (1 - a) * E[h] + a * (x @ W)[h]
    emb_t = (1 - a) * E[t] + a * (x @ W)[t]
    factors = [torch.sqrt(f[:, :K]**2 + f[:, K:]**2)
               for f in (emb_h, Rel[r], emb_t)]
    n3 = sum(0.05 * torch.sum(torch.abs(f)**3) for f in factors) / h.numel()
    expected = F.cross_entropy(pred, t) + n3
    assert torch.allclose(loss, expected, atol=1e-5, rtol=1e-5)


def test_gate_switches_the_image_term():
    model, x, _ = _model()
    h, t = torch.tensor([0, 0, 0]), torch.tensor([3, 3, 3])
    r = torch.tensor([0, 1, 2])  # gate 1 (mrp 0.2), 0 (0.8), 0 (nan)
    assert model.gate.tolist() == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    with torch.no_grad():
        full = model(h, r, t)
        model.use_forget_gate = False
        open_gate = model(h, r, t)
    cos = F.cosine_similarity(x[0], x[3], dim=0)
    assert torch.allclose(open_gate - full,
                          torch.tensor([0.0, 0.7, 0.7]) * cos, atol=1e-6)


# The gate statistic ########################################################

def _official_mrp(x, has, triples):
    # MRP.get_filtered_triples on one file (train), then calculate_MRP /
    # get_rank with dicts, lists and numpy (ties in sorted-tail order).
    heads = defaultdict(lambda: defaultdict(list))
    for h, r, t in triples:
        heads[h][t].append((h, r, t))
    ones = [lst[0] for v in heads.values() for lst in v.values()
            if len(lst) == 1]
    img = {e: x[e].numpy().astype(np.float64) for e in range(len(has))
           if has[e]}
    rel_triples, tail_ent = defaultdict(list), set()
    for tri in ones:
        rel_triples[tri[1]].append(tri)
        tail_ent.add(tri[2])
    out = {}
    for rel, tris in rel_triples.items():
        tails = sorted(tail_ent)
        filtered = [t for t in tails if t in img]
        tail_norm = np.stack([img[t] / np.sqrt(np.sum(img[t]**2))
                              for t in filtered])
        h_t, hs = defaultdict(list), set()
        for tri in sorted(tris):
            if tri[2] in filtered:
                h_t[tri[0]].append(tri[2])
            hs.add(tri[0])
        cur = []
        for h in sorted(hs):
            if h not in img or h_t[h] == []:
                continue
            hv = img[h] / np.sqrt(np.sum(img[h]**2))
            scores = np.sum(np.tile(hv, (len(filtered), 1)) * tail_norm, 1)
            order = np.argsort(-scores, kind='stable').tolist()
            ranks = [1 + order.index(filtered.index(t)) for t in h_t[h]]
            cur.append(sum(ranks) / len(ranks) / len(order))
        if cur:
            out[rel] = sum(cur) / len(cur)
    return out


def _random_kg(seed, num_triples=60):
    gen = torch.Generator().manual_seed(seed)
    h = torch.randint(0, 12, (num_triples, ), generator=gen)
    r = torch.randint(0, 5, (num_triples, ), generator=gen)
    t = torch.randint(0, 12, (num_triples, ), generator=gen)
    return h, r, t


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_mrp_matches_official(seed):
    h, r, t = _random_kg(seed)
    gen = torch.Generator().manual_seed(10 + seed)
    x = torch.randn(12, 5, generator=gen)
    has = torch.rand(12, generator=gen) > 0.25
    x[~has] = 0.0
    got = mean_rank_proportion(x, has, h, r, t, 6)
    triples = list(zip(h.tolist(), r.tolist(), t.tolist()))
    expected = _official_mrp(x, has.tolist(), triples)
    assert len(expected) > 1
    for rel in range(6):
        if rel in expected:
            assert math.isclose(float(got[rel]), expected[rel],
                                rel_tol=1e-6), rel
        else:
            assert math.isnan(float(got[rel])), rel


def test_mrp_ranks_ties_in_candidate_order():
    # Three identical candidate images: the true tail's rank is its
    # position among them (candidate order = entity id).
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    has = torch.ones(4, dtype=torch.bool)
    h, r, t = (torch.tensor([0, 0, 0]), torch.tensor([0, 1, 1]),
               torch.tensor([1, 2, 3]))
    mrp = mean_rank_proportion(x, has, h, r, t, 2)
    assert torch.allclose(mrp, torch.tensor([1 / 3, (2 + 3) / 2 / 3]))


def _kg(splits, x, has):
    data = make_kg_data([f'e{i}' for i in range(12)],
                        [f'r{i}' for i in range(5)], splits)
    data['entity'].x_image = x.unsqueeze(1)
    data['entity'].image_mask = has.view(-1, 1)
    data['entity'].has_image = has
    return data


def test_gate_never_reads_valid_or_test_triples():
    h, r, t = _random_kg(3, 90)
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(12, 5, generator=gen)
    has = torch.ones(12, dtype=torch.bool)
    train = (h[:60], r[:60], t[:60])
    # Drop triples that repeat across splits (make_kg_data refuses them).
    seen = set(zip(*(v.tolist() for v in train)))
    rest = [i for i in range(60, 90)
            if (h[i].item(), r[i].item(), t[i].item()) not in seen]
    rest = torch.tensor(rest)
    val = (h[rest[:12]], r[rest[:12]], t[rest[:12]])
    test = (h[rest[12:]], r[rest[12:]], t[rest[12:]])
    base = RSME.from_data(_kg({'train': train, 'val': val, 'test': test},
                              x, has), hidden_channels=2,
                          alpha_mode='relation')
    # Other held-out triples, under every relation:
    other_h = torch.arange(10) % 12
    other_t = (torch.arange(10) * 5 + 1) % 12
    other_r = torch.arange(10) % 5
    keep = torch.tensor([(a, b, c) not in seen for a, b, c in
                         zip(other_h.tolist(), other_r.tolist(),
                             other_t.tolist())])
    moved = (other_h[keep], other_r[keep], other_t[keep])
    half = int(keep.sum()) // 2
    changed = RSME.from_data(_kg({'train': train,
                                  'val': tuple(v[:half] for v in moved),
                                  'test': tuple(v[half:] for v in moved)},
                                 x, has), hidden_channels=2,
                             alpha_mode='relation')
    assert torch.equal(base.gate, changed.gate)
    assert torch.equal(base.rel_alpha, changed.rel_alpha)
    assert torch.allclose(base.mrp, changed.mrp, equal_nan=True)
    # ... while the official statistic, over train + valid + test, moves:
    full = [torch.cat(v) for v in zip(train, val, test)]
    leaky = mean_rank_proportion(x, has, *full, 5)
    assert not torch.allclose(leaky, base.mrp, equal_nan=True)


def test_from_data_keeps_the_phash_central_image(tmp_path):
    # The bundled VTKG-I lists its image files: from_data applies the
    # official filter gate, transcribed here as FilterGate.filter (the
    # first image with the largest summed similarity 1 - hamming / L).
    from pyg_mmkg.datasets import VTKG_I
    from pyg_mmkg.features import perceptual_hash
    data = VTKG_I(str(tmp_path))[0]
    store = data['entity']
    expected = []
    for files in store.image_files:
        hashes = [perceptual_hash(f, 16) for f in files]
        sums = [sum(1 - float((a != b).sum()) / a.numel()
                    for k, b in enumerate(hashes) if k != j)
                for j, a in enumerate(hashes)]
        expected.append(max(range(len(sums)), key=lambda j: (sums[j], -j))
                        if sums else 0)
    expected = torch.tensor(expected)
    assert int((expected != 0).sum()) == 17  # not the first listed image
    rows = torch.arange(store.num_nodes)
    want = store.x_image[rows, expected] * store.has_image.view(-1, 1)
    model = RSME.from_data(data, hidden_channels=4)
    assert torch.equal(model.x_image, want)
    assert torch.equal(model.has_image, store.has_image)
    first = RSME.from_data(data, hidden_channels=4, image_selection='first')
    assert torch.equal(first.x_image, store.x_image[:, 0])
    # The gate statistic follows the picked image.
    assert not torch.allclose(model.mrp, first.mrp, equal_nan=True)
    with pytest.raises(ValueError, match="'image_selection'"):
        RSME.from_data(data, image_selection='vista')
    # Files that no longer match the slots (e.g. after re-encoding) are an
    # error, not a silently empty image:
    stale = data.clone()
    i = next(j for j, f in enumerate(stale['entity'].image_files)
             if len(f) == 3)
    stale['entity'].image_mask = stale['entity'].image_mask.clone()
    stale['entity'].image_mask[i, 2] = False
    with pytest.raises(ValueError, match=f'entity {i} lists 3 for 2'):
        RSME.from_data(stale, hidden_channels=4)
