r"""VL-KGE against an independent transcription of the official models
(thefth/vl-kge @ c78994e: vlkge/models/{vlkge,complex,rotate,transe}.py)
on fixed tensors, and its published recipes."""
import pytest
import torch

from pyg_mmkg.data import triples
from pyg_mmkg.nn.kge import DistMultScorer
from pyg_mmkg.nn.models import VLKGE
from pyg_mmkg.train.recipes import get_recipe


def official_fused(structural, feats, masks):
    # VLKGEBase._fuse_embeddings_sparse, fusion_mode="average": structural
    # always counts, a feature modality only where the entity has it.
    total, count = structural.clone(), torch.ones(structural.size(0))
    for x, mask in zip(feats, masks):
        total = total + x * mask.float().unsqueeze(-1)
        count = count + mask.float()
    return total / count.unsqueeze(-1)


def official_complex(h_re, h_im, r_re, r_im, t_re, t_im):
    # ComplEx.forward with triple_dot(x, y, z) = sum(x * y * z).
    def dot(x, y, z):
        return (x * y * z).sum(-1)
    return (dot(h_re, r_re, t_re) + dot(h_im, r_re, t_im) +
            dot(h_re, r_im, t_im) - dot(h_im, r_im, t_re))


def official_rotate(h_re, h_im, phase, t_re, t_im, margin=12.0):
    # RotatE.forward: margin - vector_norm over (dim, re/im).
    cos, sin = torch.cos(phase), torch.sin(phase)
    re = (cos * h_re - sin * h_im) - t_re
    im = (cos * h_im + sin * h_re) - t_im
    return margin - torch.stack([re, im], dim=2).pow(2).sum((1, 2)).sqrt()


def official_transe(h, r, t, margin=12.0):
    # TransE.forward: p_norm 1, relations and entities L2-normalised.
    def l2n(x):
        return x / x.pow(2).sum(-1, keepdim=True).sqrt().clamp(min=1e-12)
    return margin - (l2n(h) + l2n(r) - l2n(t)).abs().sum(-1)


def text_model(mm_data, scorer, **kwargs):
    torch.manual_seed(0)
    # mm_data's text features have 8 channels = hidden_channels:
    return VLKGE.from_data(mm_data, hidden_channels=8, scorer=scorer,
                           modalities=('structure', 'text'), **kwargs)


@pytest.mark.parametrize('scorer', ['complex', 'rotate'])
def test_complex_valued_official_layout(scorer, mm_data):
    model = text_model(mm_data, scorer)
    # Rank = feature size, so no projection is learned:
    assert isinstance(model.proj['text'], torch.nn.Identity)
    store = mm_data['entity']
    re = official_fused(model.node_emb.weight, [store.x_text],
                        [store.has_text])
    im = model.node_emb_im.weight  # Separate table, not fused.
    ent, _ = model.encode()
    assert ent.shape == (model.num_nodes, 16)
    assert torch.allclose(ent[:, :8], re, atol=1e-6)
    assert torch.equal(ent[:, 8:], im)

    h, r, t = triples(mm_data, 'all')
    if scorer == 'complex':
        expected = official_complex(re[h], im[h], model.rel_emb.weight[r],
                                    model.rel_emb_im.weight[r], re[t], im[t])
    else:
        expected = official_rotate(re[h], im[h], model.rel_emb.weight[r],
                                   re[t], im[t])
    model.eval()
    assert torch.allclose(model(h, r, t), expected, atol=1e-4)
    tails = model.score_tails(h, r)[torch.arange(h.numel()), t]
    heads = model.score_heads(r, t)[torch.arange(h.numel()), h]
    assert torch.allclose(tails, expected, atol=1e-4)
    assert torch.allclose(heads, expected, atol=1e-4)


def test_split_layout_option(mm_data):
    model = VLKGE.from_data(mm_data, hidden_channels=4, scorer='complex',
                            modalities=('structure', 'text'),
                            complex_layout='split')
    assert isinstance(model.proj['text'], torch.nn.Identity)  # 8 = 2 * 4
    store = mm_data['entity']
    structural = torch.cat([model.node_emb.weight,
                            model.node_emb_im.weight], -1)
    expected = official_fused(structural, [store.x_text], [store.has_text])
    assert torch.allclose(model.encode()[0], expected, atol=1e-6)


def test_imaginary_table_without_structure_and_ablation(mm_data):
    model = text_model(mm_data, 'complex', unseen_structure='count')
    with model.ablate('structure', 'zero'):
        ent, _ = model.encode()
    assert torch.equal(ent[:, 8:], torch.zeros_like(ent[:, 8:]))
    model = VLKGE.from_data(mm_data, hidden_channels=8, scorer='complex',
                            modalities=('text', ))
    # Official: the imaginary table is trained even without structure.
    assert model.node_emb_im.weight.requires_grad
    assert not model.node_emb.weight.requires_grad
    ent, _ = model.encode()
    assert torch.equal(ent[:, 8:], model.node_emb_im.weight)
    store = mm_data['entity']
    assert torch.allclose(ent[:, :8], store.x_text * store.has_text
                          .float().unsqueeze(-1))


def test_transe_official_score(mm_data):
    model = text_model(mm_data, 'transe').eval()
    store = mm_data['entity']
    ent = official_fused(model.node_emb.weight, [store.x_text],
                         [store.has_text])
    rel = model.rel_emb.weight
    h, r, t = triples(mm_data, 'all')
    expected = official_transe(ent[h], rel[r], ent[t])
    assert torch.allclose(model(h, r, t), expected, atol=1e-5)
    index = torch.arange(h.numel())
    assert torch.allclose(model.score_tails(h, r)[index, t], expected,
                          atol=1e-4)
    assert torch.allclose(model.score_heads(r, t)[index, h], expected,
                          atol=1e-4)
    # With the margin, a positive's logistic loss can fall below ln 2:
    assert (expected > 0).all()


def test_recipes_match_official_configs():
    # thefth/vl-kge@c78994e vlkge/configs/wn9_img/distmult_clip.yaml (and
    # complex/transe): embedding_dim 768 (= the CLIP feature size: dim None
    # takes the feature size), epochs 200, batch_size 512, lr
    # 0.1, num_neg_samples 100, patience 50, inductive false,
    # use_scheduler false; train.py: evaluate_every 1; helpers.py get_model:
    # torch.optim.Adagrad; compute_logistic_loss: mean softplus(-y * s).
    for key in [None, 'WN9-IMG', 'wn9_img']:
        recipe = get_recipe(VLKGE, key)
        config = recipe.config
        assert (config['epochs'], config['batch_size'], config['lr'],
                config['num_negatives'], config['patience'],
                config['eval_every'], config['dim']) == (200, 512, 0.1, 100,
                                                         50, 1, None)
        assert (config['optimizer'], config['loss'], config['regime'],
                config['scheduler']) == ('adagrad', 'softplus', 'slcwa',
                                         'none')
        assert config['filtered_negatives'] is True
        assert config['model_kwargs'] == {'inductive': False}
        assert recipe.regimes == ('slcwa', ) and 'c78994e' in recipe.source
    assert get_recipe('vlkge', 'WN9-IMG') is get_recipe(VLKGE, 'WN9-IMG')
    # configs/wikiart_mkg_v1/*: epochs 50, num_neg_samples 1, inductive
    # true; configs/wikiart_mkg_v2/*: epochs 20.
    for key, epochs in [('WikiArt-MKG-v1', 50), ('WikiArt-MKG-v2', 20)]:
        config = get_recipe(VLKGE, key).config
        assert (config['epochs'], config['num_negatives'],
                config['model_kwargs']) == (epochs, 1, {'inductive': True})
        assert (config['lr'], config['batch_size']) == (0.1, 512)


def test_recipe_builds_the_official_model(mm_data):
    from pyg_mmkg.train import TrainConfig
    from pyg_mmkg.train.run import build_model
    recipe = get_recipe(VLKGE, 'WN9-IMG')
    config = TrainConfig(model='vlkge', **dict(recipe.config, dim=8))
    model = build_model(config, mm_data)
    assert model.seen_mask.all() and model.hidden_channels == 8
    assert isinstance(model.scorer, DistMultScorer)
    # The recipe's own rank is the feature size: no projection.
    model = build_model(TrainConfig(model='vlkge', **recipe.config), mm_data)
    size = mm_data['entity'].x_text.size(-1)
    assert model.hidden_channels == size
    assert isinstance(model.proj['text'], torch.nn.Identity)


@pytest.mark.parametrize('scorer', ['distmult', 'complex', 'rotate',
                                    'transe'])
def test_sampled_negatives_score_as_their_triples(mm_data, scorer):
    # The broadcast sLCWA path (score_sampled) with the official scorer
    # arguments (margin 12, L2-normalised TransE) equals forward() on the
    # explicit negative triples.
    torch.manual_seed(0)
    model = VLKGE.from_data(mm_data, hidden_channels=8, scorer=scorer)
    model.eval()
    h, r, t = (x[:6] for x in triples(mm_data, 'train'))
    n = mm_data['entity'].num_nodes
    k = 5
    cand = torch.randint(0, n, (6, k))
    side = torch.rand(6, k) < 0.5
    neg_h = torch.where(side, cand, h.view(-1, 1))
    neg_t = torch.where(side, t.view(-1, 1), cand)
    pos, neg = model.score_sampled(h, r, t, neg_h, neg_t)
    assert torch.allclose(pos, model(h, r, t), atol=1e-5)
    expected = model(neg_h.reshape(-1), r.repeat_interleave(k),
                     neg_t.reshape(-1)).view(6, k)
    assert torch.allclose(neg, expected, atol=1e-5)
