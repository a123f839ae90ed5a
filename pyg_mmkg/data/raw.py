r"""Readers for whole raw KG folders in the layouts the MMKG field uses.

Layouts (``layout=``):

* ``'vista'``: VISTA (VTKG-I/C, WN18RR++, FB15K237): ``entities.txt``,
  ``relations.txt``, ``train.txt``/``valid.txt`` (or ``val.txt``)/
  ``test.txt`` as ``head<TAB>relation<TAB>tail`` names, optional
  ``entity2text*.txt`` / ``relation2text*.txt`` and the feature dicts
  ``visual_features_ent.pt`` ... (see :func:`load_vista_features`).
* ``'openke'``: OpenKE ids (DB15K, WN18): ``entity2id.txt``,
  ``relation2id.txt`` and ``train2id.txt``/``valid2id.txt``/``test2id.txt``
  with a count header and the column order head, tail, relation.
* ``'mmrns'``: MMRNS / MoMoK (MKG-W, MKG-Y, KVC16K): ``entity2id.txt``,
  ``relation2id.txt`` and ``head relation tail .`` lines.
* ``'wn9'``: WN9-IMG: ``entity2id.txt``, ``relation2id.txt`` and
  ``head<TAB>tail<TAB>relation`` names with CRLF endings.
* ``'tsv'``: only ``train/valid/test.txt`` of ``head<TAB>relation<TAB>tail``
  names (PyG's FB15k-237 files); an ``entities.txt`` / ``relations.txt``
  (or ``entity2id.txt`` / ``relation2id.txt``) is used when present,
  otherwise ids follow sorted names (stable).

With ``entity2id.txt`` and tab-separated triples, ``'auto'`` tells
``'wn9'`` (head, tail, relation) from ``'tsv'`` (head, relation, tail) by
which column holds relation names; when both orders fit (e.g. numeric
names), it raises instead of guessing.
"""
from __future__ import annotations

import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from pyg_mmkg.data.contract import make_kg_data
from pyg_mmkg.data.align import align_keys
from pyg_mmkg.data.overlap import SplitOverlapError
from pyg_mmkg.data._split_files import (NAMED, column_order,
                                        expected_files_message,
                                        find_split_files, normalise_files,
                                        separator, sniff_header,
                                        unused_files)
from pyg_mmkg.data.io import (RawFormatError, quote, read_id_map, read_list,
                              read_text_map, read_triples, resolve,
                              shorten)

__all__ = ['LAYOUTS', 'detect_layout', 'read_kg_folder',
           'load_vista_features', 'feature_dict_to_tensor']

# VISTA's feature dicts, re-exported here where they were defined first:
from pyg_mmkg.data.vista_features import (  # noqa: E402
    feature_dict_to_tensor, load_vista_features)

LAYOUTS = ('vista', 'openke', 'mmrns', 'wn9', 'tsv')


def _exists(folder: str, name: str) -> bool:
    return resolve(osp.join(folder, name), required=False) is not None


def _first_line(folder: str, name: str) -> str:
    from pyg_mmkg.data.io import iter_lines
    for _, line in iter_lines(osp.join(folder, name)):
        return line
    return ''


def detect_layout(folder: str, files: Optional[Dict[str, str]] = None
                  ) -> str:
    r"""Guesses the layout of a raw folder from its file names and first
    lines; raises a :class:`ValueError` listing the files it found and the
    files it expects otherwise.

    Args:
        folder (str): The raw folder.
        files (dict, optional): Split file names given by the user
            (``'tsv'`` then, or ``'vista'`` beside ``entities.txt``).
    """
    if files:
        return 'vista' if _exists(folder, 'entities.txt') and _exists(
            folder, 'relations.txt') else 'tsv'
    if _exists(folder, 'train2id.txt'):
        return 'openke'
    if _exists(folder, 'entities.txt') and _exists(folder, 'relations.txt'):
        return 'vista'
    if _exists(folder, 'entity2id.txt') and _exists(folder, 'train.txt'):
        first = _first_line(folder, 'train.txt').strip()
        if first.isdigit():  # OpenKE count header (PyG's WordNet18 files)
            return 'openke'
        if first.endswith(' .'):
            return 'mmrns'
        return _column_order(folder)
    if any(_exists(folder, n) for n in NAMED['train']):
        return 'tsv'
    import os
    if not osp.isdir(folder):
        raise FileNotFoundError(f"KG folder '{folder}' does not exist")
    found = sorted(os.listdir(folder))
    raise ValueError(f"Cannot detect the KG layout of '{folder}' (files: "
                     f"{found}): {expected_files_message()}. Layouts: "
                     f"{LAYOUTS}, see pyg_mmkg.data.raw")


def _column_order(folder: str, sample: int = 1000) -> str:
    r"""``'wn9'`` (head, tail, relation) or ``'tsv'`` (head, relation,
    tail) for a tab-separated ``train.txt`` beside id maps, from which
    column of the first :obj:`sample` lines holds relation names."""
    from pyg_mmkg.data.io import iter_lines
    ents = set(read_id_map(osp.join(folder, 'entity2id.txt')))
    rels = set(read_id_map(osp.join(folder, 'relation2id.txt')))
    rows = []
    for _, line in iter_lines(osp.join(folder, 'train.txt')):
        rows.append([p.strip() for p in line.split('\t')])
        if len(rows) == sample:
            break
    cols = list(zip(*[r for r in rows if len(r) == 3])) or [(), (), ()]
    fits = lambda c, names: set(c) <= names  # noqa: E731
    htr = fits(cols[1], ents) and fits(cols[2], rels)
    hrt = fits(cols[1], rels) and fits(cols[2], ents)
    if hrt and htr:
        raise ValueError(
            f"Cannot tell the column order of '{osp.join(folder, 'train.txt')}'"
            f": both head-tail-relation (WN9-IMG) and head-relation-tail fit "
            f"its entity and relation names (numeric names?). Pass "
            f"layout='wn9' (head<TAB>tail<TAB>relation) or layout='tsv' "
            f"(head<TAB>relation<TAB>tail).")
    return 'tsv' if hrt else 'wn9'  # neither: the reader names the line


def _to_ids(path: str, rows: List[Tuple[str, str, str]], lines: List[int],
            ent: Dict[str, int], rel: Dict[str, int],
            numeric: bool) -> Tuple[Tensor, Tensor, Tensor]:
    out = ([], [], [])
    for (h, r, t), line in zip(rows, lines):
        try:
            if numeric:
                hi, ri, ti = int(h), int(r), int(t)
                if not (0 <= hi < len(ent) and 0 <= ti < len(ent)):
                    raise KeyError(f'entity id out of range [0, {len(ent)})')
                if not 0 <= ri < len(rel):
                    raise KeyError(f'relation id {ri} out of range '
                                   f'[0, {len(rel)})')
            else:
                hi = ent[h] if h in ent else _unknown('entity', h)
                ti = ent[t] if t in ent else _unknown('entity', t)
                ri = rel[r] if r in rel else _unknown('relation', r)
        except ValueError as e:
            raise RawFormatError(path, line,
                                 f'non-integer id ({shorten(e)})') from None
        except KeyError as e:
            raise RawFormatError(path, line, e.args[0]) from None
        out[0].append(hi)
        out[1].append(ri)
        out[2].append(ti)
    return tuple(torch.tensor(x, dtype=torch.long) for x in out)


def _unknown(kind: str, name: str):
    raise KeyError(f"unknown {kind} {quote(name)} (not in the {kind} list)")


def read_kg_folder(folder: str, layout: str = 'auto',
                   text_files: Optional[Dict[str, Sequence[str]]] = None,
                   allow_split_overlap: bool = False,
                   files: Optional[Dict[str, str]] = None,
                   columns: Optional[Sequence[str]] = None,
                   header='auto') -> HeteroData:
    r"""Reads a raw KG folder into a contract :class:`HeteroData`.

    Args:
        folder (str): The folder with the raw files.
        layout (str): One of :obj:`LAYOUTS` or ``'auto'``.
            (default: :obj:`'auto'`)
        text_files (dict, optional): ``{'entity': [...], 'relation': [...]}``
            text files to try, in order of preference (the first one found
            gives the text; a second one found is joined as
            ``'name: description'``); a file named here must exist. A
            string names the entity text file. (default: VISTA's
            ``entity2text.txt`` + ``entity2textlong.txt`` where present)
        allow_split_overlap (bool): Load splits that share triples with a
            :class:`~pyg_mmkg.data.SplitOverlapWarning` instead of raising
            :class:`~pyg_mmkg.data.SplitOverlapError` (for datasets whose
            official splits overlap). (default: :obj:`False`)
        files (dict, optional): The split files, e.g. ``{'train':
            'kg_train.tsv', 'valid': 'kg_dev.tsv', 'test': 'kg_test.tsv'}``
            (relative to :obj:`folder`); by default ``train`` / ``valid``
            (or ``val``, ``dev``) / ``test`` with ``.txt``, ``.tsv`` or
            ``.csv`` (comma-separated) are looked for.
        columns (list[str], optional): The column order, e.g.
            ``('head', 'tail', 'relation')`` or ``'htr'`` (also
            subject/predicate/object). (default: the layout's, or the one
            a header line names)
        header (str or bool): ``'auto'`` skips a first line that names the
            columns (or, with entity/relation lists, holds unknown names
            while the next line does not); :obj:`True` always skips the
            first line, :obj:`False` never. (default: :obj:`'auto'`)

    The files read, and the other files of the folder, are recorded in
    ``data.source_files`` (``{'train': ..., 'header_skipped': [...],
    'entity_text': [...], 'unused': [...]}``).
    """
    files = normalise_files(files)
    user_order = column_order(columns)
    if layout == 'auto':
        layout = detect_layout(folder, files)
    if layout not in LAYOUTS:
        raise ValueError(f"Unknown layout '{layout}' (expected {LAYOUTS})")
    join = lambda n: osp.join(folder, n)  # noqa: E731
    sep: Optional[str] = '\t'
    order, strip_dot, numeric = 'hrt', False, False
    rel_names: Optional[List[str]] = None
    ent_names: Optional[List[str]] = None
    lists = None if layout == 'tsv' and not _exists(
        folder, 'entities.txt') and not _exists(folder, 'entity2id.txt') \
        else ['entity2id.txt', 'relation2id.txt']
    if layout == 'vista' or (layout == 'tsv' and _exists(folder,
                                                         'entities.txt')):
        lists = ['entities.txt', 'relations.txt']
        ent_names = read_list(join('entities.txt'))
        rel_names = read_list(join('relations.txt'))
    elif layout == 'tsv' and _exists(folder, 'entity2id.txt'):
        ent_names = read_id_map(join('entity2id.txt'))
        rel_names = read_id_map(join('relation2id.txt'))
    elif layout == 'openke':
        ent_names = read_id_map(join('entity2id.txt'))
        rel_names = read_id_map(join('relation2id.txt'))
        sep, order, numeric = None, 'htr', True
    elif layout == 'mmrns':
        ent_names = read_id_map(join('entity2id.txt'))
        rel_names = read_id_map(join('relation2id.txt'))
        sep, strip_dot = None, True
    elif layout == 'wn9':
        ent_names = read_id_map(join('entity2id.txt'))
        rel_names = read_id_map(join('relation2id.txt'))
        order = 'htr'

    raw = {}
    known = None if ent_names is None or numeric else (set(ent_names),
                                                       set(rel_names))
    used = {}
    skipped = []
    for split, path in find_split_files(folder, layout, files).items():
        if path is None:
            raw[split] = ([], [], path)
            continue
        f_sep = separator(path, sep)
        skip, named = sniff_header(path, f_sep, header, known)
        f_order = user_order or named or order
        rows, lines = read_triples(path, order=f_order, sep=f_sep,
                                   strip_dot=strip_dot, skip_first=skip)
        raw[split] = (rows, lines, path)
        used[split] = osp.basename(resolve(path))
        if skip:
            skipped.append(used[split])

    if ent_names is None:  # plain tsv without lists: sorted, stable ids
        ents, rels = set(), set()
        for rows, _, _ in raw.values():
            for h, r, t in rows:
                ents.update((h, t))
                rels.add(r)
        ent_names, rel_names = sorted(ents), sorted(rels)
    ent = {n: i for i, n in enumerate(ent_names)}
    rel = {n: i for i, n in enumerate(rel_names)}
    splits = {}
    for split, (rows, lines, path) in raw.items():
        if path is not None:
            splits[split] = _to_ids(path, rows, lines, ent, rel, numeric)

    texts, text_paths = _read_texts(folder, ent_names, rel_names,
                                    text_files)
    try:
        data = make_kg_data(ent_names, rel_names, splits, *texts,
                            allow_split_overlap=allow_split_overlap)
    except SplitOverlapError as e:
        raise SplitOverlapError(f"'{folder}' ({layout} layout): {e}") \
            from None
    data.layout = layout
    lists = [] if lists is None else [osp.basename(resolve(join(n)))
                                      for n in lists]
    record = dict(used, header_skipped=skipped, lists=lists, **text_paths)
    record['unused'] = unused_files(folder, [
        v for v in record.values() if isinstance(v, str)] + skipped + lists
        + sum((v for k, v in text_paths.items()), []))
    data.source_files = record
    return data


def _read_texts(folder, ent_names, rel_names, text_files):
    given = text_files is not None
    if isinstance(text_files, str):
        text_files = {'entity': [text_files]}
    text_files = text_files or {
        'entity': ['entity2text.txt', 'entity2textlong.txt'],
        'relation': ['relation2text.txt', 'relation2textlong.txt'],
    }
    out, used = [], {}
    for kind, names in (('entity', ent_names), ('relation', rel_names)):
        wanted = text_files.get(kind, [])
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        missing = [f for f in wanted if not _exists(folder, f)]
        if given and missing:
            raise FileNotFoundError(f"text_files['{kind}']: "
                                    f"'{osp.join(folder, missing[0])}' is "
                                    f"missing")
        paths = [osp.join(folder, f) for f in wanted if _exists(folder, f)]
        used[f'{kind}_text'] = [osp.basename(resolve(p)) for p in paths]
        maps = [read_text_map(p) for p in paths]
        if not maps:
            out.append(None)
            continue
        for path, m in zip(paths, maps):  # error if no key is a name
            align_keys(m.keys(), names, kind, resolve(path),
                       error=lambda msg: RawFormatError(resolve(path), None,
                                                        msg))
        texts = []
        for n in names:
            parts = [m.get(n, '') for m in maps]
            parts = [p for i, p in enumerate(parts) if p and p not in
                     parts[:i]]
            texts.append(': '.join(parts))
        out.append(texts)
    return out, used
