import copy

import pytest
import torch
from torch_geometric.data import HeteroData
from torch_geometric.nn import RGCNConv

import pyg_mmkg.data
from pyg_mmkg.nn.encoders import CompGCNEncoder, RelationalEncoder, RGCNEncoder

N, R, D = 12, 3, 8


def reference_train_graph(data, add_inverse=True):
    # Used only if `pyg_mmkg.data.train_graph` is not available yet.
    store = data['entity', 'to', 'entity']
    edge_index = store.edge_index[:, store.train_mask]
    edge_type = store.edge_type[store.train_mask]
    if add_inverse:
        num_relations = data['relation'].num_nodes
        edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
        edge_type = torch.cat([edge_type, edge_type + num_relations])
    return edge_index, edge_type


@pytest.fixture
def train_graph(monkeypatch):
    if not hasattr(pyg_mmkg.data, 'train_graph'):
        monkeypatch.setattr(pyg_mmkg.data, 'train_graph',
                            reference_train_graph, raising=False)
    return pyg_mmkg.data.train_graph


def make_data():
    # A ring of train edges, plus distinct valid/test edges:
    src = torch.arange(N)
    train = torch.stack([src, (src + 1) % N])
    train_type = src % R
    valid = torch.tensor([[0, 3], [5, 8]])
    test = torch.tensor([[1, 2, 4], [6, 9, 10]])
    edge_index = torch.cat([train, valid, test], dim=1)
    edge_type = torch.cat([train_type, torch.tensor([0, 1, 2, 0, 1])])
    mask = torch.zeros(edge_type.numel(), dtype=torch.bool)
    data = HeteroData()
    data['entity'].num_nodes = N
    data['relation'].num_nodes = R
    store = data['entity', 'to', 'entity']
    store.edge_index = edge_index
    store.edge_type = edge_type
    store.train_mask = mask.clone()
    store.train_mask[:N] = True
    store.val_mask = mask.clone()
    store.val_mask[N:N + 2] = True
    store.test_mask = mask.clone()
    store.test_mask[N + 2:] = True
    return data


def make_encoder(name):
    if name == 'rgcn':
        return RGCNEncoder(D, 16, 2 * R, num_layers=2, num_bases=2)
    return CompGCNEncoder(D, 16, 2 * R, num_layers=2, comp='corr')


@pytest.mark.parametrize('name', ['rgcn', 'compgcn'])
def test_no_valid_or_test_edge_reaches_the_encoder(name, train_graph):
    torch.manual_seed(0)
    data = make_data()
    x, rel = torch.randn(N, D), torch.randn(2 * R, D)
    encoder = make_encoder(name).eval()

    edge_index, edge_type = train_graph(data, add_inverse=True)
    held_out = {(0, 5), (3, 8), (1, 6), (2, 9), (4, 10)}
    pairs = set(zip(edge_index[0].tolist(), edge_index[1].tolist()))
    assert pairs.isdisjoint(held_out)
    assert pairs.isdisjoint({(b, a) for a, b in held_out})
    out, rel_out = encoder(x, edge_index, edge_type, rel)

    # Rewiring the valid/test triples does not change any output:
    store = data['entity', 'to', 'entity']
    held = store.val_mask | store.test_mask
    store.edge_index[1, held] = (store.edge_index[1, held] + 1) % N
    store.edge_type[held] = (store.edge_type[held] + 1) % R
    out2, rel_out2 = encoder(x, *train_graph(data, add_inverse=True), rel)
    assert torch.equal(out, out2)
    assert (rel_out is None and rel_out2 is None) or torch.equal(
        rel_out, rel_out2)

    # Rewiring a train triple (0 -> 1 becomes 0 -> 7) changes node 1 and 7:
    store.edge_index[1, 0] = 7
    out3, _ = encoder(x, *train_graph(data, add_inverse=True), rel)
    assert not torch.allclose(out3[1], out[1])
    assert not torch.allclose(out3[7], out[7])


@pytest.mark.parametrize('name', ['rgcn', 'compgcn'])
def test_outputs_depend_on_train_neighbours_only(name):
    torch.manual_seed(0)
    encoder = make_encoder(name).eval()
    encoder.convs = encoder.convs[:1]  # One layer: 1-hop receptive field.
    encoder.res = encoder.res[:1]
    encoder.num_layers = 1
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 3]])
    edge_type = torch.tensor([0, 1, 2])
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    edge_type = torch.cat([edge_type, edge_type + R])
    x, rel = torch.randn(6, D), torch.randn(2 * R, D)
    out, _ = encoder(x, edge_index, edge_type, rel)

    x2 = x.clone()
    x2[0] += 1.0  # Node 0 is a neighbour of node 1 only.
    out2, _ = encoder(x2, edge_index, edge_type, rel)
    assert not torch.allclose(out2[1], out[1])
    assert torch.equal(out2[2:], out[2:])


def test_rgcn_encoder_matches_pyg_convs():
    torch.manual_seed(0)
    edge_index = torch.randint(0, N, (2, 40))
    edge_type = torch.randint(0, 2 * R, (40, ))
    x = torch.randn(N, D)
    encoder = RGCNEncoder(D, 16, 2 * R, num_layers=2, out_channels=4,
                          num_blocks=2)
    conv1 = RGCNConv(D, 16, 2 * R, num_blocks=2)
    conv2 = RGCNConv(16, 4, 2 * R, num_blocks=2)
    conv1.load_state_dict(encoder.convs[0].state_dict())
    conv2.load_state_dict(encoder.convs[1].state_dict())
    expected = conv2(conv1(x, edge_index, edge_type).relu(), edge_index,
                     edge_type)
    out, rel = encoder(x, edge_index, edge_type)
    assert rel is None
    assert torch.allclose(out, expected, atol=1e-6)

    fast = RGCNEncoder(D, 16, 2 * R, num_layers=2, out_channels=4,
                       num_blocks=2, conv='fast')
    fast.load_state_dict(encoder.state_dict())
    assert torch.allclose(fast(x, edge_index, edge_type)[0], out, atol=1e-5)

    residual = RGCNEncoder(D, 16, 2 * R, num_layers=1, residual=True,
                           act_last=True, act='tanh')
    conv = RGCNConv(D, 16, 2 * R)
    conv.load_state_dict(residual.convs[0].state_dict())
    expected = torch.tanh(
        conv(x, edge_index, edge_type) + residual.res[0](x))
    assert torch.allclose(residual(x, edge_index, edge_type)[0], expected,
                          atol=1e-6)


@pytest.mark.parametrize('name', ['rgcn', 'compgcn'])
def test_gradient_flow(name):
    torch.manual_seed(0)
    encoder = make_encoder(name)
    edge_index = torch.randint(0, N, (2, 30))
    edge_type = torch.randint(0, 2 * R, (30, ))
    x = torch.randn(N, D, requires_grad=True)
    rel = torch.randn(2 * R, D, requires_grad=True)
    out, rel_out = encoder(x, edge_index, edge_type, rel)
    loss = out.pow(2).sum()
    if name == 'compgcn':
        loss = loss + rel_out.pow(2).sum()
    loss.backward()
    assert bool((x.grad != 0).any())
    if name == 'compgcn':
        assert bool((rel.grad != 0).any())
    for pname, param in encoder.named_parameters():
        assert param.grad is not None, pname


@pytest.mark.parametrize('name', ['rgcn', 'compgcn'])
def test_from_data_stores_train_graph(name, train_graph):
    torch.manual_seed(0)
    data = make_data()
    cls = RGCNEncoder if name == 'rgcn' else CompGCNEncoder
    encoder = cls.from_data(data, D, 16).eval()
    assert encoder.num_relations == 2 * R
    edge_index, edge_type = train_graph(data, add_inverse=True)
    assert torch.equal(encoder.edge_index, edge_index)
    x, rel = torch.randn(N, D), torch.randn(2 * R, D)
    out = encoder(x, rel=rel)[0]
    assert torch.equal(out, encoder(x, edge_index, edge_type, rel)[0])
    # The graph is not part of checkpoints:
    assert 'edge_index' not in encoder.state_dict()
    clone = copy.deepcopy(encoder)
    assert torch.equal(clone(x, rel=rel)[0], out)


def test_errors():
    encoder = CompGCNEncoder(D, 16, 2 * R)
    with pytest.raises(ValueError, match="No graph given"):
        encoder(torch.randn(N, D), rel=torch.randn(2 * R, D))
    with pytest.raises(ValueError, match="needs relation representations"):
        encoder(torch.randn(N, D), torch.tensor([[0], [1]]),
                torch.tensor([0]))
    with pytest.raises(ValueError, match="'edge_type' is required"):
        encoder(torch.randn(N, D), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match="built for 6 edge types"):
        encoder.set_graph(torch.tensor([[0], [1]]), torch.tensor([6]))
    with pytest.raises(NotImplementedError):
        RelationalEncoder()(torch.randn(2, 2), torch.tensor([[0], [1]]),
                            torch.tensor([0]))
    assert str(RGCNEncoder(D, 16, 6)) == ('RGCNEncoder(8, 16, num_relations=6,'
                                          ' num_layers=2)')
