r"""Link prediction evaluation: filtered, both-side, tie-aware ranking."""
from .filter import FilterIndex
from .ranks import NaNScoreError, Ranks, compute_ranks, rank_metrics
from .result import EvaluationResult
from .evaluate import evaluate, kge_test
from pyg_mmkg.utils.threads import with_graph_threads

# Small graphs rank with one thread unless the user chose a number (see
# pyg_mmkg.utils.threads).
evaluate = with_graph_threads(evaluate)
from .chunked import chunked_ranks  # noqa: E402

__all__ = [
    'FilterIndex',
    'Ranks',
    'NaNScoreError',
    'compute_ranks',
    'rank_metrics',
    'EvaluationResult',
    'evaluate',
    'kge_test',
    'chunked_ranks',
]
