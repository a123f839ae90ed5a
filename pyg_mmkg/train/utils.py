"""Small helpers shared by the trainer and the CLI."""
from typing import Any, Dict

import torch

METRIC_KEYS = ('mrr', 'mr', 'hits@1', 'hits@3', 'hits@10')


def resolve_device(name: str) -> torch.device:
    r"""Maps :obj:`"auto"` to CUDA when available, else CPU."""
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if name == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' was requested but CUDA is not "
                           "available")
    return torch.device(name)


def summarize(result: Dict[str, Any]) -> Dict[str, float]:
    r"""The pooled (both sides) metrics of an evaluation result, plus the
    per-side MRR."""
    both = result.get('both', result)
    out = {k: float(both[k]) for k in METRIC_KEYS if k in both}
    for side in ('head', 'tail'):
        if side in result and 'mrr' in result[side]:
            out[f'{side}_mrr'] = float(result[side]['mrr'])
    return out
