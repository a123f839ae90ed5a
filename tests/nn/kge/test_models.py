import pytest
import torch
import torch.nn.functional as F
from torch_geometric.testing import withCUDA

from pyg_mmkg.nn.kge import (
    ComplEx,
    DistMult,
    DistMultScorer,
    RotatE,
    ScoredKGEModel,
    TransE,
    TuckER,
)

N, R, H = 12, 3, 8

MODELS = {
    'transe': lambda **kw: TransE(N, R, H, p_norm=2.0, **kw),
    'distmult': lambda **kw: DistMult(N, R, H, **kw),
    'complex': lambda **kw: ComplEx(N, R, H, **kw),
    'rotate': lambda **kw: RotatE(N, R, H, margin=3.0, **kw),
    'tucker': lambda **kw: TuckER(N, R, H, relation_channels=5, **kw),
}


def triples(num_triples, device='cpu', seed=0):
    gen = torch.Generator().manual_seed(seed)
    out = (torch.randint(N, (num_triples, ), generator=gen),
           torch.randint(R, (num_triples, ), generator=gen),
           torch.randint(N, (num_triples, ), generator=gen))
    return tuple(x.to(device) for x in out)


def prepare(model, device):
    model = model.to(device)
    if isinstance(model, TuckER):  # Non-trivial batch norm statistics:
        with torch.no_grad():
            for bn in [model.scorer.bn0, model.scorer.bn1]:
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.normal_()
                bn.running_mean.normal_()
                bn.running_var.uniform_(0.5, 2.0)
    return model.eval()


@withCUDA
@pytest.mark.parametrize('reciprocal', [False, True])
@pytest.mark.parametrize('name', list(MODELS))
def test_1n_scores_equal_triple_scores(name, reciprocal, device):
    torch.manual_seed(0)
    model = prepare(MODELS[name](reciprocal=reciprocal), device)
    ent, rel = model.encode()
    assert ent.size(0) == N
    assert rel.size(0) == (2 * R if reciprocal else R)
    assert model.num_relation_representations == rel.size(0)

    head, rel_type, tail = triples(5, device)
    cand = torch.arange(N, device=device).repeat(5)
    rep = lambda x: x.repeat_interleave(N)  # noqa: E731

    out = model.score_tails(head, rel_type)
    assert out.size() == (5, N)
    expected = model(rep(head), rep(rel_type), cand).view(5, N)
    assert torch.allclose(out, expected, atol=1e-5)

    out = model.score_heads(rel_type, tail)
    assert out.size() == (5, N)
    if reciprocal:  # The tails of the inverse query (t, r^-1, ?):
        expected = model(rep(tail), rep(rel_type) + R, cand).view(5, N)
    else:
        expected = model(cand, rep(rel_type), rep(tail)).view(5, N)
    assert torch.allclose(out, expected, atol=1e-5)

    # Cached representations give the same scores:
    encoded = model.encode()
    assert torch.equal(model.score_tails(head, rel_type, encoded=encoded),
                       model.score_tails(head, rel_type))
    assert torch.equal(model.score_heads(rel_type, tail, encoded=encoded),
                       model.score_heads(rel_type, tail))


class CountingDistMult(DistMult):
    # A stand-in for a multimodal model: it only overrides `encode`.
    num_calls = 0

    def encode(self):
        self.num_calls += 1
        ent, rel = super().encode()
        return 2 * ent + 1, rel


def test_subclass_encode_is_used_everywhere():
    torch.manual_seed(0)
    model = CountingDistMult(N, R, H)
    head, rel_type, tail = triples(6)
    ent = 2 * model.node_emb.weight + 1
    rel = model.rel_emb.weight

    expected = (ent[head] * rel[rel_type] * ent[tail]).sum(-1)
    assert torch.allclose(model(head, rel_type, tail), expected)
    expected = (ent[head] * rel[rel_type]) @ ent.t()
    assert torch.allclose(model.score_tails(head, rel_type), expected)
    expected = (rel[rel_type] * ent[tail]) @ ent.t()
    assert torch.allclose(model.score_heads(rel_type, tail), expected)

    model.num_calls = 0
    model.loss(head, rel_type, tail)
    assert model.num_calls == 1  # Positives and negatives share one encode.


def test_custom_scorer_combination():
    torch.manual_seed(0)
    model = ScoredKGEModel(N, R, H, DistMultScorer(), reciprocal=True)
    assert model.rel_emb.weight.size() == (2 * R, H)
    head, rel_type, tail = triples(4)
    out = model.score_heads(rel_type, tail)
    assert torch.allclose(out, model.score_tails(tail, rel_type + R))


@pytest.mark.parametrize('name', list(MODELS))
def test_pyg_style_training_loop(name):
    torch.manual_seed(12345)
    model = MODELS[name]()
    head, rel_type, tail = triples(48, seed=1)
    loader = model.loader(head, rel_type, tail, batch_size=16, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)

    def run_epoch():
        model.train()
        total = 0.0
        for h, r, t in loader:
            assert h.size() == r.size() == t.size() == (16, )
            optimizer.zero_grad()
            loss = model.loss(h, r, t)
            assert loss.dim() == 0 and loss >= 0
            loss.backward()
            optimizer.step()
            total += float(loss) * h.numel()
        return total / head.numel()

    first = run_epoch()
    for _ in range(30):
        last = run_epoch()
    assert last < 0.8 * first

    # PyG's (raw, tail-only) evaluation runs on our model:
    model.eval()
    mean_rank, mrr, hits = model.test(head[:8], rel_type[:8], tail[:8],
                                      batch_size=5, log=False)
    assert 0 <= mean_rank < N and 0 < mrr <= 1 and 0 <= hits <= 1


@pytest.mark.parametrize('reciprocal', [False, True])
@pytest.mark.parametrize('name', list(MODELS))
def test_gradient_reaches_every_parameter(name, reciprocal):
    torch.manual_seed(0)
    model = MODELS[name](reciprocal=reciprocal)
    if name == 'tucker' and not reciprocal:
        model.eval()  # Head scoring folds batch norm (evaluation mode).
    head = torch.arange(N) % N
    rel_type = torch.arange(N) % R
    tail = (torch.arange(N) + 1) % N
    loss = (model.loss(head, rel_type, tail) +
            model.score_tails(head, rel_type).mean() +
            model.score_heads(rel_type, tail).mean())
    loss.backward()
    for key, param in model.named_parameters():
        assert param.grad is not None, key
        assert torch.isfinite(param.grad).all(), key
        assert param.grad.abs().sum() > 0, key


def test_sparse_gradients():
    model = TransE(N, R, H, sparse=True)
    head, rel_type, tail = triples(6)
    model.loss(head, rel_type, tail).backward()
    assert model.node_emb.weight.grad.is_sparse
    assert model.rel_emb.weight.grad.is_sparse


def test_tucker_losses():
    torch.manual_seed(0)
    model = TuckER(N, R, H, label_smoothing=0.2).eval()
    head, rel_type, tail = triples(5)
    targets = torch.zeros(5, N)
    targets[torch.arange(5), tail] = 1.0
    targets[0, (tail[0] + 1) % N] = 1.0

    scores = model.score_tails(head, rel_type)
    expected = F.binary_cross_entropy_with_logits(scores,
                                                  0.8 * targets + 0.2 / N)
    out = model.loss_1n(head, rel_type, targets)
    assert torch.allclose(out, expected)

    # `loss` on triples: one-hot tails, plus the reciprocal queries:
    scores = model.score_tails(torch.cat([head, tail]),
                               torch.cat([rel_type, rel_type + R]))
    one_hot = F.one_hot(torch.cat([tail, head]), N).float()
    expected = F.binary_cross_entropy_with_logits(scores,
                                                  0.8 * one_hot + 0.2 / N)
    assert torch.allclose(model.loss(head, rel_type, tail), expected)

    model = TuckER(N, R, H, label_smoothing=0.0, reciprocal=False).eval()
    scores = model.score_tails(head, rel_type)
    expected = F.binary_cross_entropy_with_logits(scores, targets)
    assert torch.allclose(model.loss_1n(head, rel_type, targets), expected)
    expected = F.binary_cross_entropy_with_logits(
        scores, F.one_hot(tail, N).float())
    assert torch.allclose(model.loss(head, rel_type, tail), expected)


def test_tucker_head_scores_need_eval_without_reciprocal():
    model = TuckER(N, R, H, reciprocal=False).train()
    head, rel_type, tail = triples(4)
    with pytest.raises(RuntimeError, match='reciprocal relations'):
        model.score_heads(rel_type, tail)
    assert model.eval().score_heads(rel_type, tail).size() == (4, N)


def test_tucker_defaults():
    model = TuckER(N, R, H)
    scorer = model.scorer
    assert model.reciprocal and model.label_smoothing == 0.1
    assert (scorer.input_dropout.p, scorer.hidden_dropout1.p,
            scorer.hidden_dropout2.p) == (0.3, 0.4, 0.5)
    assert model.rel_emb.weight.size() == (2 * R, H)
    model = TuckER(N, R, H, relation_channels=5, reciprocal=False)
    assert model.rel_emb.weight.size() == (R, 5)
    assert model.node_emb.weight.size() == (N, H)


def test_hyperparameters_reach_the_scorer():
    model = TransE(N, R, H, p_norm=2.0)
    assert model.scorer.p_norm == 2.0
    # PyG's initialization: unit L_p-norm relations:
    assert torch.allclose(model.rel_emb.weight.norm(p=2, dim=-1),
                          torch.ones(R))
    model = RotatE(N, R, H, margin=9.0)
    head, rel_type, tail = triples(3)
    before = model(head, rel_type, tail)
    model.margin = 4.0
    assert model.scorer.margin == 4.0
    assert torch.allclose(model(head, rel_type, tail), before - 5.0)
