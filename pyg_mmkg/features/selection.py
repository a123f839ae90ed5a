r"""Image selection: which of an entity's images are kept, in which order.

The one home of the selection rules used when encoding images
(:func:`pyg_mmkg.features.encode_images`) and when loading a dataset's
pre-computed image features (:mod:`pyg_mmkg.data.raw`).
"""
import math
from typing import Any, List, Tuple

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from pyg_mmkg.features._utils import import_optional

__all__ = ['SELECTIONS', 'vista_scores', 'perceptual_hash', 'phash_scores',
           'phash_order', 'phash_slots']

SELECTIONS = ('first', 'vista', 'phash')


def _rank_within(ent: Tensor, score: Tensor, num_nodes: int) -> Tensor:
    r"""Orders images by (entity, descending score), ties by input order;
    returns the permutation and each image's rank within its entity."""
    perm = torch.sort(score, descending=True, stable=True)[1]
    perm = perm[torch.sort(ent[perm], stable=True)[1]]
    count = torch.bincount(ent, minlength=num_nodes)
    start = count.cumsum(0) - count
    rank = torch.arange(ent.numel()) - start[ent[perm]]
    return perm, rank


def vista_scores(x: Tensor, group: Tensor, num_groups: int) -> Tensor:
    r"""VISTA's image centrality: for image :math:`i` of an entity with
    images :math:`j \in J`, :math:`s_i = \langle f_i, \sum_{j \in J} f_j
    \rangle`, the sum of inner products with all images of the same entity.
    Like VISTA's :obj:`sort_vis_features`, the sum includes :math:`j = i`
    and uses raw (unnormalised) features.

    Args:
        x (torch.Tensor): Image features [M, D].
        group (torch.Tensor): The entity of each image [M].
        num_groups (int): The number of entities.
    """
    total = scatter(x, group, dim=0, dim_size=num_groups, reduce='sum')
    return (x * total[group]).sum(dim=-1)


def _dct_matrix(size: int) -> Tensor:
    # Unnormalised DCT-II (scipy.fftpack.dct, type 2, norm=None):
    # y_k = 2 sum_n x_n cos(pi k (2n + 1) / (2 size)).
    k = torch.arange(size, dtype=torch.float64).view(-1, 1)
    n = torch.arange(size, dtype=torch.float64).view(1, -1)
    return 2.0 * torch.cos(math.pi * k * (2 * n + 1) / (2 * size))


def perceptual_hash(image: Any, hash_size: int = 16,
                    highfreq_factor: int = 4) -> Tensor:
    r"""The DCT perceptual hash (pHash) of an image, as :obj:`imagehash.phash`
    computes it: the grey-scale image resized to :math:`s f \times s f`
    (Lanczos; :math:`s` = :obj:`hash_size`, :math:`f` =
    :obj:`highfreq_factor`), its 2-D DCT-II, and the top-left :math:`s
    \times s` coefficients compared with their median. Returns
    :obj:`[s * s]` booleans.

    Args:
        image (str, bytes or PIL.Image.Image): A file path, encoded bytes
            or an image (converted to grey levels as is, as RSME's
            :obj:`filter_gate.py` does).
        hash_size (int, optional): :math:`s`; RSME's filter gate uses 16.
            (default: :obj:`16`)
        highfreq_factor (int, optional): :math:`f`. (default: :obj:`4`)
    """
    import io
    import os

    import numpy as np
    Image = import_optional('PIL.Image', 'vision')
    if isinstance(image, (bytes, bytearray)):
        image = Image.open(io.BytesIO(bytes(image)))
    elif isinstance(image, (str, os.PathLike)):
        image = Image.open(os.fspath(image))
    size = hash_size * highfreq_factor
    grey = image.convert('L').resize((size, size), Image.LANCZOS)
    pixels = torch.from_numpy(np.asarray(grey, dtype=np.float64))
    C = _dct_matrix(size)
    low = (C @ pixels @ C.t())[:hash_size, :hash_size]
    return (low > torch.quantile(low.flatten(), 0.5)).flatten()


def phash_scores(hashes: Tensor, group: Tensor, num_groups: int) -> Tensor:
    r"""RSME's filter-gate centrality: for image :math:`i` of an entity with
    images :math:`J`, :math:`s_i = \sum_{j \in J, j \neq i} (1 - d_H(b_i,
    b_j) / L)`, the summed pHash similarity to the entity's other images
    (:math:`b`: :func:`perceptual_hash` bits, :math:`L` of them,
    :math:`d_H`: Hamming distance). The official :obj:`FilterGate.filter`
    keeps the image with the largest :math:`s_i`, the first one on ties.

    Args:
        hashes (torch.Tensor): Hash bits :obj:`[M, L]` (bool).
        group (torch.Tensor): The entity of each image :obj:`[M]`.
        num_groups (int): The number of entities.
    """
    bits = hashes.to(torch.float64)
    ones = scatter(bits, group, dim=0, dim_size=num_groups, reduce='sum')
    count = torch.bincount(group, minlength=num_groups).to(bits.dtype)
    c, n = ones[group], count[group].view(-1, 1)
    # sum_j d_H(b_i, b_j) per bit: b_i (n - c) + (1 - b_i) c (self adds 0).
    dist = (bits * (n - c) + (1 - bits) * c).sum(-1)
    return (n.view(-1) - 1) - dist / hashes.size(-1)


def phash_order(lists: List[List[Any]],
                hash_size: int = 16) -> List[List[Any]]:
    r"""Reorders each entity's images by :func:`phash_scores`, most central
    first (ties in the given order); images that cannot be read go last.
    Keeping the first image of each list is RSME's filter gate. Raises an
    :class:`ImportError` when Pillow is missing (no image could be read).

    Args:
        lists (list[list]): Per entity, its images (paths, bytes or
            :class:`PIL.Image.Image`).
        hash_size (int, optional): pHash size. (default: :obj:`16`)
    """
    order, _ = _phash_positions(lists, hash_size)
    return [[items[p] for p in pos] for items, pos in zip(lists, order)]


def _phash_positions(lists: List[List[Any]], hash_size: int
                     ) -> Tuple[List[List[int]], List[Tuple[int, int]]]:
    # Per entity, the positions of its images in phash_order's order, and
    # the (entity, position) of each unreadable image.
    if any(len(items) for items in lists):
        import_optional('PIL.Image', 'vision')  # never "all unreadable"
    hashes, group, where, bad = [], [], [], []
    for i, items in enumerate(lists):
        for p, item in enumerate(items):
            try:
                hashes.append(perceptual_hash(item, hash_size))
            except Exception:  # unreadable: ranked last, skipped later
                bad.append((i, p))
                continue
            group.append(i)
            where.append(p)
    out: List[List[int]] = [[] for _ in lists]
    if hashes:
        group_t = torch.tensor(group)
        score = phash_scores(torch.stack(hashes), group_t, len(lists))
        perm, _ = _rank_within(group_t, score, len(lists))
        for j in perm.tolist():
            out[group[j]].append(where[j])
    for i, p in bad:
        out[i].append(p)
    return out, bad


def phash_slots(lists: List[List[Any]], hash_size: int = 16) -> Tensor:
    r"""RSME's filter gate as list positions: for each entity, the position
    in its list of the most central image by :func:`phash_scores` (the first
    one on ties, the official :obj:`FilterGate.filter` choice), or :obj:`0`
    for an entity without images. Images that cannot be read (missing or
    corrupt files) are never picked while the entity has a readable one; a
    :obj:`UserWarning` counts them. Raises an :class:`ImportError` when
    Pillow is missing.

    Args:
        lists (list[list]): Per entity, its images (paths, bytes or
            :class:`PIL.Image.Image`).
        hash_size (int, optional): pHash size. (default: :obj:`16`)
    """
    order, bad = _phash_positions(lists, hash_size)
    if bad:
        import warnings
        i, p = bad[0]
        warnings.warn(f"phash_slots: {len(bad)} image(s) could not be read "
                      f"and were not hashed (first: {lists[i][p]!r})",
                      UserWarning, stacklevel=2)
    return torch.tensor([pos[0] if pos else 0 for pos in order],
                        dtype=torch.long)
