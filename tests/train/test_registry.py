import pytest
import torch

from pyg_mmkg.nn.kge import ComplEx, RotatE, ScoredKGEModel, TransE, TuckER
from pyg_mmkg.train import TrainConfig, build_model, get_model, list_models
from pyg_mmkg.train import register_model

from train_testing import NUM_NODES, NUM_RELATIONS


@pytest.mark.parametrize('name,cls', [('transe', TransE),
                                      ('RotatE', RotatE),
                                      ('complex', ComplEx),
                                      ('tucker', TuckER)])
def test_unimodal_models(kg, name, cls):
    model = get_model(name, kg, hidden_channels=8)
    assert type(model) is cls
    assert model.num_nodes == NUM_NODES
    assert model.num_relations == NUM_RELATIONS
    assert model.hidden_channels == 8
    assert {'transe', 'distmult', 'complex', 'rotate',
            'tucker'} <= set(list_models())


def test_reciprocal_for_one_to_n_regimes(kg):
    model = build_model(TrainConfig(model='complex', regime='kvsall', dim=4),
                        kg)
    assert model.reciprocal
    assert model.rel_emb.num_embeddings == 2 * NUM_RELATIONS
    model = build_model(TrainConfig(model='complex', dim=4, regime='slcwa',
                                    model_kwargs={'sparse': True}), kg)
    assert not model.reciprocal and model.node_emb.sparse


def test_unknown_model(kg):
    with pytest.raises(ValueError, match="Unknown model 'nope'.*transe"):
        get_model('nope', kg)


class TextOnly(ScoredKGEModel):
    r"""A registered model built from the data through `from_data`."""
    @classmethod
    def from_data(cls, data, hidden_channels=4, modalities=None, **kwargs):
        from pyg_mmkg.nn.kge import DistMultScorer
        model = cls(data['entity'].num_nodes, int(data.num_relations),
                    hidden_channels, DistMultScorer(), **kwargs)
        model.seen_modalities = modalities
        return model


class NoModalities(TextOnly):
    @classmethod
    def from_data(cls, data, hidden_channels=4):
        return super().from_data(data, hidden_channels)


def test_register_model_with_from_data(kg):
    register_model('text-only', TextOnly)
    config = TrainConfig(model='Text_Only', dim=6, regime='slcwa',
                         modalities=['structure', 'text'])
    model = build_model(config, kg)
    assert type(model) is TextOnly and model.hidden_channels == 6
    assert model.seen_modalities == ['structure', 'text']
    assert 'textonly' in list_models()
    # `modalities` is dropped for factories that do not take it:
    register_model('nomod', NoModalities)
    assert type(build_model(config.replace(model='nomod'), kg)) is \
        NoModalities
    # ... but `reciprocal` must be supported by 1-N regimes:
    with pytest.raises(ValueError, match='does not support reciprocal'):
        build_model(config.replace(model='nomod', regime='kvsall'), kg)


def test_register_as_decorator(kg):
    @register_model('tiny')
    def tiny(num_nodes, num_relations, hidden_channels=2):
        return torch.nn.Linear(num_nodes, num_relations)

    model = get_model('tiny', kg)
    assert model.in_features == NUM_NODES
    assert model.out_features == NUM_RELATIONS


def test_from_config_drops_unselected_modalities(kg):
    from pyg_mmkg.train import Trainer
    kg['entity'].x_text = torch.randn(NUM_NODES, 5)
    kg['entity'].has_text = torch.ones(NUM_NODES, dtype=torch.bool)
    kg['entity'].x_image = torch.randn(NUM_NODES, 2, 3)
    kg['entity'].image_mask = torch.ones(NUM_NODES, 2, dtype=torch.bool)
    config = TrainConfig(model='complex', dim=4, progress=False,
                         modalities=['structure', 'text'])
    trainer = Trainer.from_config(config, data=kg, trackers=[])
    store = trainer.data['entity']
    assert 'x_text' in store and 'has_text' in store
    assert 'x_image' not in store and 'image_mask' not in store
    assert 'x_image' in kg['entity']  # The caller's data is untouched.
