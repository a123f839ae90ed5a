import pytest
import torch
import torch_geometric.nn.kge as pyg_kge
from torch_geometric.testing import withCUDA

from pyg_mmkg.nn.kge import (
    ComplEx,
    DistMult,
    RotatE,
    ScoredKGEModel,
    TransE,
    TuckER,
)

N, R, H = 20, 4, 16

CONFIGS = {
    'transe_l1': (TransE, {}),
    'transe_l2': (TransE, dict(margin=2.0, p_norm=2.0)),
    'distmult': (DistMult, dict(margin=0.5)),
    'complex': (ComplEx, {}),
    'rotate': (RotatE, dict(margin=9.0)),
}


def make_pair(name, device):
    cls, kwargs = CONFIGS[name]
    pyg_model = getattr(pyg_kge, cls.__name__)(N, R, H, **kwargs).to(device)
    return cls, kwargs, pyg_model


def random_triples(num_triples, device, seed=0):
    gen = torch.Generator().manual_seed(seed)
    head = torch.randint(N, (num_triples, ), generator=gen)
    rel = torch.randint(R, (num_triples, ), generator=gen)
    tail = torch.randint(N, (num_triples, ), generator=gen)
    return head.to(device), rel.to(device), tail.to(device)


@pytest.mark.parametrize('name', list(CONFIGS))
def test_same_seed_same_initialization(name):
    cls, kwargs = CONFIGS[name]
    torch.manual_seed(42)
    pyg_model = getattr(pyg_kge, cls.__name__)(N, R, H, **kwargs)
    torch.manual_seed(42)
    model = cls(N, R, H, **kwargs)
    expected = pyg_model.state_dict()
    out = model.state_dict()
    assert list(out) == list(expected)
    for key in expected:
        assert torch.equal(out[key], expected[key]), key


@withCUDA
@pytest.mark.parametrize('name', list(CONFIGS))
def test_scores_and_losses_equal_pyg(name, device):
    torch.manual_seed(0)
    cls, kwargs, pyg_model = make_pair(name, device)
    model = cls(N, R, H, **kwargs).to(device)
    model.load_state_dict(pyg_model.state_dict())
    head, rel, tail = random_triples(32, device)

    expected = pyg_model(head, rel, tail)
    assert torch.allclose(model(head, rel, tail), expected, atol=1e-5)
    # Also through the cached representations of `encode()`:
    out = model(head, rel, tail, encoded=model.encode())
    assert torch.allclose(out, expected, atol=1e-5)

    for seed in range(3):
        torch.manual_seed(seed)
        expected = pyg_model.loss(head, rel, tail)
        torch.manual_seed(seed)
        out = model.loss(head, rel, tail)
        assert torch.allclose(out, expected, atol=1e-5)

    # Both models give the same gradients:
    pyg_model.zero_grad()
    model.zero_grad()
    torch.manual_seed(7)
    pyg_model.loss(head, rel, tail).backward()
    torch.manual_seed(7)
    model.loss(head, rel, tail).backward()
    pyg_params = dict(pyg_model.named_parameters())
    for key, param in model.named_parameters():
        assert torch.allclose(param.grad, pyg_params[key].grad, atol=1e-5)


@pytest.mark.parametrize('name', list(CONFIGS))
def test_from_pyg(name):
    torch.manual_seed(3)
    cls, kwargs, pyg_model = make_pair(name, 'cpu')
    head, rel, tail = random_triples(16, 'cpu', seed=1)
    expected = pyg_model(head, rel, tail)

    for model in [cls.from_pyg(pyg_model), ScoredKGEModel.from_pyg(pyg_model)]:
        assert type(model) is cls
        assert str(model) == str(pyg_model)
        for key, value in kwargs.items():
            assert getattr(model, key) == value
        assert torch.allclose(model(head, rel, tail), expected, atol=1e-5)
        # A copy, not shared storage:
        assert (model.node_emb.weight.data_ptr()
                != pyg_model.node_emb.weight.data_ptr())


def test_from_pyg_errors():
    class MyKGE(pyg_kge.KGEModel):
        pass

    with pytest.raises(ValueError, match="No counterpart of 'MyKGE'"):
        ScoredKGEModel.from_pyg(MyKGE(N, R, H))
    # Inverse relations need weights that a PyG model does not have:
    with pytest.raises(RuntimeError, match='size mismatch'):
        DistMult.from_pyg(pyg_kge.DistMult(N, R, H), reciprocal=True)


def test_pyg_test_method_agrees():
    # `KGEModel.test` (inherited from PyG) runs on our forward and gives the
    # same ranks as PyG's own model with the same weights:
    torch.manual_seed(5)
    pyg_model = pyg_kge.DistMult(N, R, H)
    model = DistMult.from_pyg(pyg_model)
    head, rel, tail = random_triples(10, 'cpu', seed=2)
    expected = pyg_model.test(head, rel, tail, batch_size=7, k=3, log=False)
    out = model.test(head, rel, tail, batch_size=7, k=3, log=False)
    assert out == pytest.approx(expected)


def test_repr():
    assert str(TransE(10, 5, 32)) == ('TransE(10, num_relations=5, '
                                      'hidden_channels=32)')
    assert str(RotatE(10, 5, 32, reciprocal=True)) == (
        'RotatE(10, num_relations=5, hidden_channels=32, reciprocal=True)')
    assert str(TuckER(10, 5, 32)) == (
        'TuckER(10, num_relations=5, hidden_channels=32, reciprocal=True)')
    assert str(TuckER(10, 5, 32, reciprocal=False)) == (
        'TuckER(10, num_relations=5, hidden_channels=32)')
