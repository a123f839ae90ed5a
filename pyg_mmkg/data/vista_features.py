r"""VISTA-style feature dicts (``name -> tensor``) as dense contract
tensors: :func:`feature_dict_to_tensor` and :func:`load_vista_features`."""
from __future__ import annotations

import os.path as osp
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from pyg_mmkg.data.align import align_keys
from pyg_mmkg.data.contract import ENTITY, RELATION
from pyg_mmkg.data.io import RawFormatError, quote, resolve, shorten

__all__ = ['feature_dict_to_tensor', 'load_vista_features']


def feature_dict_to_tensor(
    path: str, names: Sequence[str], multi: bool,
    max_items: Optional[int] = None, selection: str = 'first',
    kind: str = ENTITY,
) -> Tuple[Tensor, Tensor]:
    r"""Turns a VISTA-style feature dict (``name -> tensor``) into a dense
    tensor in :obj:`names` order plus a presence mask.

    Args:
        path (str): The ``.pt`` file holding the dict.
        names (list[str]): Entity (or relation) names, in id order.
        multi (bool): Values are ``[n_images, D]`` (images) rather than
            ``[D]`` (text). Returns ``[N, K, D]`` and a ``[N, K]`` mask if
            :obj:`True`, ``[N, D]`` and a ``[N]`` mask otherwise.
        max_items (int, optional): Keep at most K images per name.
        selection (str): ``'first'`` or ``'vista'`` (images ranked by the sum
            of inner products with all images of the same name, itself
            included, as VISTA's ``sort_vis_features`` does; see
            :func:`pyg_mmkg.features.vista_scores`). (default: :obj:`'first'`)
        kind (str): ``'entity'`` or ``'relation'`` (for messages).

    An empty dict, a dict keyed by node type (``{'entity': tensor}``) or
    one whose keys match none of :obj:`names` (ids, misspellings) raises
    :class:`RawFormatError`; keys matching no name while some names get no
    feature give a :class:`~pyg_mmkg.data.align.FeatureMatchWarning` with
    the counts (see :func:`~pyg_mmkg.data.align.align_keys`).
    """
    real = resolve(path)
    try:
        feats = torch.load(real, map_location='cpu', weights_only=True)
    except Exception as e:  # corrupt or truncated pickle/zip
        raise RawFormatError(real, None,
                             f'cannot load features ({shorten(e)})')
    if not isinstance(feats, dict):
        raise RawFormatError(real, None, f'expected a dict name -> tensor, '
                             f'got {type(feats).__name__}')
    what = 'relation' if kind == RELATION else 'entity'
    # An error if no key is a name, a warning with counts if some are not:
    align_keys(feats.keys(), names, what, real,
               error=lambda msg: RawFormatError(real, None, msg))
    dim, K = None, 0
    cleaned = {}
    for key, value in feats.items():
        value = torch.as_tensor(value).float()
        if multi and value.dim() == 1:
            value = value.unsqueeze(0)
        if value.dim() != (2 if multi else 1) and not (
                not multi and value.dim() == 2 and value.size(0) == 1):
            raise RawFormatError(real, None, f"feature of {quote(key)} has "
                                 f"shape {tuple(value.shape)}")
        if not multi:
            value = value.flatten()
        d = value.size(-1)
        if dim is None:
            dim = d
        elif d != dim:
            raise RawFormatError(real, None, f"feature of {quote(key)} has "
                                 f"dimension {d}, others have {dim}")
        if not torch.isfinite(value).all():
            raise RawFormatError(real, None, f"feature of {quote(key)} "
                                 f"contains NaN or inf values")
        if multi:
            if selection == 'vista' and value.size(0) > 1:
                from pyg_mmkg.features.selection import vista_scores
                group = torch.zeros(value.size(0), dtype=torch.long)
                order = torch.argsort(vista_scores(value, group, 1),
                                      descending=True, stable=True)
                value = value[order]
            elif selection not in ('first', 'vista'):
                raise ValueError(f"Unknown selection '{selection}'")
            if max_items is not None:
                value = value[:max_items]
            K = max(K, value.size(0))
        cleaned[key] = value
    dim = dim or 0
    N = len(names)
    if multi:
        x = torch.zeros(N, max(K, 1), dim)
        mask = torch.zeros(N, max(K, 1), dtype=torch.bool)
    else:
        x = torch.zeros(N, dim)
        mask = torch.zeros(N, dtype=torch.bool)
    for i, n in enumerate(names):
        v = cleaned.get(n)
        if v is None:
            continue
        if multi:
            x[i, :v.size(0)] = v
            mask[i, :v.size(0)] = True
        else:
            x[i] = v
            mask[i] = True
    return x, mask


def load_vista_features(data: HeteroData, folder: str,
                        max_images: Optional[int] = None,
                        max_rel_images: Optional[int] = None,
                        selection: str = 'vista') -> HeteroData:
    r"""Loads VISTA's ``visual_features_{ent,rel}.pt`` and
    ``textual_features_{ent,rel}.pt`` (each a dict name -> tensor, images as
    ``[n_images, D_v]``; relation images are ``3 * D_v`` wide) into
    :obj:`data` where the files exist.

    Args:
        data (HeteroData): The graph the features are attached to.
        folder (str): The folder holding VISTA's feature files.
        max_images (int, optional): Images kept per entity (K); :obj:`None`
            keeps all. (default: :obj:`None`)
        max_rel_images (int, optional): Images kept per relation.
            (default: :obj:`None`)
        selection (str, optional): Which images are kept when there are more:
            :obj:`'vista'` (centrality, :func:`~pyg_mmkg.features.vista_scores`)
            or :obj:`'first'`. (default: :obj:`'vista'`)
    """
    for store_key, suffix, k in ((ENTITY, 'ent', max_images),
                                 (RELATION, 'rel', max_rel_images)):
        store = data[store_key]
        names = store.name
        vis = osp.join(folder, f'visual_features_{suffix}.pt')
        if resolve(vis, required=False):
            x, mask = feature_dict_to_tensor(vis, names, True, k, selection,
                                             kind=store_key)
            store.x_image, store.image_mask = x, mask
            store.has_image = mask.any(-1)
            data.feature_encoders[f'{store_key}.x_image'] = \
                f'vista-file:{osp.basename(vis)}'
        txt = osp.join(folder, f'textual_features_{suffix}.pt')
        if resolve(txt, required=False):
            x, mask = feature_dict_to_tensor(txt, names, False,
                                             kind=store_key)
            store.x_text, store.has_text = x, mask
            data.feature_encoders[f'{store_key}.x_text'] = \
                f'vista-file:{osp.basename(txt)}'
    return data
