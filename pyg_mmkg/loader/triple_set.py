from typing import Optional

from torch import Tensor

from pyg_mmkg.utils._triple_csr import MAX_KEY as _MAX_KEY
from pyg_mmkg.utils._triple_csr import num_or_max as _num_or_max
from pyg_mmkg.utils.triple_index import TripleIndex

__all__ = ['TripleSet', '_MAX_KEY', '_num_or_max']


class TripleSet(TripleIndex):
    r"""A set of known true triples :math:`(h, r, t)` which supports
    vectorised membership queries and exact uniform sampling of corrupted
    triples that are *not* in the set.

    This is :class:`pyg_mmkg.utils.TripleIndex` (the same structure serves
    the filtered ranking of :class:`pyg_mmkg.evaluation.FilterIndex`) under
    its loader name, kept for backward compatibility. Two legacy behaviours
    differ from :class:`~pyg_mmkg.utils.TripleIndex`:

    - :meth:`to` moves the index *in place* and returns :obj:`self`.
    - The constructor still refuses graphs with
      :math:`N^2 R \geq 2^{62}` (the bound of the former
      :math:`(h R + r) N + t` keys); build a
      :class:`~pyg_mmkg.utils.TripleIndex` directly for larger graphs
      (:class:`~pyg_mmkg.loader.NegativeSampler` does).

    Args:
        head_index (torch.Tensor): The head indices.
        rel_type (torch.Tensor): The relation types.
        tail_index (torch.Tensor): The tail indices.
        num_nodes (int, optional): The number of entities :math:`N`.
            (default: :obj:`None`, inferred from the triples)
        num_relations (int, optional): The number of relations :math:`R`.
            (default: :obj:`None`, inferred from the triples)
    """
    def __init__(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
        num_nodes: Optional[int] = None,
        num_relations: Optional[int] = None,
    ):
        if head_index.numel() == rel_type.numel() == tail_index.numel():
            N = _num_or_max(num_nodes, head_index.view(-1),
                            tail_index.view(-1))
            R = _num_or_max(num_relations, rel_type.view(-1))
            if N * N * max(R, 1) >= _MAX_KEY:
                raise ValueError(f"Cannot hash triples of a graph with {N} "
                                 f"entities and {R} relations into int64 "
                                 f"keys")
        super().__init__(head_index, rel_type, tail_index, num_nodes,
                         num_relations)

    def to(self, device) -> 'TripleSet':
        r"""Moves the stored tensors to :obj:`device` (in place).

        Args:
            device (torch.device or str): The target device.
        """
        return self._move(self, device)
