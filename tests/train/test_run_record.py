r"""A run records what was actually trained and re-opens from Python and
the command line, for runs started either way (issue: runs saved from
Python recorded `model=complex dim=128` and could not be reloaded)."""
import json

import pytest
import torch

from pyg_mmkg.cli import main
from pyg_mmkg.data import filter_index, num_entities, num_relations, triples
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.train.utils import summarize
from pyg_mmkg.nn.kge import ComplEx, DistMult
from pyg_mmkg.train import Trainer, load_run, register_model


@pytest.fixture(scope='module')
def vtkg(tmp_path_factory):
    from pyg_mmkg.datasets import VTKG_I
    root = tmp_path_factory.mktemp('vtkg')
    return root, VTKG_I(str(root))[0]


def _scores(model):
    model.eval()
    with torch.no_grad():
        return model.score_tails(torch.tensor([0, 5, 9]),
                                 torch.tensor([0, 1, 2]))


@register_model('scaled_distmult_for_tests')
class ScaledDistMult(DistMult):
    def __init__(self, num_nodes, num_relations, hidden_channels,
                 scale=1.0, **kwargs):
        super().__init__(num_nodes, num_relations, hidden_channels, **kwargs)
        self.scale = scale

    def score_tails(self, head_index, rel_type, *args, **kwargs):
        return self.scale * super().score_tails(head_index, rel_type,
                                                *args, **kwargs)


class Unregistered(DistMult):
    pass


def test_python_run_of_a_multimodal_model_reloads(vtkg, tmp_path, capsys):
    from pyg_mmkg.nn.models import MoSE
    root, data = vtkg
    torch.manual_seed(0)
    model = MoSE.from_data(data, hidden_channels=16,
                           modalities=('structure', 'text'))
    run = tmp_path / 'run'
    Trainer(model, data, run_dir=run, epochs=2, eval_every=1,
            progress=False).fit()
    config = json.loads((run / 'config.json').read_text())
    assert (config['model'], config['dim'], config['modalities']) == (
        'mose', 16, ['structure', 'text'])
    record = json.loads((run / 'model.json').read_text())
    assert record['model']['class'] == 'pyg_mmkg.nn.models.mose.MoSE'
    assert record['model']['reloadable']
    assert record['data']['num_entities'] == num_entities(data)

    loaded, _, _ = load_run(run, data=data)
    assert type(loaded) is MoSE
    assert torch.equal(_scores(loaded), _scores(model))

    # The command line: the data must be named, and it is checked.
    assert main(['evaluate', str(run)]) == 1
    assert 'or --dataset with `pyg-mmkg evaluate`' in capsys.readouterr().err
    assert main(['evaluate', str(run), '--dataset', 'VTKG-I', '--root',
                 str(root), '--json']) == 0
    result = json.loads(capsys.readouterr().out)
    expected = evaluate(loaded, *triples(data, 'test'),
                        filter_index=filter_index(data))
    assert 0.0 < summarize(result)['mrr'] <= 1.0
    assert summarize(result) == pytest.approx(summarize(expected))


def test_reload_with_other_data_is_refused(vtkg, tmp_path):
    from train_testing import synthetic_kg
    _, data = vtkg
    model = ComplEx(num_entities(data), num_relations(data), 8,
                    reciprocal=True)
    run = tmp_path / 'run'
    Trainer(model, data, run_dir=run, epochs=1, progress=False).fit()
    loaded, _, config = load_run(run, data=data)
    assert (config.model, config.dim) == ('complex', 8)
    assert torch.equal(_scores(loaded), _scores(model))
    with pytest.raises(ValueError, match='not the data it was trained on'):
        load_run(run, data=synthetic_kg(num_entities(data)))
    with pytest.raises(ValueError, match='trained on data given in Python'):
        load_run(run)


def test_registered_user_subclass_reloads_with_its_arguments(vtkg,
                                                             tmp_path):
    _, data = vtkg
    model = ScaledDistMult(num_entities(data), num_relations(data), 8,
                           scale=3.0, reciprocal=True)
    run = tmp_path / 'run'
    Trainer(model, data, run_dir=run, epochs=1, progress=False).fit()
    loaded, _, config = load_run(run, data=data)
    assert type(loaded) is ScaledDistMult and loaded.scale == 3.0
    assert config.model_kwargs == {'scale': 3.0, 'reciprocal': True}
    assert torch.equal(_scores(loaded), _scores(model))


def test_unregistered_class_says_how_to_fix(vtkg, tmp_path):
    _, data = vtkg
    model = Unregistered(num_entities(data), num_relations(data), 8,
                         reciprocal=True)
    run = tmp_path / 'run'
    Trainer(model, data, run_dir=run, epochs=1, progress=False).fit()
    with pytest.raises(ValueError, match=r"not registered: decorate it "
                       r"with @register_model"):
        load_run(run, data=data)


def test_cli_validation_ranking_uses_the_selection_filter(vtkg, tmp_path,
                                                          capsys):
    from pyg_mmkg.evaluation import FilterIndex
    root, data = vtkg
    model = ComplEx(num_entities(data), num_relations(data), 8,
                    reciprocal=True)
    run = tmp_path / 'run'
    Trainer(model, data, run_dir=run, epochs=1, progress=False).fit()
    loaded, _, _ = load_run(run, data=data)
    assert main(['evaluate', str(run), '--dataset', 'VTKG-I', '--root',
                 str(root), '--split', 'val', '--json']) == 0
    result = summarize(json.loads(capsys.readouterr().out))
    n, r = num_entities(data), num_relations(data)
    selection = FilterIndex.from_triples(
        [triples(data, 'train'), triples(data, 'val')], n, r)
    full = FilterIndex.from_triples(
        [triples(data, s) for s in ('train', 'val', 'test')], n, r)
    want = summarize(evaluate(loaded, *triples(data, 'val'),
                              filter_index=selection))
    other = summarize(evaluate(loaded, *triples(data, 'val'),
                               filter_index=full))
    assert want != other  # the two protocols differ on this graph
    assert result == pytest.approx(want)
