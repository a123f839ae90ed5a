import json

import pytest

from pyg_mmkg.train import TrainConfig


def test_defaults_resolve_losses_and_margins():
    assert TrainConfig(regime='slcwa').loss_name == 'nssa'
    assert TrainConfig(regime='slcwa').loss_margin == 0.0
    assert TrainConfig(regime='slcwa', loss='margin').loss_margin == 1.0
    assert TrainConfig(regime='slcwa', loss='margin',
                       margin=3).loss_margin == 3.0
    assert TrainConfig().loss_name == 'bce'
    assert TrainConfig(regime='1vsall').loss_name == 'ce'
    assert TrainConfig().reciprocal and TrainConfig(regime='1vsall').reciprocal
    assert not TrainConfig(regime='slcwa').reciprocal


@pytest.mark.parametrize('kwargs,match', [
    (dict(regime='lcwa'), "Unknown regime 'lcwa'"),
    (dict(optimizer='lbfgs'), "Unknown optimizer 'lbfgs'"),
    (dict(scheduler='linear'), "Unknown scheduler 'linear'"),
    (dict(regime='kvsall', loss='nssa'), "does not fit regime 'kvsall'"),
    (dict(loss='hinge'), "does not fit regime 'kvsall'"),
    (dict(epochs=0), r"'epochs' \(--epochs\) must be a positive integer"),
    (dict(patience=0), r"'patience' \(--patience\) must be a positive"),
    (dict(label_smoothing=1.0),
     r"'label_smoothing' \(--label-smoothing\) must be in \[0, 1\)"),
    (dict(metric='auc'), "Unknown metric 'auc'"),
])
def test_invalid_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_case_and_modalities_normalised():
    config = TrainConfig(regime='KvsAll', modalities='structure, text')
    assert config.regime == 'kvsall'
    assert config.modalities == ['structure', 'text']


def test_json_roundtrip_and_overrides(tmp_path):
    config = TrainConfig(model='complex', dim=32, scheduler='step',
                         scheduler_kwargs={'step_size': 5})
    path = tmp_path / 'config.json'
    config.save(path)
    assert json.loads(path.read_text())['dim'] == 32
    assert TrainConfig.from_file(path) == config
    loaded = TrainConfig.from_file(path, dim=64, lr=None)
    assert loaded.dim == 64 and loaded.lr == config.lr


def test_yaml_file(tmp_path):
    pytest.importorskip('yaml')
    path = tmp_path / 'config.yaml'
    path.write_text('model: tucker\nregime: kvsall\nlabel-smoothing: 0.1\n')
    config = TrainConfig.from_file(path)
    assert (config.model, config.regime, config.label_smoothing) == (
        'tucker', 'kvsall', 0.1)


def test_unknown_keys_are_listed(tmp_path):
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps({'epochs': 3, 'learning_rate': 0.1}))
    with pytest.raises(ValueError, match=r"\['learning_rate'\].*valid keys"):
        TrainConfig.from_file(path)


def test_loss_of_another_regime_is_checked_once_the_regime_is_final():
    config = TrainConfig(loss='nssa')  # a recipe may still set the regime
    with pytest.raises(ValueError, match="does not fit regime 'kvsall'"):
        config.check_loss_regime()
    assert config.replace(regime='slcwa').loss_name == 'nssa'
