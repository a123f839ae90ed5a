r"""Multimodal knowledge graph embedding methods. Every model is a
:class:`~pyg_mmkg.nn.kge.ScoredKGEModel` built with :obj:`from_data(data,
modalities=...)`, supports modality ablation (:meth:`ablate`) and an
optional relational encoder."""

from .base import (MissingModalityWarning, MultimodalKGEModel,  # noqa: F401
                   modality_ablation)
from .mose import MoSE
from .vlkge import VLKGE
from .vista import VISTA
from .momok import MoMoK
from .literale import LiteralE
from .ikrl import IKRL
from .transae import TransAE
from .rsme import RSME
from .mkgformer import MKGformer
from ._mkgformer_train import fit_two_stages as fit_mkgformer  # noqa: F401
from .imf import IMF
from .otkge import OTKGE

__all__ = classes = [
    'MoSE',
    'VLKGE',
    'VISTA',
    'MoMoK',
    'LiteralE',
    'IKRL',
    'TransAE',
    'RSME',
    'MKGformer',
    'IMF',
    'OTKGE',
]
