r"""VISTA against the official code and scripts (bdi-lab/VISTA@4ad318d:
model.py, test_VTKG-I.sh, test_VTKG-C.sh, test_WN18RR++.sh,
test_FB15K237.sh, train.py), transcribed here."""
import math

import pytest
import torch

from pyg_mmkg.nn.models import VISTA
from pyg_mmkg.train import TrainConfig
from pyg_mmkg.train.recipes import get_recipe

SMALL = dict(hidden_channels=8, heads=2, ffn_channels=16,
             num_entity_layers=1, num_relation_layers=1, num_decoder_layers=1)

# The official scripts' arguments, one row per test_*.sh:
# lr, num_layer_enc_ent / _rel / _dec, num_head, hidden_dim, dropout,
# emb / vis / txt dropout, batch_size, max_img_num, test_epoch; all four
# have --dim 256 --smoothing 0.0 --decay 0.0 --step_size 50
# --valid_epoch 50, and train.py uses Adam, CosineAnnealingWarmRestarts(
# step_size, T_mult=2), clip_grad_norm_(0.1) and CrossEntropyLoss.
OFFICIAL = {
    'VTKG-I': (1e-4, 4, 1, 2, 4, 768, 0.01, 0.7, 0.4, 0.1, 128, 5, 150),
    'VTKG-C': (1e-4, 2, 1, 2, 4, 2048, 0.01, 0.9, 0.4, 0.1, 512, 3, 150),
    'WN18RR++': (1e-3, 2, 1, 1, 16, 2048, 0.1, 0.9, 0.3, 0.1, 1024, 1, 750),
    'FB15K237': (1e-3, 1, 1, 1, 64, 2048, 0.1, 0.8, 0.3, 0.0, 512, 1, 750),
}


@pytest.mark.parametrize('dataset', list(OFFICIAL))
def test_recipes_are_the_official_scripts_in_library_epochs(dataset):
    (lr, enc_ent, enc_rel, dec, heads, ffn, dropout, emb, vis, txt, batch,
     k, epochs) = OFFICIAL[dataset]
    recipe = get_recipe(VISTA, dataset)
    assert recipe is VISTA.recipes[dataset]
    assert 'test_' + dataset + '.sh' in recipe.source
    assert '4ad318d' in recipe.source
    config = recipe.config
    TrainConfig(**config)  # Valid library values.
    assert config['regime'] == '1vsall' and recipe.regimes == ('1vsall', )
    assert config['loss'] == 'ce' and config['label_smoothing'] == 0.0
    assert config['optimizer'] == 'adam' and config['weight_decay'] == 0.0
    assert config['lr'] == lr and config['batch_size'] == batch
    assert config['grad_clip'] == 0.1 and config['dim'] == 256
    # One library epoch queries both sides of every triple; the official
    # one a random side: epochs and the restart period are halved.
    assert config['epochs'] == epochs // 2
    assert config['scheduler'] == 'cosine'
    assert config['scheduler_kwargs'] == {'T_0': 50 // 2, 'T_mult': 2}
    assert config['eval_every'] == 50 // 2
    assert config['patience'] is None  # No early stopping.
    assert config['model_kwargs'] == dict(
        num_entity_layers=enc_ent, num_relation_layers=enc_rel,
        num_decoder_layers=dec, heads=heads, ffn_channels=ffn,
        dropout=dropout, emb_dropout=emb, vis_dropout=vis, txt_dropout=txt,
        num_images=k)
    assert 'halved' in recipe.notes


def test_default_recipe_is_train_py_defaults():
    # train.py's argparse defaults (VTKG-C's script values):
    config = VISTA.recipes[None].config
    assert config == VISTA.recipes['VTKG-C'].config
    assert 'train.py' in VISTA.recipes[None].source
    assert get_recipe('vista', 'unknown-kg') is VISTA.recipes[None]
    assert get_recipe('vista', 'WN18RR_PP') is VISTA.recipes['WN18RR++']


def test_recipe_builds_the_official_model(mm_data):
    kwargs = dict(VISTA.recipes['VTKG-I'].config['model_kwargs'])
    kwargs['heads'] = 2
    model = VISTA.from_data(mm_data, hidden_channels=8, **kwargs)
    assert len(model.entity_encoder.transformer.layers) == 4
    assert model.drop_s.p == 0.7 and model.x_image.size(1) == 2


def test_official_initialisation(mm_data):
    torch.manual_seed(0)
    model = VISTA.from_data(mm_data, missing='token', **SMALL)
    d, N, R = 8, model.num_nodes, model.num_relations

    def within(t, bound):
        top = float(t.abs().max())
        return 0.5 * bound < top <= bound + 1e-7

    # nn.init.xavier_uniform_ on ent_embeddings (N, 1, d) and
    # rel_embeddings (R, 1, d): fan_in = d, fan_out = N * d (R * d).
    assert within(model.node_emb.weight, math.sqrt(6 / (d + N * d)))
    assert within(model.rel_emb.weight, math.sqrt(6 / (d + R * d)))
    # Tokens (1, 1, d): fan_in = fan_out = d; lp_token (1, d): fan_out 1.
    for token in (model.entity_encoder.cls, model.entity_encoder.pos,
                  model.relation_encoder.cls, model.scorer.pos,
                  model.missing_token):
        assert within(token, math.sqrt(3 / d))
    assert within(model.scorer.mask, math.sqrt(6 / (d + 1)))
    # Projections: Xavier-uniform weights, zero biases.
    for proj in (model.proj_t, model.proj_v):
        fan_out, fan_in = proj.weight.shape
        assert within(proj.weight, math.sqrt(6 / (fan_in + fan_out)))
        assert torch.equal(proj.bias, torch.zeros_like(proj.bias))


def test_relations_have_their_own_structural_layer_norm(mm_data):
    # Official: str_ent_ln for entities, str_rel_ln for relations; the
    # visual and text LayerNorms are shared.
    torch.manual_seed(0)
    model = VISTA.from_data(mm_data, **SMALL).eval()
    assert model.ln_rs is not model.ln_s
    ent, rel = model.encode()
    with torch.no_grad():
        model.ln_rs.weight.mul_(2.0)
        model.ln_rs.bias.add_(0.5)
    ent2, rel2 = model.encode()
    assert torch.equal(ent, ent2) and not torch.allclose(rel, rel2)
    with torch.no_grad():
        model.ln_s.bias.add_(0.5)
    ent3, rel3 = model.encode()
    assert not torch.allclose(ent2, ent3) and torch.equal(rel2, rel3)
