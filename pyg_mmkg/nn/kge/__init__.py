r"""Knowledge graph embedding models and scoring functions."""

from .scorer import Scorer
from .transe_scorer import TransEScorer
from .distmult_scorer import DistMultScorer
from .complex_scorer import ComplExScorer
from .rotate_scorer import RotatEScorer
from .tucker_scorer import TuckERScorer
from .model import ScoredKGEModel
from .transe import TransE
from .distmult import DistMult
from .complex import ComplEx
from .rotate import RotatE
from .tucker import TuckER

__all__ = classes = [
    'Scorer',
    'TransEScorer',
    'DistMultScorer',
    'ComplExScorer',
    'RotatEScorer',
    'TuckERScorer',
    'ScoredKGEModel',
    'TransE',
    'DistMult',
    'ComplEx',
    'RotatE',
    'TuckER',
]
