r"""VISTA's datasets (Lee et al., Findings of EMNLP 2023): VTKG-I, VTKG-C,
WN18RR++ and FB15K237 with visual and textual features."""
from __future__ import annotations

import hashlib
import os
import os.path as osp
import shutil
from typing import Optional

import torch
from torch_geometric.data import HeteroData

from pyg_mmkg.data.contract import ENTITY, RELATION
from pyg_mmkg.data.io import RawFormatError
from pyg_mmkg.datasets.base import MMKGDataset

__all__ = ['VTKG_I', 'VTKG_C', 'WN18RR_PP', 'FB15K237', 'bundled_dir']

_BUNDLED_FEATURES = ('text_features.pt', 'image_features.pt')
# Changes whenever the bundled features are attached differently, so that a
# processed file of an older layout is rebuilt (2: with image_files; 3: the
# processed file keeps them relative to the bundled images folder).
_BUNDLED_LAYOUT = 'layout-3'

_VISTA_DRIVE = ('https://drive.google.com/file/d/'
                '1u4QthmEboMzRarF_HLYfLDOLcOZeH8Gp/view')
_FILES = ('entities.txt', 'relations.txt', 'train.txt', 'valid.txt',
          'test.txt')


def _manual(folder: str) -> str:
    return (f"Download the VISTA datasets zip from {_VISTA_DRIVE} (linked "
            f"from https://github.com/bdi-lab/VISTA), unzip it and move the "
            f"files of its '{folder}' folder (entities.txt, relations.txt, "
            f"train/valid/test.txt, visual_features_ent.pt, "
            f"visual_features_rel.pt, textual_features_ent.pt, "
            f"textual_features_rel.pt) into the raw folder. The data is "
            f"licensed CC BY-NC-SA 4.0.")


class _VISTADataset(MMKGDataset):
    layout = 'vista'
    files = _FILES
    license = 'CC BY-NC-SA 4.0'
    # VISTA keeps each item's K most central images (sort_vis_features).
    image_selection = 'vista'


def _attach_bundled_images(data, path: str,
                           max_images: Optional[int]) -> None:
    r"""Sets ``x_image`` [N, K, D], ``image_mask`` and ``has_image`` of
    entities and relations from the bundled ``image_features.pt`` (filled
    slots only, see ``datasets/VTKG-I/images/build_images.py``), keeping
    the first :obj:`max_images` slots, and ``image_files``: per item, the
    images of its filled slots, in slot order (for selections that read the
    pixels, *e.g.* RSME's pHash filter gate), relative to the bundled
    ``images`` folder (:meth:`VTKG_I.load` makes them absolute)."""
    feats = torch.load(path, map_location='cpu', weights_only=True)
    for key in (ENTITY, RELATION):
        mask, x = feats[f'{key}_mask'].bool(), feats[f'{key}_x'].float()
        n = int(data[key].num_nodes)
        if (mask.dim() != 2 or mask.size(0) != n or x.dim() != 2
                or x.size(0) != int(mask.sum())
                or not torch.isfinite(x).all()):
            raise RawFormatError(path, None, f"'{key}' image features must "
                                 f"be a [{n}, K] mask and finite "
                                 f"[mask.sum(), D] features, got "
                                 f"{tuple(mask.shape)} and {tuple(x.shape)}")
        dense = x.new_zeros(n, mask.size(1), x.size(1))
        dense[mask] = x
        counts = mask.sum(-1).tolist()  # before max_images
        if max_images is not None:
            dense, mask = dense[:, :max_images], mask[:, :max_images]
        if bool((mask[:, 1:] & ~mask[:, :-1]).any()):
            raise RawFormatError(path, None, f"'{key}' image slots must be "
                                 f"filled first (an empty slot before a "
                                 f"filled one)")
        files = feats.get(f'{key}_files')
        if files is not None:
            if len(files) != n or [len(f) for f in files] != counts:
                raise RawFormatError(path, None, f"'{key}_files' must list "
                                     f"one file per filled image slot")
        store = data[key]
        store.x_image, store.image_mask = dense, mask
        store.has_image = mask.any(-1)
        if files is not None:
            # Filled slots come first in each row (build_images.py).
            store.image_files = [list(row[:k]) for row, k in
                                 zip(files, mask.sum(-1).tolist())]
        data.feature_encoders[f'{key}.x_image'] = feats['encoder']


def bundled_dir() -> str:
    r"""The folder of the VTKG-I copy shipped with pyg-mmkg."""
    here = osp.dirname(osp.abspath(__file__))
    for cand in (osp.join(here, 'bundled', 'VTKG-I'),
                 osp.join(here, '..', '..', 'datasets', 'VTKG-I')):
        if osp.exists(osp.join(cand, 'entities.txt')):
            return osp.normpath(cand)
    raise FileNotFoundError('The bundled VTKG-I copy is missing from this '
                            'installation of pyg-mmkg')


class VTKG_I(_VISTADataset):
    r"""The VTKG-I dataset from the `"VISTA: Visual-Textual Knowledge Graph
    Representation Learning" <https://aclanthology.org/2023.findings-emnlp.
    488>`_ paper: a small visual-textual KG whose relations are
    verbs/prepositions and whose entities are WordNet synsets.

    When the official files (with VISTA's visual and textual ``.pt``
    features) are not in ``root/raw``, the copy bundled with pyg-mmkg is
    used: the triples, names and descriptions of every entity and relation
    (CC BY-NC-SA 4.0), 384-d text features of those descriptions computed
    with the real all-MiniLM-L6-v2 sentence encoder, and 1280-d image
    features (ImageNet EfficientNet-Lite0) of hand-checked **clipart**
    images from Debian's ``openclipart-png`` (public domain) and
    ``tuxpaint-stamps-default`` (GPL-2.0-or-later): up to 3 images for 108
    of the 181 entities and 12 of the 217 relations; every other entity or
    relation has an all-False ``image_mask`` (no wrong-sense image is ever
    used). VISTA never released its photos; these drawings are not the
    benchmark's images. The per-entity choices, their licences and the
    rebuild recipe are in ``datasets/VTKG-I/images/``.

    **STATS:**

    .. list-table::
        :header-rows: 1

        * - #entities
          - #relations
          - #train
          - #valid
          - #test
        * - 181
          - 217
          - 1,054
          - 131
          - 131
    """
    stats = dict(num_entities=181, num_relations=217, train=1054, val=131,
                 test=131)
    manual = _manual('VTKG-I')
    default_max_images = 5

    @property
    def feature_id(self) -> str:
        fid = super().feature_id
        official = osp.join(self.raw_dir, 'textual_features_ent.pt')
        if osp.exists(official):
            return fid
        # The bundled features are part of the processed data: key the
        # processed file on them so that a rebuilt feature file is picked up.
        from pyg_mmkg.datasets.base import sha256sum
        h = hashlib.sha256(_BUNDLED_LAYOUT.encode())
        for name in _BUNDLED_FEATURES:
            path = osp.join(bundled_dir(), name)
            h.update(sha256sum(path).encode() if osp.exists(path) else b'-')
        return f'{fid}__bundled-{h.hexdigest()[:10]}'

    def load(self, path: str, data_cls=HeteroData) -> None:
        r"""Loads the processed file :obj:`path` and makes its
        ``image_files`` absolute paths in the bundled images folder of this
        installation (the processed file keeps them relative, so a moved
        installation or a shared root still finds them).

        Args:
            path (str): The processed :obj:`.pt` file.
            data_cls (type, optional): As in :meth:`MMKGDataset.load`.
                (default: :class:`~torch_geometric.data.HeteroData`)
        """
        super().load(path, data_cls)
        root = osp.join(bundled_dir(), 'images')
        for key in (ENTITY, RELATION):
            store = self._data[key]
            if 'image_files' in store:
                store.image_files = [[osp.join(root, f) for f in row]
                                     for row in store.image_files]

    def download(self) -> None:
        src = bundled_dir()
        os.makedirs(self.raw_dir, exist_ok=True)
        for name in os.listdir(src):
            if name.endswith(('.txt', '.pt')) or name == 'LICENSE':
                shutil.copy2(osp.join(src, name), osp.join(self.raw_dir, name))

    def read_raw(self):
        data = super().read_raw()
        # Read from the bundled copy itself (not from raw/), so that a raw
        # folder copied by an older version still gets the current features.
        path = osp.join(bundled_dir(), 'text_features.pt')
        official = osp.exists(osp.join(self.raw_dir,
                                       'textual_features_ent.pt'))
        if not official:
            feats = torch.load(path, map_location='cpu', weights_only=True)
            for key in (ENTITY, RELATION):
                x = feats[key].float()
                n = int(data[key].num_nodes)
                if x.shape[0] != n or not torch.isfinite(x).all():
                    raise RawFormatError(path, None, f"'{key}' features "
                                         f"must be finite [{n}, D], got "
                                         f"{tuple(x.shape)}")
                data[key].x_text = x
                data[key].has_text = torch.ones(n, dtype=torch.bool)
                data.feature_encoders[f'{key}.x_text'] = feats['encoder']
            path = osp.join(bundled_dir(), 'image_features.pt')
            if osp.exists(path):
                _attach_bundled_images(data, path, self.max_images)
        return data


class VTKG_C(_VISTADataset):
    r"""The VTKG-C dataset from the `"VISTA: Visual-Textual Knowledge Graph
    Representation Learning" <https://aclanthology.org/2023.findings-emnlp.
    488>`_ paper (ConceptNet-style commonsense KG over WordNet synsets and
    words). Manual download from Google Drive.

    **STATS:**

    .. list-table::
        :header-rows: 1

        * - #entities
          - #relations
          - #test
        * - 43,267
          - 2,731
          - 11,152
    """
    stats = dict(num_entities=43267, num_relations=2731, test=11152)
    manual = _manual('VTKG-C')
    default_max_images = 3


class WN18RR_PP(_VISTADataset):
    r"""WN18RR++ from the `"VISTA: Visual-Textual Knowledge Graph
    Representation Learning" <https://aclanthology.org/2023.findings-emnlp.
    488>`_ paper: WN18RR with synset names, images and descriptions.
    Manual download from Google Drive.

    **STATS:**

    .. list-table::
        :header-rows: 1

        * - #entities
          - #relations
          - #train
          - #valid
          - #test
        * - 41,105
          - 11
          - 86,835
          - 3,034
          - 3,134
    """
    stats = dict(num_entities=41105, num_relations=11, train=86835,
                 val=3034, test=3134)
    manual = _manual('WN18RR++')
    default_max_images = 1


class FB15K237(_VISTADataset):
    r"""FB15K237 as released with the `"VISTA: Visual-Textual Knowledge
    Graph Representation Learning" <https://aclanthology.org/
    2023.findings-emnlp.488>`_ paper (FB15k-237 with images and
    descriptions). Manual download from Google Drive.

    **STATS:**

    .. list-table::
        :header-rows: 1

        * - #entities
          - #relations
          - #train
          - #valid
          - #test
        * - 14,541
          - 237
          - 272,115
          - 17,535
          - 20,466
    """
    stats = dict(num_entities=14541, num_relations=237, train=272115,
                 val=17535, test=20466)
    manual = _manual('FB15K237')
    default_max_images = 1
