r"""A feature file as a dataset: the graph it was computed for, with its
features attached (what ``pyg-mmkg train --dataset FEATURES.pt`` loads)."""
from __future__ import annotations

import os
import os.path as osp
from typing import Any, Dict, Optional

from pyg_mmkg.data.feature_file import apply_feature_file, load_feature_file
from pyg_mmkg.data.io import RawFormatError, resolve

__all__ = ['load_feature_dataset']


def load_feature_dataset(path: str, root: Optional[str] = None,
                         obj: Optional[Dict[str, Any]] = None) -> Any:
    r"""Loads the graph a feature file records (its :obj:`dataset` and
    :obj:`root`) and attaches the file's features, matched by name.

    Args:
        path (str): A feature file written by ``pyg-mmkg features`` (see
            :mod:`pyg_mmkg.data.feature_file`).
        root (str, optional): The dataset root, instead of the recorded one.
        obj (dict, optional): The file's content when already loaded.

    Returns:
        HeteroData: The graph with the file's features.
    """
    from pyg_mmkg.datasets import get_dataset
    real = resolve(os.fspath(path))
    obj = obj if obj is not None else load_feature_file(real)
    name = obj.get('dataset')
    if not name:
        raise RawFormatError(real, None, "the feature file records no "
                             "dataset; load the graph yourself and pass the "
                             "file as feature_files={'entity.x_text': ...} "
                             "(or write it again with `pyg-mmkg features`)")
    root = root if root is not None else obj.get('root')
    if osp.isabs(name) and not osp.isdir(name):
        raise RawFormatError(real, None, f"the dataset folder it was "
                             f"computed for, '{name}', is missing")
    try:
        dataset = get_dataset(name, root=root)
    except (RuntimeError, ValueError, OSError) as e:
        raise type(e)(f"'{real}' holds features of dataset '{name}' (root "
                      f"{root!r}), which cannot be loaded: {e}") from None
    data = dataset if hasattr(dataset, 'node_types') else dataset[0]
    return apply_feature_file(data, real)
