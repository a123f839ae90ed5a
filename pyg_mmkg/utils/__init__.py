r"""Utilities below every other subpackage (imports none of them)."""
from pyg_mmkg.utils.align import FeatureMatchWarning, align_keys
from pyg_mmkg.utils.files import atomic_path, atomic_save, quote, shorten
from pyg_mmkg.utils.triple_index import TripleIndex

__all__ = ['FeatureMatchWarning', 'TripleIndex', 'align_keys', 'atomic_path',
           'atomic_save', 'quote', 'shorten']
