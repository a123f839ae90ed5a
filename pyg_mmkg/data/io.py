r"""Low-level readers for the raw text formats of the MMKG field.

Every reader names the file and the 1-based line number of a bad line. Files
may be gzip-compressed (``name.txt.gz`` is found when ``name.txt`` is asked
for), and CRLF or bare-CR line endings are accepted.
"""
from __future__ import annotations

import gzip
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Tuple


from pyg_mmkg.utils.files import atomic_path, atomic_save, quote, shorten

__all__ = [
    'RawFormatError',
    'resolve',
    'iter_lines',
    'read_list',
    'read_id_map',
    'read_text_map',
    'read_triples',
    'read_image_index',
    'atomic_path',
    'atomic_save',
    'shorten',
    'quote',
]


class RawFormatError(ValueError):
    r"""A malformed raw file; the message names the file and line."""
    def __init__(self, path: str, line: Optional[int], message: str):
        self.path, self.line = path, line
        where = f'{path}, line {line}' if line is not None else path
        super().__init__(f'{where}: {message}')


def resolve(path: str, required: bool = True) -> Optional[str]:
    r"""Returns :obj:`path`, or ``path + '.gz'`` when only that exists."""
    if osp.exists(path):
        return path
    if osp.exists(path + '.gz'):
        return path + '.gz'
    if required:
        raise FileNotFoundError(f"Required file '{path}' is missing")
    return None


def iter_lines(path: str) -> Iterator[Tuple[int, str]]:
    r"""Yields ``(line_number, line)`` without line terminators, skipping
    blank lines. Handles gzip, CRLF, bare CR and a UTF-8 BOM."""
    real = resolve(path)
    try:
        if real.endswith('.gz'):
            with gzip.open(real, 'rb') as f:
                raw = f.read()
        else:
            with open(real, 'rb') as f:
                raw = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise RawFormatError(real, None, f'cannot read file ({e})') from e
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b'\n') + 1
        raise RawFormatError(real, line, f'not valid UTF-8 ({e.reason})')
    text = text.replace('\r\n', '\n').replace('\r', '\n')
    for i, line in enumerate(text.split('\n'), start=1):
        if line.strip():
            yield i, line


def _split(line: str, sep: Optional[str]) -> List[str]:
    return line.split(sep) if sep is not None else line.split()


def _is_count_header(line: str) -> bool:
    return line.strip().isdigit()


def read_list(path: str) -> List[str]:
    r"""Reads a one-name-per-line list (VISTA's ``entities.txt``)."""
    names, seen = [], {}
    for i, line in iter_lines(path):
        name = line.strip()
        if name in seen:
            raise RawFormatError(path, i, f"duplicate name {quote(name)} "
                                 f"(first on line {seen[name]})")
        seen[name] = i
        names.append(name)
    return names


def read_id_map(path: str, sep: Optional[str] = None) -> List[str]:
    r"""Reads an OpenKE-style ``*2id.txt`` map (``name<sep>id``, with an
    optional count header) and returns the names ordered by id.

    The name is everything before the last column, so names may contain the
    separator only when :obj:`sep` is given (e.g. ``'\t'``). A name listed
    twice (one entity with two ids: a phantom entity) is an error naming
    both lines.
    """
    pairs: List[Tuple[int, str, int]] = []
    count: Optional[int] = None
    for i, line in iter_lines(path):
        if not pairs and count is None and _is_count_header(line):
            count = int(line.strip())
            continue
        if sep is None and '\t' in line:
            parts = line.rstrip('\t ').rsplit('\t', 1)
        else:
            parts = line.strip().rsplit(sep, 1)
        if len(parts) != 2 or not parts[1].strip().lstrip('-').isdigit():
            raise RawFormatError(path, i, f"expected 'name id', got "
                                 f"{quote(line.strip())}")
        pairs.append((i, parts[0].strip(), int(parts[1])))
    n = len(pairs)
    if count is not None and count != n:
        raise RawFormatError(path, 1, f'header says {count} entries, file '
                             f'has {n}')
    names: List[Optional[str]] = [None] * n
    first: Dict[str, Tuple[int, int]] = {}
    for i, name, idx in pairs:
        if not 0 <= idx < n:
            raise RawFormatError(path, i, f'id {idx} outside [0, {n})')
        if names[idx] is not None:
            raise RawFormatError(path, i, f'id {idx} assigned twice')
        if name in first:
            raise RawFormatError(path, i, f"name {quote(name)} listed twice "
                                 f"(line {first[name][0]} gives it id "
                                 f"{first[name][1]}, this line id {idx}): "
                                 f"one entity would become two")
        first[name] = (i, idx)
        names[idx] = name
    return names  # type: ignore[return-value]


def read_text_map(path: str) -> Dict[str, str]:
    r"""Reads ``key\ttext`` lines (``entity2text.txt``); text may be empty."""
    out: Dict[str, str] = {}
    for i, line in iter_lines(path):
        if '\t' not in line:
            raise RawFormatError(path, i, "expected 'key<TAB>text'")
        key, text = line.split('\t', 1)
        out[key.strip()] = text.strip()
    return out


def read_triples(
    path: str,
    order: str = 'hrt',
    sep: Optional[str] = '\t',
    strip_dot: bool = False,
    header: str = 'auto',
    skip_first: bool = False,
) -> Tuple[List[Tuple[str, str, str]], List[int]]:
    r"""Reads a triple file into ``(head, rel, tail)`` string tuples.

    Args:
        path (str): The file (``.gz`` found automatically).
        order (str): Column order, a permutation of ``'hrt'`` (OpenKE and
            WN9-IMG use ``'htr'``). (default: :obj:`'hrt'`)
        sep (str, optional): Column separator; :obj:`None` splits on any
            whitespace. (default: :obj:`'\t'`)
        strip_dot (bool): Strips a trailing ``' .'`` (N-Triples-like MMRNS /
            MoMoK files). Only the final separator-dot is removed, so names
            ending in a dot survive. (default: :obj:`False`)
        header (str): ``'auto'`` skips a first line that is a single integer
            (OpenKE count header) and checks the count; ``'none'`` never
            skips. (default: :obj:`'auto'`)
        skip_first (bool): Skips the first non-blank line (a header naming
            the columns). (default: :obj:`False`)

    With :obj:`sep` ``','`` lines are read as CSV (quoted fields may hold
    commas).

    Returns:
        The triples and the line number of each.
    """
    if sorted(order) != ['h', 'r', 't']:
        raise ValueError(f"order must be a permutation of 'hrt' "
                         f"(got '{order}')")
    pos = {c: order.index(c) for c in 'hrt'}
    out: List[Tuple[str, str, str]] = []
    lines: List[int] = []
    count: Optional[int] = None
    for i, line in iter_lines(path):
        if skip_first:
            skip_first = False
            continue
        if header == 'auto' and not out and count is None \
                and _is_count_header(line):
            count = int(line.strip())
            continue
        line = line.strip()
        if strip_dot:
            if line.endswith(' .') or line.endswith('\t.'):
                line = line[:-2].rstrip()
            elif line == '.':
                continue
        if sep == ',':
            import csv
            parts = [p.strip() for p in next(csv.reader([line]))]
        else:
            parts = _split(line, sep)
        if sep is not None:
            parts = [p.strip() for p in parts]
        if len(parts) != 3:
            raise RawFormatError(
                path, i, f'expected 3 columns ({order}), found '
                f'{len(parts)}: {quote(line)}')
        out.append((parts[pos['h']], parts[pos['r']], parts[pos['t']]))
        lines.append(i)
    if count is not None and count != len(out):
        raise RawFormatError(path, 1, f'header says {count} triples, file '
                             f'has {len(out)}')
    return out, lines


def read_image_index(path: str,
                     names: Optional[Sequence[str]] = None,
                     fmt: str = 'auto') -> Dict[str, List[str]]:
    r"""Reads an image index: entity -> list of image paths or ids.

    Accepted layouts (``fmt``):

    * ``'pairs'``: ``entity<TAB>image`` lines, an entity may repeat (MMKB's
      ``*_ImageIndex.txt``); also ``entity<TAB>img1<TAB>img2...``.
    * ``'prefixed'``: one image id per line named ``<entity>_<number>``
      (WN9-IMG's ``image_list.txt``: ``n00004475_15899``).

    ``'auto'`` picks ``'pairs'`` when lines contain a tab. When
    :obj:`names` is given, an entity outside it is an error naming the line.

    Args:
        path (str): The index file.
        names (Sequence[str], optional): The known entity names; a line naming
            another entity is an error naming the file and line.
            (default: :obj:`None`)
        fmt (str, optional): :obj:`'pairs'`, :obj:`'prefixed'` or
            :obj:`'auto'` (guessed from the first line). (default: :obj:`'auto'`)
    """
    known = set(names) if names is not None else None
    out: Dict[str, List[str]] = {}
    for i, line in iter_lines(path):
        line = line.strip()
        mode = fmt if fmt != 'auto' else ('pairs' if '\t' in line
                                          else 'prefixed')
        if mode == 'pairs':
            parts = [p.strip() for p in line.split('\t') if p.strip()]
            if len(parts) < 2:
                raise RawFormatError(path, i, "expected 'entity<TAB>image'")
            key, images = parts[0], parts[1:]
        elif mode == 'prefixed':
            if '_' not in line:
                raise RawFormatError(path, i, "expected '<entity>_<id>'")
            key, images = line.rsplit('_', 1)[0], [line]
        else:
            raise ValueError(f"Unknown image index format '{fmt}'")
        if known is not None and key not in known:
            raise RawFormatError(path, i, f"unknown entity {quote(key)}")
        out.setdefault(key, []).extend(images)
    return out
