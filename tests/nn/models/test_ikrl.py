r"""IKRL against an independent transcription of the official C++ code
(thunlp/IKRL@39d4cc1 src/Train.cpp: calc_image_proj_vec, calc_sum_*,
gradient_*, train_*, rand_sel; src/Test.cpp: calc_sum)."""
import pytest
import torch

from pyg_mmkg.data import make_kg_data
from pyg_mmkg.nn.models import IKRL
from pyg_mmkg.train.batches import TrainBatch
from pyg_mmkg.train.recipes import get_recipe

N, R, K, D, d = 6, 3, 3, 7, 4


def tiny_data():
    gen = torch.Generator().manual_seed(0)
    h = torch.tensor([0, 1, 2, 3, 4, 5, 0])
    r = torch.tensor([0, 1, 2, 0, 1, 2, 1])
    t = torch.tensor([1, 2, 3, 4, 5, 0, 3])
    data = make_kg_data([f'e{i}' for i in range(N)], ['a', 'b', 'c'],
                        {'train': (h, r, t)})
    store = data['entity']
    store.x_image = 2 * torch.randn(N, K, D, generator=gen)  # norms > 1
    mask = torch.ones(N, K, dtype=torch.bool)
    mask[1, 2] = mask[2, 1:] = False  # 2 and 1 images
    store.image_mask = mask
    store.has_image = mask.any(1)
    return data


def official_image_vectors(E, M, data):
    # calc_image_proj_vec, per entity, after norm() of every image vector.
    store = data['entity']
    proj, att_vecs = [], []
    for e in range(N):
        imgs = [f / max(1.0, float(f.norm()))
                for f, ok in zip(store.x_image[e], store.image_mask[e]) if ok]
        att = torch.stack([torch.exp((M @ f) @ E[e]) for f in imgs])
        att = att / att.sum()
        att_vec = sum(a * f for a, f in zip(att, imgs))
        att_vecs.append(att_vec)
        proj.append(M @ att_vec)
    return torch.stack(proj), torch.stack(att_vecs)


def l1(x):
    return x.abs().sum()


def sign(x):  # the C++ sets +1 if > 0 else -1
    return torch.where(x > 0, 1.0, -1.0)


def official_step(E, Rl, M, data, pos, neg, rel_neg, rate, margin):
    r"""One example of rand_sel (B = 1): all four trainings, penalties and
    norm() of the touched rows, as Train.cpp does it."""
    E, Rl, M = E.clone(), Rl.clone(), M.clone()
    I, att = official_image_vectors(E, M, data)
    Et, Rt, Mt = E.clone(), Rl.clone(), torch.zeros_like(M)
    rate_i, rate_m, rate_n = rate, 0.5 * rate, 0.2 * rate
    (h, t, r), (hb, tb) = pos, neg
    # train_ee with the entity-corrupted and the relation-corrupted negative
    for (h2, t2, r2) in [(hb, tb, r), (h, t, rel_neg)]:
        s1 = l1(E[t] - E[h] - Rl[r])
        s2 = l1(E[t2] - E[h2] - Rl[r2])
        if s1 + margin > s2:
            x = sign(E[t] - E[h] - Rl[r])
            Rt[r] += rate * x
            Et[h] += rate * x
            Et[t] -= rate * x
            x = sign(E[t2] - E[h2] - Rl[r2])
            Rt[r2] -= rate * x
            Et[h2] -= rate * x
            Et[t2] += rate * x
    # calc_sum_ii: the norm penalty, once per entity per batch
    for e in dict.fromkeys([h, t, hb, tb]):
        if I[e].norm() > 1:
            Mt -= rate_n * 2 * torch.outer(I[e], att[e])
    # train_ii / train_ei / train_ie
    for hx, tx, step in [('I', 'I', rate_i), ('S', 'I', rate_m),
                         ('I', 'S', rate_m)]:
        A = I if hx == 'I' else E
        B = I if tx == 'I' else E
        pe = B[t] - A[h] - Rl[r]
        ne = B[tb] - A[hb] - Rl[r]
        if l1(pe) + margin > l1(ne):
            p, n = sign(pe), sign(ne)
            Rt[r] += step * p
            Rt[r] -= step * n
            for ent, side, vec, s in [(h, hx, p, 1), (t, tx, p, -1),
                                      (hb, hx, n, -1), (tb, tx, n, 1)]:
                if side == 'I':
                    Mt += s * step * torch.outer(vec, att[ent])
                else:
                    Et[ent] += s * step * vec
    for rows, idx in [(Rt, [r, rel_neg]), (Et, [h, t, hb, tb])]:
        for i in dict.fromkeys(idx):
            rows[i] = rows[i] / max(1.0, float(rows[i].norm()))
    return Et, Rt, M + Mt


@pytest.mark.parametrize('corrupt,rate', [('tail', 0.05), ('head', 0.05),
                                          ('tail', 0.6)])
def test_one_sgd_step_equals_the_official_update(corrupt, rate):
    data = tiny_data()
    torch.manual_seed(0)
    model = IKRL.from_data(data, hidden_channels=d)
    with torch.no_grad():
        model.proj.weight.mul_(4.0)  # some ||e_I|| > 1: the penalty acts
    E0, R0 = model.node_emb.weight.clone(), model.rel_emb.weight.clone()
    M0 = model.proj.weight.clone()
    I0, _ = official_image_vectors(E0, M0, data)
    assert (I0.norm(dim=-1) > 1).any() and (I0.norm(dim=-1) < 1).any()
    h, r, t = 0, 0, 1
    hb, tb = (h, 4) if corrupt == 'tail' else (5, t)
    rel_neg = 2
    model.corrupt_relations = lambda *args, **kw: torch.tensor([rel_neg])
    batch = TrainBatch('slcwa', torch.tensor([h]), torch.tensor([r]),
                       torch.tensor([t]), neg_head=torch.tensor([[hb]]),
                       neg_tail=torch.tensor([[tb]]))
    opt = torch.optim.SGD(model.parameters(), lr=rate)
    loss = model.training_loss(batch, model.encode())
    loss.backward()
    opt.step()
    model.after_step()
    E, Rl, M = official_step(E0, R0, M0, data, (h, t, r), (hb, tb), rel_neg,
                             rate, margin=4.0)
    assert torch.allclose(model.node_emb.weight, E, atol=1e-6)
    assert torch.allclose(model.rel_emb.weight, Rl, atol=1e-6)
    assert torch.allclose(model.proj.weight, M, atol=1e-5)
    if rate > 0.5:  # the max-norm constraint was active
        assert torch.allclose(model.node_emb.weight[h].norm(),
                              torch.tensor(1.0))


def test_trainer_applies_the_max_norm_after_each_step():
    from pyg_mmkg.train import Trainer
    data = tiny_data()
    torch.manual_seed(0)
    model = IKRL.from_data(data, hidden_channels=d)
    calls = []
    step = model.after_step
    model.after_step = lambda: (calls.append(1), step())
    Trainer(model, data, epochs=2, batch_size=4, lr=0.5, progress=False,
            plot=False, device='cpu').fit()
    assert len(calls) == 4  # 2 batches per epoch
    norms = model.node_emb.weight.norm(dim=-1)
    assert (norms <= 1 + 1e-6).all() and (norms > 0.999).any()


def test_scores_of_the_three_variants():
    data = tiny_data()
    torch.manual_seed(1)
    model = IKRL.from_data(data, hidden_channels=d)
    E, Rl = model.node_emb.weight, model.rel_emb.weight
    I, _ = official_image_vectors(E, model.proj.weight, data)
    h, r, t = torch.tensor([0, 2, 5]), torch.tensor([1, 0, 2]), \
        torch.tensor([3, 3, 1])
    parts = {(a, b): -(B[t] - A[h] - Rl[r]).abs().sum(-1)
             for a, A in [('S', E), ('I', I)] for b, B in [('S', E),
                                                           ('I', I)]}
    expected = {'ibr': parts['I', 'I'],  # Test.cpp calc_sum
                'sbr': parts['S', 'S'], 'union': sum(parts.values())}
    for variant, exp in expected.items():
        model.variant = variant
        assert torch.allclose(model(h, r, t), exp, atol=1e-5), variant
        tails = model.score_tails(h, r)
        assert torch.allclose(tails[torch.arange(3), t], exp, atol=1e-5)


def test_entities_without_images_use_their_structure():
    data = tiny_data()
    data['entity'].image_mask[3] = False
    data['entity'].has_image[3] = False
    model = IKRL.from_data(data, hidden_channels=d)
    ent, _ = model.encode()
    assert torch.equal(ent[3, d:], ent[3, :d])
    assert not torch.equal(ent[0, d:], ent[0, :d])


def test_relation_negatives_are_filtered():
    data = tiny_data()
    model = IKRL.from_data(data, hidden_channels=d)
    torch.manual_seed(0)
    h, t = torch.zeros(200, dtype=torch.long), torch.full((200, ), 1)
    r = torch.zeros(200, dtype=torch.long)  # (0, a, 1) is a training triple
    out = model.corrupt_relations(h, r, t)
    assert (out != 0).all() and set(out.tolist()) == {1, 2}


def test_published_recipe():
    # thunlp/IKRL@39d4cc1 README.md: "-size 50 -margin 4 -method 0";
    # src/Train.cpp: L1_flag=1, nepoch=15000, rate_begin=0.001,
    # rate_i=1.0, rate_m=0.5, rate_n=0.2 x rate, nbatches=100, 8 threads.
    recipe = get_recipe(IKRL, 'WN9-IMG')
    c = recipe.config
    assert (c['regime'], c['num_negatives'], c['sampler'],
            c['filtered_negatives']) == ('slcwa', 1, 'uniform', True)
    assert (c['optimizer'], c['lr'], c['epochs'], c['dim']) == ('sgd', 0.001,
                                                                15000, 50)
    assert c['batch_size'] == 8 * (11741 // 100 // 8)
    assert c['model_kwargs'] == {'margin': 4.0, 'p_norm': 1}
    model = IKRL(3, 1, 2)
    assert model.term_weights == (1.0, 1.0, 0.5, 0.5)
    assert model.norm_weight == 0.2 and model.variant == 'ibr'
