r"""Detection of triples shared between the train, validation and test
splits (leakage).

A validation or test triple that is also a training triple is answered by
memorisation, and a test triple inside the validation split reaches model
selection. :func:`check_split_overlap` makes either an error (the default)
or, for datasets whose official splits overlap and that are kept as
published for comparability, a :class:`SplitOverlapWarning` with the same
counts (opt in with ``allow_split_overlap=True``).
"""
from __future__ import annotations

import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from pyg_mmkg.data.validate import ContractError

__all__ = ['SplitOverlapError', 'SplitOverlapWarning', 'split_overlap',
           'check_split_overlap', 'OVERLAP_PAIRS']

# (counted split, reference split): lines of the first found in the second.
OVERLAP_PAIRS: Tuple[Tuple[str, str], ...] = (('val', 'train'),
                                               ('test', 'train'),
                                               ('val', 'test'))
_EDGE = ('entity', 'to', 'entity')


class SplitOverlapError(ContractError):
    r"""Raised when the same triple occurs in two splits and overlap was
    not explicitly allowed."""


class SplitOverlapWarning(UserWarning):
    r"""Emitted when overlapping splits are loaded with
    ``allow_split_overlap=True``."""


def _keys(h: Tensor, r: Tensor, t: Tensor, N: int, R: int) -> Tensor:
    r"""One int64 key per triple, ``(h * R + r) * N + t``."""
    if N * N * max(R, 1) < 2**63:
        return (h.long() * R + r.long()) * N + t.long()
    # Too large to encode: number the distinct triples instead.
    stacked = torch.stack([h.long(), r.long(), t.long()])
    return torch.unique(stacked, dim=1, return_inverse=True)[1]


def split_overlap(
    head_index: Tensor, rel_type: Tensor, tail_index: Tensor,
    split: Tensor, num_nodes: int, num_relations: int,
) -> Dict[Tuple[str, str], Tensor]:
    r"""Finds the triples of one split that also occur in another.

    Args:
        head_index, rel_type, tail_index (torch.Tensor): All triples.
        split (torch.Tensor): The split of each triple, ``0`` (train),
            ``1`` (validation) or ``2`` (test).
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.

    Returns:
        For each pair ``(a, b)`` of :obj:`OVERLAP_PAIRS` (validation in
        train, test in train, validation in test), the positions (into the
        inputs) of the lines of split ``a`` whose triple occurs in split
        ``b``.
    """
    key = _keys(head_index, rel_type, tail_index, num_nodes, num_relations)
    ids = {'train': 0, 'val': 1, 'test': 2}
    out = {}
    for a, b in OVERLAP_PAIRS:
        in_a = (split == ids[a]).nonzero().flatten()
        hit = torch.isin(key[in_a], key[split == ids[b]])
        out[(a, b)] = in_a[hit]
    return out


def _describe(found: Dict[Tuple[str, str], Tensor], h: Tensor, r: Tensor,
              t: Tensor, split: Tensor, N: int, R: int,
              ent_names: Optional[Sequence[str]],
              rel_names: Optional[Sequence[str]]) -> List[str]:
    key = _keys(h, r, t, N, R)
    lines = []
    for (a, b), pos in found.items():
        if pos.numel() == 0:
            continue
        total = int((split == ('train', 'val', 'test').index(a)).sum())
        distinct = int(torch.unique(key[pos]).numel())
        examples = []
        for i in pos[:3].tolist():
            hi, ri, ti = int(h[i]), int(r[i]), int(t[i])
            if ent_names is not None and rel_names is not None and \
                    max(hi, ti) < len(ent_names) and ri < len(rel_names):
                examples.append(f'({ent_names[hi]}, {rel_names[ri]}, '
                                f'{ent_names[ti]})')
            else:
                examples.append(f'({hi}, {ri}, {ti})')
        lines.append(f'{pos.numel():,} of {total:,} {a} lines '
                     f'({distinct:,} distinct triples) also occur in {b}, '
                     f'e.g. {", ".join(examples)}')
    return lines


def check_split_overlap(data, allow: Optional[bool] = None,
                        where: str = '') -> Dict[str, int]:
    r"""Raises :class:`SplitOverlapError` (or, with :obj:`allow`, warns
    with :class:`SplitOverlapWarning`) if a triple occurs in two splits.

    The check is vectorised (one :func:`torch.isin` per pair of splits over
    int64 triple keys) and takes milliseconds on FB15k-237.

    Args:
        data (HeteroData): A knowledge graph in the pyg-mmkg contract.
        allow (bool, optional): Accept overlapping splits with a warning.
            :obj:`None` uses ``data.allow_split_overlap`` (set when the
            graph was loaded with ``allow_split_overlap=True``), else
            :obj:`False`. (default: :obj:`None`)
        where (str): Names the source in the message (e.g. a folder).

    Returns:
        The number of overlapping lines per pair: ``'train/val'`` counts
        validation lines found in train, ``'train/test'`` test lines found
        in train and ``'val/test'`` validation lines found in test, e.g.
        ``{'train/val': 8719, 'train/test': 0, 'val/test': 1105}`` for
        DB15K.
    """
    store = data[_EDGE]
    ei, et = store.edge_index, store.edge_type
    split = torch.full_like(et, -1)
    for i, name in enumerate(('train', 'val', 'test')):
        split[store[f'{name}_mask']] = i
    N = int(data['entity'].num_nodes)
    R = int(data['relation'].num_nodes)
    found = split_overlap(ei[0], et, ei[1], split, N, R)
    order = ('train', 'val', 'test')
    counts = {'/'.join(sorted((a, b), key=order.index)): int(pos.numel())
              for (a, b), pos in found.items()}
    if not any(counts.values()):
        return counts
    if allow is None:
        allow = bool(data.get('allow_split_overlap', False)) \
            if hasattr(data, 'get') else False
    lines = _describe(found, ei[0], et, ei[1], split, N, R,
                      data['entity'].get('name'),
                      data['relation'].get('name'))
    src = f' in {where}' if where else ''
    if allow:
        warnings.warn(f'Split overlap{src} (allowed by allow_split_overlap='
                      f'True; evaluation on these splits partly measures '
                      f'memorisation): ' + '; '.join(lines),
                      SplitOverlapWarning, stacklevel=1)
        return counts
    raise SplitOverlapError(
        f'Split overlap{src}: the same triple occurs in two splits, so '
        f'held-out triples are trained on or test answers reach model '
        f'selection:\n  - ' + '\n  - '.join(lines) + '\nRemove the '
        'duplicates from the held-out files, or pass '
        'allow_split_overlap=True if these are the official splits of a '
        'dataset that overlap (e.g. DB15K).')
