r"""LiteralE against an independent transcription of the official equations
(SmartDataAnalytics/LiteralE@0b0c48f model.py: Gate, GateMulti,
DistMultLiteral_gate, ComplexLiteral_gate, DistMultLiteral, ComplexLiteral;
main_literal.py: normalisation and BCE)."""
import pytest
import torch

from pyg_mmkg.data import make_kg_data
from pyg_mmkg.nn.models import LiteralE
from pyg_mmkg.nn.models.literale import normalize_literals
from pyg_mmkg.train import TrainConfig
from pyg_mmkg.train.batches import TrainBatch
from pyg_mmkg.train.recipes import get_recipe

N, R, D = 7, 2, 5


def tiny_data(text=False):
    gen = torch.Generator().manual_seed(1)
    h = torch.randint(0, N, (20, ), generator=gen)
    r = torch.randint(0, R, (20, ), generator=gen)
    t = torch.randint(0, N, (20, ), generator=gen)
    data = make_kg_data([f'e{i}' for i in range(N)], ['a', 'b'],
                        {'train': (h, r, t)})
    store = data['entity']
    store.x_numeric = torch.tensor([[1990., -3., 5.], [1950., 2., 0.],
                                    [2001., 7., 1.], [0., 0., 0.],
                                    [1970., -8., 2.], [1960., 1., 4.],
                                    [1999., 4., 9.]])
    mask = torch.ones(N, 3, dtype=torch.bool)
    mask[3] = False  # entity 3 has no literals
    mask[1, 2] = False  # a missing value
    mask[5, 1] = False
    store.numeric_mask = mask
    if text:
        store.x_text = torch.randn(N, 4, generator=gen)
        store.has_text = torch.ones(N, dtype=torch.bool)
    return data


def official_literals(data):
    # preprocess_num_lit.py: zeros where no value; main_literal.py:
    # (x - min) / (max - min + 1e-8) over all entities.
    x = data['entity'].x_numeric * data['entity'].numeric_mask
    lo, hi = x.min(0).values, x.max(0).values
    return (x - lo) / (hi - lo + 1e-8)


def official_gate(gate, e, lits):
    # Gate / GateMulti.forward: output = (1 - g) * e + g * tanh(W [e; l] + b)
    x = torch.cat([e] + lits, 1)
    g_embedded = torch.tanh(x @ gate.lin.weight.t() + gate.lin.bias)
    z = e @ gate.gate_ent.weight.t() + gate.gate_bias
    for lin, lit in zip(gate.gate_lit, lits):
        z = z + lit @ lin.weight.t()
    z = torch.sigmoid(z)
    return (1 - z) * e + z * g_embedded


def bce(pred, target):
    # torch.nn.BCELoss on sigmoid outputs, mean over all entries.
    return -(target * torch.log(pred) +
             (1 - target) * torch.log(1 - pred)).mean()


def test_official_normalisation():
    data = tiny_data()
    model = LiteralE.from_data(data, hidden_channels=D)
    expected = official_literals(data)
    assert torch.allclose(model.literals()[0], expected, atol=1e-6)
    # 'observed': min-max over the values present, missing values 0.
    x, values = data['entity'].x_numeric, data['entity'].numeric_mask
    out, fill = normalize_literals(x, values, 'observed')
    col = x[:, 1][values[:, 1]]
    assert torch.allclose(out[0, 1], (x[0, 1] - col.min()) /
                          (col.max() - col.min()), atol=1e-6)
    assert out[5, 1] == 0 and out[3].abs().sum() == 0 and fill.sum() == 0


@pytest.mark.parametrize('text', [False, True])
def test_distmult_gate_scores_and_loss(text):
    torch.manual_seed(0)
    data = tiny_data(text)
    mods = ('structure', 'numeric', 'text') if text else ('structure',
                                                         'numeric')
    model = LiteralE.from_data(data, hidden_channels=D, modalities=mods)
    model.eval()
    lits = [official_literals(data)]
    if text:
        lits.append(data['entity'].x_text)
    e = official_gate(model.gates[0], model.node_emb.weight, lits)
    h = torch.tensor([0, 3, 6])
    r = torch.tensor([1, 0, 3])  # 3 = inverse of relation 1
    pred = (e[h] * model.rel_emb.weight[r]) @ e.t()  # DistMultLiteral_gate
    assert torch.allclose(model.score_tails(h, r), pred, atol=1e-5)
    t = torch.tensor([2, 2, 5])
    assert torch.allclose(model(h, r, t), pred[torch.arange(3), t],
                          atol=1e-5)
    targets = torch.zeros(3, N)
    targets[0, 2] = targets[1, 4] = targets[2, 0] = 1.0
    loss = model.training_loss(TrainBatch('kvsall', h, r, targets=targets),
                               model.encode())
    assert torch.allclose(loss, bce(torch.sigmoid(pred), targets), atol=1e-5)


@pytest.mark.parametrize('gate', ['gated', 'linear'])
def test_complex_two_gates(gate):
    torch.manual_seed(0)
    data = tiny_data()
    model = LiteralE.from_data(data, hidden_channels=D, scorer='complex',
                               gate=gate)
    model.eval()
    assert len(model.gates) == 2
    lit = official_literals(data)

    def g(gate_mod, e):
        if gate == 'gated':
            return official_gate(gate_mod, e, [lit])
        # ComplexLiteral: Sequential(Linear(d + L, d), Tanh())
        return torch.tanh(torch.cat([e, lit], 1) @ gate_mod.lin.weight.t()
                          + gate_mod.lin.bias)

    e_re = g(model.gates[0], model.node_emb.weight)
    e_im = g(model.gates[1], model.node_emb_im.weight)
    h, r = torch.tensor([0, 3, 5]), torch.tensor([0, 1, 2])
    rr, ri = model.rel_emb.weight[r], model.rel_emb_im.weight[r]
    # ComplexLiteral_gate.forward:
    pred = ((e_re[h] * rr) @ e_re.t() + (e_re[h] * ri) @ e_im.t() +
            (e_im[h] * rr) @ e_im.t() - (e_im[h] * ri) @ e_re.t())
    assert torch.allclose(model.score_tails(h, r), pred, atol=1e-5)


def test_distmult_glin_has_no_tanh():
    torch.manual_seed(0)
    data = tiny_data()
    model = LiteralE.from_data(data, hidden_channels=D, gate='linear')
    model.eval()
    lin = model.gates[0].lin
    # DistMultLiteral: emb_num_lit = Linear(d + L, d), no activation.
    e = torch.cat([model.node_emb.weight, official_literals(data)], 1)
    e = e @ lin.weight.t() + lin.bias
    h, r = torch.tensor([1, 2]), torch.tensor([0, 1])
    pred = (e[h] * model.rel_emb.weight[r]) @ e.t()
    assert torch.allclose(model.score_tails(h, r), pred, atol=1e-5)


def test_input_dropout_hits_the_query_only():
    torch.manual_seed(0)
    data = tiny_data()
    model = LiteralE.from_data(data, hidden_channels=D, input_dropout=0.5)
    model.train()
    ent, rel = model.encode()
    h, r = torch.tensor([0, 1, 2, 4]), torch.tensor([0, 1, 2, 3])
    torch.manual_seed(5)
    got = model.score_tails(h, r, encoded=(ent, rel))
    torch.manual_seed(5)
    drop = torch.nn.Dropout(0.5)
    expected = (drop(ent[h]) * drop(rel[r])) @ ent.t()
    assert torch.allclose(got, expected, atol=1e-6)


def test_literals_matter_and_missing_rows_use_the_fill():
    torch.manual_seed(0)
    data = tiny_data()
    model = LiteralE.from_data(data, hidden_channels=D)
    lit = model.literals()[0]
    fill = official_literals(data)[3]  # entity without literals
    assert torch.allclose(lit[3], fill, atol=1e-6)
    before = model.score_tails(torch.tensor([0]), torch.tensor([0]))
    with model.ablate('numeric', 'shuffle'):
        after = model.score_tails(torch.tensor([0]), torch.tensor([0]))
    assert not torch.allclose(before, after)


def test_published_recipe():
    # SmartDataAnalytics/LiteralE@0b0c48f README.md ("input_drop 0.2
    # batch_size 128 epochs 100 lr 0.001"), main_literal.py
    # (Config.embedding_dim = 200; Adam(weight_decay=Config.L2 = 0); label
    # smoothing commented out; BCELoss over all entities).
    recipe = get_recipe(LiteralE, 'FB15k-237')
    c = recipe.config
    assert (c['regime'], c['loss'], c['label_smoothing']) == ('kvsall', 'bce',
                                                              0.0)
    assert (c['optimizer'], c['lr'], c['weight_decay']) == ('adam', 0.001, 0)
    assert (c['batch_size'], c['epochs'], c['dim']) == (128, 100, 200)
    assert c['model_kwargs'] == {'input_dropout': 0.2}
    config = TrainConfig(model='literale').with_recipe(recipe)
    assert config.reciprocal and config.loss_name == 'bce'


def test_ce_objective_for_short_budgets():
    torch.manual_seed(0)
    data = tiny_data()
    model = LiteralE.from_data(data, hidden_channels=D, objective='ce')
    model.eval()
    h, r = torch.tensor([0, 3]), torch.tensor([1, 2])
    targets = torch.zeros(2, N)
    targets[0, 2] = targets[0, 5] = targets[1, 1] = 1.0
    scores = model.score_tails(h, r)
    # -sum_e q_e log softmax(s)_e with q the normalised multi-hot targets:
    q = targets / targets.sum(1, keepdim=True)
    expected = -(q * torch.log_softmax(scores, -1)).sum(1).mean()
    loss = model.training_loss(TrainBatch('kvsall', h, r, targets=targets),
                               model.encode())
    assert torch.allclose(loss, expected, atol=1e-6)
