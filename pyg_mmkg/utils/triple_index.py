import copy
from typing import Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from pyg_mmkg.utils._triple_csr import (
    MAX_KEY,
    build_csr,
    complement_offsets,
    entry_group,
    lookup,
    num_or_max,
)

Triples = Tuple[Tensor, Tensor, Tensor]


class TripleIndex:
    r"""An index of known true triples :math:`(h, r, t)`, the one structure
    behind both the *filtered* link prediction protocol of `"Translating
    Embeddings for Modeling Multi-Relational Data" <https://proceedings.
    neurips.cc/paper/2013/file/1cecc7a77928ca8133fa24680a88d2f9-Paper.pdf>`_
    (:class:`pyg_mmkg.evaluation.FilterIndex`: the known answers of a query
    are removed from the ranking) and filtered negative sampling
    (:class:`pyg_mmkg.loader.TripleSet`: corrupted triples are drawn
    exactly uniformly among those *not* in the set).

    It stores one compressed sparse row (CSR) structure per direction:
    the sorted unique :obj:`int64` group keys :math:`h \cdot R + r`
    (:obj:`tail_keys`) with row pointer :obj:`tail_ptr` and sorted tails
    :obj:`tail_col`, and likewise :math:`t \cdot R + r` to its heads
    (:obj:`head_keys`, :obj:`head_ptr`, :obj:`head_col`). Memory is
    :math:`\mathcal{O}(|\mathcal{T}|)` whatever the number of entities.
    Duplicate triples are stored once. Two derived key tensors are built
    lazily, on first use, and then kept: :obj:`g \cdot N + t` per tail
    entry (:math:`|\mathcal{T}|` keys, for :meth:`contains`) and the
    complement offsets of both directions (:math:`2|\mathcal{T}|` keys,
    for sampling). All keys use group *positions*, not :math:`h, r`, so
    they stay below :math:`2 |\mathcal{T}| N` and never overflow for
    graphs with millions of entities. Every query is a vectorised
    :meth:`torch.searchsorted` on the device the index lives on.

    Args:
        head_index (torch.Tensor): The head indices of the true triples.
        rel_type (torch.Tensor): The relation types of the true triples.
        tail_index (torch.Tensor): The tail indices of the true triples.
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
            raise ValueError(
                f"'head_index', 'rel_type' and 'tail_index' must have the "
                f"same number of elements (got {head_index.numel()}, "
                f"{rel_type.numel()} and {tail_index.numel()})")
        N = num_or_max(num_nodes, head_index, tail_index)
        R = num_or_max(num_relations, rel_type)
        if head_index.numel() > 0:
            for name, index, size in [('head_index', head_index, N),
                                      ('rel_type', rel_type, R),
                                      ('tail_index', tail_index, N)]:
                if int(index.min()) < 0 or int(index.max()) >= size:
                    raise ValueError(
                        f"'{name}' contains indices outside of "
                        f"[0, {size - 1}] (found range [{int(index.min())}, "
                        f"{int(index.max())}])")
        if max(N * R, 2 * head_index.numel() * N) >= MAX_KEY:
            raise ValueError(f"Cannot hash {head_index.numel()} triples of a "
                             f"graph with {N} entities and {R} relations "
                             f"into int64 keys")

        self.num_nodes, self.num_relations = N, R
        self.tail_keys, self.tail_ptr, self.tail_col = build_csr(
            head_index * R + rel_type, tail_index, N * R, N)
        self.head_keys, self.head_ptr, self.head_col = build_csr(
            tail_index * R + rel_type, head_index, N * R, N)
        self._pair_key: Optional[Tensor] = None
        self._offsets: Optional[Tensor] = None

    @classmethod
    def from_triples(
        cls,
        triples: Union[Triples, Sequence[Triples]],
        num_nodes: Optional[int] = None,
        num_relations: Optional[int] = None,
    ) -> 'TripleIndex':
        r"""Builds the index from one triple set
        :obj:`(head_index, rel_type, tail_index)` or from several, *e.g.*,
        :obj:`[train, val, test]`.

        Args:
            triples (tuple or list of tuples): The triples.
            num_nodes (int, optional): The number of entities.
                (default: :obj:`None`, inferred)
            num_relations (int, optional): The number of relations.
                (default: :obj:`None`, inferred)
        """
        if len(triples) == 3 and all(isinstance(x, Tensor) for x in triples):
            triples = [triples]
        head_index = torch.cat([t[0].view(-1) for t in triples])
        rel_type = torch.cat([t[1].view(-1) for t in triples])
        tail_index = torch.cat([t[2].view(-1) for t in triples])
        return cls(head_index, rel_type, tail_index, num_nodes, num_relations)

    @classmethod
    def from_data(cls, data) -> 'TripleIndex':
        r"""Builds the index from all triples (train, validation and test)
        of a :class:`~torch_geometric.data.HeteroData` knowledge graph with
        node types :obj:`'entity'` and :obj:`'relation'` and the edge type
        :obj:`('entity', 'to', 'entity')` holding :obj:`edge_index` and
        :obj:`edge_type`.

        Args:
            data (torch_geometric.data.HeteroData): The knowledge graph.
        """
        store = data['entity', 'to', 'entity']
        return cls(store.edge_index[0], store.edge_type, store.edge_index[1],
                   data['entity'].num_nodes, data['relation'].num_nodes)

    @property
    def num_triples(self) -> int:
        r"""The number of distinct stored triples."""
        return self.tail_col.numel()

    def __len__(self) -> int:
        return self.tail_col.numel()

    @property
    def device(self) -> torch.device:
        r"""The device the index lives on."""
        return self.tail_col.device

    _tensors = ('tail_keys', 'tail_ptr', 'tail_col', 'head_keys', 'head_ptr',
                'head_col', '_pair_key', '_offsets')

    def _move(self, out: 'TripleIndex', device) -> 'TripleIndex':
        for name in self._tensors:
            value = getattr(self, name)
            if value is not None:
                setattr(out, name, value.to(device))
        return out

    def to(self, device) -> 'TripleIndex':
        r"""Returns the index on :obj:`device` (:obj:`self` if it already
        lives there; otherwise a copy, the original is left unchanged).

        Args:
            device (torch.device or str): The target device.
        """
        if torch.device(device) == self.device:
            return self
        return self._move(copy.copy(self), device)

    def triples(self) -> Triples:
        r"""Returns the unique stored triples as
        :obj:`(head_index, rel_type, tail_index)`, sorted by
        :math:`(h, r, t)`."""
        group = self.tail_keys[entry_group(self.tail_ptr)]
        R = self.num_relations
        return group // R, group % R, self.tail_col.clone()

    def _long(self, *xs: Tensor) -> Tuple[Tensor, ...]:
        return tuple(x.to(self.device, torch.long) for x in xs)

    def tails(self, head_index: Tensor,
              rel_type: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Returns the known tails of the queries :math:`(h_i, r_i, ?)` as
        index pairs :obj:`(row, col)`: entity :obj:`col[j]` is a known tail
        of query :obj:`row[j]`.

        Args:
            head_index (torch.Tensor): The query heads :obj:`[B]`.
            rel_type (torch.Tensor): The query relations :obj:`[B]`.
        """
        h, r = self._long(head_index.view(-1), rel_type.view(-1))
        return lookup(self.tail_keys, self.tail_ptr, self.tail_col,
                      h * self.num_relations + r)

    def heads(self, rel_type: Tensor,
              tail_index: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Returns the known heads of the queries :math:`(?, r_i, t_i)` as
        index pairs :obj:`(row, col)`.

        Args:
            rel_type (torch.Tensor): The query relations :obj:`[B]`.
            tail_index (torch.Tensor): The query tails :obj:`[B]`.
        """
        r, t = self._long(rel_type.view(-1), tail_index.view(-1))
        return lookup(self.head_keys, self.head_ptr, self.head_col,
                      t * self.num_relations + r)

    def tail_mask(self, head_index: Tensor, rel_type: Tensor) -> Tensor:
        r"""Returns a dense boolean mask :obj:`[B, num_nodes]` of the known
        tails of the queries :math:`(h_i, r_i, ?)`.

        Args:
            head_index (torch.Tensor): The query heads :obj:`[B]`.
            rel_type (torch.Tensor): The query relations :obj:`[B]`.
        """
        row, col = self.tails(head_index, rel_type)
        mask = torch.zeros(head_index.numel(), self.num_nodes,
                           dtype=torch.bool, device=self.device)
        mask[row, col] = True
        return mask

    def head_mask(self, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        r"""Returns a dense boolean mask :obj:`[B, num_nodes]` of the known
        heads of the queries :math:`(?, r_i, t_i)`.

        Args:
            rel_type (torch.Tensor): The query relations :obj:`[B]`.
            tail_index (torch.Tensor): The query tails :obj:`[B]`.
        """
        row, col = self.heads(rel_type, tail_index)
        mask = torch.zeros(tail_index.numel(), self.num_nodes,
                           dtype=torch.bool, device=self.device)
        mask[row, col] = True
        return mask

    def _group(self, side: str, anchor: Tensor,
               rel_type: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        # Position of the group of every query (clamped), whether it exists,
        # and whether the query is in range at all:
        anchor, rel_type = self._long(anchor, rel_type)
        keys = self.tail_keys if side == 'tail' else self.head_keys
        N, R = self.num_nodes, self.num_relations
        valid = (anchor >= 0) & (anchor < N) & (rel_type >= 0) & (rel_type < R)
        key = (anchor * R + rel_type).contiguous()
        if keys.numel() == 0:
            pos = torch.zeros_like(key)
            return pos, torch.zeros_like(key, dtype=torch.bool), valid
        pos = torch.searchsorted(keys, key).clamp_(max=keys.numel() - 1)
        return pos, (keys[pos] == key) & valid, valid

    def contains(self, head_index: Tensor, rel_type: Tensor,
                 tail_index: Tensor) -> Tensor:
        r"""Returns a boolean tensor (of the broadcast shape of the inputs)
        which is :obj:`True` where :math:`(h, r, t)` is a known triple
        (*e.g.*, to filter sampled negatives).

        Args:
            head_index (torch.Tensor): The heads.
            rel_type (torch.Tensor): The relations.
            tail_index (torch.Tensor): The tails.
        """
        h, r, t = torch.broadcast_tensors(
            *self._long(head_index, rel_type, tail_index))
        pos, found, _ = self._group('tail', h, r)
        if self.num_triples == 0:
            return found
        if self._pair_key is None:
            # Group position times `N` plus tail: strictly increasing.
            self._pair_key = (entry_group(self.tail_ptr) * self.num_nodes +
                              self.tail_col)
        found &= (t >= 0) & (t < self.num_nodes)
        pair = (pos * self.num_nodes + t).contiguous()
        idx = torch.searchsorted(self._pair_key, pair)
        idx = idx.clamp_(max=self.num_triples - 1)
        return found & (self._pair_key[idx] == pair)

    def num_tails(self, head_index: Tensor, rel_type: Tensor) -> Tensor:
        r"""Returns the number of known tails of every query
        :math:`(h, r, ?)`.

        Args:
            head_index (torch.Tensor): The query heads.
            rel_type (torch.Tensor): The query relations.
        """
        return self.num_nodes - self.query_ranges('tail', head_index,
                                                  rel_type)[2]

    def num_heads(self, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        r"""Returns the number of known heads of every query
        :math:`(?, r, t)`.

        Args:
            rel_type (torch.Tensor): The query relations.
            tail_index (torch.Tensor): The query tails.
        """
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

        Args:
            head_index (torch.Tensor): The query heads.
            rel_type (torch.Tensor): The query relations.
            generator (torch.Generator, optional): The random number
                generator. (default: :obj:`None`)

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
        Returns :obj:`(head_index, valid)` as :meth:`sample_tails`.

        Args:
            rel_type (torch.Tensor): The query relations.
            tail_index (torch.Tensor): The query tails.
            generator (torch.Generator, optional): The random number
                generator. (default: :obj:`None`)
        """
        base, lo, free = self.query_ranges('head', tail_index, rel_type)
        out = self.draw_complement(True, base, lo, free, generator)
        return out, free > 0

    def query_ranges(self, side: str, anchor: Tensor,
                     rel_type: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        r"""For queries :math:`(h, r, ?)` (:obj:`side="tail"`, anchor
        :math:`h`) or :math:`(?, r, t)` (:obj:`side="head"`, anchor
        :math:`t`), returns the group base key :obj:`base`, the position
        :obj:`lo` of the group's first entry and the number :obj:`free` of
        entities that are no known answer. Used with
        :meth:`draw_complement`, it lets callers compute ranges once per
        query and draw many samples per query.

        Args:
            side (str): :obj:`"tail"` or :obj:`"head"`.
            anchor (torch.Tensor): The known entity of every query.
            rel_type (torch.Tensor): The relation of every query.
        """
        ptr = self.tail_ptr if side == 'tail' else self.head_ptr
        pos, found, _ = self._group(side, anchor, rel_type)
        lo = ptr[pos]
        if ptr.numel() == 1:  # No group at all:
            size = torch.zeros_like(lo)
        else:
            size = torch.where(found, ptr[pos + 1] - lo, 0)
        return pos * self.num_nodes, lo, self.num_nodes - size

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

        Args:
            head_side (bool or torch.Tensor): Whether :obj:`base`, :obj:`lo`
                and :obj:`free` come from :obj:`side="head"`, as a bool or
                a bool tensor broadcastable to :obj:`base` (both sides can
                thus be mixed in one call).
            base (torch.Tensor): The :obj:`base` of :meth:`query_ranges`.
            lo (torch.Tensor): The :obj:`lo` of :meth:`query_ranges`.
            free (torch.Tensor): The :obj:`free` of :meth:`query_ranges`.
            generator (torch.Generator, optional): The random number
                generator. (default: :obj:`None`)
        """
        rand = torch.rand(base.shape, dtype=torch.float64, generator=generator,
                          device=base.device)
        j = (rand * free).long()
        j = torch.minimum(j, (free - 1).clamp(min=0))
        if self._offsets is None:
            N = self.num_nodes
            self._offsets = torch.cat([
                complement_offsets(self.tail_ptr, self.tail_col, N),
                complement_offsets(self.head_ptr, self.head_col, N) +
                self.tail_keys.numel() * N,
            ])
        if isinstance(head_side, Tensor):
            head_side = head_side.long()
        else:
            head_side = int(head_side)
        key = base + j + head_side * (self.tail_keys.numel() * self.num_nodes)
        lo = lo + head_side * self.num_triples
        count = torch.searchsorted(self._offsets, key.contiguous(),
                                   right=True) - lo
        # A query without known answers has `free == N`: no entry counts
        # (its `base` may point at a neighbouring group):
        count = torch.minimum(count, self.num_nodes - free).clamp_(min=0)
        return j + count

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_nodes={self.num_nodes}, '
                f'num_relations={self.num_relations}, '
                f'num_triples={self.num_triples})')
