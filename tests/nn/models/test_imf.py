r"""IMF against an independent transcription of the official equations
(HestiaSky/IMF-Pytorch@df883e4: ``layers/layer.py`` MutanLayer and
TuckERLayer, ``models/model.py`` IMF.forward / loss_func,
``utils/data_loader.py`` targets) on tiny random tensors."""
import pytest
import torch
import torch.nn.functional as F

from pyg_mmkg.nn.models import IMF
from pyg_mmkg.nn.models._imf_layers import (LowRankFusion,
                                            contrastive_alignment_loss,
                                            pool_features)

N, R, D, F_DIM = 12, 3, 8, 16


def make_model(**kwargs):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    x_text = torch.randn(N, F_DIM, generator=gen)
    x_image = torch.randn(N, F_DIM, generator=gen)
    has_text = torch.ones(N, dtype=torch.bool)
    has_image = torch.ones(N, dtype=torch.bool)
    has_image[[2, 5]] = False
    kwargs.setdefault('fusion_dropout', 0.0)
    kwargs.setdefault('input_dropout', 0.0)
    kwargs.setdefault('hidden_dropout1', 0.0)
    kwargs.setdefault('hidden_dropout2', 0.0)
    model = IMF(N, R, D, features={'text': (x_text, has_text),
                                   'image': (x_image * has_image.view(-1, 1),
                                             has_image)}, **kwargs)
    with torch.no_grad():  # Fine-tuned offsets away from zero.
        for p in model.offset.values():
            p.normal_(std=0.05, generator=gen)
        for t in model.tucker.values():
            # Logits far from 0, and a mean logit that is not 0 (otherwise
            # a constant shift of the targets leaves the mean BCE as is):
            t.bn1.weight.normal_(std=3.0, generator=gen)
            t.bn1.bias.normal_(std=1.0, generator=gen)
    return model, x_text, x_image, has_image


# Transcription of the official layers #######################################


def official_mutan(lins, xs):
    # MutanLayer.forward: per rank i, Dropout -> Linear -> ReLU per modality,
    # element-wise product of the three, stacked, summed over ranks, ReLU.
    x_mm = []
    for i in range(len(lins)):
        prod = None
        for lin, x in zip(lins[i], xs):
            y = torch.relu(x @ lin.weight.t() + lin.bias)
            prod = y if prod is None else prod * y
        x_mm.append(prod)
    return torch.relu(torch.stack(x_mm, dim=1).sum(1))


def official_tucker(tucker, e, r):
    # TuckERLayer.forward in training mode without dropout: batch statistics.
    x = F.batch_norm(e, None, None, tucker.bn0.weight, tucker.bn0.bias,
                     training=True, eps=tucker.bn0.eps)
    W = tucker.core
    rm = (r @ W.view(r.size(1), -1)).view(-1, x.size(1), x.size(1))
    x = torch.bmm(x.view(-1, 1, x.size(1)), rm).view(-1, x.size(1))
    return F.batch_norm(x, None, None, tucker.bn1.weight, tucker.bn1.bias,
                        training=True, eps=tucker.bn1.eps)


def official_tables(model, x_text, x_image, has_image):
    # Stage 1: L2-normalised features (missing images: the mean image),
    # pooled, as trainable tables (here: plus the learned offset).
    mean_img = x_image[has_image].mean(0)
    img = torch.where(has_image.view(-1, 1), x_image, mean_img)
    pool = lambda x: F.adaptive_avg_pool1d(  # noqa: E731
        F.normalize(x, dim=-1).unsqueeze(1), D).squeeze(1)
    return {'structure': model.node_emb.weight,
            'text': pool(x_text) + model.offset['text'],
            'image': pool(img) + model.offset['image']}


def official_predictions(model, x_text, x_image, has_image, head, rel):
    ent = official_tables(model, x_text, x_image, has_image)
    rel_tab = {'structure': model.rel_emb.weight,
               'text': model.rel_feat['text'].weight,
               'image': model.rel_feat['image'].weight}
    mods = ['structure', 'text', 'image']
    ent_mm = official_mutan(model.fuse_ent.lins, [ent[m] for m in mods])
    rel_mm = official_mutan(model.fuse_rel.lins,
                            [rel_tab[m][rel] for m in mods])
    preds = []
    for m in mods:
        q = official_tucker(model.tucker[m], ent[m][head], rel_tab[m][rel])
        preds.append(torch.sigmoid(q @ ent[m].t()))
    q = official_tucker(model.tucker['mm'], ent_mm[head], rel_mm)
    preds.append(torch.sigmoid(q @ ent_mm.t()))
    return preds  # [pred_s, pred_i, pred_d, pred_mm] up to order


# Tests ######################################################################


def test_fusion_matches_official_mutan():
    torch.manual_seed(0)
    fuse = LowRankFusion(D, 3, rank=2, dropout=0.2).eval()
    xs = [torch.randn(5, D) for _ in range(3)]
    assert torch.allclose(fuse(xs), official_mutan(fuse.lins, xs),
                          atol=1e-6)
    # The published dropout is active in training mode:
    fuse.train()
    assert not torch.equal(fuse(xs), fuse(xs))


def test_four_decoders_and_decision_fusion_match_official():
    model, x_text, x_image, has_image = make_model()
    assert model.branches == ['structure', 'text', 'image', 'mm']
    head = torch.tensor([0, 3, 5, 7, 11])
    rel = torch.tensor([0, 1, 2, 4, 5])  # With reciprocal relations.
    preds = official_predictions(model, x_text, x_image, has_image, head,
                                 rel)
    logits = model.branch_score_tails(head, rel)
    assert logits.shape == (5, 4, N)
    for b, pred in enumerate(preds):
        assert torch.allclose(torch.sigmoid(logits[:, b]), pred, atol=1e-5)
    # Stage 4: the mean of the four probabilities.
    expected = (preds[0] + preds[1] + preds[2] + preds[3]) / 4.0
    assert torch.allclose(model.score_tails(head, rel), expected, atol=1e-5)
    model.set_ensemble('mm')
    assert torch.allclose(model.score_tails(head, rel), preds[3], atol=1e-5)


def test_loss_matches_official_bce_sum():
    model, x_text, x_image, has_image = make_model()
    head = torch.tensor([0, 3, 5, 7])
    rel = torch.tensor([0, 1, 3, 5])
    y = torch.zeros(4, N)
    y[0, [1, 2]] = y[1, 4] = y[2, 0] = y[3, [6, 7, 8]] = 1.0
    preds = official_predictions(model, x_text, x_image, has_image, head,
                                 rel)
    target = 0.9 * y + 1.0 / N  # utils/data_loader.py get_batch
    bce = torch.nn.BCELoss()
    expected = sum(bce(p, target) for p in preds)
    assert torch.allclose(model.objective(head, rel, y), expected, atol=1e-5)


def official_per_row_contrastive(s, v, t):
    # The paper's alignment with per-row normalisation and the diagonal
    # left out of the in-batch negatives.
    s, v, t = (x / x.norm(dim=1, keepdim=True) for x in (s, v, t))
    B = s.size(0)
    pos = torch.stack([(s * v).sum(1), (s * t).sum(1), (v * t).sum(1)],
                      dim=1).mean(1)
    negs = []
    for x in (s, v, t):
        sim = x @ x.t()
        negs.append((sim.sum(1) - sim.diag()) / (B - 1))
    neg = torch.stack(negs, dim=1).mean(1)
    return F.softplus(neg - pos).mean()


def released_contrastive(s, v, t):
    # models/model.py contrastive_loss (Frobenius norm of the whole batch,
    # zeroed diagonal included in the mean), indentation fixed.
    s, v, t = s / torch.norm(s), v / torch.norm(v), t / torch.norm(t)
    pos = torch.cat([(s * v).sum(1, keepdim=True), (s * t).sum(
        1, keepdim=True), (v * t).sum(1, keepdim=True)], dim=1).mean(1)
    negs = [x @ x.t() for x in (s, v, t)]
    negs = [n - torch.diag_embed(torch.diag(n)) for n in negs]
    neg = torch.cat(negs, dim=1).mean(1)
    return F.softplus(neg - pos).mean()


def test_contrastive_loss_is_the_per_row_version():
    gen = torch.Generator().manual_seed(0)
    s, v, t = (torch.randn(6, D, generator=gen) * 3 for _ in range(3))
    ours = contrastive_alignment_loss([s, v, t])
    assert torch.allclose(ours, official_per_row_contrastive(s, v, t),
                          atol=1e-6)
    assert not torch.allclose(ours, released_contrastive(s, v, t), atol=1e-3)
    # Invariant to the scale of each entity's vector (per-row):
    scale = torch.rand(6, 1, generator=gen) + 0.5
    assert torch.allclose(contrastive_alignment_loss([s * scale, v, t]),
                          ours, atol=1e-6)


def test_contrastive_weight_adds_the_term():
    model, *_ = make_model(contrastive_weight=0.5)
    head, rel = torch.tensor([0, 3, 3, 7]), torch.tensor([0, 1, 2, 5])
    y = F.one_hot(torch.tensor([1, 2, 4, 6]), N).float()
    with_term = model.objective(head, rel, y)
    ent = model.encode()[0].chunk(4, dim=-1)
    heads = torch.tensor([0, 3, 7])  # Distinct heads.
    term = official_per_row_contrastive(*(e[heads] for e in ent[:3]))
    model.contrastive_weight = 0.0
    assert torch.allclose(with_term, model.objective(head, rel, y)
                          + 0.5 * term, atol=1e-5)


def test_official_pooling():
    gen = torch.Generator().manual_seed(0)
    img = torch.randn(3, 4096, generator=gen)
    txt = torch.randn(3, 768, generator=gen)
    img_n, txt_n = F.normalize(img, dim=-1), F.normalize(txt, dim=-1)
    expected_img = torch.nn.AvgPool2d(4, stride=4)(img_n.view(-1, 64, 64))
    expected_txt = torch.nn.AdaptiveAvgPool2d((4, 64))(txt_n.view(-1, 12, 64))
    assert torch.allclose(pool_features(img, 256),
                          expected_img.reshape(3, -1), atol=1e-7)
    assert torch.allclose(pool_features(txt, 256),
                          expected_txt.reshape(3, -1), atol=1e-7)


def test_features_initialise_tables_and_freeze():
    model, x_text, x_image, has_image = make_model()
    with torch.no_grad():
        for p in model.offset.values():
            p.zero_()
    tables = model.inputs()
    expected = official_tables(model, x_text, x_image, has_image)
    for m in ('text', 'image'):
        assert torch.allclose(tables[m], expected[m], atol=1e-6)
    assert model.offset['text'].requires_grad
    frozen, *_ = make_model(freeze_features=True)
    assert len(frozen.offset) == 0
    names = [n for n, p in frozen.named_parameters() if p.requires_grad]
    assert not any('offset' in n for n in names)


def test_published_defaults_and_recipe():
    model = IMF(N, R, modalities=('structure', ))
    assert model.hidden_channels == 256 and model.branches == ['structure']
    t = model.tucker['structure']
    assert (t.input_dropout.p, t.hidden_dropout1.p,
            t.hidden_dropout2.p) == (0.3, 0.4, 0.5)
    recipe = IMF.recipes[None].config
    assert recipe['lr'] == 5e-4 and recipe['batch_size'] == 256
    assert recipe['regime'] == 'kvsall' and recipe['label_smoothing'] == 0.0
    assert recipe['epochs'] == 1000 and recipe['dim'] == 256
    with pytest.raises(ValueError, match='reciprocal'):
        IMF(N, R, D, reciprocal=False)
