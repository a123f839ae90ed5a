r"""The MoSE meta-learner (MI) fit: local randomness and a hold-out split
by triple."""
import torch

from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.nn.models import MoSE


def test_fit_meta_leaves_the_global_rng_alone(mm_data):
    torch.manual_seed(0)
    model = MoSE.from_data(mm_data, hidden_channels=4, init_scale=0.5)
    fi = filter_index(mm_data)
    h, r, t = triples(mm_data, 'val')
    states = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        before = torch.get_rng_state()
        model.fit_ensemble(h, r, t, method='meta', filter_index=fi,
                           epochs=3, seed=7)
        assert torch.equal(torch.get_rng_state(), before)
        states.append({k: v.clone()
                       for k, v in model.meta.state_dict().items()})
    # The fit depends on `seed` only, not on the global state:
    for k, v in states[0].items():
        assert torch.equal(v, states[1][k]), k


def test_meta_holdout_keeps_both_directions_of_a_triple_together(mm_data):
    r"""Each triple's tail query (h, r, ?) and head query (?, r, t) are
    both used for fitting (with gradients) or both held out for the epoch
    choice (without)."""
    torch.manual_seed(0)
    model = MoSE.from_data(mm_data, hidden_channels=4, init_scale=0.5)
    fi = filter_index(mm_data)
    # Distinct heads and distinct tails identify the triple of each query:
    n = 10
    h = torch.arange(n)
    t = torch.arange(n) + n
    r = torch.arange(n) % model.num_relations
    seen = {}
    real_tails, real_heads = model.branch_score_tails, model.branch_score_heads

    def record(ids, fitting):
        for i in ids.tolist():
            seen.setdefault(i, set()).add(fitting)

    def tails(head_index, rel_type, encoded=None):
        direct = rel_type < model.num_relations  # Not via score_heads.
        record(head_index[direct], torch.is_grad_enabled())
        return real_tails(head_index, rel_type, encoded)

    def heads(rel_type, tail_index, encoded=None):
        record(tail_index - n, torch.is_grad_enabled())
        return real_heads(rel_type, tail_index, encoded)
    model.branch_score_tails, model.branch_score_heads = tails, heads
    for seed in range(4):
        seen.clear()
        model.fit_ensemble(h, r, t, method='meta', filter_index=fi,
                           epochs=1, holdout=0.5, seed=seed)
        assert set(seen) == set(range(n))
        assert all(len(v) == 1 for v in seen.values()), seen
        assert sum(True in v for v in seen.values()) == n // 2
