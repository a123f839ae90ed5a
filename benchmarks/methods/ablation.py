r"""Shared by the method benchmark scripts: test metrics of a trained model
with one modality shuffled across entities, averaged over permutations."""
from typing import Any, Dict

from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.train.trainer import summarize


def shuffled_test_metrics(model: Any, data: Any, modality: str = 'text',
                          num_permutations: int = 3) -> Dict[str, float]:
    r"""Filtered test metrics (both sides) with :obj:`modality` shuffled by
    permutation seeds :obj:`0 .. num_permutations - 1`, averaged."""
    model.eval()
    h, r, t = triples(data, 'test')
    fi = filter_index(data)
    runs = []
    for seed in range(num_permutations):
        with model.ablate(modality, 'shuffle', seed=seed):
            runs.append(summarize(evaluate(model, h, r, t, filter_index=fi)))
    return {k: sum(x[k] for x in runs) / len(runs) for k in runs[0]}
