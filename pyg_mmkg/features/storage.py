r"""Feature tables on disk: half precision and memory-mapped loading.

A frozen feature table of 5M entities x 384 dimensions is 7.7 GB in
:obj:`float32` and 3.8 GB in :obj:`float16`. :func:`save_feature_table`
writes it in half precision; :func:`load_feature_table` maps the file into
memory (:obj:`torch.load(mmap=True, weights_only=True)`), so the table is
read lazily from the page cache and never copied into the process (a plain
:func:`torch.load` reads the file into a buffer and builds the tensor: two
copies at peak). Models that keep half features
(:attr:`~pyg_mmkg.nn.models.base.MultimodalKGEModel.keeps_half_features`)
upcast them to :obj:`float32` where they use them.
"""
import os
from typing import Optional, Union

import torch
from torch import Tensor

from pyg_mmkg.utils.files import atomic_save

PathLike = Union[str, os.PathLike]


def save_feature_table(x: Tensor, path: PathLike,
                       dtype: Optional[torch.dtype] = torch.float16) -> None:
    r"""Writes a feature table :obj:`[N, ...]` as a single contiguous tensor
    (atomically), by default in :obj:`float16`.

    Args:
        x (torch.Tensor): The features.
        path (str): The output file.
        dtype (torch.dtype, optional): The stored type; :obj:`None` keeps
            :obj:`x.dtype`. (default: :obj:`torch.float16`)

    Raises:
        ValueError: If :obj:`x` holds values that :obj:`float16` cannot
            represent (beyond :math:`\pm 65504`).
    """
    if dtype is not None and dtype != x.dtype:
        if dtype == torch.float16 and x.is_floating_point() and bool(
                (x.abs() > torch.finfo(torch.float16).max).any()):
            raise ValueError(
                f"The features exceed float16's range (max |x| = "
                f"{float(x.abs().max()):.4g} > 65504); store them with "
                f"dtype=torch.bfloat16 or torch.float32")
        x = x.to(dtype)
    x = x.contiguous().cpu()
    if x.untyped_storage().nbytes() != x.numel() * x.element_size():
        x = x.clone()  # A view: torch.save would write its whole storage.
    atomic_save(x, os.fspath(path))


def load_feature_table(path: PathLike, mmap: bool = True,
                       dtype: Optional[torch.dtype] = None) -> Tensor:
    r"""Loads a table written by :func:`save_feature_table` (or any file
    holding one tensor) without unpickling code, memory-mapped by default.

    Args:
        path (str): The file.
        mmap (bool, optional): Map the file instead of reading it; the
            tensor's storage is then the file's pages (read-only use;
            in-place writes would copy-on-write). (default: :obj:`True`)
        dtype (torch.dtype, optional): Convert to this type (a copy in
            memory). (default: :obj:`None`, as stored)
    """
    x = torch.load(os.fspath(path), map_location='cpu', weights_only=True,
                   mmap=mmap)
    if not isinstance(x, Tensor):
        raise ValueError(f"'{path}' does not hold a single tensor (got "
                         f"{type(x).__name__})")
    if dtype is not None and dtype != x.dtype:
        x = x.to(dtype)
    return x
