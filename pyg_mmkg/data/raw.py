r"""Readers for whole raw KG folders in the layouts the MMKG field uses.

Layouts (``layout=``):

* ``'vista'``: VISTA (VTKG-I/C, WN18RR++, FB15K237): ``entities.txt``,
  ``relations.txt``, ``train.txt``/``valid.txt`` (or ``val.txt``)/
  ``test.txt`` as ``head<TAB>relation<TAB>tail`` names, optional
  ``entity2text*.txt`` / ``relation2text*.txt`` and the feature dicts
  ``visual_features_ent.pt`` ... (see :func:`load_vista_features`).
* ``'openke'``: OpenKE ids (DB15K, WN18): ``entity2id.txt``,
  ``relation2id.txt`` and ``train2id.txt``/``valid2id.txt``/``test2id.txt``
  with a count header and the column order head, tail, relation.
* ``'mmrns'``: MMRNS / MoMoK (MKG-W, MKG-Y, KVC16K): ``entity2id.txt``,
  ``relation2id.txt`` and ``head relation tail .`` lines.
* ``'wn9'``: WN9-IMG: ``entity2id.txt``, ``relation2id.txt`` and
  ``head<TAB>tail<TAB>relation`` names with CRLF endings.
* ``'tsv'``: only ``train/valid/test.txt`` of ``head<TAB>relation<TAB>tail``
  names (PyG's FB15k-237 files); an ``entities.txt`` / ``relations.txt``
  (or ``entity2id.txt`` / ``relation2id.txt``) is used when present,
  otherwise ids follow sorted names (stable).

With ``entity2id.txt`` and tab-separated triples, ``'auto'`` tells
``'wn9'`` (head, tail, relation) from ``'tsv'`` (head, relation, tail) by
which column holds relation names; when both orders fit (e.g. numeric
names), it raises instead of guessing.
"""
from __future__ import annotations

import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from pyg_mmkg.data.contract import ENTITY, RELATION, make_kg_data
from pyg_mmkg.data.align import align_keys
from pyg_mmkg.data.overlap import SplitOverlapError
from pyg_mmkg.data.io import (RawFormatError, quote, read_id_map, read_list,
                              read_text_map, read_triples, resolve,
                              shorten)

__all__ = ['LAYOUTS', 'detect_layout', 'read_kg_folder',
           'load_vista_features', 'feature_dict_to_tensor']

LAYOUTS = ('vista', 'openke', 'mmrns', 'wn9', 'tsv')

_SPLIT_FILES = {
    'vista': {'train': ['train.txt'], 'val': ['valid.txt', 'val.txt'],
              'test': ['test.txt']},
    'tsv': {'train': ['train.txt'], 'val': ['valid.txt', 'val.txt'],
            'test': ['test.txt']},
    'openke': {'train': ['train2id.txt', 'train.txt'],
               'val': ['valid2id.txt', 'valid.txt'],
               'test': ['test2id.txt', 'test.txt']},
    'mmrns': {'train': ['train.txt'], 'val': ['valid.txt'],
              'test': ['test.txt']},
    'wn9': {'train': ['train.txt'], 'val': ['valid.txt'],
            'test': ['test.txt']},
}


def _exists(folder: str, name: str) -> bool:
    return resolve(osp.join(folder, name), required=False) is not None


def _first_line(folder: str, name: str) -> str:
    from pyg_mmkg.data.io import iter_lines
    for _, line in iter_lines(osp.join(folder, name)):
        return line
    return ''


def detect_layout(folder: str) -> str:
    r"""Guesses the layout of a raw folder from its file names and first
    lines; raises a :class:`ValueError` listing the files it found
    otherwise.

    Args:
        folder (str): The raw folder.
    """
    if _exists(folder, 'train2id.txt'):
        return 'openke'
    if _exists(folder, 'entities.txt') and _exists(folder, 'relations.txt'):
        return 'vista'
    if _exists(folder, 'entity2id.txt') and _exists(folder, 'train.txt'):
        first = _first_line(folder, 'train.txt').strip()
        if first.isdigit():  # OpenKE count header (PyG's WordNet18 files)
            return 'openke'
        if first.endswith(' .'):
            return 'mmrns'
        return _column_order(folder)
    if _exists(folder, 'train.txt'):
        return 'tsv'
    import os
    found = sorted(os.listdir(folder)) if osp.isdir(folder) else []
    raise ValueError(f"Cannot detect the KG layout of '{folder}' (files: "
                     f"{found}); expected one of {LAYOUTS}, see "
                     f"pyg_mmkg.data.raw")


def _column_order(folder: str, sample: int = 1000) -> str:
    r"""``'wn9'`` (head, tail, relation) or ``'tsv'`` (head, relation,
    tail) for a tab-separated ``train.txt`` beside id maps, from which
    column of the first :obj:`sample` lines holds relation names."""
    from pyg_mmkg.data.io import iter_lines
    ents = set(read_id_map(osp.join(folder, 'entity2id.txt')))
    rels = set(read_id_map(osp.join(folder, 'relation2id.txt')))
    rows = []
    for _, line in iter_lines(osp.join(folder, 'train.txt')):
        rows.append([p.strip() for p in line.split('\t')])
        if len(rows) == sample:
            break
    cols = list(zip(*[r for r in rows if len(r) == 3])) or [(), (), ()]
    fits = lambda c, names: set(c) <= names  # noqa: E731
    htr = fits(cols[1], ents) and fits(cols[2], rels)
    hrt = fits(cols[1], rels) and fits(cols[2], ents)
    if hrt and htr:
        raise ValueError(
            f"Cannot tell the column order of '{osp.join(folder, 'train.txt')}'"
            f": both head-tail-relation (WN9-IMG) and head-relation-tail fit "
            f"its entity and relation names (numeric names?). Pass "
            f"layout='wn9' (head<TAB>tail<TAB>relation) or layout='tsv' "
            f"(head<TAB>relation<TAB>tail).")
    return 'tsv' if hrt else 'wn9'  # neither: the reader names the line


def _pick(folder: str, candidates: Sequence[str],
          required: bool) -> Optional[str]:
    for name in candidates:
        path = resolve(osp.join(folder, name), required=False)
        if path is not None:
            return osp.join(folder, name)
    if required:
        raise FileNotFoundError(
            f"Required file '{osp.join(folder, candidates[0])}' is missing")
    return None


def _to_ids(path: str, rows: List[Tuple[str, str, str]], lines: List[int],
            ent: Dict[str, int], rel: Dict[str, int],
            numeric: bool) -> Tuple[Tensor, Tensor, Tensor]:
    out = ([], [], [])
    for (h, r, t), line in zip(rows, lines):
        try:
            if numeric:
                hi, ri, ti = int(h), int(r), int(t)
                if not (0 <= hi < len(ent) and 0 <= ti < len(ent)):
                    raise KeyError(f'entity id out of range [0, {len(ent)})')
                if not 0 <= ri < len(rel):
                    raise KeyError(f'relation id {ri} out of range '
                                   f'[0, {len(rel)})')
            else:
                hi = ent[h] if h in ent else _unknown('entity', h)
                ti = ent[t] if t in ent else _unknown('entity', t)
                ri = rel[r] if r in rel else _unknown('relation', r)
        except ValueError as e:
            raise RawFormatError(path, line,
                                 f'non-integer id ({shorten(e)})') from None
        except KeyError as e:
            raise RawFormatError(path, line, e.args[0]) from None
        out[0].append(hi)
        out[1].append(ri)
        out[2].append(ti)
    return tuple(torch.tensor(x, dtype=torch.long) for x in out)


def _unknown(kind: str, name: str):
    raise KeyError(f"unknown {kind} {quote(name)} (not in the {kind} list)")


def read_kg_folder(folder: str, layout: str = 'auto',
                   text_files: Optional[Dict[str, Sequence[str]]] = None,
                   allow_split_overlap: bool = False) -> HeteroData:
    r"""Reads a raw KG folder into a contract :class:`HeteroData`.

    Args:
        folder (str): The folder with the raw files.
        layout (str): One of :obj:`LAYOUTS` or ``'auto'``.
            (default: :obj:`'auto'`)
        text_files (dict, optional): ``{'entity': [...], 'relation': [...]}``
            text files to try, in order of preference (the first one found
            gives the text; a second one found is joined as
            ``'name: description'``). (default: VISTA's
            ``entity2text.txt`` + ``entity2textlong.txt``)
        allow_split_overlap (bool): Load splits that share triples with a
            :class:`~pyg_mmkg.data.SplitOverlapWarning` instead of raising
            :class:`~pyg_mmkg.data.SplitOverlapError` (for datasets whose
            official splits overlap). (default: :obj:`False`)
    """
    if layout == 'auto':
        layout = detect_layout(folder)
    if layout not in LAYOUTS:
        raise ValueError(f"Unknown layout '{layout}' (expected {LAYOUTS})")
    join = lambda n: osp.join(folder, n)  # noqa: E731
    sep: Optional[str] = '\t'
    order, strip_dot, numeric = 'hrt', False, False
    rel_names: Optional[List[str]] = None
    ent_names: Optional[List[str]] = None
    if layout == 'vista' or (layout == 'tsv' and _exists(folder,
                                                         'entities.txt')):
        ent_names = read_list(join('entities.txt'))
        rel_names = read_list(join('relations.txt'))
    elif layout == 'tsv' and _exists(folder, 'entity2id.txt'):
        ent_names = read_id_map(join('entity2id.txt'))
        rel_names = read_id_map(join('relation2id.txt'))
    elif layout == 'openke':
        ent_names = read_id_map(join('entity2id.txt'))
        rel_names = read_id_map(join('relation2id.txt'))
        sep, order, numeric = None, 'htr', True
    elif layout == 'mmrns':
        ent_names = read_id_map(join('entity2id.txt'))
        rel_names = read_id_map(join('relation2id.txt'))
        sep, strip_dot = None, True
    elif layout == 'wn9':
        ent_names = read_id_map(join('entity2id.txt'))
        rel_names = read_id_map(join('relation2id.txt'))
        order = 'htr'

    raw = {}
    for split, candidates in _SPLIT_FILES[layout].items():
        path = _pick(folder, candidates, required=split == 'train')
        if path is None:
            raw[split] = ([], [], path)
            continue
        rows, lines = read_triples(path, order=order, sep=sep,
                                   strip_dot=strip_dot)
        raw[split] = (rows, lines, path)

    if ent_names is None:  # plain tsv without lists: sorted, stable ids
        ents, rels = set(), set()
        for rows, _, _ in raw.values():
            for h, r, t in rows:
                ents.update((h, t))
                rels.add(r)
        ent_names, rel_names = sorted(ents), sorted(rels)
    ent = {n: i for i, n in enumerate(ent_names)}
    rel = {n: i for i, n in enumerate(rel_names)}
    splits = {}
    for split, (rows, lines, path) in raw.items():
        if path is not None:
            splits[split] = _to_ids(path, rows, lines, ent, rel, numeric)

    texts = _read_texts(folder, ent_names, rel_names, text_files)
    try:
        data = make_kg_data(ent_names, rel_names, splits, *texts,
                            allow_split_overlap=allow_split_overlap)
    except SplitOverlapError as e:
        raise SplitOverlapError(f"'{folder}' ({layout} layout): {e}") \
            from None
    data.layout = layout
    return data


def _read_texts(folder, ent_names, rel_names, text_files):
    text_files = text_files or {
        'entity': ['entity2text.txt', 'entity2textlong.txt'],
        'relation': ['relation2text.txt', 'relation2textlong.txt'],
    }
    out = []
    for kind, names in (('entity', ent_names), ('relation', rel_names)):
        paths = [osp.join(folder, f) for f in text_files.get(kind, [])
                 if _exists(folder, f)]
        maps = [read_text_map(p) for p in paths]
        if not maps:
            out.append(None)
            continue
        for path, m in zip(paths, maps):  # error if no key is a name
            align_keys(m.keys(), names, kind, resolve(path),
                       error=lambda msg: RawFormatError(resolve(path), None,
                                                        msg))
        texts = []
        for n in names:
            parts = [m.get(n, '') for m in maps]
            parts = [p for i, p in enumerate(parts) if p and p not in
                     parts[:i]]
            texts.append(': '.join(parts))
        out.append(texts)
    return out


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
