r"""IMF's optional structural pre-training (official stage 0 with the
library's R-GCN / CompGCN instead of KBGAT): the TransE margin loss against
a transcription of the official ``GAT.loss_func``
(HestiaSky/IMF-Pytorch@df883e4 ``models/model.py``), the negatives, the
tables written, no use of validation or test triples, errors, and the
trainer / command-line path."""
import copy
import json

import pytest
import torch
import torch.nn.functional as F

from pyg_mmkg.data import make_kg_data, triples
from pyg_mmkg.nn.models import IMF
from pyg_mmkg.nn.models._imf_pretrain import (corrupt, pretrain_structure,
                                              transe_margin_loss)
from pyg_mmkg.utils import TripleIndex

D = 8


def make_data(num_nodes: int = 24, num_triples: int = 120):
    # A random structure-only graph with 3 relations (splits may overlap).
    gen = torch.Generator().manual_seed(0)
    h, r, t = (torch.randint(0, n, (num_triples, ), generator=gen)
               for n in (num_nodes, 3, num_nodes))
    a, b = int(0.7 * num_triples), int(0.85 * num_triples)
    return make_kg_data([f'e{i}' for i in range(num_nodes)],
                        [f'r{i}' for i in range(3)],
                        {'train': (h[:a], r[:a], t[:a]),
                         'val': (h[a:b], r[a:b], t[a:b]),
                         'test': (h[b:], r[b:], t[b:])},
                        allow_split_overlap=True)


def official_loss(ent, rel, pos, neg_rows, num_negatives, margin=1.0):
    # GAT.loss_func: the batch is [positives; negatives], the negatives in
    # blocks of B rows (row m paired with positive m % B by
    # pos_triples.repeat(neg_num, 1)), L1 TransE norms, margin ranking loss
    # with target -1.
    train_indices = torch.cat([pos, neg_rows])
    len_pos = int(train_indices.shape[0] / (num_negatives + 1))
    pos_triples = train_indices[:len_pos].repeat(num_negatives, 1)
    neg_triples = train_indices[len_pos:]
    x = (ent[pos_triples[:, 0]] + rel[pos_triples[:, 1]] -
         ent[pos_triples[:, 2]])
    pos_norm = torch.norm(x, p=1, dim=1)
    x = (ent[neg_triples[:, 0]] + rel[neg_triples[:, 1]] -
         ent[neg_triples[:, 2]])
    neg_norm = torch.norm(x, p=1, dim=1)
    y = -torch.ones(num_negatives * len_pos)
    return F.margin_ranking_loss(pos_norm, neg_norm, y, margin=margin)


def test_transe_margin_loss_matches_official():
    gen = torch.Generator().manual_seed(0)
    N, R, B, k = 7, 3, 5, 4
    ent = 0.3 * torch.randn(N, D, generator=gen)
    rel = 0.3 * torch.randn(R, D, generator=gen)
    h = torch.randint(0, N, (B, ), generator=gen)
    r = torch.randint(0, R, (B, ), generator=gen)
    t = torch.randint(0, N, (B, ), generator=gen)
    nh = torch.randint(0, N, (B, k), generator=gen)
    nt = torch.randint(0, N, (B, k), generator=gen)
    pos = torch.stack([h, r, t], dim=1)
    # Negative [i, j] is official row j * B + i:
    neg_rows = torch.cat([torch.stack([nh[:, j], r, nt[:, j]], dim=1)
                          for j in range(k)])
    for margin in (1.0, 0.25):
        expected = official_loss(ent, rel, pos, neg_rows, k, margin)
        out = transe_margin_loss(ent, rel, h, r, t, nh, nt, margin)
        assert 0 < float(expected)
        torch.testing.assert_close(out, expected)


def test_corrupt_replaces_one_side_and_avoids_training_triples():
    # A dense graph: 3 entities, 1 relation, most pairs are true triples.
    h = torch.tensor([0, 0, 1, 2, 1])
    r = torch.zeros(5, dtype=torch.long)
    t = torch.tensor([1, 2, 0, 0, 1])
    index = TripleIndex(h, r, t, num_nodes=3, num_relations=1)
    known = {(a, b, c) for a, b, c in zip(*(x.tolist() for x in (h, r, t)))}
    gen = torch.Generator().manual_seed(0)
    nh, nt = corrupt(index, h, r, t, 5, 3, gen)
    assert nh.shape == nt.shape == (5, 5)
    # Columns 0-1 (k // 2) replace the head, columns 2-4 the tail:
    assert torch.equal(nt[:, :2], t.view(-1, 1).expand(5, 2))
    assert torch.equal(nh[:, 2:], h.view(-1, 1).expand(5, 3))
    # Every positive has at least one free head and one free tail here, so
    # no negative may be a training triple:
    for a, c in zip(nh.flatten().tolist(), nt.flatten().tolist()):
        assert (a, 0, c) not in known


@pytest.mark.parametrize('encoder', ['rgcn', 'compgcn'])
def test_pretraining_lowers_the_loss_and_writes_the_tables(encoder):
    data = make_data()
    torch.manual_seed(0)
    model = IMF.from_data(data, hidden_channels=D, modalities=['structure'])
    R = model.num_relations
    h, r, t = triples(data, 'train')
    nh, nt = corrupt(None, h, r, t, 2, model.num_nodes,
                     torch.Generator().manual_seed(5))

    def table_loss():
        with torch.no_grad():
            return float(transe_margin_loss(model.node_emb.weight,
                                            model.rel_emb.weight[:R], h, r,
                                            t, nh, nt))

    before = table_loss()
    info = pretrain_structure(model, data, encoder, epochs=60, lr=0.02,
                              seed=0)
    assert info['encoder'] == encoder and len(info['loss']) == 60
    assert info['loss'][-1] < 0.6 * info['loss'][0]
    # The tables hold the trained, L2-normalised entity outputs and the
    # relation vectors, the reciprocal rows negated (official pre_trained):
    assert table_loss() < 0.6 * before
    norms = model.node_emb.weight.norm(dim=-1)
    torch.testing.assert_close(norms, torch.ones_like(norms))
    assert torch.equal(model.rel_emb.weight[R:], -model.rel_emb.weight[:R])


def test_compgcn_inverse_rows_from_the_encoder():
    data = make_data()
    model = IMF.from_data(data, hidden_channels=D, modalities=['structure'])
    R = model.num_relations
    pretrain_structure(model, data, 'compgcn', epochs=3, inverse='encoder',
                       seed=0)
    assert not torch.allclose(model.rel_emb.weight[R:],
                              -model.rel_emb.weight[:R])


def test_validation_and_test_triples_never_change_the_tables():
    data = make_data(num_nodes=10, num_triples=200)
    other = copy.deepcopy(data)
    store = other['entity', 'to', 'entity']
    held_out = ~store.train_mask
    gen = torch.Generator().manual_seed(3)
    # Every validation and test triple replaced by a random one, among
    # them corruptions that the training negatives could otherwise draw:
    store.edge_index[:, held_out] = torch.randint(
        0, 10, (2, int(held_out.sum())), generator=gen)
    store.edge_type[held_out] = torch.randint(0, 3, (int(held_out.sum()), ),
                                              generator=gen)
    assert torch.equal(*(triples(d, 'train')[0] for d in (data, other)))
    for encoder in ('rgcn', 'compgcn'):
        tables = []
        for d in (data, other):
            torch.manual_seed(0)
            model = IMF.from_data(d, hidden_channels=D,
                                  modalities=['structure'])
            pretrain_structure(model, d, encoder, epochs=5, lr=0.05,
                               seed=1)
            tables.append((model.node_emb.weight.detach(),
                           model.rel_emb.weight.detach()))
        assert torch.equal(tables[0][0], tables[1][0])
        assert torch.equal(tables[0][1], tables[1][1])


def test_seed_leaves_the_callers_random_state():
    data = make_data()
    model = IMF.from_data(data, hidden_channels=D, modalities=['structure'])
    torch.manual_seed(123)
    state = torch.get_rng_state()
    pretrain_structure(model, data, 'rgcn', epochs=2, seed=0)
    assert torch.equal(torch.get_rng_state(), state)


def test_bad_arguments():
    data = make_data()
    model = IMF.from_data(data, hidden_channels=D, modalities=['structure'])
    with pytest.raises(ValueError, match="Unknown structural pre-training "
                       "encoder 'kbgat'.*rgcn, compgcn"):
        pretrain_structure(model, data, 'kbgat', epochs=1)
    with pytest.raises(ValueError, match="Unknown structural pre-training "
                       "encoder 'gat'"):
        IMF.from_data(data, hidden_channels=D, modalities=['structure'],
                      pretrain='gat')
    with pytest.raises(ValueError, match="inverse='encoder' needs"):
        pretrain_structure(model, data, 'rgcn', epochs=1, inverse='encoder')
    with pytest.raises(ValueError, match="add 'structure'"):
        IMF(24, 3, D, modalities=['text'],
            features={'text': (torch.randn(24, 4), torch.ones(24).bool())},
            pretrain='rgcn')
    with pytest.raises(ValueError, match="cannot set 'epochs'"):
        IMF.from_data(data, hidden_channels=D, modalities=['structure'],
                      pretrain='rgcn', pretrain_kwargs={'epochs': 3})
    with pytest.raises(ValueError, match='do not fit the data'):
        pretrain_structure((torch.zeros(3, D), torch.zeros(2, D)), data,
                           'rgcn', epochs=1)
    # Zero epochs would write an untrained encoder's outputs:
    before = model.node_emb.weight.detach().clone()
    with pytest.raises(ValueError, match='untrained'):
        pretrain_structure(model, data, 'rgcn', epochs=0)
    assert torch.equal(model.node_emb.weight, before)
    with pytest.raises(ValueError, match="'pretrain_epochs' must be >= 1"):
        IMF.from_data(data, hidden_channels=D, modalities=['structure'],
                      pretrain='rgcn', pretrain_epochs=0)
    # A misspelt option fails when the model is built, not at fit time:
    with pytest.raises(ValueError, match=r"Unknown 'pretrain_kwargs' \['lrr'\]"):
        IMF.from_data(data, hidden_channels=D, modalities=['structure'],
                      pretrain='rgcn', pretrain_kwargs={'lrr': 0.1})


def test_trainer_runs_it_on_a_new_fit_only(tmp_path):
    from pyg_mmkg.train import TrainConfig, Trainer
    data = make_data()
    config = TrainConfig(regime='kvsall', label_smoothing=0.0, epochs=1,
                         eval_every=1, progress=False, device='cpu')
    torch.manual_seed(0)
    model = IMF.from_data(data, hidden_channels=D, modalities=['structure'],
                          pretrain='compgcn', pretrain_epochs=4,
                          pretrain_kwargs={'lr': 0.05})
    start = model.node_emb.weight.detach().clone()
    seen = []
    real = model.pretrain_structure
    model.pretrain_structure = lambda d, **kw: seen.append(
        model.node_emb.weight.detach().clone()) or real(d, **kw)
    trainer = Trainer(model, data, config, run_dir=tmp_path / 'run',
                      plot=False)
    res = trainer.fit()
    assert len(seen) == 1 and torch.equal(seen[0], start)
    assert res['fit_start']['encoder'] == 'compgcn'
    assert res['fit_start']['epochs'] == 4
    trainer = Trainer(model, data, config.replace(epochs=2),
                      run_dir=tmp_path / 'run', plot=False)
    res = trainer.fit(resume=True)
    # Not run again on resume, and still reported:
    assert len(seen) == 1
    assert res['fit_start']['encoder'] == 'compgcn'
    assert res['fit_start']['epochs'] == 4


@pytest.fixture(scope='module')
def vtkg_root(tmp_path_factory):
    from pyg_mmkg.datasets import VTKG_I
    root = tmp_path_factory.mktemp('vtkg')
    VTKG_I(str(root))
    return root


def test_cli_model_kwargs_run_the_pretraining(vtkg_root, tmp_path, capsys,
                                              monkeypatch):
    from pyg_mmkg.cli import main
    args = ['train', '--dataset', 'VTKG-I', '--root', str(vtkg_root),
            '--model', 'imf', '--modalities', 'structure', '--dim', '8',
            '--epochs', '1', '--no-progress', '--num-threads', '1']
    kwargs = {'pretrain': 'compgcn', 'pretrain_epochs': 2,
              'pretrain_kwargs': {'lr': 0.01}}
    run = tmp_path / 'pre'
    assert main(args + ['--run-dir', str(run), '--model-kwargs',
                        json.dumps(kwargs)]) == 0
    results = json.loads((run / 'results.json').read_text())
    assert results['fit_start']['encoder'] == 'compgcn'
    assert results['fit_start']['epochs'] == 2
    spec = json.loads((run / 'model.json').read_text())['model']
    assert spec['arguments']['pretrain'] == 'compgcn'
    # Re-opening the run rebuilds the model without pre-training again:
    def refuse(*args, **kwargs):
        raise AssertionError('pre-training on re-open')

    monkeypatch.setattr(IMF, 'pretrain_structure', refuse)
    assert main(['evaluate', str(run), '--json']) == 0
    monkeypatch.undo()
    # Off by default (the official main has the stage commented out):
    run = tmp_path / 'plain'
    assert main(args + ['--run-dir', str(run)]) == 0
    assert 'fit_start' not in json.loads(
        (run / 'results.json').read_text())
    # A bad name fails before training, with the choices:
    capsys.readouterr()
    assert main(args + ['--run-dir', str(tmp_path / 'bad'),
                        '--model-kwargs', '{"pretrain": "kbgat"}']) == 1
    assert 'rgcn, compgcn' in capsys.readouterr().err
