r"""Private, vectorised helpers of :class:`pyg_mmkg.utils.TripleIndex`: a
compressed sparse row (CSR) structure per direction and the derived sorted
keys used by membership queries and complement sampling."""
from typing import Optional, Tuple

import torch
from torch import Tensor

# Every derived int64 key must stay below this bound:
MAX_KEY = 2**62


def num_or_max(value: Optional[int], *tensors: Tensor) -> int:
    r"""Returns :obj:`value`, or one more than the largest entry of
    :obj:`tensors` (0 if all are empty) when :obj:`value` is :obj:`None`.

    Args:
        value (int, optional): The given size.
        *tensors (torch.Tensor): The indices to infer the size from.
    """
    if value is not None:
        return int(value)
    return max(int(t.max()) + 1 if t.numel() > 0 else 0 for t in tensors)


def build_csr(key: Tensor, col: Tensor, num_keys: int,
              num_cols: int) -> Tuple[Tensor, Tensor, Tensor]:
    r"""Groups :obj:`col` by :obj:`key`, sorts each group and drops
    duplicates. Returns the sorted unique keys :obj:`[G]`, the row pointer
    :obj:`[G + 1]` and the concatenated column indices :obj:`[nnz]`.

    Args:
        key (torch.Tensor): The group key of every entry.
        col (torch.Tensor): The column (entity) of every entry.
        num_keys (int): An upper bound of :obj:`key`.
        num_cols (int): An upper bound of :obj:`col`.
    """
    if num_keys * num_cols < MAX_KEY:
        # One sort of the combined key (about twice as fast):
        pair = torch.unique(key * num_cols + col)
        key, col = pair // num_cols, pair % num_cols
    else:
        # Two stable sorts give a lexicographic (key, col) order without
        # forming the combined key (which would overflow):
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


def lookup(keys: Tensor, ptr: Tensor, col: Tensor,
           query: Tensor) -> Tuple[Tensor, Tensor]:
    r"""Returns :obj:`(row, col)` such that :obj:`col[row == i]` are all
    columns stored under key :obj:`query[i]`.

    Args:
        keys (torch.Tensor): The sorted unique group keys.
        ptr (torch.Tensor): The CSR row pointer.
        col (torch.Tensor): The CSR columns.
        query (torch.Tensor): The 1-D query keys.
    """
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


def entry_group(ptr: Tensor) -> Tensor:
    r"""Returns, for every CSR entry, the position of its group.

    Args:
        ptr (torch.Tensor): The CSR row pointer :obj:`[G + 1]`.
    """
    count = ptr[1:] - ptr[:-1]
    group = torch.arange(count.numel(), device=ptr.device)
    return group.repeat_interleave(count, output_size=int(ptr[-1]))


def complement_offsets(ptr: Tensor, col: Tensor, num_nodes: int) -> Tensor:
    r"""Returns the sorted keys :obj:`g * N + col[i] - i_g` (:obj:`g` the
    group position of entry :obj:`i`, :obj:`i_g` its position inside the
    group). Within a group with sorted members :math:`e_0 < e_1 < \dots`,
    the :math:`j`-th entity *not* in the group is
    :math:`j + \#\{i : e_i - i \leq j\}`, so these keys map uniform draws
    from the complement to entity ids with a single :meth:`searchsorted`.

    Args:
        ptr (torch.Tensor): The CSR row pointer.
        col (torch.Tensor): The CSR columns (sorted inside each group).
        num_nodes (int): The number of entities :math:`N`.
    """
    group = entry_group(ptr)
    local = torch.arange(col.numel(), device=col.device) - ptr[group]
    return group * num_nodes + col - local
