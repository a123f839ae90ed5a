r"""The MMKG data contract: one :class:`~torch_geometric.data.HeteroData` per
knowledge graph.

Layout (see ``DESIGN.md`` section 2):

* ``data['entity']``: ``num_nodes`` (N), ``name`` (list of raw ids), optional
  ``text`` (list of str), ``x_text`` [N, D_t] with ``has_text`` [N],
  ``x_image`` [N, K, D_v] with ``image_mask`` [N, K] and ``has_image`` [N],
  optional ``image_files`` (per entity, the file of each filled image slot),
  optional ``x_numeric`` [N, L] with ``numeric_mask`` [N, L].
* ``data['relation']``: ``num_nodes`` (R), ``name``, optional ``text``,
  ``x_text``/``has_text``, ``x_image``/``image_mask``/``has_image``.
* ``data['entity', 'to', 'entity']``: ``edge_index`` [2, E], ``edge_type``
  [E] and boolean ``train_mask``, ``val_mask``, ``test_mask`` over all E
  triples (duplicated lines of the source files are kept, as upstream).
* graph level: ``num_relations`` (int) and ``feature_encoders`` (a dict
  ``'entity.x_text' -> encoder identity``).

The helpers below never copy features; they return views or index tensors.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

__all__ = [
    'ENTITY',
    'RELATION',
    'EDGE',
    'SPLITS',
    'make_kg_data',
    'triples',
    'train_graph',
    'known_triples',
    'filter_index',
    'to_relation_typed',
    'num_entities',
    'num_relations',
]

ENTITY = 'entity'
RELATION = 'relation'
EDGE = ('entity', 'to', 'entity')
SPLITS = ('train', 'val', 'test')
_SPLIT_ALIASES = {'valid': 'val', 'validation': 'val', 'dev': 'val'}

Triples = Tuple[Tensor, Tensor, Tensor]


def _split_name(split: str) -> str:
    split = _SPLIT_ALIASES.get(split, split)
    if split not in SPLITS + ('all', ):
        raise ValueError(f"Unknown split '{split}' (expected one of "
                         f"'train', 'val', 'test', 'all')")
    return split


def make_kg_data(
    entity_names: Sequence[str],
    relation_names: Sequence[str],
    splits: Dict[str, Triples],
    entity_text: Optional[Sequence[Optional[str]]] = None,
    relation_text: Optional[Sequence[Optional[str]]] = None,
    allow_split_overlap: bool = False,
) -> HeteroData:
    r"""Builds a contract-conforming :class:`HeteroData` from id triples.

    Args:
        entity_names (list[str]): Raw entity ids, position = entity id.
        relation_names (list[str]): Raw relation ids, position = relation id.
        splits (dict): Maps ``'train'``/``'val'``/``'test'`` to
            ``(head_index, rel_type, tail_index)`` long tensors. Missing
            splits are empty.
        entity_text (list[str], optional): Text per entity (``None`` or
            ``''`` where there is none). (default: :obj:`None`)
        relation_text (list[str], optional): Text per relation.
            (default: :obj:`None`)
        allow_split_overlap (bool): Accept a triple that occurs in two
            splits with a :class:`~pyg_mmkg.data.SplitOverlapWarning`
            instead of raising :class:`~pyg_mmkg.data.SplitOverlapError`;
            recorded as ``data.allow_split_overlap``. Only for datasets whose
            official splits overlap. (default: :obj:`False`)
    """
    data = HeteroData()
    data[ENTITY].num_nodes = len(entity_names)
    data[ENTITY].name = list(entity_names)
    data[RELATION].num_nodes = len(relation_names)
    data[RELATION].name = list(relation_names)
    if entity_text is not None:
        data[ENTITY].text = [t or '' for t in entity_text]
    if relation_text is not None:
        data[RELATION].text = [t or '' for t in relation_text]

    heads, rels, tails, masks = [], [], [], []
    for i, split in enumerate(SPLITS):
        h, r, t = splits.get(split, (torch.empty(0, dtype=torch.long), ) * 3)
        heads.append(h.long())
        rels.append(r.long())
        tails.append(t.long())
        masks.append(torch.full((h.numel(), ), i, dtype=torch.long))
    which = torch.cat(masks)
    store = data[EDGE]
    store.edge_index = torch.stack([torch.cat(heads), torch.cat(tails)])
    store.edge_type = torch.cat(rels)
    store.train_mask = which == 0
    store.val_mask = which == 1
    store.test_mask = which == 2
    data.num_relations = len(relation_names)
    data.feature_encoders = {}
    if allow_split_overlap:
        data.allow_split_overlap = True
    from pyg_mmkg.data.overlap import check_split_overlap
    check_split_overlap(data, allow=allow_split_overlap)
    return data


def num_entities(data: HeteroData) -> int:
    r"""The number of entities N.

    Args:
        data (HeteroData): A graph of the data contract.
    """
    return int(data[ENTITY].num_nodes)


def num_relations(data: HeteroData) -> int:
    r"""The number of relations R (not counting inverse relations).

    Args:
        data (HeteroData): A graph of the data contract.
    """
    if 'num_relations' in data:
        return int(data.num_relations)
    return int(data[RELATION].num_nodes)


def triples(data: HeteroData, split: str = 'train') -> Triples:
    r"""Returns ``(head_index, rel_type, tail_index)`` of one split.

    Args:
        data (HeteroData): A knowledge graph in the pyg-mmkg contract.
        split (str): ``'train'``, ``'val'`` (alias ``'valid'``), ``'test'``
            or ``'all'``. (default: :obj:`'train'`)
    """
    split = _split_name(split)
    store = data[EDGE]
    edge_index, edge_type = store.edge_index, store.edge_type
    if split != 'all':
        mask = store[f'{split}_mask']
        edge_index, edge_type = edge_index[:, mask], edge_type[mask]
    return edge_index[0], edge_type, edge_index[1]


def known_triples(data: HeteroData,
                  splits: Iterable[str] = SPLITS) -> Triples:
    r"""Concatenates the triples of several splits (e.g. for filtering).

    Args:
        data (HeteroData): A graph of the data contract.
        splits (Iterable[str], optional): The splits whose triples are
            concatenated. (default: :obj:`('train', 'val', 'test')`)
    """
    store = data[EDGE]
    mask = torch.zeros(store.edge_type.numel(), dtype=torch.bool)
    for split in splits:
        split = _split_name(split)
        if split == 'all':
            mask[:] = True
        else:
            mask |= store[f'{split}_mask']
    return (store.edge_index[0, mask], store.edge_type[mask],
            store.edge_index[1, mask])


def train_graph(data: HeteroData,
                add_inverse: bool = True) -> Tuple[Tensor, Tensor]:
    r"""The message-passing graph: TRAIN edges only.

    Validation and test triples can never reach a relational encoder through
    this function, which is the only graph pyg-mmkg encoders are given.

    Args:
        data (HeteroData): A knowledge graph in the pyg-mmkg contract.
        add_inverse (bool): Adds the reversed edge ``(t, r + R, h)`` for each
            training triple, so the graph has ``2 * R`` relation types.
            (default: :obj:`True`)

    Returns:
        ``(edge_index [2, E'], edge_type [E'])``.
    """
    head, rel, tail = triples(data, 'train')
    edge_index = torch.stack([head, tail])
    if not add_inverse:
        return edge_index, rel.clone()
    R = num_relations(data)
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    edge_type = torch.cat([rel, rel + R])
    return edge_index, edge_type


def filter_index(data: HeteroData, splits: Iterable[str] = SPLITS):
    r"""The index of known true answers used for filtered ranking.

    Built once from the triples of :obj:`splits` (train + val + test by
    default); see :class:`pyg_mmkg.evaluation.FilterIndex`.

    Args:
        data (HeteroData): A graph of the data contract.
        splits (Iterable[str], optional): The splits whose triples count as
            known answers. (default: :obj:`('train', 'val', 'test')`)
    """
    from pyg_mmkg.evaluation import FilterIndex
    h, r, t = known_triples(data, splits)
    return FilterIndex(h, r, t, num_nodes=num_entities(data),
                       num_relations=num_relations(data))


def to_relation_typed(data: HeteroData, split: str = 'train',
                      add_inverse: bool = False) -> HeteroData:
    r"""Converts to one edge store per relation, for
    :class:`~torch_geometric.nn.HeteroConv` / :class:`HGTConv` users.

    Edge types are named ``('entity', 'r{id}', 'entity')`` (relation names
    often contain ``/`` or ``.``, which break ``to_hetero``); the original
    names are kept in ``out.relation_names``. Node features of the entity
    store are shared (not copied). Only :obj:`split` edges are included
    (train by default, so that message passing cannot leak).

    Args:
        data (HeteroData): A graph of the data contract.
        split (str, optional): The split whose triples become edges.
            (default: :obj:`'train'`)
        add_inverse (bool, optional): For the train split, also add the
            reversed edges of relation :obj:`r` as type ``'r{r + R}'``
            (named ``'inverse of <name>'``). (default: :obj:`False`)
    """
    out = HeteroData()
    for key, value in data[ENTITY].items():
        out[ENTITY][key] = value
    if split == 'train':
        edge_index, edge_type = train_graph(data, add_inverse=add_inverse)
    else:
        h, r, t = triples(data, split)
        edge_index, edge_type = torch.stack([h, t]), r
    R = num_relations(data)
    names: List[str] = list(data[RELATION].name)
    if add_inverse and split == 'train':
        names = names + [f'inverse of {n}' for n in names]
    num_types = 2 * R if (add_inverse and split == 'train') else R
    perm = torch.argsort(edge_type, stable=True)
    counts = torch.bincount(edge_type, minlength=num_types).tolist()
    for rel_id, chunk in enumerate(torch.split(perm, counts)):
        out[ENTITY, f'r{rel_id}', ENTITY].edge_index = edge_index[:, chunk]
    out.relation_names = names
    return out
