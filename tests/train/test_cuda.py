import pytest
import torch

from pyg_mmkg.train import TrainConfig, Trainer, build_model, seed_everything

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason='needs CUDA')

BASE = dict(dim=16, epochs=4, batch_size=32, eval_every=2, lr=0.05,
            progress=False, device='cuda', patience=None)


def make_trainer(kg, run_dir=None, **kwargs):
    config = TrainConfig(**{**BASE, **kwargs})
    seed_everything(config.seed)
    return Trainer(build_model(config, kg), kg, config, run_dir=run_dir,
                   trackers=[], plot=False)


@pytest.fixture
def deterministic():
    yield
    torch.use_deterministic_algorithms(False)


def test_cuda_resume_is_exact_in_deterministic_mode(kg, tmp_path,
                                                    deterministic):
    case = dict(model='rotate', regime='slcwa', sampler='bernoulli',
                deterministic=True, num_negatives=4)
    straight = make_trainer(kg, tmp_path / 'a', **case)
    assert straight.generator.device.type == 'cuda'
    res_a = straight.fit()
    make_trainer(kg, tmp_path / 'b', **{**case, 'epochs': 2}).fit()
    resumed = make_trainer(kg, tmp_path / 'b', seed=0, **case)
    res_b = resumed.fit(resume=True)
    assert res_a['val'] == res_b['val'] and res_a['test'] == res_b['test']
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize('regime,model', [('kvsall', 'complex'),
                                          ('slcwa', 'rotate')])
def test_amp_and_fused_adam_train_on_cuda(kg, regime, model):
    trainer = make_trainer(kg, amp=True, regime=regime, model=model,
                           epochs=25, eval_every=25,
                           model_kwargs=dict(margin=6.0) if model == 'rotate'
                           else {})
    assert trainer.amp and trainer.optimizer.defaults.get('fused') is True
    before = trainer.evaluate('test')['both']['mrr']
    results = trainer.fit()
    assert all(torch.isfinite(torch.tensor(h['loss']))
               for h in trainer.history)
    assert results['test']['mrr'] > max(2 * before, 0.5)
