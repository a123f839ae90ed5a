r"""Checks that a :class:`HeteroData` follows the pyg-mmkg data contract."""
from __future__ import annotations

from typing import List, Optional

import torch
from torch_geometric.data import HeteroData

from pyg_mmkg.data.contract import EDGE, ENTITY, RELATION

__all__ = ['validate', 'ContractError', 'UnseenEntityWarning',
           'unseen_in_training']


class ContractError(ValueError):
    r"""Raised by :func:`validate`; its message lists every problem found."""


class UnseenEntityWarning(UserWarning):
    r"""Validation or test triples hold entities (or relations) that occur
    in no training triple: their embeddings are never trained, so these
    triples rank at chance. Official splits of some benchmarks have a few
    (WN18RR); a split made by hand should have none."""


def unseen_in_training(data: HeteroData) -> dict:
    r"""Counts, per held-out split, the triples whose head, tail or
    relation occurs in no training triple, and the distinct entities that
    do. Returns ``{'val': (n_triples, n_total, n_entities), 'test': ...}``.

    Args:
        data (HeteroData): A contract graph.
    """
    store = data[EDGE]
    ei, et = store.edge_index, store.edge_type
    N, R = int(data[ENTITY].num_nodes), int(data[RELATION].num_nodes)
    train = store.train_mask
    seen_e = torch.zeros(N, dtype=torch.bool)
    seen_e[ei[0, train]] = True
    seen_e[ei[1, train]] = True
    seen_r = torch.zeros(R, dtype=torch.bool)
    seen_r[et[train]] = True
    out = {}
    for split in ('val', 'test'):
        m = store[f'{split}_mask']
        h, t, r = ei[0, m], ei[1, m], et[m]
        bad = ~(seen_e[h] & seen_e[t] & seen_r[r])
        ents = torch.cat([h[~seen_e[h]], t[~seen_e[t]]]).unique().numel()
        out[split] = (int(bad.sum()), int(m.sum()), ents)
    return out


def _check_features(problems: List[str], store, where: str, n: int) -> None:
    if 'x_text' in store:
        x = store.x_text
        if x.dim() != 2 or x.size(0) != n:
            problems.append(f"{where}.x_text has shape {tuple(x.shape)}, "
                            f"expected [{n}, D]")
        elif not torch.isfinite(x).all():
            bad = (~torch.isfinite(x)).any(-1).nonzero().flatten()[:5]
            problems.append(f"{where}.x_text has NaN/inf values (rows "
                            f"{bad.tolist()})")
        if 'has_text' not in store:
            problems.append(f"{where}.x_text is set but {where}.has_text "
                            f"is missing")
    if 'has_text' in store:
        m = store.has_text
        if m.dtype != torch.bool or m.shape != (n, ):
            problems.append(f"{where}.has_text must be a bool tensor of "
                            f"shape [{n}], got {m.dtype} "
                            f"{tuple(m.shape)}")
    if 'x_image' in store:
        x = store.x_image
        if x.dim() != 3 or x.size(0) != n:
            problems.append(f"{where}.x_image has shape {tuple(x.shape)}, "
                            f"expected [{n}, K, D]")
        elif not torch.isfinite(x).all():
            problems.append(f"{where}.x_image has NaN/inf values")
        mask = store.get('image_mask')
        if mask is None:
            problems.append(f"{where}.x_image is set but "
                            f"{where}.image_mask is missing")
        elif x.dim() == 3 and (mask.dtype != torch.bool
                               or tuple(mask.shape) != tuple(x.shape[:2])):
            problems.append(f"{where}.image_mask must be bool "
                            f"{tuple(x.shape[:2])}, got {mask.dtype} "
                            f"{tuple(mask.shape)}")
        has = store.get('has_image')
        if has is None:
            problems.append(f"{where}.x_image is set but "
                            f"{where}.has_image is missing")
        elif mask is not None and mask.dim() == 2 and has.shape == (n, ) \
                and not torch.equal(has, mask.any(-1)):
            problems.append(f"{where}.has_image disagrees with "
                            f"{where}.image_mask.any(-1)")
    if 'x_numeric' in store:
        x = store.x_numeric
        if x.dim() != 2 or x.size(0) != n:
            problems.append(f"{where}.x_numeric has shape "
                            f"{tuple(x.shape)}, expected [{n}, L]")
        elif not torch.isfinite(x).all():
            problems.append(f"{where}.x_numeric has NaN/inf values")
    for key in ('name', 'text'):
        if key in store and len(store[key]) != n:
            problems.append(f"{where}.{key} has {len(store[key])} entries, "
                            f"expected {n}")


def validate(data: HeteroData,
             allow_split_overlap: Optional[bool] = None) -> HeteroData:
    r"""Validates the pyg-mmkg data contract and returns :obj:`data`.

    Besides shapes, types and id ranges, a triple occurring in two splits
    (train/validation, train/test or validation/test) is an error, see
    :func:`~pyg_mmkg.data.overlap.check_split_overlap`.

    Args:
        data (HeteroData): The graph to check.
        allow_split_overlap (bool, optional): Accept overlapping splits with
            a :class:`~pyg_mmkg.data.SplitOverlapWarning`. :obj:`None`
            follows ``data.allow_split_overlap`` (set by loaders that were
            given the opt-in), else :obj:`False`. (default: :obj:`None`)

    Raises:
        ContractError: with one line per problem found (all problems are
            collected before raising).
        SplitOverlapError: (a :class:`ContractError`) when the splits
            share triples and overlap is not allowed.

    Warns:
        UnseenEntityWarning: with counts, when validation or test triples
            hold entities or relations absent from training (see
            :func:`unseen_in_training`).
    """
    problems: List[str] = []
    if not isinstance(data, HeteroData):
        raise ContractError(f'expected a HeteroData, got {type(data)}')
    for node_type in (ENTITY, RELATION):
        if node_type not in data.node_types or \
                'num_nodes' not in data[node_type]:
            problems.append(f"data['{node_type}'].num_nodes is missing")
    if problems:
        raise ContractError('\n'.join(problems))
    N, R = int(data[ENTITY].num_nodes), int(data[RELATION].num_nodes)
    if data.get('num_relations', R) != R:
        problems.append(f"data.num_relations={data.num_relations} but "
                        f"data['relation'].num_nodes={R}")
    if EDGE not in data.edge_types:
        problems.append(f'edge store {EDGE} is missing')
    else:
        store = data[EDGE]
        ei, et = store.get('edge_index'), store.get('edge_type')
        if ei is None or et is None:
            problems.append('edge_index and edge_type are required')
        else:
            E = et.numel()
            if ei.dim() != 2 or ei.size(0) != 2 or ei.size(1) != E:
                problems.append(f'edge_index has shape {tuple(ei.shape)}, '
                                f'expected [2, {E}] (edge_type has {E})')
            if ei.dtype != torch.long or et.dtype != torch.long:
                problems.append('edge_index and edge_type must be long')
            if E and (ei.min() < 0 or ei.max() >= N):
                problems.append(f'edge_index has entity ids outside '
                                f'[0, {N})')
            if E and (et.min() < 0 or et.max() >= R):
                problems.append(f'edge_type has relation ids outside '
                                f'[0, {R})')
            masks = []
            for split in ('train', 'val', 'test'):
                m = store.get(f'{split}_mask')
                if m is None:
                    problems.append(f'{split}_mask is missing')
                elif m.dtype != torch.bool or m.shape != (E, ):
                    problems.append(f'{split}_mask must be bool [{E}]')
                else:
                    masks.append(m)
            if len(masks) == 3:
                total = masks[0].long() + masks[1].long() + masks[2].long()
                if (total > 1).any():
                    problems.append(f'{int((total > 1).sum())} triples '
                                    f'belong to several splits')
    _check_features(problems, data[ENTITY], "data['entity']", N)
    _check_features(problems, data[RELATION], "data['relation']", R)
    if problems:
        raise ContractError('Invalid MMKG data:\n  - ' +
                            '\n  - '.join(problems))
    from pyg_mmkg.data.overlap import check_split_overlap
    check_split_overlap(data, allow=allow_split_overlap)
    counts = unseen_in_training(data)
    if any(c[0] for c in counts.values()):
        import warnings
        parts = [f'{n} of {total} {split} triples ({ents} entities)'
                 for split, (n, total, ents) in counts.items() if n]
        warnings.warn(f"{' and '.join(parts)} hold an entity or relation "
                      f"that occurs in no training triple; their embeddings "
                      f"are never trained", UnseenEntityWarning,
                      stacklevel=2)
    return data
