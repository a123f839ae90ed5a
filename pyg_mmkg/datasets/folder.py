r"""A user's own knowledge graph from a folder in any supported layout."""
from __future__ import annotations

import hashlib
import json
import os
import os.path as osp
import sys
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Union

from pyg_mmkg.data._split_files import column_order, normalise_files
from pyg_mmkg.data.raw import LAYOUTS, detect_layout, read_kg_folder
from pyg_mmkg.datasets.base import MMKGDataset

__all__ = ['KGFolder', 'UnusedFilesWarning', 'describe_source_files']


class UnusedFilesWarning(UserWarning):
    r"""A :class:`KGFolder` holds text files it did not read (a description
    file under another name than it looks for, a misnamed split, ...)."""


class KGFolder(MMKGDataset):
    r"""Loads any KG folder (VISTA, OpenKE, MMRNS/MoMoK, WN9-IMG or plain
    TSV/CSV layout, see :mod:`pyg_mmkg.data.raw`) without subclassing.

    The raw files are read from :obj:`root` itself (or ``root/raw`` when it
    exists); processed files go to ``root/processed`` (removed again when
    the first load fails). Split files are found as ``train`` / ``valid``
    (or ``val``, ``dev``) / ``test`` with ``.txt``, ``.tsv`` or ``.csv``,
    or named with :obj:`files`. :meth:`summary` (and ``pyg-mmkg info``)
    says which files were read; a text-like file that was not read gives a
    :class:`UnusedFilesWarning` when the folder is processed.

    Args:
        root (str): The folder.
        layout (str): A layout name or ``'auto'``. (default: :obj:`'auto'`)
        text_encoder (optional): See :class:`MMKGDataset`.
        image_encoder (optional): See :class:`MMKGDataset`.
        image_paths (dict, optional): See :class:`MMKGDataset`.
        feature_files (dict, optional): See :class:`MMKGDataset` (a file
            ``pyg-mmkg features`` wrote is accepted).
        max_images (int, optional): See :class:`MMKGDataset`.
        transform (callable, optional): As in PyG.
        pre_transform (callable, optional): As in PyG.
        force_reload (bool): Re-process. (default: :obj:`False`)
        allow_split_overlap (bool): Load splits that share triples with a
            warning instead of an error. (default: :obj:`False`)
        literal_file (str, optional): A file of numeric literals,
            ``entity <TAB> attribute <TAB> value`` lines (relative to the
            raw folder), read into ``x_numeric`` / ``numeric_mask`` (see
            :func:`pyg_mmkg.data.literals.read_numeric_literals`; unknown
            entities and non-numeric values are errors). By default
            ``literals.txt`` is read when the folder has one.
        files (dict, optional): The split files, e.g. ``{'train':
            'kg_train.tsv', 'valid': 'kg_dev.tsv', 'test': 'kg_test.tsv'}``
            (relative to the raw folder).
        columns (list[str], optional): The column order of the split
            files, e.g. ``('head', 'tail', 'relation')`` or ``'htr'``.
            (default: the layout's, or the one a header line names)
        header (str or bool): ``'auto'`` detects and skips a header line;
            :obj:`True` / :obj:`False` force it. (default: :obj:`'auto'`)
        text_files (str or dict, optional): The entity description file
            (a str), or ``{'entity': [...], 'relation': [...]}`` (each file
            ``name<TAB>text`` lines; a file named here must exist).
            (default: ``entity2text.txt`` / ``entity2textlong.txt`` /
            ``relation2text.txt`` where present)
    """
    def __init__(self, root: str, layout: str = 'auto',
                 text_encoder=None, image_encoder=None,
                 image_paths: Optional[Dict[str, List[str]]] = None,
                 feature_files: Optional[Dict[str, str]] = None,
                 max_images: Optional[int] = None,
                 transform: Optional[Callable] = None,
                 pre_transform: Optional[Callable] = None,
                 force_reload: bool = False,
                 allow_split_overlap: bool = False,
                 literal_file: Optional[str] = None,
                 files: Optional[Dict[str, str]] = None,
                 columns: Union[None, str, Sequence[str]] = None,
                 header: Union[str, bool] = 'auto',
                 text_files: Union[None, str, Dict[str, Sequence[str]]]
                 = None) -> None:
        if layout != 'auto' and layout not in LAYOUTS:
            raise ValueError(f"Unknown layout '{layout}' (expected one of "
                             f"{LAYOUTS} or 'auto')")
        self._root = osp.expanduser(root)
        self.literal_file = literal_file
        self.split_files = normalise_files(files)
        column_order(columns)  # an error now, not after processing starts
        self.columns, self.header, self.text_files = columns, header, \
            text_files
        self.layout = layout if layout != 'auto' else detect_layout(
            self.raw_dir, self.split_files)
        super().__init__(root, text_encoder, image_encoder, image_paths,
                         feature_files, max_images, transform, pre_transform,
                         force_reload, allow_split_overlap)

    @property
    def raw_dir(self) -> str:
        sub = osp.join(self._root, 'raw')
        return sub if osp.isdir(sub) else self._root

    @property
    def raw_file_names(self) -> List[str]:
        return []

    @property
    def processed_file_names(self) -> List[str]:
        return [f'data__{self.layout}__{self.feature_id}__raw-'
                f'{self.raw_key}{self._literal_tag()}{self._read_tag()}.pt']

    def _read_tag(self) -> str:
        options = dict(files=self.split_files, columns=self.columns,
                       header=self.header, text_files=self.text_files)
        if options == dict(files={}, columns=None, header='auto',
                           text_files=None):
            return ''
        key = json.dumps(options, sort_keys=True, default=str)
        return '__read-' + hashlib.sha1(key.encode()).hexdigest()[:10]

    def _literal_path(self) -> Optional[str]:
        from pyg_mmkg.data.io import resolve
        if self.literal_file is None:
            return resolve(osp.join(self.raw_dir, 'literals.txt'),
                           required=False)
        return resolve(osp.join(self.raw_dir, self.literal_file))

    def _literal_tag(self) -> str:
        path = self._literal_path()
        if path is None:
            return ''
        stat = os.stat(path)
        key = f'{osp.abspath(path)}:{stat.st_size}:{stat.st_mtime_ns}'
        return '__lit-' + hashlib.sha1(key.encode()).hexdigest()[:10]

    def read_raw(self):
        data = read_kg_folder(self.raw_dir, self.layout,
                              text_files=self.text_files,
                              allow_split_overlap=self.allow_split_overlap,
                              files=self.split_files, columns=self.columns,
                              header=self.header)
        path = self._literal_path()
        record = dict(data.source_files)
        if path is not None:
            from pyg_mmkg.data.literals import attach_numeric_literals
            attach_numeric_literals(data, path)
            record['literals'] = osp.basename(path)
            record['unused'] = [f for f in record['unused']
                                if f != osp.basename(path)]
        data.source_files = record
        self._announce(record)
        return data

    def _announce(self, record: Dict) -> None:
        if self.log and 'PYTEST_CURRENT_TEST' not in os.environ:
            print(f"{type(self).__name__}('{self.raw_dir}'): "
                  f"{self.summary(record)}", file=sys.stderr)
        unread = [f for f in record.get('unused', []) if f.rsplit(
            '.gz', 1)[0].rsplit('.', 1)[-1].lower() in ('txt', 'tsv', 'csv')]
        if unread:
            warnings.warn(
                f"KGFolder('{self.raw_dir}') did not read {unread}. Name "
                f"split files with files={{'train': ...}}, a description "
                f"file with text_files='...' (it reads entity2text.txt / "
                f"entity2textlong.txt by default), literals with "
                f"literal_file='...'.", UnusedFilesWarning, stacklevel=4)

    def summary(self, record: Optional[Dict] = None) -> str:
        r"""Which files the graph was read from, e.g. ``"layout tsv; train
        train.tsv (header skipped), val valid.tsv, test test.tsv; entity
        text descriptions.txt; not read: notes.md"``.

        Args:
            record (dict, optional): A ``data.source_files`` record.
                (default: the loaded graph's)
        """
        if record is None:
            record = getattr(self._data, 'source_files', None) or {}
        return describe_source_files(record, self.layout)


def describe_source_files(record: Dict, layout: Optional[str] = None) -> str:
    r"""A one-line account of a ``data.source_files`` record (see
    :func:`~pyg_mmkg.data.raw.read_kg_folder`).

    Args:
        record (dict): The record.
        layout (str, optional): The layout, named first when given.
    """
    skipped = set(record.get('header_skipped', []))
    parts = [f'layout {layout}'] if layout else []
    splits = [f"{s} {record[s]}" + (' (header skipped)'
                                     if record[s] in skipped else '')
              for s in ('train', 'val', 'test') if s in record]
    missing = [s for s in ('val', 'test') if s not in record]
    parts.append(', '.join(splits) + (f" (no {'/'.join(missing)} file)"
                                      if missing else ''))
    for key in ('lists', 'entity_text', 'relation_text'):
        if record.get(key):
            parts.append(f"{key.replace('_', ' ')} "
                         f"{', '.join(record[key])}")
    if record.get('literals'):
        parts.append(f"literals {record['literals']}")
    if record.get('unused'):
        parts.append(f"not read: {', '.join(record['unused'])}")
    return '; '.join(parts)
