import math

import pytest
import torch

from pyg_mmkg.nn.kge import DistMult
from pyg_mmkg.train import TrainConfig, Trainer
from pyg_mmkg.train.optim import build_optimizer
from pyg_mmkg.train.sparse_optim import CompositeOptimizer, RowWiseAdagrad


def _sparse_grad(num_rows, dim, rows, seed=0):
    g = torch.Generator().manual_seed(seed)
    values = torch.randn(len(rows), dim, generator=g)
    index = torch.tensor([rows])
    return torch.sparse_coo_tensor(index, values, (num_rows, dim)), values


def test_rowwise_adagrad_matches_hand_computed_rows():
    # PyTorch-BigGraph's row-wise Adagrad, transcribed per row in Python:
    # s_i += mean_j g_ij^2 ; w_i -= lr * g_i / (sqrt(s_i) + eps).
    torch.manual_seed(0)
    w0 = torch.randn(6, 4)
    w = torch.nn.Parameter(w0.clone())
    opt = RowWiseAdagrad([w], lr=0.3, eps=1e-10)
    acc = [0.0] * 6
    expected = [list(map(float, row)) for row in w0]
    for step, rows in enumerate([[1, 4, 1], [4, 5]]):  # Row 1 twice.
        grad, values = _sparse_grad(6, 4, rows, seed=step)
        w.grad = grad
        opt.step()
        summed = {}
        for i, r in enumerate(rows):
            prev = summed.get(r, [0.0] * 4)
            summed[r] = [a + float(b) for a, b in zip(prev, values[i])]
        for r, g in summed.items():
            acc[r] += sum(x * x for x in g) / 4
            std = math.sqrt(acc[r]) + 1e-10
            expected[r] = [e - 0.3 * x / std for e, x in zip(expected[r], g)]
    assert torch.allclose(w.detach(), torch.tensor(expected), atol=1e-6)
    for r in (0, 2, 3):  # Never used: unchanged, accumulator zero.
        assert torch.equal(w.detach()[r], w0[r])
        assert float(opt.state[w]['sum'][r]) == 0.0


def test_rowwise_adagrad_dense_gradient_equals_sparse():
    torch.manual_seed(1)
    w0 = torch.randn(5, 3)
    grad, _ = _sparse_grad(5, 3, [0, 3])
    a, b = torch.nn.Parameter(w0.clone()), torch.nn.Parameter(w0.clone())
    oa, ob = RowWiseAdagrad([a], lr=0.1), RowWiseAdagrad([b], lr=0.1)
    a.grad, b.grad = grad, grad.to_dense()
    oa.step()
    ob.step()
    assert torch.allclose(a, b, atol=1e-7)
    with pytest.raises(ValueError, match='2-D'):
        RowWiseAdagrad([torch.nn.Parameter(torch.zeros(3))])


def _lazy_adam_rows(w0, grads, lr, betas=(0.9, 0.999), eps=1e-8):
    # SparseAdam (PyTorch's documented lazy Adam): only the rows with a
    # gradient update their moments; step t counts the optimiser's steps.
    w = [list(map(float, r)) for r in w0]
    m = [[0.0] * len(w[0]) for _ in w]
    v = [[0.0] * len(w[0]) for _ in w]
    for t, grad in enumerate(grads, start=1):
        dense = grad.to_dense()
        rows = sorted(set(grad.coalesce().indices()[0].tolist()))
        bc1, bc2 = 1 - betas[0]**t, 1 - betas[1]**t
        step = lr * math.sqrt(bc2) / bc1
        for r in rows:
            for j in range(len(w[r])):
                g = float(dense[r, j])
                m[r][j] = betas[0] * m[r][j] + (1 - betas[0]) * g
                v[r][j] = betas[1] * v[r][j] + (1 - betas[1]) * g * g
                w[r][j] -= step * m[r][j] / (math.sqrt(v[r][j]) + eps)
    return torch.tensor(w)


def test_sparse_adam_through_build_optimizer_updates_used_rows_only():
    torch.manual_seed(0)
    model = DistMult(12, 3, 4)
    w0 = model.node_emb.weight.detach().clone()
    cfg = TrainConfig(embedding_optimizer='sparse_adam', lr=0.05,
                      optimizer='adam')
    opt = build_optimizer(cfg, model)
    assert isinstance(opt, CompositeOptimizer)
    assert isinstance(opt.optimizers[0], torch.optim.SparseAdam)
    assert model.node_emb.sparse and model.rel_emb.sparse
    grads = []
    for heads in ([1, 2], [2, 7]):
        opt.zero_grad()
        h = torch.tensor(heads)
        loss = model(h, torch.tensor([0, 1]), torch.tensor([3, 3])).sum()
        loss.backward()
        assert model.node_emb.weight.grad.is_sparse
        grads.append(model.node_emb.weight.grad.clone())
        opt.step()
    expected = _lazy_adam_rows(w0, grads, lr=0.05)
    assert torch.allclose(model.node_emb.weight.detach(), expected,
                          atol=1e-6)
    unused = [i for i in range(12) if i not in (1, 2, 3, 7)]
    assert torch.equal(model.node_emb.weight.detach()[unused], w0[unused])


def test_dense_parameters_share_the_step_and_state_round_trips():
    class WithProjection(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(10, 3)
            self.proj = torch.nn.Linear(3, 1)

    torch.manual_seed(0)
    model = WithProjection()
    cfg = TrainConfig(embedding_optimizer='rowwise_adagrad', lr=0.1,
                      optimizer='sgd')
    opt = build_optimizer(cfg, model)
    p0 = model.proj.weight.detach().clone()
    model.proj(model.emb(torch.tensor([1, 2]))).sum().backward()
    g = model.proj.weight.grad.clone()
    opt.step()
    assert torch.allclose(model.proj.weight, p0 - 0.1 * g)
    assert len(opt.param_groups) == 2
    state = opt.state_dict()
    other = build_optimizer(cfg, model)
    other.load_state_dict(state)
    assert torch.equal(other.optimizers[0].state[model.emb.weight]['sum'],
                       opt.optimizers[0].state[model.emb.weight]['sum'])
    # A scheduler acts on the groups of both optimisers:
    sched = torch.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
    opt.step()
    sched.step()
    assert [g['lr'] for o in opt.optimizers for g in o.param_groups] == [
        0.05, 0.05]


def test_config_rejects_weight_decay_and_names_flags():
    with pytest.raises(ValueError, match='--embedding-optimizer.*'
                       '--weight-decay'):
        TrainConfig(embedding_optimizer='sparse_adam', weight_decay=1e-4)
    with pytest.raises(ValueError, match='--embedding-optimizer'):
        TrainConfig(embedding_optimizer='sparse')
    with pytest.raises(ValueError, match='needs the model'):
        build_optimizer(TrainConfig(embedding_optimizer='sparse_adam'),
                        DistMult(3, 1, 2).parameters())


@pytest.mark.parametrize('regime', ['slcwa', 'kvsall'])
@pytest.mark.parametrize('name', ['sparse_adam', 'rowwise_adagrad'])
def test_trainer_trains_with_sparse_embedding_optimizers(kg, regime, name):
    torch.manual_seed(0)
    model = DistMult(kg['entity'].num_nodes, kg['relation'].num_nodes, 16,
                     reciprocal=regime == 'kvsall')
    trainer = Trainer(model, kg, TrainConfig(
        regime=regime, embedding_optimizer=name, epochs=3, eval_every=3,
        lr=0.05, batch_size=16, progress=False, recipe='none'))
    losses = [trainer.train_epoch() for _ in range(3)]
    assert losses[-1] < losses[0]
    assert model.node_emb.sparse


def test_coalesce_rows_equals_torch_coalesce():
    from pyg_mmkg.train.sparse_optim import coalesce_rows
    g = torch.Generator().manual_seed(0)
    rows = torch.randint(0, 50, (300, ), generator=g)
    values = torch.randn(300, 4, generator=g)
    grad = torch.sparse_coo_tensor(rows.view(1, -1), values, (60, 4))
    ref, out = grad.coalesce(), coalesce_rows(grad)
    assert out.is_coalesced()
    assert torch.equal(out.indices(), ref.indices())
    assert torch.allclose(out.values(), ref.values(), atol=1e-6)


def test_dense_to_rows_equals_to_sparse():
    from pyg_mmkg.train.sparse_optim import dense_to_rows
    g = torch.zeros(7, 3)
    g[1] = 1.5
    g[4, 2] = -2.0
    ref, out = g.to_sparse(sparse_dim=1), dense_to_rows(g)
    assert out.is_coalesced()
    assert torch.equal(out.indices(), ref.coalesce().indices())
    assert torch.equal(out.values(), ref.coalesce().values())
    assert torch.equal(out.to_dense(), g)
