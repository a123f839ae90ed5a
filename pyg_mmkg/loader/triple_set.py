from typing import Optional, Tuple, Union

import torch
from torch import Tensor

_MAX_KEY = 2**62


def _num_or_max(value: Optional[int], *tensors: Tensor) -> int:
    if value is not None:
        return int(value)
    return max(int(t.max()) + 1 if t.numel() > 0 else 0 for t in tensors)


def _complement_offsets(keys: Tensor, num_nodes: int) -> Tensor:
    # For sorted unique keys `group * N + e`, return `key - i`, where `i` is
    # the position of the key inside its group. Within a group with sorted
    # members `e_0 < e_1 < ...`, the `j`-th entity *not* in the group is
    # `j + #{i : e_i - i <= j}`, so these offsets allow to map uniform draws
    # from the complement to entity ids with a single `searchsorted`:
    if keys.numel() == 0:
        return keys.clone()
    _, counts = torch.unique_consecutive(keys // num_nodes,
                                         return_counts=True)
    starts = torch.cumsum(counts, dim=0) - counts
    pos = torch.arange(keys.numel(), device=keys.device)
    pos = pos - starts.repeat_interleave(counts)
    return keys - pos


class TripleSet:
    r"""A set of known true triples :math:`(h, r, t)`, stored as two sorted
    :obj:`int64` key tensors, which supports vectorised membership queries
    and exact uniform sampling of corrupted triples that are *not* in the set.

    A triple is hashed to the key :math:`(h \cdot R + r) \cdot N + t`
    (grouping the triples by :math:`(h, r)`) and to
    :math:`(t \cdot R + r) \cdot N + h` (grouping them by :math:`(r, t)`).
    Lookups use :meth:`torch.searchsorted` on the sorted keys, so no Python
    loop over triples is ever executed, and everything runs on the device
    the triples live on.

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
        head_index = head_index.view(-1).long()
        rel_type = rel_type.view(-1).long()
        tail_index = tail_index.view(-1).long()
        if not head_index.numel() == rel_type.numel() == tail_index.numel():
            raise ValueError("'head_index', 'rel_type' and 'tail_index' must "
                             "have the same number of elements")

        self.num_nodes = _num_or_max(num_nodes, head_index, tail_index)
        self.num_relations = _num_or_max(num_relations, rel_type)
        N, R = self.num_nodes, self.num_relations
        if N * N * max(R, 1) >= _MAX_KEY:
            raise ValueError(f"Cannot hash triples of a graph with {N} "
                             f"entities and {R} relations into int64 keys")

        self.tail_keys = torch.unique((head_index * R + rel_type) * N +
                                      tail_index)
        self.head_keys = torch.unique((tail_index * R + rel_type) * N +
                                      head_index)
        # Complement offsets of both sides in one sorted tensor (head side
        # shifted by `N * R * N`), so mixed head/tail draws need a single
        # `searchsorted`:
        self._shift = N * N * max(R, 1)
        self._offsets = torch.cat([
            _complement_offsets(self.tail_keys, N),
            _complement_offsets(self.head_keys, N) + self._shift,
        ])

    @classmethod
    def from_triples(
        cls,
        triples: Tuple[Tensor, Tensor, Tensor],
        num_nodes: Optional[int] = None,
        num_relations: Optional[int] = None,
    ) -> 'TripleSet':
        r"""Builds a :class:`TripleSet` from a tuple
        :obj:`(head_index, rel_type, tail_index)`."""
        return cls(*triples, num_nodes=num_nodes, num_relations=num_relations)

    @property
    def device(self) -> torch.device:
        return self.tail_keys.device

    def to(self, device: torch.device) -> 'TripleSet':
        r"""Moves the stored keys to :obj:`device` (in place)."""
        self.tail_keys = self.tail_keys.to(device)
        self.head_keys = self.head_keys.to(device)
        self._offsets = self._offsets.to(device)
        return self

    def triples(self) -> Tuple[Tensor, Tensor, Tensor]:
        r"""Returns the unique stored triples as
        :obj:`(head_index, rel_type, tail_index)`, sorted by :math:`(h,r,t)`.
        """
        N, R = self.num_nodes, self.num_relations
        group, tail_index = self.tail_keys // N, self.tail_keys % N
        return group // R, group % R, tail_index

    def __len__(self) -> int:
        return self.tail_keys.numel()

    def contains(self, head_index: Tensor, rel_type: Tensor,
                 tail_index: Tensor) -> Tensor:
        r"""Returns a boolean tensor (of the broadcast shape of the inputs)
        which is :obj:`True` where :math:`(h, r, t)` is in the set."""
        keys = (head_index.long() * self.num_relations +
                rel_type.long()) * self.num_nodes + tail_index.long()
        if self.tail_keys.numel() == 0:
            return torch.zeros_like(keys, dtype=torch.bool)
        pos = torch.searchsorted(self.tail_keys, keys.contiguous())
        pos = pos.clamp(max=self.tail_keys.numel() - 1)
        return self.tail_keys[pos] == keys

    def num_tails(self, head_index: Tensor, rel_type: Tensor) -> Tensor:
        r"""Returns the number of known tails of every query
        :math:`(h, r, ?)`."""
        return self.num_nodes - self.query_ranges('tail', head_index,
                                                  rel_type)[2]

    def num_heads(self, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        r"""Returns the number of known heads of every query
        :math:`(?, r, t)`."""
        return self.num_nodes - self.query_ranges('head', tail_index,
                                                  rel_type)[2]

    def sample_tails(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        generator: Optional[torch.Generator] = None,
    ) -> Tuple[Tensor, Tensor]:
        r"""Samples, for every query :math:`(h, r, ?)`, a tail :math:`t'`
        uniformly among all entities with :math:`(h, r, t')` not in the set.

        Returns:
            A tuple :obj:`(tail_index, valid)`. :obj:`valid` is :obj:`False`
            where every entity is a known tail (no negative exists); the
            returned entity is meaningless there.
        """
        base, lo, free = self.query_ranges('tail', head_index, rel_type)
        out = self.draw_complement(False, base, lo, free, generator)
        return out, free > 0

    def sample_heads(
        self,
        rel_type: Tensor,
        tail_index: Tensor,
        generator: Optional[torch.Generator] = None,
    ) -> Tuple[Tensor, Tensor]:
        r"""Samples, for every query :math:`(?, r, t)`, a head :math:`h'`
        uniformly among all entities with :math:`(h', r, t)` not in the set.
        Returns :obj:`(head_index, valid)` as :meth:`sample_tails`."""
        base, lo, free = self.query_ranges('head', tail_index, rel_type)
        out = self.draw_complement(True, base, lo, free, generator)
        return out, free > 0

    def query_ranges(self, side: str, anchor: Tensor,
                     rel_type: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        r"""For queries :math:`(h, r, ?)` (:obj:`side="tail"`, anchor
        :math:`h`) or :math:`(?, r, t)` (:obj:`side="head"`, anchor
        :math:`t`), returns the group key :obj:`base`, the position
        :obj:`lo` of the group's first key and the number :obj:`free` of
        entities that are no known answer. Used with
        :meth:`draw_complement`, it lets callers compute ranges once per
        query and draw many samples per query."""
        keys = self.tail_keys if side == 'tail' else self.head_keys
        base = (anchor.long() * self.num_relations +
                rel_type.long()) * self.num_nodes
        base = base.contiguous()
        lo = torch.searchsorted(keys, base)
        hi = torch.searchsorted(keys, base + self.num_nodes)
        return base, lo, self.num_nodes - (hi - lo)

    def draw_complement(
        self,
        head_side: Union[bool, Tensor],
        base: Tensor,
        lo: Tensor,
        free: Tensor,
        generator: Optional[torch.Generator] = None,
    ) -> Tensor:
        r"""Draws one entity per element uniformly among the :obj:`free`
        non-answers of the queries given by :meth:`query_ranges`.
        :obj:`head_side` (a bool, or a bool tensor broadcastable to
        :obj:`base`) says per element whether :obj:`base`, :obj:`lo` and
        :obj:`free` come from :obj:`side="head"`; both sides can thus be
        mixed in one call."""
        rand = torch.rand(base.shape, dtype=torch.float64, generator=generator,
                          device=base.device)
        j = (rand * free).long()
        j = torch.minimum(j, (free - 1).clamp(min=0))
        if isinstance(head_side, Tensor):
            head_side = head_side.long()
        else:
            head_side = int(head_side)
        key = base + j + head_side * self._shift
        lo = lo + head_side * self.tail_keys.numel()
        count = torch.searchsorted(self._offsets, key.contiguous(),
                                   right=True) - lo
        return j + count

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({len(self)}, '
                f'num_nodes={self.num_nodes}, '
                f'num_relations={self.num_relations})')
