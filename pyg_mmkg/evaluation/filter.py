import copy
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor


def _build_csr(key: Tensor, col: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    r"""Groups :obj:`col` by :obj:`key`, sorts each group and drops
    duplicates. Returns the sorted unique keys :obj:`[K]`, the row pointer
    :obj:`[K + 1]` and the concatenated column indices :obj:`[nnz]`."""
    # Two stable sorts give a lexicographic (key, col) order without having
    # to form the combined key `key * num_cols + col` (which may overflow):
    perm = col.argsort(stable=True)
    key, col = key[perm], col[perm]
    perm = key.argsort(stable=True)
    key, col = key[perm], col[perm]

    if key.numel() > 1:
        keep = torch.ones_like(key, dtype=torch.bool)
        keep[1:] = (key[1:] != key[:-1]) | (col[1:] != col[:-1])
        key, col = key[keep], col[keep]

    uniq, count = torch.unique_consecutive(key, return_counts=True)
    ptr = key.new_zeros(uniq.numel() + 1)
    torch.cumsum(count, dim=0, out=ptr[1:])
    return uniq, ptr, col


def _lookup(keys: Tensor, ptr: Tensor, col: Tensor,
            query: Tensor) -> Tuple[Tensor, Tensor]:
    r"""Returns :obj:`(row, col)` such that :obj:`col[row == i]` are all
    columns stored under key :obj:`query[i]`."""
    num_keys = keys.numel()
    if num_keys == 0 or query.numel() == 0:
        empty = query.new_empty(0)
        return empty, empty
    pos = torch.searchsorted(keys, query).clamp_(max=num_keys - 1)
    found = keys[pos] == query
    start = ptr[pos]
    count = (ptr[pos + 1] - start) * found
    total = int(count.sum())
    row = torch.repeat_interleave(count, output_size=total)
    # Entry j of query i reads `col[start[i] + j - first[i]]`, with
    # `first[i]` the position of the first entry of query i in the output:
    first = torch.cumsum(count, dim=0) - count
    idx = torch.arange(total, device=query.device) + (start - first)[row]
    return row, col[idx]


class FilterIndex:
    r"""An index of known true triples for the *filtered* link prediction
    protocol of `"Translating Embeddings for Modeling Multi-Relational Data"
    <https://proceedings.neurips.cc/paper/2013/file/
    1cecc7a77928ca8133fa24680a88d2f9-Paper.pdf>`_ paper: when ranking the
    answer of a query :math:`(h, r, ?)` (or :math:`(?, r, t)`), every other
    entity that forms a known true triple with the query is removed from the
    candidates.

    The index is built once, vectorised, from all known true triples
    (usually train + validation + test; the caller decides which).
    It stores two compressed sparse row (CSR) structures, one mapping
    :math:`(h, r)` to its known tails and one mapping :math:`(r, t)` to its
    known heads, so that its memory is :math:`\mathcal{O}(|\mathcal{T}|)`
    regardless of the number of entities and relations. Duplicate triples
    are stored once.

    Lookups return :obj:`(row, col)` index pairs into a :obj:`[B, N]` score
    matrix, so a whole batch of queries is filtered with a single indexing
    operation, *e.g.*, :obj:`scores[row, col] = float('nan')`.

    Args:
        head_index (torch.Tensor): The head indices of the true triples.
        rel_type (torch.Tensor): The relation types of the true triples.
        tail_index (torch.Tensor): The tail indices of the true triples.
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.
    """
    def __init__(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
        num_nodes: int,
        num_relations: int,
    ):
        head_index = head_index.view(-1).long()
        rel_type = rel_type.view(-1).long()
        tail_index = tail_index.view(-1).long()
        if not head_index.numel() == rel_type.numel() == tail_index.numel():
            raise ValueError(
                f"'head_index', 'rel_type' and 'tail_index' must have the "
                f"same number of elements (got {head_index.numel()}, "
                f"{rel_type.numel()} and {tail_index.numel()})")
        if head_index.numel() > 0:
            for name, index, size in [('head_index', head_index, num_nodes),
                                      ('rel_type', rel_type, num_relations),
                                      ('tail_index', tail_index, num_nodes)]:
                if int(index.min()) < 0 or int(index.max()) >= size:
                    raise ValueError(
                        f"'{name}' contains indices outside of "
                        f"[0, {size - 1}] (found range [{int(index.min())}, "
                        f"{int(index.max())}])")

        self.num_nodes = int(num_nodes)
        self.num_relations = int(num_relations)
        self.tail_keys, self.tail_ptr, self.tail_col = _build_csr(
            head_index * num_relations + rel_type, tail_index)
        self.head_keys, self.head_ptr, self.head_col = _build_csr(
            tail_index * num_relations + rel_type, head_index)
        self._pair_key: Optional[Tensor] = None

    @classmethod
    def from_triples(
        cls,
        triples: Sequence[Tuple[Tensor, Tensor, Tensor]],
        num_nodes: int,
        num_relations: int,
    ) -> 'FilterIndex':
        r"""Builds the index from several triple sets, *e.g.*,
        :obj:`[train, val, test]`, each given as
        :obj:`(head_index, rel_type, tail_index)`."""
        head_index = torch.cat([t[0].view(-1) for t in triples])
        rel_type = torch.cat([t[1].view(-1) for t in triples])
        tail_index = torch.cat([t[2].view(-1) for t in triples])
        return cls(head_index, rel_type, tail_index, num_nodes, num_relations)

    @classmethod
    def from_data(cls, data) -> 'FilterIndex':
        r"""Builds the index from all triples (train, validation and test)
        of a :class:`~torch_geometric.data.HeteroData` knowledge graph with
        node types :obj:`'entity'` and :obj:`'relation'` and the edge type
        :obj:`('entity', 'to', 'entity')` holding :obj:`edge_index` and
        :obj:`edge_type`."""
        store = data['entity', 'to', 'entity']
        return cls(store.edge_index[0], store.edge_type, store.edge_index[1],
                   data['entity'].num_nodes, data['relation'].num_nodes)

    @property
    def num_triples(self) -> int:
        r"""The number of distinct stored triples."""
        return self.tail_col.numel()

    @property
    def device(self) -> torch.device:
        return self.tail_col.device

    def to(self, device) -> 'FilterIndex':
        r"""Returns the index on :obj:`device` (:obj:`self` if it already
        lives there; otherwise a copy, the original is left unchanged)."""
        if torch.device(device) == self.device:
            return self
        out = copy.copy(self)
        for name in ['tail_keys', 'tail_ptr', 'tail_col', 'head_keys',
                     'head_ptr', 'head_col', '_pair_key']:
            value = getattr(self, name)
            if value is not None:
                setattr(out, name, value.to(device))
        return out

    def _query_key(self, node: Tensor, rel_type: Tensor) -> Tensor:
        node = node.view(-1).to(self.device, torch.long)
        rel_type = rel_type.view(-1).to(self.device, torch.long)
        return node * self.num_relations + rel_type

    def tails(self, head_index: Tensor,
              rel_type: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Returns the known tails of the queries :math:`(h_i, r_i, ?)` as
        index pairs :obj:`(row, col)`: entity :obj:`col[j]` is a known tail
        of query :obj:`row[j]`.

        Args:
            head_index (torch.Tensor): The query heads :obj:`[B]`.
            rel_type (torch.Tensor): The query relations :obj:`[B]`.
        """
        return _lookup(self.tail_keys, self.tail_ptr, self.tail_col,
                       self._query_key(head_index, rel_type))

    def heads(self, rel_type: Tensor,
              tail_index: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Returns the known heads of the queries :math:`(?, r_i, t_i)` as
        index pairs :obj:`(row, col)`.

        Args:
            rel_type (torch.Tensor): The query relations :obj:`[B]`.
            tail_index (torch.Tensor): The query tails :obj:`[B]`.
        """
        return _lookup(self.head_keys, self.head_ptr, self.head_col,
                       self._query_key(tail_index, rel_type))

    def tail_mask(self, head_index: Tensor, rel_type: Tensor) -> Tensor:
        r"""Returns a dense boolean mask :obj:`[B, num_nodes]` of the known
        tails of the queries :math:`(h_i, r_i, ?)`."""
        row, col = self.tails(head_index, rel_type)
        mask = torch.zeros(head_index.numel(), self.num_nodes,
                           dtype=torch.bool, device=self.device)
        mask[row, col] = True
        return mask

    def head_mask(self, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        r"""Returns a dense boolean mask :obj:`[B, num_nodes]` of the known
        heads of the queries :math:`(?, r_i, t_i)`."""
        row, col = self.heads(rel_type, tail_index)
        mask = torch.zeros(tail_index.numel(), self.num_nodes,
                           dtype=torch.bool, device=self.device)
        mask[row, col] = True
        return mask

    def contains(self, head_index: Tensor, rel_type: Tensor,
                 tail_index: Tensor) -> Tensor:
        r"""Returns a boolean tensor telling for each triple whether it is a
        known true triple (useful to filter sampled negatives)."""
        query = self._query_key(head_index, rel_type)
        tail_index = tail_index.view(-1).to(self.device, torch.long)
        num_keys = self.tail_keys.numel()
        if num_keys == 0:
            return torch.zeros_like(query, dtype=torch.bool)
        if self._pair_key is None:
            # Group id times `num_nodes` plus tail: strictly increasing,
            # and bounded by `num_triples * num_nodes` (no overflow).
            count = self.tail_ptr[1:] - self.tail_ptr[:-1]
            group = torch.repeat_interleave(
                torch.arange(num_keys, device=self.device), count)
            self._pair_key = group * self.num_nodes + self.tail_col
        pos = torch.searchsorted(self.tail_keys, query)
        pos = pos.clamp_(max=num_keys - 1)
        found = self.tail_keys[pos] == query
        found &= (tail_index >= 0) & (tail_index < self.num_nodes)
        pair = pos * self.num_nodes + tail_index
        idx = torch.searchsorted(self._pair_key, pair)
        idx = idx.clamp_(max=self._pair_key.numel() - 1)
        return found & (self._pair_key[idx] == pair)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_nodes={self.num_nodes}, '
                f'num_relations={self.num_relations}, '
                f'num_triples={self.num_triples})')
