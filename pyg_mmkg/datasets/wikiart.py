r"""WikiArt-MKG v1 and v2 (VL-KGE, Efthymiou et al., WWW 2026)."""
from __future__ import annotations

import csv
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from pyg_mmkg.data.contract import ENTITY, make_kg_data
from pyg_mmkg.data.io import RawFormatError
from pyg_mmkg.datasets.base import MMKGDataset, sha256sum

__all__ = ['WikiArtMKG', 'WikiArtMKG_v1', 'WikiArtMKG_v2']

_REPO = 'https://github.com/thefth/vl-kge'
VISUAL = ('clip', 'blip', 'vit_b_16')
TEXTUAL = ('clip', 'blip', 'bert')
#: The preprocessing of the official WikiArt-MKG-v2 configurations
#: (vlkge/configs/wikiart_mkg_v2/*.yaml): relations removed from the
#: validation and test splits, and inverse training triples added.
VLKGE_V2_EXCLUDE_EVAL = ('isRelatedToArtwork', 'isRelatedToArtist',
                         'hasCreatedArtwork')
VLKGE_V2_INVERSES = {'isCreatedByArtist': 'hasCreatedArtwork'}
_SPLITS = {'train': 'train', 'val': 'val', 'test': 'test'}


def read_wikiart_triples(path: str):
    r"""Reads a VL-KGE triples file (CSV with the header
    :obj:`head,relation,tail,mode`, :obj:`mode` one of :obj:`train`,
    :obj:`val`, :obj:`test`). Returns the columns as NumPy string arrays.

    Args:
        path (str): The CSV file.
    """
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))
    if not rows or [c.strip() for c in rows[0]] != ['head', 'relation',
                                                    'tail', 'mode']:
        raise RawFormatError(path, 1, "expected the header "
                             "'head,relation,tail,mode'")
    body = rows[1:]
    widths = np.fromiter(map(len, body), dtype=np.int64, count=len(body))
    bad = np.flatnonzero(widths != 4)
    if bad.size:
        raise RawFormatError(path, int(bad[0]) + 2, f'expected 4 columns, '
                             f'got {int(widths[bad[0]])}')
    cols = [np.asarray(c, dtype=object) for c in zip(*body)] if body else [
        np.empty(0, dtype=object)] * 4
    head, rel, tail, mode = cols
    unknown = ~np.isin(mode, list(_SPLITS))
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise RawFormatError(path, i + 2, f"unknown split '{mode[i]}' "
                             f"(expected train, val or test)")
    return head, rel, tail, mode


def _first_appearance_ids(values: np.ndarray) -> Tuple[List[str], Tensor]:
    # Names in order of first appearance and the id of every value.
    if values.size == 0:
        return [], torch.empty(0, dtype=torch.long)
    uniq, first, inverse = np.unique(values.astype(str), return_index=True,
                                     return_inverse=True)
    order = np.argsort(first, kind='stable')
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return uniq[order].tolist(), torch.from_numpy(rank[inverse.reshape(-1)])


def wikiart_to_data(head, rel, tail, mode,
                    exclude_relations_eval: Sequence[str] = (),
                    add_inverse_relations: Optional[Dict[str, str]] = None,
                    allow_split_overlap: bool = False):
    r"""The contract :class:`HeteroData` of VL-KGE triples: entity ids in
    order of first appearance among the heads, then the tails (as the
    official loader's :obj:`pd.unique` over both columns), relation ids in
    order of first appearance.

    Args:
        head, rel, tail, mode (numpy.ndarray): The columns of the file.
        exclude_relations_eval (Sequence[str], optional): Relations dropped
            from the validation and test splits. (default: :obj:`()`)
        add_inverse_relations (dict, optional): :obj:`{relation: inverse}`:
            every training triple of :obj:`relation` is added reversed
            with the relation :obj:`inverse`. (default: :obj:`None`)
        allow_split_overlap (bool, optional): See
            :func:`~pyg_mmkg.data.make_kg_data`. (default: :obj:`False`)
    """
    keep = ~(np.isin(rel, list(exclude_relations_eval)) & (mode != 'train'))
    head, rel, tail, mode = head[keep], rel[keep], tail[keep], mode[keep]
    for original, inverse in (add_inverse_relations or {}).items():
        pick = (rel == original) & (mode == 'train')
        n = int(pick.sum())
        head, tail = (np.concatenate([head, tail[pick]]),
                      np.concatenate([tail, head[pick]]))
        rel = np.concatenate([rel, np.full(n, inverse, dtype=object)])
        mode = np.concatenate([mode, np.full(n, 'train', dtype=object)])
    n = head.size
    entities, ids = _first_appearance_ids(np.concatenate([head, tail]))
    relations, rids = _first_appearance_ids(rel)
    h, t = ids[:n], ids[n:]
    splits = {}
    for split, name in _SPLITS.items():
        m = torch.from_numpy(mode == name)
        splits[split] = (h[m], rids[m], t[m])
    return make_kg_data(entities, relations, splits,
                        allow_split_overlap=allow_split_overlap)


def features_to_table(obj, names: Sequence[str], path: str):
    r"""Aligns a VL-KGE feature pickle (entity name -> embedding, or a
    list / dict of embeddings that is averaged, as in the official
    :obj:`process_embeddings`) with :obj:`names`. Returns the
    :obj:`[N, D]` table (zeros where an entity has none) and the mask of
    entities that have one.

    Args:
        obj (dict): The unpickled feature file.
        names (Sequence[str]): The entity names, in id order.
        path (str): The file (for error messages).
    """
    if not isinstance(obj, dict):
        raise RawFormatError(path, None, f'expected a dict name -> '
                             f'embedding, got {type(obj).__name__}')

    def as_vector(value) -> Optional[Tensor]:
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, (list, tuple)):
            if not value:
                return None
            return torch.stack([torch.as_tensor(np.asarray(v),
                                                dtype=torch.float32)
                                for v in value]).mean(0)
        if value is None:
            return None
        return torch.as_tensor(np.asarray(value), dtype=torch.float32)

    index = {n: i for i, n in enumerate(names)}
    rows, vectors = [], []
    for key, value in obj.items():  # One entry per entity of the file.
        i = index.get(key)
        vec = as_vector(value) if i is not None else None
        if vec is not None:
            rows.append(i)
            vectors.append(vec.reshape(-1))
    if not vectors:
        raise RawFormatError(path, None, 'no embedding of any entity of '
                             'the triples')
    dims = {v.numel() for v in vectors}
    if len(dims) != 1:
        raise RawFormatError(path, None, f'embeddings of several sizes '
                             f'{sorted(dims)}')
    x = torch.zeros(len(names), dims.pop())
    x[torch.tensor(rows)] = torch.stack(vectors)
    if not torch.isfinite(x).all():
        raise RawFormatError(path, None, 'contains NaN or inf values')
    mask = torch.zeros(len(names), dtype=torch.bool)
    mask[torch.tensor(rows)] = True
    return x, mask


class WikiArtMKG(MMKGDataset):
    r"""The WikiArt-MKG fine-art knowledge graphs of the `"VL-KGE:
    Vision-Language Models Meet Knowledge Graph Embeddings"
    <https://doi.org/10.1145/3774904.3792677>`_ paper: artworks (with
    images) linked to their artists, styles, years, tags, ... (with
    texts), in two versions. Tail prediction on unseen artworks
    (inductive test split) is their official protocol.

    The raw folder holds the files of :obj:`vlkge/data/wikiart_mkg_<v>/`
    of the official repository, in its layout:
    :obj:`wikiart_mkg_<v>_triples.csv` (columns
    :obj:`head,relation,tail,mode`) and
    :obj:`features/wikiart_mkg_<v>_{vf,tf}_<encoder>.pkl` (pickled dicts
    entity name -> embedding: visual features of artworks, textual
    features of attribute entities). They are stored in Git LFS, so they
    must be downloaded by hand (:meth:`download` says how). The pickles are
    read without running code (see
    :func:`~pyg_mmkg.data.safe_pickle.safe_pickle_load`); an entity's list
    or dict of embeddings is averaged as in the official loader. Visual
    features become :obj:`x_image` :obj:`[N, 1, D]` with
    :obj:`image_mask` / :obj:`has_image`, textual ones :obj:`x_text` with
    :obj:`has_text` (entities without a feature have zeros and a false
    mask).

    Deviations from the official loader (vlkge/dataloader.py,
    vlkge/utils.py): entity ids follow the first appearance among heads,
    then tails, which is the official order only if pandas ravels the two
    columns head-first; relation features (never used by VL-KGE) are not
    loaded; :obj:`protocol="vlkge"` applies the v2 configurations'
    relation exclusion and inverse relation, but not their per-epoch
    downsampling of :obj:`isRelatedToArtwork` nor the per-relation
    candidate pools of evaluation.

    **STATS** (of the official files, not checked here):

    .. list-table::
        :header-rows: 1

        * - version
          - #entities
          - #relations
          - #train
          - #valid
          - #test
        * - v1
          - 76,758
          - 4
          - 299,968
          - 34,020
          - 19,695
        * - v2
          - 224,166
          - 22
          - 7,877,220
          - 208,513
          - 208,368

    Args:
        root (str): Root directory (raw files in :obj:`root/raw`).
        version (str, optional): :obj:`"v1"` or :obj:`"v2"`.
            (default: :obj:`"v1"`)
        visual (str, optional): The visual features to load,
            :obj:`"clip"`, :obj:`"blip"`, :obj:`"vit_b_16"` or :obj:`None`.
            (default: :obj:`"clip"`)
        textual (str, optional): The textual features, :obj:`"clip"`,
            :obj:`"blip"`, :obj:`"bert"` or :obj:`None`.
            (default: :obj:`"clip"`)
        protocol (str, optional): :obj:`"files"` (the triples as
            published) or :obj:`"vlkge"` (v2: drop
            :obj:`VLKGE_V2_EXCLUDE_EVAL` from validation and test, add
            :obj:`hasCreatedArtwork` for the training triples of
            :obj:`isCreatedByArtist`; v1: as published).
            (default: :obj:`"files"`)
        **kwargs (optional): Arguments of
            :class:`~pyg_mmkg.datasets.MMKGDataset`.
    """
    manual_template = (
        "Download vlkge/data/wikiart_mkg_{v}/ from {repo} (the files are in "
        "Git LFS: 'git lfs install && git clone {repo}' or 'git lfs pull' "
        "in a clone) and copy wikiart_mkg_{v}_triples.csv and the features/ "
        "folder into the raw folder. Licence: CC BY 4.0 (metadata); "
        "images under the WikiArt terms of use.")
    license = 'CC BY 4.0 (metadata); images: WikiArt terms of use'
    all_stats = {
        'v1': dict(num_entities=76758, num_relations=4, train=299968,
                   val=34020, test=19695),
        'v2': dict(num_entities=224166, num_relations=22, train=7877220,
                   val=208513, test=208368),
    }
    stats = all_stats['v1']
    manual = manual_template.format(v='v1', repo=_REPO)
    default_version = 'v1'

    def __init__(self, root: str, version: Optional[str] = None,
                 visual: Optional[str] = 'clip',
                 textual: Optional[str] = 'clip', protocol: str = 'files',
                 **kwargs):
        version = version or self.default_version
        if version not in self.all_stats:
            raise ValueError(f"'version' must be 'v1' or 'v2' (got "
                             f"'{version}')")
        if visual is not None and visual not in VISUAL:
            raise ValueError(f"'visual' must be one of {VISUAL} or None "
                             f"(got '{visual}')")
        if textual is not None and textual not in TEXTUAL:
            raise ValueError(f"'textual' must be one of {TEXTUAL} or None "
                             f"(got '{textual}')")
        if protocol not in ('files', 'vlkge'):
            raise ValueError(f"'protocol' must be 'files' or 'vlkge' (got "
                             f"'{protocol}')")
        self.version, self.visual, self.textual = version, visual, textual
        self.protocol = protocol
        self.stats = self.all_stats[version]
        self.manual = self.manual_template.format(v=version, repo=_REPO)
        super().__init__(root, **kwargs)

    @property
    def raw_file_names(self) -> List[str]:
        v = self.version
        out = [f'wikiart_mkg_{v}_triples.csv']
        if self.visual is not None:
            out.append(f'features/wikiart_mkg_{v}_vf_{self.visual}.pkl')
        if self.textual is not None:
            out.append(f'features/wikiart_mkg_{v}_tf_{self.textual}.pkl')
        return out

    @property
    def feature_id(self) -> str:
        # The feature pickles sit in raw/features/, which raw_digest (top
        # level only) skips: their contents count here.
        parts = [self.version, self.protocol]
        for path in self.raw_paths[1:]:
            parts.append(f'{osp.basename(path)[:-4]}-'
                         f'{sha256sum(path)[:10]}' if osp.exists(path) else
                         osp.basename(path))
        base = super().feature_id
        return '__'.join(parts + ([base] if base != 'raw' else []))

    def read_raw(self):
        v = self.version
        vlkge = self.protocol == 'vlkge' and v == 'v2'
        data = wikiart_to_data(
            *read_wikiart_triples(self.raw_paths[0]),
            exclude_relations_eval=VLKGE_V2_EXCLUDE_EVAL if vlkge else (),
            add_inverse_relations=VLKGE_V2_INVERSES if vlkge else None,
            allow_split_overlap=self.allow_split_overlap)
        from pyg_mmkg.data.safe_pickle import safe_pickle_load
        store = data[ENTITY]
        for path in self.raw_paths[1:]:
            x, mask = features_to_table(safe_pickle_load(path), store.name,
                                        path)
            if '_vf_' in osp.basename(path):
                store.x_image, store.image_mask = x.unsqueeze(1), \
                    mask.unsqueeze(1)
                store.has_image = mask
            else:
                store.x_text, store.has_text = x, mask
            key = 'entity.x_image' if '_vf_' in path else 'entity.x_text'
            data.feature_encoders[key] = f'file:{osp.basename(path)}'
        return data

    def __repr__(self) -> str:
        return f'{type(self).__name__}(version={self.version!r})'


class WikiArtMKG_v1(WikiArtMKG):
    r""":class:`WikiArtMKG` with :obj:`version="v1"` (registered as
    :obj:`"WikiArt-MKG-v1"`).

    Args:
        root (str): Root directory.
        **kwargs (optional): Arguments of :class:`WikiArtMKG`.
    """
    default_version = 'v1'


class WikiArtMKG_v2(WikiArtMKG):
    r""":class:`WikiArtMKG` with :obj:`version="v2"` (registered as
    :obj:`"WikiArt-MKG-v2"`).

    Args:
        root (str): Root directory.
        **kwargs (optional): Arguments of :class:`WikiArtMKG`.
    """
    default_version = 'v2'
    stats = WikiArtMKG.all_stats['v2']
    manual = WikiArtMKG.manual_template.format(v='v2', repo=_REPO)
