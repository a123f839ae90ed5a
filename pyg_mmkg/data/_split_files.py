r"""Which files of a raw KG folder hold the splits, in which column order,
and whether their first line is a header (helpers of
:func:`pyg_mmkg.data.raw.read_kg_folder`)."""
from __future__ import annotations

import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

from pyg_mmkg.data.io import iter_lines, resolve

SPLITS = ('train', 'val', 'test')
_EXTS = ('.txt', '.tsv', '.csv')
_STEMS = {'train': ('train', ), 'val': ('valid', 'val', 'dev'),
          'test': ('test', )}
#: File names tried per split for the name-based layouts.
NAMED = {split: [s + e for s in stems for e in _EXTS]
         for split, stems in _STEMS.items()}
CANDIDATES = {
    'vista': NAMED, 'tsv': NAMED,
    'openke': {'train': ['train2id.txt', 'train.txt'],
               'val': ['valid2id.txt', 'valid.txt'],
               'test': ['test2id.txt', 'test.txt']},
    'mmrns': {'train': ['train.txt'], 'val': ['valid.txt'],
              'test': ['test.txt']},
    'wn9': {'train': ['train.txt'], 'val': ['valid.txt'],
            'test': ['test.txt']},
}
_SPLIT_ALIASES = {'train': 'train', 'training': 'train', 'val': 'val',
                  'valid': 'val', 'validation': 'val', 'dev': 'val',
                  'test': 'test', 'testing': 'test'}
_COLUMN_ALIASES = {
    'h': 'h', 'head': 'h', 'subject': 'h', 's': 'h', 'source': 'h',
    'src': 'h', 'head_label': 'h', 'head_id': 'h',
    'r': 'r', 'relation': 'r', 'rel': 'r', 'predicate': 'r', 'p': 'r',
    'relation_label': 'r', 'relation_id': 'r', 'edge': 'r', 'type': 'r',
    't': 't', 'tail': 't', 'object': 't', 'o': 't', 'target': 't',
    'dst': 't', 'tail_label': 't', 'tail_id': 't',
}


def expected_files_message() -> str:
    r"""The files a folder must hold, for error messages."""
    return ("expected train.txt / train.tsv / train.csv (with valid.* or "
            "val.* or dev.*, and test.*) of head<TAB>relation<TAB>tail "
            "lines (a header line is detected), or OpenKE's train2id.txt "
            "+ entity2id.txt + relation2id.txt, or VISTA's entities.txt + "
            "relations.txt + train.txt; or name the files: "
            "files={'train': ..., 'val': ..., 'test': ...}")


def normalise_files(files: Optional[Dict[str, str]]) -> Dict[str, str]:
    r"""``files=`` with split aliases (``'valid'``, ``'dev'``) mapped to
    ``'train'`` / ``'val'`` / ``'test'``; unknown keys are an error."""
    out: Dict[str, str] = {}
    for key, name in (files or {}).items():
        split = _SPLIT_ALIASES.get(str(key).lower())
        if split is None:
            raise ValueError(f"files: unknown split '{key}' (expected "
                             f"'train', 'val' (or 'valid') and 'test')")
        out[split] = os.fspath(name)
    if out and 'train' not in out:
        raise ValueError("files= must name the 'train' file")
    return out


def column_order(columns: Union[None, str, Sequence[str]]) -> Optional[str]:
    r"""``columns=('head', 'relation', 'tail')`` (or ``'hrt'``, or
    subject/predicate/object) as an order string such as ``'hrt'``."""
    if columns is None:
        return None
    items = list(columns) if not isinstance(columns, str) or \
        len(columns) == 3 else None
    if items is None:
        raise ValueError(f"columns must name head, relation and tail, got "
                         f"{columns!r}")
    order = ''.join(_COLUMN_ALIASES.get(str(c).strip().lower(), '?')
                    for c in items)
    if sorted(order) != ['h', 'r', 't']:
        raise ValueError(f"columns must name head, relation and tail once "
                         f"each (e.g. ('head', 'relation', 'tail') or "
                         f"'htr'), got {columns!r}")
    return order


def find_split_files(folder: str, layout: str,
                     files: Dict[str, str]) -> Dict[str, Optional[str]]:
    r"""The file of each split (:obj:`None` for a missing val/test)."""
    out: Dict[str, Optional[str]] = {}
    for split in SPLITS:
        if split in files:
            path = files[split]
            path = path if osp.isabs(path) else osp.join(folder, path)
            if resolve(path, required=False) is None:
                raise FileNotFoundError(f"files['{split}']: '{path}' is "
                                        f"missing")
            out[split] = path
            continue
        if files:  # the user named the files: no guessing of the others
            out[split] = None
            continue
        out[split] = None
        for name in CANDIDATES[layout][split]:
            if resolve(osp.join(folder, name), required=False):
                out[split] = osp.join(folder, name)
                break
        if out[split] is None and split == 'train':
            raise FileNotFoundError(
                f"No training file in '{folder}' ({layout} layout): tried "
                f"{CANDIDATES[layout]['train']}; {expected_files_message()}")
    return out


def separator(path: str, default: Optional[str]) -> Optional[str]:
    r"""``','`` for ``.csv`` files, :obj:`default` otherwise."""
    name = path[:-3] if path.endswith('.gz') else path
    return ',' if name.lower().endswith('.csv') else default


def split_line(line: str, sep: Optional[str]) -> List[str]:
    r"""The fields of one line (quoted CSV fields for ``sep=','``)."""
    if sep == ',':
        import csv
        return [p.strip() for p in next(csv.reader([line]))]
    parts = line.split(sep) if sep is not None else line.split()
    return [p.strip() for p in parts]


def sniff_header(path: str, sep: Optional[str],
                 header: Union[str, bool, None],
                 known: Optional[Tuple[Set[str], Set[str]]] = None,
                 ) -> Tuple[bool, Optional[str]]:
    r"""Whether the first line of :obj:`path` is a header, and the column
    order it names (e.g. ``head,tail,relation`` gives ``'htr'``).

    With ``header='auto'`` a first line is a header when all of its fields
    are column names (head/relation/tail, subject/predicate/object, h/r/t,
    ...), or, when the entity and relation names are :obj:`known`, when
    none of its fields is a known name while all of the next line's are. :obj:`True` /
    :obj:`False` decide without looking.
    """
    first = second = None
    for _, line in iter_lines(path):
        if first is None:
            first = split_line(line.strip(), sep)
        else:
            second = split_line(line.strip(), sep)
            break
    if first is None:
        return False, None
    named = [_COLUMN_ALIASES.get(f.lower().lstrip('#').strip())
             for f in first]
    order = ''.join(named) if len(first) == 3 and None not in named and \
        sorted(named) == ['h', 'r', 't'] else None
    if header is True or header == 'yes':
        return True, order
    if header is False or header in ('no', 'none', None):
        return False, None
    if header != 'auto':
        raise ValueError(f"header must be 'auto', True or False, got "
                         f"{header!r}")
    if order is not None:
        # Column-name words that the lists name as entities/relations
        # are a real first triple (e.g. 'head relation tail').
        if known is not None and set(first) <= known[0] | known[1]:
            return False, None
        return True, order
    if known is not None and second is not None and len(first) == 3:
        names = known[0] | known[1]
        # No field known (a bad first triple with one typo stays an
        # error of the reader, naming the line):
        if not set(first) & names and set(second) <= names:
            return True, None
    return False, None


def unused_files(folder: str, used: Sequence[str]) -> List[str]:
    r"""Regular, non-hidden files of :obj:`folder` that were not read."""
    if not osp.isdir(folder):
        return []
    used_names = {osp.basename(u) for u in used}
    used_names |= {n + '.gz' for n in used_names}
    return sorted(n for n in os.listdir(folder)
                  if not n.startswith('.') and n not in used_names
                  and osp.isfile(osp.join(folder, n)))
