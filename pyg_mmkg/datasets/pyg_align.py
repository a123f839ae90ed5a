r"""Id alignment between PyG's :class:`~torch_geometric.datasets.FB15k_237`
/ :class:`~torch_geometric.datasets.WordNet18RR` and this library's
:class:`~pyg_mmkg.datasets.FB15K237` / :class:`~pyg_mmkg.datasets.WN18RR_PP`
(or any :class:`~pyg_mmkg.datasets.KGFolder` of the same graph), so that
embeddings trained on one move to the other.

PyG stores no entity or relation names, only ids in the order its
:meth:`process` met them in its raw files. :func:`pyg_names` replays that
order on the raw files (``dataset.raw_paths``, or a folder holding
``train.txt`` / ``valid.txt`` / ``test.txt``) to recover the name of every
PyG id:

* :class:`FB15k_237`: entities and relations numbered by first appearance,
  line by line (head, then tail), through train, valid and test.
* :class:`WordNet18RR`: entities (WordNet offsets) numbered by first
  appearance per file, all heads of the file before all its tails; the 11
  relations have the fixed ids of ``WordNet18RR.edge2id``.

WN18RR++ names entities by synset (``dog.n.01``) where PyG's files use
offsets (``02084071``); :func:`wordnet_offset_names` pairs them line by line
from WN18RR's ``original`` and ``text`` triple files. Some offsets stand for
several synsets (a part-of-speech clash of the offset files: on the real
files PyG has 40,943 nodes for WN18RR++'s 41,105 entities, 162 synsets
share an offset with another), so there PyG's one node holds several of
ours: moving PyG weights to ours gives each the node's row, moving ours to
PyG takes the row of the synset with the lowest id
(:attr:`IdAlignment.num_merged` counts the others).
"""
from __future__ import annotations

import os
import os.path as osp
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from pyg_mmkg.data.io import iter_lines, resolve

__all__ = ['IdAlignment', 'pyg_names', 'wordnet_offset_names',
           'align_with_pyg']

_KINDS = ('FB15k_237', 'WordNet18RR')
_SPLIT_FILES = ('train.txt', 'valid.txt', 'test.txt')


def _raw_files(source: Any) -> List[str]:
    if hasattr(source, 'raw_paths'):
        paths = list(source.raw_paths)
    else:
        paths = [osp.join(os.fspath(source), f) for f in _SPLIT_FILES]
    missing = [p for p in paths if resolve(p, required=False) is None]
    if missing:
        raise FileNotFoundError(
            f"PyG's raw files are needed to recover its ids (PyG stores no "
            f"names): missing {missing}. Give the dataset (its raw/ folder "
            f"must still hold train.txt, valid.txt, test.txt) or the folder "
            f"of these files.")
    return paths


def _rows(path: str) -> List[List[str]]:
    return [line.split('\t') if '\t' in line else line.split()
            for _, line in iter_lines(path)]


def pyg_names(source: Any, kind: Optional[str] = None
              ) -> Tuple[List[str], List[str]]:
    r"""The entity and relation names of a PyG dataset, in PyG's id order.

    Args:
        source: A PyG :class:`FB15k_237` / :class:`WordNet18RR` dataset or
            the folder of the raw files it reads.
        kind (str, optional): ``'FB15k_237'`` or ``'WordNet18RR'``
            (default: the dataset's class name).

    Returns:
        ``(entity_names, relation_names)``: the name of PyG's id ``i`` at
        position ``i``.
    """
    kind = kind or type(source).__name__
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS} (or pass the PyG "
                         f"dataset), got {kind!r}")
    files = [_rows(p) for p in _raw_files(source)]
    ents: Dict[str, int] = {}
    if kind == 'FB15k_237':
        rels: Dict[str, int] = {}
        for rows in files:
            for h, r, t in rows:
                ents.setdefault(h, len(ents))
                ents.setdefault(t, len(ents))
                rels.setdefault(r, len(rels))
        return list(ents), list(rels)
    from torch_geometric.datasets import WordNet18RR
    for rows in files:
        for name in [h for h, _, _ in rows] + [t for _, _, t in rows]:
            ents.setdefault(name, len(ents))
    edge2id = WordNet18RR.edge2id
    return list(ents), sorted(edge2id, key=edge2id.get)


def wordnet_offset_names(original: str, text: str) -> Dict[str, List[str]]:
    r"""Offset -> synset names, from WN18RR's two versions of the same
    triples (``original/`` with offsets, ``text/`` with synset names, line
    for line; ``.gz`` files are found).

    Args:
        original (str): The folder of the offset triple files.
        text (str): The folder of the synset-name triple files.
    """
    out: Dict[str, List[str]] = {}
    for name in _SPLIT_FILES:
        a, b = _rows(osp.join(original, name)), _rows(osp.join(text, name))
        if len(a) != len(b):
            raise ValueError(f"'{name}': {len(a)} lines in '{original}' "
                             f"but {len(b)} in '{text}'")
        for i, ((h, r, t), (hn, rn, tn)) in enumerate(zip(a, b), start=1):
            if r != rn:
                raise ValueError(f"'{name}' line {i}: relation {r} vs {rn}"
                                 f": the files are not line-aligned")
            for off, syn in ((h, hn), (t, tn)):
                names = out.setdefault(off, [])
                if syn not in names:
                    names.append(syn)
    return out


@dataclass
class IdAlignment:
    r"""Ids of one graph in PyG's numbering and in this library's (made by
    :func:`align_with_pyg`).

    Args:
        entity_to_pyg (Tensor): ``[N_ours]`` PyG id of each of our entities
            (-1: not in PyG's graph).
        entity_to_ours (Tensor): ``[N_pyg]`` our id of each PyG node (-1:
            none; the lowest id where a node holds several of ours).
        relation_to_pyg (Tensor): ``[R_ours]``, as :obj:`entity_to_pyg`.
        relation_to_ours (Tensor): ``[R_pyg]``, as :obj:`entity_to_ours`.
        num_merged (int): Our entities that share their PyG node with an
            entity of lower id (so :obj:`entity_to_ours` skips them).
    """
    entity_to_pyg: Tensor
    entity_to_ours: Tensor
    relation_to_pyg: Tensor
    relation_to_ours: Tensor
    num_merged: int = 0

    @staticmethod
    def _take(weight: Tensor, index: Tensor, what: str) -> Tensor:
        missing = int((index < 0).sum())
        if missing:
            raise ValueError(f"{missing} rows have no counterpart ({what}); "
                             f"the graphs differ")
        return weight[index]

    def entities_to_ours(self, weight: Tensor) -> Tensor:
        r"""Rows of a PyG-indexed entity matrix ``[N_pyg, ...]`` in our
        order ``[N_ours, ...]``.

        Args:
            weight (Tensor): E.g. an embedding's :obj:`weight`.
        """
        self._check(weight, self.entity_to_ours, 'PyG entity')
        return self._take(weight, self.entity_to_pyg, 'entities to ours')

    def entities_to_pyg(self, weight: Tensor) -> Tensor:
        r"""Rows of our entity matrix ``[N_ours, ...]`` in PyG's order.

        Args:
            weight (Tensor): E.g. an embedding's :obj:`weight`.
        """
        self._check(weight, self.entity_to_pyg, 'our entity')
        return self._take(weight, self.entity_to_ours, 'entities to PyG')

    def relations_to_ours(self, weight: Tensor) -> Tensor:
        r"""Rows of a PyG-indexed relation matrix in our order.

        Args:
            weight (Tensor): ``[R_pyg, ...]``.
        """
        self._check(weight, self.relation_to_ours, 'PyG relation')
        return self._take(weight, self.relation_to_pyg, 'relations to ours')

    def relations_to_pyg(self, weight: Tensor) -> Tensor:
        r"""Rows of our relation matrix in PyG's order.

        Args:
            weight (Tensor): ``[R_ours, ...]``.
        """
        self._check(weight, self.relation_to_pyg, 'our relation')
        return self._take(weight, self.relation_to_ours, 'relations to PyG')

    def triples_to_ours(self, edge_index: Tensor, edge_type: Tensor
                        ) -> Tuple[Tensor, Tensor, Tensor]:
        r"""PyG's ``edge_index`` / ``edge_type`` as our ``(h, r, t)``.

        Args:
            edge_index (Tensor): ``[2, E]`` PyG node ids.
            edge_type (Tensor): ``[E]`` PyG relation ids.
        """
        return (self.entity_to_ours[edge_index[0]],
                self.relation_to_ours[edge_type],
                self.entity_to_ours[edge_index[1]])

    @staticmethod
    def _check(weight: Tensor, index: Tensor, what: str) -> None:
        if weight.size(0) != index.numel():
            raise ValueError(f"expected {index.numel()} {what} rows, got "
                             f"{weight.size(0)}")


def _index(names: Sequence[str]) -> Dict[str, int]:
    return {n: i for i, n in enumerate(names)}


def align_with_pyg(pyg: Any, ours: Any, kind: Optional[str] = None,
                   offset_names: Optional[Dict[str, List[str]]] = None,
                   check: bool = True) -> IdAlignment:
    r"""Aligns a PyG :class:`FB15k_237` / :class:`WordNet18RR` with this
    library's dataset of the same graph.

    Args:
        pyg: The PyG dataset, or the folder of its raw files (then give
            :obj:`kind`).
        ours: Our dataset or its :class:`HeteroData`.
        kind (str, optional): ``'FB15k_237'`` or ``'WordNet18RR'``.
        offset_names (dict, optional): WordNet offset -> synset names (see
            :func:`wordnet_offset_names`), when our entities are synset
            names (WN18RR++) and PyG's are offsets.
        check (bool): Check that both graphs hold the same triples once
            aligned (needs the PyG dataset, not a folder). (default:
            :obj:`True`)

    Returns:
        IdAlignment: The id maps both ways.
    """
    data = ours if hasattr(ours, 'node_types') else ours[0]
    p_ents, p_rels = pyg_names(pyg, kind)
    our_ents, our_rels = list(data['entity'].name), list(data['relation'].name)
    p_index = _index(p_ents)
    if offset_names is not None:
        syn2off = {s: off for off, syns in offset_names.items()
                   for s in syns}
        keys = [syn2off.get(n, n) for n in our_ents]
    else:
        keys = our_ents
    e_to_pyg = torch.tensor([p_index.get(k, -1) for k in keys],
                            dtype=torch.long)
    ok = e_to_pyg >= 0
    none = len(our_ents)  # the lowest of our ids per PyG node:
    e_to_ours = torch.full((len(p_ents), ), none, dtype=torch.long)
    e_to_ours.scatter_reduce_(0, e_to_pyg[ok], torch.arange(none)[ok],
                              reduce='amin')
    e_to_ours[e_to_ours == none] = -1
    merged = int(ok.sum()) - int((e_to_ours >= 0).sum())
    r_index = _index(p_rels)
    r_to_pyg = torch.tensor([r_index.get(n, -1) for n in our_rels],
                            dtype=torch.long)
    r_to_ours = torch.full((len(p_rels), ), -1, dtype=torch.long)
    r_ok = r_to_pyg >= 0
    r_to_ours[r_to_pyg[r_ok]] = torch.arange(len(our_rels))[r_ok]
    if not bool(ok.any()):
        raise ValueError(f"none of our {len(our_ents)} entity names is a "
                         f"PyG raw-file name (e.g. {our_ents[:2]} vs "
                         f"{p_ents[:2]}); WN18RR++ needs offset_names=")
    align = IdAlignment(e_to_pyg, e_to_ours, r_to_pyg, r_to_ours, merged)
    if check and hasattr(pyg, 'raw_paths'):
        _check_same_graph(pyg, data, align)
    return align


def _check_same_graph(pyg: Any, data: Any, align: IdAlignment) -> None:
    from pyg_mmkg.data import triples
    ours = set()
    for split in ('train', 'val', 'test'):
        h, r, t = triples(data, split)
        ours.update(zip(align.entity_to_pyg[h].tolist(),
                        align.relation_to_pyg[r].tolist(),
                        align.entity_to_pyg[t].tolist()))
    theirs = set()
    for d in _pyg_parts(pyg):
        ei, et = d.edge_index, d.edge_type
        theirs.update(zip(ei[0].tolist(), et.tolist(), ei[1].tolist()))
    if ours != theirs:
        raise ValueError(f"the graphs differ once aligned: "
                         f"{len(theirs - ours)} PyG triples are not ours, "
                         f"{len(ours - theirs)} of ours are not PyG's")


def _pyg_parts(pyg: Any) -> List[Any]:
    if type(pyg).__name__ == 'FB15k_237':  # one split per dataset object
        cls, root = type(pyg), pyg.root
        return [cls(root, split=s)[0] for s in ('train', 'val', 'test')]
    return [pyg[0]]

