import pytest
import torch

from pyg_mmkg.nn.encoders import CompGCNConv, circular_correlation, compose


def naive_corr(a, b):
    d = a.numel()
    return torch.stack([
        sum(a[i] * b[(i + k) % d] for i in range(d)) for k in range(d)
    ])


@pytest.mark.parametrize('d', [1, 4, 7])
def test_circular_correlation_vs_loop(d):
    gen = torch.Generator().manual_seed(d)
    a = torch.randn(3, d, dtype=torch.float64, generator=gen)
    b = torch.randn(3, d, dtype=torch.float64, generator=gen)
    out = circular_correlation(a, b)
    expected = torch.stack([naive_corr(a[i], b[i]) for i in range(3)])
    assert out.dtype == torch.float64
    assert torch.allclose(out, expected)
    # Broadcasting over a shared relation, and a non-commutative op:
    assert torch.allclose(circular_correlation(a, b[:1]),
                          torch.stack([naive_corr(x, b[0]) for x in a]))
    if d > 2:
        assert not torch.allclose(circular_correlation(a, b),
                                  circular_correlation(b, a))


def test_compose():
    x, z = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, -1.0]])
    assert torch.equal(compose(x, z, 'sub'), torch.tensor([[-2.0, 3.0]]))
    assert torch.equal(compose(x, z, 'mult'), torch.tensor([[3.0, -2.0]]))
    # corr: k=0: 1*3 + 2*(-1) = 1; k=1: 1*(-1) + 2*3 = 5.
    assert torch.allclose(compose(x, z, 'corr'), torch.tensor([[1.0, 5.0]]))
    with pytest.raises(ValueError, match="Unknown composition 'add'"):
        compose(x, z, 'add')


def naive_compgcn(conv, x, edge_index, edge_type, rel):
    # A loop-based oracle of the layer (eval mode, no dropout).
    N, R = x.size(0), conv.num_relations // 2
    E = edge_index.size(1)
    deg_out = torch.zeros(2, N, dtype=x.dtype)
    deg_in = torch.zeros(2, N, dtype=x.dtype)
    for e in range(E):
        d = int(edge_type[e] >= R)
        deg_out[d, edge_index[0, e]] += 1
        deg_in[d, edge_index[1, e]] += 1
    out = torch.zeros(N, conv.out_channels, dtype=x.dtype)
    for e in range(E):
        u, v, r = (int(edge_index[0, e]), int(edge_index[1, e]),
                   int(edge_type[e]))
        d = int(r >= R)
        W = conv.lin_inv.weight if d else conv.lin_orig.weight
        if conv.comp == 'corr':
            phi = naive_corr(x[u], rel[r])
        else:
            phi = compose(x[u], rel[r], conv.comp)
        norm = (deg_out[d, u] * deg_in[d, v]).rsqrt()
        out[v] += norm * (W @ phi)
    for v in range(N):
        if conv.comp == 'corr':
            phi = naive_corr(x[v], conv.loop_rel[0])
        else:
            phi = compose(x[v], conv.loop_rel[0], conv.comp)
        out[v] += conv.lin_loop.weight @ phi
    out = out / 3 + conv.bias
    return out, rel @ conv.lin_rel.weight.t()


@pytest.mark.parametrize('comp', ['sub', 'mult', 'corr'])
def test_compgcn_conv_vs_naive_oracle(comp):
    torch.manual_seed(0)
    N, R, D = 6, 2, 5
    h = torch.tensor([0, 1, 2, 2, 3, 4, 0])
    t = torch.tensor([1, 2, 3, 0, 3, 5, 2])
    r = torch.tensor([0, 1, 0, 1, 1, 0, 1])
    edge_index = torch.cat([torch.stack([h, t]), torch.stack([t, h])], dim=1)
    edge_type = torch.cat([r, r + R])
    conv = CompGCNConv(D, 3, 2 * R, comp=comp, dropout=0.5).double().eval()
    with torch.no_grad():
        conv.bias.normal_()
    x = torch.randn(N, D, dtype=torch.float64)
    rel = torch.randn(2 * R, D, dtype=torch.float64)

    out, rel_out = conv(x, edge_index, edge_type, rel)
    expected, expected_rel = naive_compgcn(conv, x, edge_index, edge_type,
                                           rel)
    assert out.shape == (N, 3) and rel_out.shape == (2 * R, 3)
    assert torch.allclose(out, expected)
    assert torch.allclose(rel_out, expected_rel)

    # Direction matters: swapping original/inverse weights changes outputs.
    with torch.no_grad():
        conv.lin_inv.weight.add_(1.0)
    assert not torch.allclose(conv(x, edge_index, edge_type, rel)[0], out)


def test_compgcn_conv_gradient_flow():
    torch.manual_seed(0)
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    edge_type = torch.tensor([0, 1, 0, 1])
    conv = CompGCNConv(4, 4, 2, comp='corr')
    x = torch.randn(3, 4, requires_grad=True)
    rel = torch.randn(2, 4, requires_grad=True)
    out, rel_out = conv(x, edge_index, edge_type, rel)
    (out.pow(2).sum() + rel_out.pow(2).sum()).backward()
    assert x.grad is not None and bool((x.grad != 0).any())
    assert rel.grad is not None and bool((rel.grad != 0).any())
    for name, param in conv.named_parameters():
        assert param.grad is not None, name
        assert bool((param.grad != 0).any()), name


def test_compgcn_conv_errors_and_repr():
    with pytest.raises(ValueError, match="must be even"):
        CompGCNConv(4, 4, 3)
    with pytest.raises(ValueError, match="Unknown composition"):
        CompGCNConv(4, 4, 2, comp='rotate')
    conv = CompGCNConv(4, 8, 6, comp='mult')
    with pytest.raises(ValueError, match=r"one row per edge type \(6\)"):
        conv(torch.randn(3, 4), torch.tensor([[0], [1]]), torch.tensor([0]),
             torch.randn(3, 4))
    assert str(conv) == 'CompGCNConv(4, 8, num_relations=6, comp=mult)'
