r"""Triple loaders for sLCWA (k negatives) and LCWA (1-N) training."""

from .triple_set import TripleSet
from .negative_sampler import NegativeSampler, bernoulli_head_probability
from .triple_loader import TripleBatch, TripleLoader
from .kvsall_loader import KvsAllBatch, KvsAllLoader
from .link_neighbor import link_neighbor_loader

__all__ = [
    'TripleSet',
    'NegativeSampler',
    'bernoulli_head_probability',
    'TripleBatch',
    'TripleLoader',
    'KvsAllBatch',
    'KvsAllLoader',
    'link_neighbor_loader',
]
