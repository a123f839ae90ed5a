r"""Link prediction evaluation: filtered, both-side, tie-aware ranking."""
from .filter import FilterIndex
from .ranks import NaNScoreError, Ranks, compute_ranks, rank_metrics
from .result import EvaluationResult
from .evaluate import evaluate, kge_test

__all__ = [
    'FilterIndex',
    'Ranks',
    'NaNScoreError',
    'compute_ranks',
    'rank_metrics',
    'EvaluationResult',
    'evaluate',
    'kge_test',
]
