r"""A user's own knowledge graph from a folder in any supported layout."""
from __future__ import annotations

import os
import os.path as osp
from typing import Callable, Dict, List, Optional

from pyg_mmkg.data.raw import LAYOUTS, detect_layout, read_kg_folder
from pyg_mmkg.datasets.base import MMKGDataset

__all__ = ['KGFolder']


class KGFolder(MMKGDataset):
    r"""Loads any KG folder (VISTA, OpenKE, MMRNS/MoMoK, WN9-IMG or plain
    TSV layout, see :mod:`pyg_mmkg.data.raw`) without subclassing.

    The raw files are read from :obj:`root` itself (or ``root/raw`` when it
    exists); processed files go to ``root/processed``.

    Args:
        root (str): The folder.
        layout (str): A layout name or ``'auto'``. (default: :obj:`'auto'`)
        allow_split_overlap (bool): Load splits that share triples with a
            warning instead of an error. (default: :obj:`False`)
        literal_file (str, optional): A file of numeric literals,
            ``entity <TAB> attribute <TAB> value`` lines (relative to the
            raw folder), read into ``x_numeric`` / ``numeric_mask`` (see
            :func:`pyg_mmkg.data.literals.read_numeric_literals`; unknown
            entities and non-numeric values are errors). By default
            ``literals.txt`` is read when the folder has one.
        **kwargs: See :class:`MMKGDataset` (encoders, feature files, ...).
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
                 literal_file: Optional[str] = None) -> None:
        if layout != 'auto' and layout not in LAYOUTS:
            raise ValueError(f"Unknown layout '{layout}' (expected one of "
                             f"{LAYOUTS} or 'auto')")
        self._root = osp.expanduser(root)
        self.literal_file = literal_file
        self.layout = layout if layout != 'auto' else detect_layout(
            self.raw_dir)
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
                f'{self.raw_key}{self._literal_tag()}.pt']

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
        import hashlib
        stat = os.stat(path)
        key = f'{osp.abspath(path)}:{stat.st_size}:{stat.st_mtime_ns}'
        return '__lit-' + hashlib.sha1(key.encode()).hexdigest()[:10]

    def read_raw(self):
        data = read_kg_folder(self.raw_dir, self.layout,
                              allow_split_overlap=self.allow_split_overlap)
        path = self._literal_path()
        if path is not None:
            from pyg_mmkg.data.literals import attach_numeric_literals
            attach_numeric_literals(data, path)
        return data
