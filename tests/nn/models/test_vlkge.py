import pytest
import torch
import torch_geometric.nn.kge as pyg_kge

from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.nn.models import VLKGE


@pytest.mark.parametrize('scorer', ['transe', 'distmult', 'complex',
                                    'rotate'])
def test_structure_only_equals_pyg(scorer, mm_data):
    torch.manual_seed(0)
    model = VLKGE.from_data(mm_data, hidden_channels=6, scorer=scorer,
                            modalities=('structure', ), inductive=False)
    assert model.feature_modalities == ()
    cls = {'transe': pyg_kge.TransE, 'distmult': pyg_kge.DistMult,
           'complex': pyg_kge.ComplEx, 'rotate': pyg_kge.RotatE}[scorer]
    pyg = cls(model.num_nodes, model.num_relations, 6)
    state = {k: v for k, v in model.state_dict().items()
             if k.startswith(('node_emb', 'rel_emb'))}
    pyg.load_state_dict(state)
    h, r, t = triples(mm_data, 'all')
    assert torch.allclose(model(h, r, t), pyg(h, r, t), atol=1e-5)


def test_average_fusion(mm_data):
    torch.manual_seed(0)
    model = VLKGE.from_data(mm_data, hidden_channels=4, inductive=False)
    ent, _ = model.encode()
    store = mm_data['entity']
    img_w = store.image_mask.float().unsqueeze(-1)
    img = (store.x_image * img_w).sum(1) / img_w.sum(1).clamp(min=1)
    parts = [model.node_emb.weight,
             model.proj['text'](store.x_text) * store.has_text.view(-1, 1),
             model.proj['image'](img) * store.has_image.view(-1, 1)]
    count = 1 + store.has_text.float() + store.has_image.float()
    expected = sum(parts) / count.view(-1, 1)
    assert torch.allclose(ent, expected, atol=1e-6)
    # Entities without text and image are their structural embedding:
    none = ~store.has_text & ~store.has_image
    assert none.any()
    assert torch.allclose(ent[none], model.node_emb.weight[none])


def test_identity_projection_and_errors(mm_data):
    model = VLKGE.from_data(mm_data, hidden_channels=8,
                            modalities=('structure', 'text'))
    assert isinstance(model.proj['text'], torch.nn.Identity)
    model = VLKGE.from_data(mm_data, hidden_channels=8, project=True,
                            modalities=('structure', 'text'))
    assert isinstance(model.proj['text'], torch.nn.Linear)
    with pytest.raises(ValueError, match="set 'project=True'"):
        VLKGE.from_data(mm_data, hidden_channels=4, project=False)
    with pytest.raises(ValueError, match='Unknown scorer'):
        VLKGE.from_data(mm_data, hidden_channels=4, scorer='conve')
    with pytest.raises(ValueError, match='Unknown fusion'):
        VLKGE.from_data(mm_data, hidden_channels=4, fusion='concat')
    with pytest.raises(ValueError, match='Unknown modality'):
        VLKGE.from_data(mm_data, hidden_channels=4, modalities=('audio', ))


def test_unseen_entities_use_features_only(cluster_data):
    model = VLKGE.from_data(cluster_data, hidden_channels=8)
    h, r, t = triples(cluster_data, 'train')
    seen = torch.zeros(model.num_nodes, dtype=torch.bool)
    seen[h], seen[t] = True, True
    assert torch.equal(model.seen_mask, seen) and not seen.all()
    ent, _ = model.encode()
    x = model.proj['text'](model.x_text)
    assert torch.allclose(ent[~seen], x[~seen])
    # Their (untrained) structural embeddings play no role:
    with torch.no_grad():
        model.node_emb.weight[~seen] = 100.0
    assert torch.allclose(model.encode()[0][~seen], x[~seen])


@pytest.mark.parametrize('scorer,factor', [('distmult', 1.5),
                                           ('complex', 2.0)])
def test_inductive_link_prediction(scorer, factor, cluster_data):
    r"""Entities held out of training are ranked from their features alone,
    far better than chance and than a structure-only model."""
    from mm_testing import train_one_to_n
    h, r, t = triples(cluster_data, 'test')
    fi = filter_index(cluster_data)
    mrr = {}
    for name, modalities in [('vl', ('structure', 'text')),
                             ('structure', ('structure', ))]:
        torch.manual_seed(0)
        model = VLKGE.from_data(cluster_data, hidden_channels=16,
                                scorer=scorer, modalities=modalities,
                                reciprocal=True)
        train_one_to_n(model, cluster_data)
        mrr[name] = evaluate(model, h, r, t, filter_index=fi)['both']['mrr']
        if name == 'vl':
            with model.ablate('text', 'shuffle'):
                mrr['shuffled'] = evaluate(model, h, r, t,
                                           filter_index=fi)['both']['mrr']
    chance = (1.0 / torch.arange(1, 61).double()).mean().item()
    # The answers are random members of the right cluster of 10, so even a
    # perfect model reaches only about 0.25 (symmetric DistMult less).
    assert mrr['vl'] > factor * chance
    assert mrr['vl'] > 3 * mrr['structure']
    assert mrr['shuffled'] < mrr['vl'] / 2


def test_published_loss_and_trainer(mm_data):
    from pyg_mmkg.train import Trainer
    torch.manual_seed(0)
    model = VLKGE.from_data(mm_data, hidden_channels=4)
    h, r, t = triples(mm_data, 'train')
    torch.manual_seed(1)
    loss = model.loss(h, r, t)
    torch.manual_seed(1)
    pos, neg = model._sampled_scores(h, r, t)
    expected = torch.cat([torch.nn.functional.softplus(-pos),
                          torch.nn.functional.softplus(neg)]).mean()
    assert torch.allclose(loss, expected)
    trainer = Trainer(model, mm_data, regime='slcwa', epochs=3,
                      eval_every=1, num_negatives=4, progress=False,
                      device='cpu', plot=False, optimizer='adagrad', lr=0.1)
    results = trainer.fit()
    losses = [m['loss'] for m in trainer.history]
    assert losses[-1] < losses[0]
    assert 0 < results['test']['mrr'] <= 1
