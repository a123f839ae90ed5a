r"""Published recipes as training defaults, and configuration validation."""
import json
import warnings

import pytest
import torch

from pyg_mmkg.cli import main
from pyg_mmkg.nn.kge import DistMult
from pyg_mmkg.train import TrainConfig, Trainer, register_model
from pyg_mmkg.train.recipes import (Recipe, apply_recipe, dataset_key,
                                    get_recipe)

RECIPE = Recipe(dict(regime='slcwa', loss='softplus', num_negatives=3,
                     optimizer='adagrad', lr=0.2, batch_size=16, epochs=2,
                     eval_every=1, model_kwargs={'sparse': False}),
                source='paper Table 5')
TOY_RECIPE = Recipe(dict(regime='slcwa', loss='margin', margin=2.0, lr=0.05,
                         epochs=3), source='scripts/toy.sh')


@register_model('recipe_distmult')
class RecipeDistMult(DistMult):
    recipes = {None: RECIPE, 'toy-KG': TOY_RECIPE}


def _kg():
    from train_testing import synthetic_kg
    return synthetic_kg()


def _model(kg, **kwargs):
    from pyg_mmkg.data import num_entities, num_relations
    return RecipeDistMult(num_entities(kg), num_relations(kg), 8, **kwargs)


def test_explicit_fields_win_and_the_rest_follow_the_recipe():
    config = TrainConfig(lr=0.5, model_kwargs={'sparse': True, 'x': 1})
    merged, recipe = apply_recipe(config, RecipeDistMult)
    assert recipe is RECIPE
    assert merged.lr == 0.5  # explicit
    assert (merged.regime, merged.loss, merged.num_negatives,
            merged.optimizer, merged.batch_size) == ('slcwa', 'softplus', 3,
                                                     'adagrad', 16)
    assert merged.model_kwargs == {'sparse': True, 'x': 1}  # merged
    assert TrainConfig().regime == 'kvsall'  # the generic default


def test_recipe_none_keeps_the_generic_defaults():
    merged, recipe = apply_recipe(TrainConfig(recipe='none'), RecipeDistMult)
    assert recipe is None
    assert merged.to_dict() == TrainConfig(recipe='none').to_dict()


def test_per_dataset_recipe_and_name_normalisation():
    assert dataset_key('toy_kg') == dataset_key('TOY-KG') == 'TOYKG'
    assert dataset_key('/data/sets/WN18RR_pp') == 'WN18RR++'
    assert get_recipe(RecipeDistMult, 'toy_kg') is TOY_RECIPE
    assert get_recipe('recipe-distmult', 'other') is RECIPE
    assert get_recipe('distmult') is None  # publishes none
    merged, _ = apply_recipe(TrainConfig(dataset='Toy-KG'), RecipeDistMult)
    assert (merged.loss, merged.margin, merged.lr) == ('margin', 2.0, 0.05)


def test_replace_counts_as_explicit():
    config = TrainConfig().replace(optimizer='sgd')
    merged, _ = apply_recipe(config, RecipeDistMult)
    assert merged.optimizer == 'sgd' and merged.lr == 0.2


def test_recipe_rejects_unknown_fields():
    with pytest.raises(ValueError, match="unknown config field.*'lrate'"):
        Recipe({'lrate': 1.0}, source='x')


def test_trainer_trains_the_recipe_and_warns_off_regime():
    kg = _kg()
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # the published regime: no warning
        trainer = Trainer(_model(kg), kg, progress=False)
    assert trainer.recipe is RECIPE
    assert isinstance(trainer.optimizer, torch.optim.Adagrad)
    assert trainer.optimizer.param_groups[0]['lr'] == 0.2
    assert trainer.batches.loader.batch_size == 16
    trainer = Trainer(_model(kg), kg, progress=False, lr=0.01)
    assert trainer.optimizer.param_groups[0]['lr'] == 0.01
    with pytest.warns(UserWarning, match="publishes regime.*slcwa.*not "
                      "'kvsall'.*multi-label 1-N 'bce' loss"):
        Trainer(_model(kg, reciprocal=True), kg, regime='kvsall',
                progress=False)


def test_fallback_to_the_trainer_loss_is_loud_off_recipe():
    class Declines(RecipeDistMult):
        def training_loss(self, batch, encoded):
            return None

    kg = _kg()
    trainer = Trainer(Declines(kg['entity'].num_nodes, 3, 8), kg,
                      progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # published regime: the trainer's
        trainer.train_epoch()           # loss is the recipe's loss
    with pytest.warns(UserWarning):
        trainer = Trainer(Declines(kg['entity'].num_nodes, 3, 8,
                                   reciprocal=True), kg, regime='1vsall',
                          progress=False)
    with pytest.warns(UserWarning, match="training_loss has no objective "
                      "for '1vsall' batches: the trainer's 'ce' loss"):
        trainer.train_epoch()


def write_tsv_kg(folder, n=20):
    lines = [f'e{i}\tr\te{(i + 1) % n}' for i in range(n)]
    lines += [f'e{i}\ts\te{(i + 2) % n}' for i in range(n)]
    folder.mkdir()
    (folder / 'train.txt').write_text('\n'.join(lines[:32]) + '\n')
    (folder / 'valid.txt').write_text('\n'.join(lines[32:36]) + '\n')
    (folder / 'test.txt').write_text('\n'.join(lines[36:]) + '\n')
    return folder


def test_cli_default_is_the_recipe_printed_and_recorded(tmp_path, capsys):
    kg = write_tsv_kg(tmp_path / 'kg')
    run = tmp_path / 'run'
    assert main(['train', '--dataset', str(kg), '--model',
                 'recipe_distmult', '--dim', '4', '--lr', '0.3',
                 '--run-dir', str(run), '--no-progress']) == 0
    out = capsys.readouterr().out
    assert ('recipe: RecipeDistMult as published [paper Table 5]; '
            "overridden: lr=0.3 (published 0.2)") in out
    assert 'regime=slcwa loss=softplus optimizer=adagrad lr=0.3' in out
    config = json.loads((run / 'config.json').read_text())
    assert {k: config[k] for k in ('regime', 'loss', 'num_negatives',
                                   'optimizer', 'lr', 'batch_size',
                                   'epochs')} == dict(
        regime='slcwa', loss='softplus', num_negatives=3,
        optimizer='adagrad', lr=0.3, batch_size=16, epochs=2)
    record = json.loads((run / 'recipe.json').read_text())
    assert record['source'] == 'paper Table 5'
    assert record['overridden'] == {'lr': {'recipe': 0.2, 'used': 0.3}}
    assert record['applied']['optimizer'] == 'adagrad'
    # --recipe none: the generic defaults.
    run2 = tmp_path / 'run2'
    assert main(['train', '--dataset', str(kg), '--model',
                 'recipe_distmult', '--dim', '4', '--recipe', 'none',
                 '--epochs', '1', '--run-dir', str(run2),
                 '--no-progress']) == 0
    config = json.loads((run2 / 'config.json').read_text())
    assert (config['regime'], config['optimizer']) == ('kvsall', 'adam')


@pytest.mark.parametrize('flags,message', [
    (['--grad-clip', '-1'], "'grad_clip' (--grad-clip) must be a positive"),
    (['--regularizer-weight', '-1'], "(--regularizer-weight) must be >= 0"),
    (['--margin', '-5'], "'margin' (--margin) must be >= 0"),
    (['--lr', '0'], "'lr' (--lr) must be positive"),
    (['--batch-size', '0'], "(--batch-size) must be a positive integer"),
    (['--label-smoothing', '1.5'], "(--label-smoothing) must be in [0, 1)"),
    (['--lr', 'nan'], "'lr' (--lr) must be positive"),
])
def test_cli_rejects_values_that_cannot_be_meant(tmp_path, capsys, flags,
                                                 message):
    kg = write_tsv_kg(tmp_path / 'kg')
    assert main(['train', '--dataset', str(kg), '--model', 'distmult',
                 '--run-dir', str(tmp_path / 'r'), *flags]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / 'r').exists()


def test_cli_num_threads_zero_is_an_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(['train', '--dataset', 'x', '--num-threads', '0'])
    assert e.value.code == 2
    assert '--num-threads must be a positive integer' in \
        capsys.readouterr().err


def test_cli_patience_none_disables_early_stopping(tmp_path):
    kg = write_tsv_kg(tmp_path / 'kg')
    run = tmp_path / 'run'
    assert main(['train', '--dataset', str(kg), '--model', 'distmult',
                 '--dim', '4', '--epochs', '1', '--patience', 'none',
                 '--run-dir', str(run), '--no-progress']) == 0
    assert json.loads((run / 'config.json').read_text())['patience'] is None


def test_resume_refuses_options_it_would_not_apply(tmp_path, capsys):
    kg = write_tsv_kg(tmp_path / 'kg')
    run = tmp_path / 'run'
    base = ['train', '--dataset', str(kg), '--model', 'distmult', '--dim',
            '4', '--run-dir', str(run), '--no-progress']
    assert main(base + ['--epochs', '1']) == 0
    before = (run / 'config.json').read_text()
    assert main(base + ['--resume', '--lr', '0.5']) == 1
    err = capsys.readouterr().err
    assert "cannot change: --lr 0.5 (the run used 0.01)" in err
    assert (run / 'config.json').read_text() == before  # nothing recorded
    assert main(base + ['--resume', '--epochs', '2']) == 0
    config = json.loads((run / 'config.json').read_text())
    assert (config['epochs'], config['lr']) == (2, 0.01)
    results = json.loads((run / 'results.json').read_text())
    assert results['epochs_trained'] == 2


def test_empty_training_split_is_an_error():
    from pyg_mmkg.data import make_kg_data
    empty = torch.empty(0, dtype=torch.long)
    zero, one = torch.tensor([0]), torch.tensor([1])
    kg = make_kg_data(['a', 'b'], ['r'], {'train': (empty, empty, empty),
                                          'val': (zero, zero, one),
                                          'test': (one, zero, zero)})
    with pytest.raises(ValueError, match='training split is empty'):
        Trainer(DistMult(2, 1, 4), kg, regime='slcwa', progress=False)


def test_a_second_regulariser_on_a_self_regularising_model_warns():
    class SelfRegularised(RecipeDistMult):
        own_regularizer = 'n3'

    kg = _kg()
    with pytest.warns(UserWarning, match="already adds its own 'n3' "
                      "regulariser; regularizer='n3'"):
        Trainer(SelfRegularised(kg['entity'].num_nodes, 3, 8), kg,
                regularizer='n3', regularizer_weight=0.01, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        Trainer(SelfRegularised(kg['entity'].num_nodes, 3, 8), kg,
                progress=False)


def test_trainer_prints_the_recipe_at_start(capsys):
    kg = _kg()
    Trainer(_model(kg), kg, epochs=1, lr=0.3, progress=True,
            trackers=[]).fit()
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith('recipe: RecipeDistMult as published [paper '
                           'Table 5]; overridden: ')
    overridden = line.split('overridden: ')[1].split(', ')
    # sparse=False is DistMult's default: not an override.
    assert sorted(overridden) == ['epochs=1 (published 2)',
                                  'lr=0.3 (published 0.2)']


def test_a_loss_of_the_recipes_regime_may_be_given_alone(tmp_path):
    # The recipe's regime is sLCWA: an sLCWA loss without --regime is meant
    # for it (it used to be checked against the generic 'kvsall').
    merged, _ = apply_recipe(TrainConfig(loss='margin'), RecipeDistMult)
    assert (merged.regime, merged.loss) == ('slcwa', 'margin')
    kg = _kg()
    with pytest.raises(ValueError, match="Loss 'margin' .* does not fit "
                       "regime 'kvsall'"):  # no recipe: the generic regime
        Trainer(DistMult(kg['entity'].num_nodes, 3, 8, reciprocal=True), kg,
                loss='margin', progress=False)
    with pytest.raises(ValueError, match="does not fit regime 'kvsall'"):
        TrainConfig(regime='kvsall', loss='margin')  # both explicit


class OwnObjective(RecipeDistMult):
    ignores_config = {'slcwa': ('loss', 'margin')}

    def training_loss(self, batch, encoded):
        from pyg_mmkg.train.losses import softplus_loss
        from pyg_mmkg.train.objectives import slcwa_scores
        return softplus_loss(*slcwa_scores(self, batch, encoded))


def test_fields_a_model_ignores_warn_and_are_not_recorded(tmp_path):
    kg = _kg()
    run = tmp_path / 'run'
    with pytest.warns(UserWarning, match=r"OwnObjective.training_loss "
                      r"defines its own objective for 'slcwa' batches and "
                      r"ignores --loss 'margin', --margin 5\.0"):
        trainer = Trainer(OwnObjective(kg['entity'].num_nodes, 3, 8), kg,
                          loss='margin', margin=5.0, epochs=1,
                          progress=False, run_dir=run)
    assert (trainer.config.loss, trainer.config.margin) == ('softplus', None)
    trainer.fit()
    config = json.loads((run / 'config.json').read_text())
    assert (config['loss'], config['margin']) == ('softplus', None)
    record = json.loads((run / 'recipe.json').read_text())
    assert 'loss' not in record['overridden']
    with warnings.catch_warnings():  # the value in effect: no warning
        warnings.simplefilter('error')
        Trainer(OwnObjective(kg['entity'].num_nodes, 3, 8), kg,
                loss='softplus', progress=False)


def test_resume_accepts_the_same_command_written_differently(tmp_path,
                                                              capsys):
    kg = write_tsv_kg(tmp_path / 'kg')
    run = tmp_path / 'run'
    base = ['train', '--dataset', str(kg), '--dim', '4', '--run-dir',
            str(run), '--no-progress']
    assert main(base + ['--model', 'recipe_distmult', '--epochs', '1',
                        '--optimizer', 'adagrad']) == 0
    assert main(base + ['--model', 'Recipe-DistMult', '--epochs', '2',
                        '--optimizer', 'AdaGrad', '--model-kwargs',
                        '{"sparse": false}', '--resume']) == 0
    assert json.loads((run / 'results.json').read_text())[
        'epochs_trained'] == 2
    # A --config file is held to the same rule as flags.
    cfg = tmp_path / 'cfg.json'
    cfg.write_text('{"lr": 0.5, "optimizer": "sgd"}')
    assert main(base + ['--resume', '--config', str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "--lr 0.5 (the run used 0.2)" in err
    assert "--optimizer 'sgd' (the run used 'adagrad')" in err


def test_existing_run_error_names_the_flag(tmp_path, capsys):
    kg = write_tsv_kg(tmp_path / 'kg')
    base = ['train', '--dataset', str(kg), '--model', 'distmult', '--dim',
            '4', '--epochs', '1', '--run-dir', str(tmp_path / 'r'),
            '--no-progress']
    assert main(base) == 0
    assert main(base) == 1
    assert '(--resume on the command line)' in capsys.readouterr().err
