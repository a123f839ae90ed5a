r"""A user's own knowledge graph from a folder in any supported layout."""
from __future__ import annotations

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
                 allow_split_overlap: bool = False) -> None:
        if layout != 'auto' and layout not in LAYOUTS:
            raise ValueError(f"Unknown layout '{layout}' (expected one of "
                             f"{LAYOUTS} or 'auto')")
        self._root = osp.expanduser(root)
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
                f'{self.raw_key}.pt']

    def read_raw(self):
        return read_kg_folder(self.raw_dir, self.layout,
                              allow_split_overlap=self.allow_split_overlap)
