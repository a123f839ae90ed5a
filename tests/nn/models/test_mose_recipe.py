r"""MoSE's published recipe and the loss it trains with."""
import torch
import torch.nn.functional as F

from pyg_mmkg.data import triples
from pyg_mmkg.nn.models import MoSE
from pyg_mmkg.train import TrainConfig
from pyg_mmkg.train.batches import TrainBatch
from pyg_mmkg.train.objectives import batch_loss
from pyg_mmkg.train.recipes import get_recipe

# OreOZhao/MoSE4MKGC@192d9ff src/learn.py, argparse defaults and the
# scheduler line:
OFFICIAL = dict(optimizer='Adagrad', max_epochs=200, valid=3, rank=2000,
                batch_size=1000, reg=0.01, init=1e-3, learning_rate=1e-1,
                early_stopping=10, scale=20, alpha=1, regularizer='N3')
OFFICIAL_PLATEAU = dict(factor=0.5, patience=10, threshold=1e-3)


def test_recipe_values_match_the_official_script():
    recipe = get_recipe(MoSE)
    assert recipe is MoSE.recipes[None] and 'MoSE4MKGC@192d9ff' in \
        recipe.source
    c = recipe.config
    assert (c['regime'], c['loss'], c['label_smoothing']) == ('1vsall', 'ce',
                                                             0.0)
    assert c['optimizer'] == OFFICIAL['optimizer'].lower()
    assert c['lr'] == OFFICIAL['learning_rate']
    assert c['batch_size'] == OFFICIAL['batch_size']
    # get_train() holds train + reciprocal copies: same epoch unit.
    assert c['epochs'] == OFFICIAL['max_epochs']
    assert c['eval_every'] == OFFICIAL['valid']
    # Stop when (epoch - best_epoch) > 10, validating every 3 epochs:
    # the 3rd validation without improvement ends the run.
    assert c['patience'] == OFFICIAL['early_stopping'] // OFFICIAL['valid']
    assert c['dim'] == OFFICIAL['rank']
    kw = c['model_kwargs']
    assert kw['n3_weight'] == OFFICIAL['reg']
    assert kw['init_scale'] == OFFICIAL['init']
    assert (kw['scale'], kw['alpha']) == (OFFICIAL['scale'],
                                          OFFICIAL['alpha'])
    # The N3 lives in MoSE.training_loss; the trainer adds none:
    assert c['regularizer'] == 'none'
    assert c['scheduler'] == 'plateau'
    assert c['scheduler_kwargs'] == OFFICIAL_PLATEAU
    assert recipe.regimes == ('1vsall', )
    TrainConfig(**c)  # A valid configuration.


def official_branch_loss(ent, rel, h, r, t, reg):
    r"""One branch of KBCOptimizer.epoch: CrossEntropyLoss(mean) of the
    ComplEx 1-N scores plus N3(reg) on the moduli of lhs, rel, rhs."""
    k = ent.size(1) // 2
    lhs = ent[h, :k], ent[h, k:]
    rl = rel[r, :k], rel[r, k:]
    rhs = ent[t, :k], ent[t, k:]
    right = ent[:, :k], ent[:, k:]
    scores = ((lhs[0] * rl[0] - lhs[1] * rl[1]) @ right[0].t() +
              (lhs[0] * rl[1] + lhs[1] * rl[0]) @ right[1].t())
    factors = [torch.sqrt(f[0]**2 + f[1]**2) for f in (lhs, rl, rhs)]
    n3 = sum(reg * torch.sum(torch.abs(f)**3) for f in factors)
    return F.cross_entropy(scores, t) + n3 / factors[0].shape[0]


def test_recipe_loss_equals_official_objective(mm_data):
    recipe = get_recipe(MoSE)
    config = TrainConfig(**{**recipe.config, 'dim': 6})
    torch.manual_seed(0)
    model = MoSE.from_data(mm_data, hidden_channels=config.dim,
                           **{**config.model_kwargs, 'init_scale': 0.3})
    assert model.branches == ('structure', 'text', 'image')
    h, r, t = triples(mm_data, 'train')
    R = model.num_relations
    # A 1vsAll batch: triples and their reciprocal copies (get_train).
    h, r, t = torch.cat([h, t]), torch.cat([r, r + R]), torch.cat([t, h])
    batch = TrainBatch('1vsall', h, r, t)
    loss = batch_loss(model, batch, model.encode(), config)

    # The official branches: structure tables, and per feature modality
    # (features @ W) / scale with its own relation table (alpha = 1).
    reg = recipe.config['model_kwargs']['n3_weight']
    ent_s = torch.cat([model.node_emb.weight, model.node_emb_im.weight], -1)
    rel_s = torch.cat([model.rel_emb.weight, model.rel_emb_im.weight], -1)
    expected = official_branch_loss(ent_s, rel_s, h, r, t, reg)
    for m in ('text', 'image'):
        x, mask = model.feature(m)
        ent = (x @ model.proj[m].weight.t()) * mask.unsqueeze(-1) / 20.0
        expected = expected + official_branch_loss(
            ent, model.rel_mod[m].weight, h, r, t, reg)
    assert torch.allclose(loss, expected, rtol=1e-5, atol=1e-6)
    # The N3 term is large enough for the comparison to see it:
    no_reg = official_branch_loss(ent_s, rel_s, h, r, t, 0.0)
    with_reg = official_branch_loss(ent_s, rel_s, h, r, t, reg)
    assert with_reg - no_reg > 1e-3
