r"""Relational message passing encoders over the training graph."""

from .base import RelationalEncoder
from .rgcn import RGCNEncoder
from .compgcn_conv import CompGCNConv, circular_correlation, compose
from .compgcn import CompGCNEncoder
from .conv import ConvEncoder

__all__ = [
    'RelationalEncoder',
    'RGCNEncoder',
    'CompGCNConv',
    'CompGCNEncoder',
    'ConvEncoder',
    'circular_correlation',
    'compose',
]
