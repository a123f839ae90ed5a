import copy
import json
import math
import warnings

import pytest
import torch

from pyg_mmkg.nn.kge import DistMult
from pyg_mmkg.train import (TrainConfig, Trainer, build_model,
                            load_checkpoint, read_jsonl,
                            seed_everything)

from train_testing import NUM_NODES, NUM_RELATIONS

# Exact comparisons run on the CPU (CUDA's atomic adds are not
# deterministic; see test_cuda.py for the GPU).
BASE = dict(model='rotate', regime='slcwa', dim=8, epochs=4, batch_size=32,
            eval_every=1, lr=0.05, progress=False, num_negatives=4,
            label_smoothing=0.0, patience=None, device='cpu')


def make_trainer(kg, run_dir=None, build_seed=None, plot=False, **kwargs):
    config = TrainConfig(**{**BASE, **kwargs})
    seed_everything(config.seed if build_seed is None else build_seed)
    model = build_model(config, kg)
    return Trainer(model, kg, config, run_dir=run_dir, trackers=[],
                   plot=plot)


def params(model):
    return {k: v.detach().clone() if torch.is_tensor(v) else copy.deepcopy(v)
            for k, v in model.state_dict().items()}


def assert_same(a, b, key=''):
    if torch.is_tensor(a):
        assert torch.is_tensor(b) and torch.equal(a, b), key
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), key
        for k in a:
            assert_same(a[k], b[k], f'{key}.{k}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), key
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f'{key}[{i}]')
    else:
        assert a == b, key


def assert_same_params(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert_same(a[key], b[key], key)


def records(run_dir):
    # Metrics without wall-clock times:
    return [{k: v for k, v in r.items() if not k.startswith('time/')}
            for r in read_jsonl(run_dir / 'metrics.jsonl')]


class Crash(Exception):
    pass


class CrashAt:
    r"""A tracker that raises while logging epoch `step`, i.e. after that
    epoch trained but before its checkpoint was written."""
    def __init__(self, step):
        self.step = step

    def log_params(self, params):
        pass

    def log_metrics(self, metrics, step):
        if step == self.step:
            raise Crash()

    def truncate(self, step):
        pass

    def close(self):
        pass


# A case that uses every piece of state: the global torch RNG (TuckER's
# dropout), the loader generator (shuffling, Bernoulli negatives), Adam's
# moments, a scheduler and early-stopping bookkeeping.
CASES = [
    dict(model='rotate', regime='slcwa', sampler='bernoulli',
         scheduler='step', scheduler_kwargs=dict(step_size=3, gamma=0.5)),
    dict(model='tucker', regime='kvsall', label_smoothing=0.1,
         scheduler='cosine', scheduler_kwargs=dict(T_0=3), patience=10,
         model_kwargs=dict(relation_channels=4)),
    # MoMoK: gate noise, and the CLUB estimator's own Adam moments, which
    # travel as module extra state.
    dict(model='momok', regime='kvsall', label_smoothing=0.1,
         modalities=['structure'], model_kwargs=dict(mu=1.0)),
]


@pytest.mark.parametrize('case', CASES, ids=['slcwa', 'kvsall', 'momok'])
def test_resume_after_crash_equals_uninterrupted_run(kg, tmp_path, case):
    from pyg_mmkg.train import JSONLinesTracker
    straight = make_trainer(kg, tmp_path / 'a', **case)
    straight.tracker.trackers = [JSONLinesTracker(tmp_path / 'a' /
                                                  'metrics.jsonl')]
    res_a = straight.fit()

    crashing = make_trainer(kg, tmp_path / 'b', **case)
    crashing.tracker.trackers = [
        JSONLinesTracker(tmp_path / 'b' / 'metrics.jsonl'),
        CrashAt(3)
    ]
    with pytest.raises(Crash):
        crashing.fit()
    assert load_checkpoint(tmp_path / 'b' / 'checkpoints' /
                           'last.pt')['epoch'] == 2
    # A fresh process: other initial weights, other global RNG state.
    resumed = make_trainer(kg, tmp_path / 'b', build_seed=123, **case)
    resumed.tracker.trackers = [JSONLinesTracker(tmp_path / 'b' /
                                                 'metrics.jsonl')]
    torch.rand(7)
    res_b = resumed.fit(resume=True)

    for name in ('last.pt', 'best.pt'):
        a = load_checkpoint(tmp_path / 'a' / 'checkpoints' / name)
        b = load_checkpoint(tmp_path / 'b' / 'checkpoints' / name)
        assert_same_params(a['model'], b['model'])
    assert_same_params(params(straight.model), params(resumed.model))
    for key in ('best_epoch', 'epochs_trained', 'val', 'test'):
        assert res_a[key] == res_b[key]
    # The log of the resumed run is that of the straight run (the record of
    # the crashed epoch 3 was dropped and rewritten):
    assert records(tmp_path / 'a') == records(tmp_path / 'b')
    assert [r['step'] for r in records(tmp_path / 'b')] == [1, 2, 3, 4]


def test_resume_with_more_epochs_equals_longer_run(kg, tmp_path):
    case = CASES[0]
    res_a = make_trainer(kg, tmp_path / 'a', **case).fit()
    make_trainer(kg, tmp_path / 'b', **{**case, 'epochs': 2}).fit()
    resumed = make_trainer(kg, tmp_path / 'b', build_seed=5, **case)
    res_b = resumed.fit(resume=True)
    assert res_b['epochs_trained'] == 4
    assert res_a['val'] == res_b['val'] and res_a['test'] == res_b['test']
    a = load_checkpoint(tmp_path / 'a' / 'checkpoints' / 'last.pt')
    b = load_checkpoint(tmp_path / 'b' / 'checkpoints' / 'last.pt')
    assert_same_params(a['model'], b['model'])
    assert_same_params(a['optimizer']['state'][0],
                       b['optimizer']['state'][0])


def test_checkpoint_contents(kg, tmp_path):
    trainer = make_trainer(kg, tmp_path, epochs=2, scheduler='step',
                           patience=3)
    trainer.fit()
    ckpt = load_checkpoint(tmp_path / 'checkpoints' / 'last.pt')
    assert ckpt['epoch'] == 2 and ckpt['finished']
    assert set(ckpt['rng']) >= {'python', 'numpy', 'torch', 'generator'}
    assert ckpt['scheduler']['last_epoch'] == 2
    assert ckpt['early_stopping']['best_epoch'] in (1, 2)
    assert ckpt['config']['epochs'] == 2
    assert len(ckpt['optimizer']['state']) > 0
    best = load_checkpoint(tmp_path / 'checkpoints' / 'best.pt')
    assert best['epoch'] == ckpt['early_stopping']['best_epoch']
    assert math.isclose(best['val']['mrr'],
                        ckpt['early_stopping']['best_value'])


def test_existing_run_needs_resume(kg, tmp_path):
    make_trainer(kg, tmp_path, epochs=1).fit()
    with pytest.raises(FileExistsError, match='resume=True'):
        make_trainer(kg, tmp_path, epochs=1).fit()
    with pytest.raises(FileNotFoundError, match='no checkpoint'):
        make_trainer(kg, tmp_path / 'other', epochs=1).fit(resume=True)


def test_same_seed_same_result_other_seed_differs(kg):
    runs = [make_trainer(kg, seed=s, epochs=2) for s in (0, 0, 1)]
    results = [r.fit() for r in runs]
    assert_same_params(params(runs[0].model), params(runs[1].model))
    assert results[0]['test'] == results[1]['test']
    a, c = params(runs[0].model), params(runs[2].model)
    assert any(not torch.equal(a[k], c[k]) for k in a)


class FakeEval:
    r"""Replaces `Trainer.evaluate`: returns a scripted validation MRR per
    call, a test MRR that would prefer the *last* epoch, and records the
    calls and the weights seen at each validation."""
    def __init__(self, trainer, val_mrrs):
        self.trainer = trainer
        self.val_mrrs = list(val_mrrs)
        self.calls = []
        self.weights = {}

    def __call__(self, split='val', **kwargs):
        epoch = self.trainer.epoch
        self.calls.append((split, epoch))
        if self.trainer.finished:  # Final evaluation of the best model.
            mrr = float(epoch) if split == 'test' else 0.5
        else:
            assert split == 'val'
            self.weights[epoch] = params(self.trainer.model)
            mrr = self.val_mrrs[len(self.weights) - 1]
        return {'both': {'mrr': mrr, 'mr': 1.0 / max(mrr, 1e-3),
                         'hits@1': mrr, 'hits@3': mrr, 'hits@10': mrr}}


@pytest.mark.parametrize('run_dir', [False, True])
def test_early_stopping_and_selection_use_validation_only(kg, tmp_path,
                                                          run_dir):
    trainer = make_trainer(kg, tmp_path if run_dir else None, epochs=20,
                           patience=3)
    fake = FakeEval(trainer, [0.1, 0.4, 0.3, 0.35, 0.39, 0.9, 0.95])
    trainer.evaluate = fake
    results = trainer.fit()
    # Epoch 2 is best; three validations without improvement stop the run.
    assert results['best_epoch'] == 2
    assert results['epochs_trained'] == 5 and results['stopped_early']
    # The test split is evaluated once, after training, on the best model:
    splits = [s for s, _ in fake.calls]
    assert splits == ['val'] * 5 + ['val', 'test']
    assert_same_params(params(trainer.model), fake.weights[2])
    assert results['val']['mrr'] == 0.5  # Re-evaluated best model.
    assert results['test']['mrr'] == 5.0
    if run_dir:
        saved = json.loads((tmp_path / 'results.json').read_text())
        assert saved['best_epoch'] == 2
        best = load_checkpoint(tmp_path / 'checkpoints' / 'best.pt')
        assert_same_params(best['model'], fake.weights[2])


def test_eval_every_and_no_patience(kg):
    trainer = make_trainer(kg, epochs=5, eval_every=2)
    fake = FakeEval(trainer, [0.3, 0.2, 0.1])
    trainer.evaluate = fake
    results = trainer.fit()
    assert fake.calls[:3] == [('val', 2), ('val', 4), ('val', 5)]
    assert results['best_epoch'] == 2 and not results['stopped_early']
    assert [h.get('val/mrr') for h in trainer.history] == [
        None, 0.3, None, 0.2, 0.1]


class HookedDistMult(DistMult):
    r"""Overrides encode (like a multimodal model) and the loss."""
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.encode_calls = 0
        self.hook_calls = 0

    def encode(self):
        self.encode_calls += 1
        return super().encode()

    def training_loss(self, batch, encoded):
        self.hook_calls += 1
        assert batch.regime == 'slcwa' and batch.neg_head.shape[1] == 4
        ent, rel = encoded
        # Pull every entity representation to zero:
        return ent.pow(2).sum()


def test_training_loss_hook_and_one_encode_per_step(kg):
    torch.manual_seed(0)
    model = HookedDistMult(NUM_NODES, NUM_RELATIONS, 8)
    config = TrainConfig(**{**BASE, 'epochs': 3, 'lr': 0.1})
    trainer = Trainer(model, kg, config, trackers=[], plot=False)
    trainer.evaluate = FakeEval(trainer, [0.1, 0.2, 0.3])
    norm = model.node_emb.weight.norm().item()
    trainer.fit()
    steps = 3 * len(trainer.batches)
    assert model.hook_calls == steps
    assert model.encode_calls == steps
    assert model.node_emb.weight.norm().item() < 0.5 * norm


class DeclinedHook(DistMult):
    def training_loss(self, batch, encoded):
        return None  # Use the trainer's loss.


def test_hook_returning_none_uses_configured_loss(kg):
    torch.manual_seed(0)
    a = DistMult(NUM_NODES, NUM_RELATIONS, 8)
    torch.manual_seed(0)
    b = DeclinedHook(NUM_NODES, NUM_RELATIONS, 8)
    for model in (a, b):
        trainer = Trainer(model, kg, TrainConfig(**{**BASE, 'epochs': 1}),
                          trackers=[], plot=False)
        trainer.evaluate = FakeEval(trainer, [0.1])
        trainer.fit()
    # Same loss and updates; the plain model gathers its rows with one
    # lookup, the hooked one indexes `encode()`, so only float rounding of
    # the gradient sums may differ.
    pa, pb = params(a), params(b)
    assert pa.keys() == pb.keys()
    for key in pa:
        assert torch.allclose(pa[key], pb[key], rtol=1e-5, atol=1e-6), key


@pytest.mark.parametrize('regime,model,loss,extra', [
    ('slcwa', 'rotate', 'nssa', dict(model_kwargs=dict(margin=6.0))),
    ('slcwa', 'transe', 'margin', dict(model_kwargs=dict(p_norm=2.0))),
    ('slcwa', 'complex', 'softplus', {}),
    ('kvsall', 'complex', 'bce', {}),
    ('1vsall', 'complex', 'ce', {}),
])
def test_regimes_learn(kg, regime, model, loss, extra):
    # Relation 1 is the inverse of 0 and relation 2 a copy of it, so that
    # test triples follow from training ones (TransE cannot close the cycle
    # of relation 0 and stays lower).
    kwargs = dict(regime=regime, model=model, loss=loss, epochs=25, dim=16,
                  eval_every=25, lr=0.05, num_negatives=8, **extra)
    untrained = make_trainer(kg, **kwargs)
    before = untrained.evaluate('test')['both']['mrr']
    results = make_trainer(kg, **kwargs).fit()
    target = 0.25 if model == 'transe' else 0.9
    assert before < 0.2 and results['test']['mrr'] > target


def test_regularizer_changes_training(kg):
    a = make_trainer(kg, model='complex', epochs=1)
    b = make_trainer(kg, model='complex', epochs=1, regularizer='n3',
                     regularizer_weight=0.1)
    for t in (a, b):
        t.evaluate = FakeEval(t, [0.1])
        t.fit()
    pa, pb = params(a.model), params(b.model)
    assert pb['node_emb.weight'].norm() < pa['node_emb.weight'].norm()


def test_plateau_scheduler_and_grad_clip(kg):
    trainer = make_trainer(kg, epochs=4, scheduler='plateau', grad_clip=0.1,
                           scheduler_kwargs=dict(patience=0, factor=0.5))
    trainer.evaluate = FakeEval(trainer, [0.3, 0.2, 0.1, 0.05])
    trainer.fit()
    lrs = [h['lr'] for h in trainer.history]
    assert lrs[0] == 0.05 and lrs[-1] == pytest.approx(0.05 * 0.5**2)


def test_amp_is_ignored_on_cpu(kg):
    with pytest.warns(UserWarning, match='amp=True is ignored on CPU'):
        trainer = make_trainer(kg, amp=True, device='cpu', epochs=1)
    assert not trainer.amp


def test_non_finite_loss_raises(kg):
    trainer = make_trainer(kg, epochs=1, lr=1e30, model='distmult',
                           loss='softplus')
    trainer.evaluate = FakeEval(trainer, [0.1])
    with pytest.raises(FloatingPointError, match='Non-finite'):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            for _ in range(3):
                trainer.train_epoch()


def test_plain_pyg_model_trains_with_slcwa_only(kg):
    from torch_geometric.nn.kge import DistMult as PyGDistMult
    torch.manual_seed(0)
    model = PyGDistMult(NUM_NODES, NUM_RELATIONS, 8)
    weight = model.node_emb.weight.detach().clone()
    trainer = Trainer(model, kg, TrainConfig(**{**BASE, 'epochs': 2}),
                      trackers=[], plot=False)
    results = trainer.fit()
    assert 0 < results['test']['mrr'] <= 1
    assert not torch.equal(weight, model.node_emb.weight)
    with pytest.raises(ValueError, match="needs a model with 'score_tails'"):
        Trainer(model, kg, TrainConfig(**{**BASE, 'regime': 'kvsall'}))
    with pytest.raises(ValueError, match='reciprocal=True'):
        Trainer(DistMult(NUM_NODES, NUM_RELATIONS, 8), kg,
                TrainConfig(**{**BASE, 'regime': '1vsall'}))


class EndHook(DistMult):
    def on_fit_end(self, trainer):
        # Runs on the validation-selected weights, before the final tests:
        assert trainer.finished
        self.rel_emb.weight.data.zero_()


def test_on_fit_end_hook_runs_before_final_evaluation(kg, tmp_path):
    torch.manual_seed(0)
    model = EndHook(NUM_NODES, NUM_RELATIONS, 8)
    trainer = Trainer(model, kg, TrainConfig(**{**BASE, 'epochs': 2}),
                      run_dir=tmp_path, trackers=[], plot=False)
    results = trainer.fit()
    # All-zero relations give all candidates the score 0: realistic ties.
    assert results['test']['mr'] == pytest.approx((NUM_NODES + 1) / 2)
    best = load_checkpoint(tmp_path / 'checkpoints' / 'best.pt')
    assert best['model']['rel_emb.weight'].abs().sum() == 0


def test_min_epochs_delays_early_stopping(kg):
    trainer = make_trainer(kg, epochs=20, patience=3, min_epochs=8)
    fake = FakeEval(trainer, [0.1, 0.4, 0.3, 0.35, 0.39, 0.2, 0.2, 0.2,
                              0.2, 0.2])
    trainer.evaluate = fake
    results = trainer.fit()
    # Without min_epochs the run stops at epoch 5 (see above); now the
    # patience can only end it from epoch 8 on.
    assert results['epochs_trained'] == 8 and results['stopped_early']
    assert results['best_epoch'] == 2


def test_max_time_budget_validates_last_epoch(kg, monkeypatch):
    import pyg_mmkg.train.trainer as trainer_module
    clock = iter(range(0, 10_000, 10))  # every call: 10 more seconds
    monkeypatch.setattr(trainer_module.time, 'perf_counter',
                        lambda: float(next(clock)))
    trainer = make_trainer(kg, epochs=50, eval_every=10, max_time_s=35.0)
    fake = FakeEval(trainer, [0.1, 0.2, 0.3, 0.4])
    trainer.evaluate = fake
    results = trainer.fit()
    assert results['epochs_trained'] < 50 and not results['stopped_early']
    # The epoch that ran out of time was validated although eval_every=10.
    last = results['epochs_trained']
    assert fake.calls[0] == ('val', last)
    assert results['best_epoch'] == last
