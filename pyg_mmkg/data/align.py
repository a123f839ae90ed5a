r"""Re-export of :mod:`pyg_mmkg.utils.align` (its home below both
:mod:`pyg_mmkg.data` and :mod:`pyg_mmkg.features`)."""
from pyg_mmkg.utils.align import (  # noqa: F401
    NODE_TYPE_KEYS, FeatureMatchWarning, align_keys)

__all__ = ['FeatureMatchWarning', 'align_keys', 'NODE_TYPE_KEYS']
