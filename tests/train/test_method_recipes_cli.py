r"""`pyg-mmkg train --model X` with no other flag trains X's published recipe:
the start line names it, config.json and recipe.json record it."""
import json

import pytest

from pyg_mmkg.cli import main
from pyg_mmkg.train import Trainer
from pyg_mmkg.train.recipes import get_recipe

METHODS = ['mose', 'vlkge', 'momok', 'vista']


class StopBeforeTraining(Exception):
    pass


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    from pyg_mmkg.datasets import VTKG_I
    root = tmp_path_factory.mktemp('vtkg')
    VTKG_I(str(root))
    return root


@pytest.mark.parametrize('name', METHODS)
def test_cli_trains_the_published_recipe_by_default(name, root, tmp_path,
                                                    capsys, monkeypatch):
    recipe = get_recipe(name, 'VTKG-I')
    assert recipe is not None, f'{name} has no published recipe'

    def stop(self):
        raise StopBeforeTraining  # config.json is written by now

    monkeypatch.setattr(Trainer, 'train_epoch', stop)
    run = tmp_path / 'run'
    with pytest.raises(StopBeforeTraining):
        main(['train', '--dataset', 'VTKG-I', '--root', str(root),
              '--model', name, '--run-dir', str(run), '--no-progress'])
    out = capsys.readouterr().out
    assert f'as published [{recipe.source}]' in out
    assert 'overridden' not in out.splitlines()[0]
    config = json.loads((run / 'config.json').read_text())
    for field, value in recipe.config.items():
        if field == 'model_kwargs':
            assert {k: config[field][k] for k in value} == value
        elif field == 'dim':
            assert config[field] == value
        else:
            assert config[field] == value, field
    record = json.loads((run / 'recipe.json').read_text())
    assert record['source'] == recipe.source and record['overridden'] == {}
    assert set(record['applied']) == set(recipe.config)
