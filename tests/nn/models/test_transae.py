r"""TransAE against an independent transcription of the reference
re-implementation (ksolaiman/TransAE@ff28b04 TransE-PyTorch-master/model.py:
AutoEncoder.forward, TransE.forward/_distance/loss; main.py negatives)."""
import pytest
import torch

from pyg_mmkg.data import filter_index, make_kg_data, triples
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.nn.models import TransAE
from pyg_mmkg.train.batches import TrainBatch
from pyg_mmkg.train.recipes import get_recipe

N, R, T, V, d = 6, 2, 5, 9, 3


def tiny_data():
    gen = torch.Generator().manual_seed(0)
    data = make_kg_data([f'e{i}' for i in range(N)], ['a', 'b'], {
        'train': (torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1, 0, 1]),
                  torch.tensor([1, 2, 3, 4]))
    })
    store = data['entity']
    store.x_text = torch.randn(N, T, generator=gen)
    store.has_text = torch.ones(N, dtype=torch.bool)
    store.x_image = torch.rand(N, V, generator=gen)
    store.has_image = torch.ones(N, dtype=torch.bool)
    return data


def lin(seq, x):  # nn.Sequential(Linear, Sigmoid)
    return torch.sigmoid(x @ seq[0].weight.t() + seq[0].bias)


def reference_autoencoder(model, x_t, x_i):
    # AutoEncoder.forward: v1 -> v2 -> v3 (code) -> v4 -> v5, MSE(mean).
    v2_t = lin(model.encoders['text'], x_t)
    v2_i = lin(model.encoders['image'], x_i)
    v3 = lin(model.joint, torch.cat([v2_t, v2_i], 1))
    v5_t = lin(model.decoders['text'][1], lin(model.decoders['text'][0], v3))
    v5_i = lin(model.decoders['image'][1],
               lin(model.decoders['image'][0], v3))
    recon = ((x_t - v5_t)**2).mean() + ((x_i - v5_i)**2).mean()
    return v3, recon


@pytest.mark.parametrize('p_norm', [1, 2])
def test_loss_and_scores_equal_the_reference(p_norm):
    data = tiny_data()
    torch.manual_seed(0)
    model = TransAE.from_data(data, hidden_channels=d, text_hidden=4,
                              image_hidden=7, beta=0.4, margin=1.0,
                              p_norm=p_norm)
    store = data['entity']
    h, r, t = torch.tensor([0, 1, 2]), torch.tensor([0, 1, 0]), \
        torch.tensor([1, 2, 3])
    nh, nt = torch.tensor([5, 1, 2]), torch.tensor([1, 0, 4])

    def distance(hh, rr, tt):  # TransE._distance
        v3_h, rec_h = reference_autoencoder(model, store.x_text[hh],
                                            store.x_image[hh])
        v3_t, rec_t = reference_autoencoder(model, store.x_text[tt],
                                            store.x_image[tt])
        dist = (v3_h + model.rel_emb.weight[rr] - v3_t).norm(p=p_norm, dim=1)
        return dist, rec_h + rec_t

    pd, rec_p = distance(h, r, t)
    nd, rec_n = distance(nh, r, nt)
    # MarginRankingLoss(margin=1, reduction='mean') with target -1:
    hinge = torch.clamp(pd - nd + 1.0, min=0).mean()
    expected = 0.4 * hinge + rec_p + rec_n
    batch = TrainBatch('slcwa', h, r, t, neg_head=nh.view(-1, 1),
                       neg_tail=nt.view(-1, 1))
    loss = model.training_loss(batch)
    assert torch.allclose(loss, expected, atol=1e-6)
    # Scores are the negated distances (TransE.predict), also 1-N:
    assert torch.allclose(model(h, r, t), -pd, atol=1e-5)
    assert torch.allclose(model.score_tails(h, r)[torch.arange(3), t], -pd,
                          atol=1e-5)


def test_joint_rows_normalised_and_relation_init():
    data = tiny_data()
    torch.manual_seed(0)
    model = TransAE.from_data(data, hidden_channels=d, image_hidden=7)
    # TransE._init_relation_emb: U(-6/sqrt(d), 6/sqrt(d)), rows L1 = 1.
    rel = model.rel_emb.weight
    assert torch.allclose(rel.abs().sum(1), torch.ones(R))
    with torch.no_grad():
        model.joint[0].weight.mul_(3.0)
    model.after_step()  # TransE.forward normalises W_j rows (L2)
    assert torch.allclose(model.joint[0].weight.norm(dim=1), torch.ones(d))
    assert model.node_emb is None and not any(
        p.numel() == N * d for p in model.parameters())


def test_missing_modality_not_reconstructed():
    data = tiny_data()
    data['entity'].has_image[2] = False
    torch.manual_seed(0)
    model = TransAE.from_data(data, hidden_channels=d, image_hidden=7)
    index = torch.tensor([1, 2])
    code, recon = model.autoencode(index)
    store = data['entity']
    x_i = store.x_image[index].clone()
    x_i[1] = 0.0  # zeros in, and left out of the image MSE
    v3, _ = reference_autoencoder(model, store.x_text[index], x_i)
    assert torch.allclose(code, v3, atol=1e-6)
    out_t = lin(model.decoders['text'][1], lin(model.decoders['text'][0], v3))
    out_i = lin(model.decoders['image'][1],
                lin(model.decoders['image'][0], v3[:1]))
    expected = ((out_t - store.x_text[index])**2).mean() + \
        ((out_i - x_i[:1])**2).mean()
    assert torch.allclose(recon, expected, atol=1e-6)


def test_inductive_entities_are_embedded_from_features(cluster_data):
    r"""Entities in no training triple are scored from their features."""
    h, r, t = triples(cluster_data, 'train')
    torch.manual_seed(0)
    model = TransAE.from_data(cluster_data, hidden_channels=16,
                              modalities=('text', ), text_hidden=32)
    opt = torch.optim.RMSprop(model.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):
        neg = torch.randint(0, model.num_nodes, h.shape, generator=gen)
        head = torch.rand(h.shape, generator=gen) < 0.5
        batch = TrainBatch('slcwa', h, r, t,
                           neg_head=torch.where(head, neg, h).view(-1, 1),
                           neg_tail=torch.where(head, t, neg).view(-1, 1))
        opt.zero_grad()
        model.training_loss(batch).backward()
        opt.step()
        model.after_step()
    th, tr, tt = triples(cluster_data, 'test')
    fi = filter_index(cluster_data)
    model.eval()
    mrr = evaluate(model, th, tr, tt, filter_index=fi)['both']['mrr']
    with model.ablate('text', 'shuffle'):
        shuffled = evaluate(model, th, tr, tt, filter_index=fi)['both']['mrr']
    chance = (1.0 / torch.arange(1, 61).double()).mean().item()
    assert mrr > 1.5 * chance and shuffled < mrr / 2


def test_published_recipe():
    # ksolaiman/TransAE@ff28b04 main.py flags: lr 0.01 with optim.RMSprop,
    # batch_size 128, vector_length 50, margin 1.0, norm 1, epochs 2000,
    # beta 0.4, validation_freq 10 (Hits@10).
    c = get_recipe(TransAE, 'WN9-IMG').config
    assert (c['optimizer'], c['lr'], c['batch_size'], c['epochs']) == (
        'rmsprop', 0.01, 128, 2000)
    assert (c['regime'], c['num_negatives'], c['filtered_negatives']) == (
        'slcwa', 1, False)
    assert c['dim'] == 50 and c['model_kwargs'] == {'margin': 1.0,
                                                    'beta': 0.4, 'p_norm': 1}
    assert (c['eval_every'], c['metric']) == (10, 'hits@10')


def test_trainer_trains_with_the_recipe(tmp_path):
    from pyg_mmkg.train import Trainer
    data = tiny_data()
    data['entity', 'to', 'entity'].val_mask = \
        data['entity', 'to', 'entity'].train_mask.clone()
    torch.manual_seed(0)
    model = TransAE.from_data(data, hidden_channels=d, image_hidden=7)
    trainer = Trainer(model, data, epochs=2, eval_every=1, progress=False,
                      plot=False, device='cpu')
    assert isinstance(trainer.optimizer, torch.optim.RMSprop)
    assert trainer.config.batch_size == 128 and trainer.config.lr == 0.01
    before = model.joint[0].weight.clone()
    trainer.fit()
    w = model.joint[0].weight
    assert not torch.equal(w, before)
    assert torch.allclose(w.norm(dim=1), torch.ones(d), atol=1e-5)
