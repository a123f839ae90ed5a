r"""Base class of every pyg-mmkg dataset."""
from __future__ import annotations

import hashlib
import os
import os.path as osp
import re
import shutil
import sys
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch_geometric.data import HeteroData, InMemoryDataset

from pyg_mmkg.data.contract import ENTITY, RELATION
from pyg_mmkg.data.io import RawFormatError, atomic_path, resolve
from pyg_mmkg.data.overlap import check_split_overlap
from pyg_mmkg.data.feature_file import (apply_feature_file,
                                        is_feature_file)
from pyg_mmkg.data.feature_file import _load as _load_features
from pyg_mmkg.data.safe_load import FileLoadError, safe_torch_load
from pyg_mmkg.data.raw import (feature_dict_to_tensor, load_vista_features,
                               read_kg_folder)
from pyg_mmkg.data.validate import validate

__all__ = ['MMKGDataset', 'DatasetNotFoundError', 'sha256sum']


class DatasetNotFoundError(FileNotFoundError, RuntimeError):
    r"""Raw files of a dataset are missing (and could not be downloaded);
    the message lists every missing file, the folder they belong in and
    where to get them."""


def shorten_text(text: str, limit: int = 160) -> str:
    r"""The first line of :obj:`text`, cut to :obj:`limit` characters.

    Args:
        text (str): A message.
        limit (int): Characters kept. (default: :obj:`160`)
    """
    line = str(text).strip().splitlines()[0] if str(text).strip() else ''
    return line if len(line) <= limit else line[:limit - 3] + '...'


def sha256sum(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def raw_digest(folder: str) -> str:
    r"""SHA-256 over the names, sizes and contents of the regular files
    directly in :obj:`folder` (hidden files and sub-folders are skipped);
    it changes whenever a raw file's content does, whatever its size and
    modification time."""
    h = hashlib.sha256()
    if osp.isdir(folder):
        for name in sorted(os.listdir(folder)):
            path = osp.join(folder, name)
            if name.startswith('.') or not osp.isfile(path):
                continue
            h.update(f'{name}\0{osp.getsize(path)}\0'.encode())
            with open(path, 'rb') as f:
                for chunk in iter(lambda: f.read(1 << 20), b''):
                    h.update(chunk)
    return h.hexdigest()[:16]


def _repr(obj) -> str:  # As PyG's, to compare with its pre_transform.pt.
    return 'None' if obj is None else re.sub(r'(<.*?)\s.*(>)', r'\1\2',
                                             str(obj))


def _slug(text: str) -> str:
    return re.sub(r'[^A-Za-z0-9.+-]+', '_', text).strip('_')[:80]


class MMKGDataset(InMemoryDataset):
    r"""A multimodal knowledge graph as one :class:`HeteroData`
    (see :mod:`pyg_mmkg.data.contract`).

    Files are only ever unpickled with :obj:`weights_only=True` and PyG's
    data classes allowed (see :func:`pyg_mmkg.data.safe_load.
    safe_torch_load`): :meth:`load` and :meth:`_process` replace PyG's,
    which read ``processed/pre_transform.pt`` with :obj:`weights_only=False`
    and retry a processed file with :obj:`weights_only=False` when
    :obj:`weights_only=True` fails. The processed file's name holds a
    digest of the raw files' contents (see :func:`raw_digest`), so editing
    a raw file rebuilds it; the file of the previous contents is removed.

    Subclasses set the class attributes: :obj:`layout` (raw layout),
    :obj:`files` (required raw file names), :obj:`urls` (file name ->
    ``(url, sha256)`` for public files that :meth:`download` fetches),
    :obj:`manual` (a description of files that must be downloaded by hand,
    used in the error message) and :obj:`stats` (expected counts).

    Args:
        root (str): Root directory; raw files go to ``root/raw``, processed
            files to ``root/processed``.
        text_encoder (optional): A :mod:`pyg_mmkg.features` text encoder;
            when given, entity and relation texts are encoded into
            ``x_text`` (its identity is part of the processed file name).
        image_encoder (optional): A :mod:`pyg_mmkg.features` image encoder,
            used with :obj:`image_paths`.
        image_paths (dict, optional): Entity name -> list of image files.
        feature_files (dict, optional): Precomputed features, e.g.
            ``{'entity.x_text': 'text.pt', 'entity.x_image': 'img.pt'}``;
            each file is what ``pyg-mmkg features`` writes (see
            :mod:`pyg_mmkg.data.feature_file`; the key picks one of its
            features), a dict name -> tensor (VISTA's layout) or a tensor
            in entity-id order.
        max_images (int, optional): Images kept per entity (K).
        transform, pre_transform (callable, optional): As in PyG.
        force_reload (bool): Re-process. (default: :obj:`False`)
        allow_split_overlap (bool, optional): Load splits that share
            triples with a :class:`~pyg_mmkg.data.SplitOverlapWarning`
            instead of raising :class:`~pyg_mmkg.data.SplitOverlapError`.
            :obj:`None` uses the class attribute, :obj:`True` only for
            datasets whose official splits overlap (DB15K, KVC16K).
            (default: :obj:`None`)
    """
    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        # Every dataset class documents its constructor arguments (as PyG's
        # do): a subclass that keeps this constructor gets its Args section.
        doc = cls.__dict__.get('__doc__')
        if doc and 'Args:' not in doc and '__init__' not in cls.__dict__:
            cls.__doc__ = doc.rstrip() + '\n\n' + _args_section() + '\n'

    layout: str = 'auto'
    files: Sequence[str] = ()
    urls: Dict[str, Tuple[str, Optional[str]]] = {}
    manual: Optional[str] = None
    stats: Dict[str, int] = {}
    default_max_images: Optional[int] = None
    #: Which :obj:`K` images an entity keeps when it has more:
    #: :obj:`'first'` or :obj:`'vista'` (centrality, see
    #: :func:`~pyg_mmkg.features.encode_images`).
    image_selection: str = 'first'
    license: str = ''
    allow_split_overlap: bool = False

    def __init__(
        self,
        root: str,
        text_encoder=None,
        image_encoder=None,
        image_paths: Optional[Dict[str, List[str]]] = None,
        feature_files: Optional[Dict[str, str]] = None,
        max_images: Optional[int] = None,
        transform: Optional[Callable] = None,
        pre_transform: Optional[Callable] = None,
        force_reload: bool = False,
        allow_split_overlap: Optional[bool] = None,
    ) -> None:
        if allow_split_overlap is not None:
            self.allow_split_overlap = bool(allow_split_overlap)
        self.text_encoder = text_encoder
        self.image_encoder = image_encoder
        self.image_paths = image_paths
        self.feature_files = dict(feature_files or {})
        self.max_images = max_images or self.default_max_images
        self._raw_key: Optional[str] = None
        super().__init__(root, transform, pre_transform,
                         force_reload=force_reload)
        self.load(self.processed_paths[0], data_cls=HeteroData)
        # Also for a processed file written before the check existed, or
        # with a different opt-in:
        check_split_overlap(self._data, allow=self.allow_split_overlap)

    # -- files -------------------------------------------------------------
    @property
    def raw_file_names(self) -> List[str]:
        return list(self.files)

    @property
    def raw_paths(self) -> List[str]:
        # A gzipped copy (``train.txt.gz``) counts as present.
        return [resolve(osp.join(self.raw_dir, f), required=False)
                or osp.join(self.raw_dir, f) for f in self.raw_file_names]

    @property
    def feature_id(self) -> str:
        parts = []
        for key, enc in (('t', self.text_encoder), ('v', self.image_encoder)):
            if enc is not None:
                # identity for humans, a hash of the full cache token (options
                # and weight fingerprint) so that no other encoder matches.
                ident = getattr(enc, 'identity', repr(enc))
                token = str(getattr(enc, 'cache_token', ident))
                digest = hashlib.sha1(token.encode()).hexdigest()[:8]
                parts.append(f'{key}-{_slug(ident)}-{digest}')
        for key in sorted(self.feature_files):
            path = self.feature_files[key]
            digest = sha256sum(resolve(path))[:10]  # content, not mtime
            parts.append(f'{_slug(key)}-{digest}')
        if self.max_images is not None:
            parts.append(f'k{self.max_images}')
        if self.image_selection != 'first' and (
                self.image_encoder is not None or any(
                    k.endswith('x_image') for k in self.feature_files)):
            parts.append(f'sel-{self.image_selection}')
        return '__'.join(parts) or 'raw'

    @property
    def processed_file_names(self) -> List[str]:
        return [f'data__{self.feature_id}__raw-{self.raw_key}.pt']

    @property
    def raw_key(self) -> str:
        r"""The :func:`raw_digest` of :obj:`raw_dir` (computed once per
        instance, after any download)."""
        if getattr(self, '_raw_key', None) is None:
            self._raw_key = raw_digest(self.raw_dir)
        return self._raw_key

    def download(self) -> None:
        self._fetch(self.raw_file_names)

    def _fetch(self, names: Sequence[str]) -> None:
        r"""Downloads the files of :obj:`names` that are missing and have
        a URL; raises one :class:`DatasetNotFoundError` naming every file
        still missing (none are given up on at the first failure)."""
        missing = [f for f in names if not resolve(
            osp.join(self.raw_dir, f), required=False)]
        failed: Dict[str, str] = {}
        for name in [f for f in missing if f in self.urls]:
            try:
                self._download_file(name)
            except RuntimeError as e:  # offline, moved upstream, checksum
                failed[name] = str(e.__cause__ or e)
        rest = [f for f in missing if f not in self.urls or f in failed]
        if rest:
            raise DatasetNotFoundError(self._missing_message(rest, failed))

    def _missing_message(self, rest: List[str],
                         failed: Dict[str, str]) -> str:
        names = ', '.join(repr(f) for f in rest)
        msg = (f"Dataset not found. {type(self).__name__} needs {len(rest)} "
               f"raw file{'s' if len(rest) > 1 else ''} missing in "
               f"'{self.raw_dir}': {names}.")
        if failed:
            reason = shorten_text(next(iter(failed.values())))
            msg += (f" {len(failed)} of them could not be downloaded "
                    f"({reason}); fetch them by hand:"
                    + ';'.join(f" {self.urls[f][0]} as "
                               f"'{osp.join(self.raw_dir, f)}'"
                               for f in failed) + '.')
        return f"{msg} {self.manual or ''}".strip()

    def _download_file(self, name: str) -> None:
        from torch_geometric.data import download_url
        url, digest = self.urls[name]
        os.makedirs(self.raw_dir, exist_ok=True)
        tmp_dir = osp.join(self.raw_dir, '.download')
        try:
            path = download_url(url, tmp_dir, filename=name, log=False)
        except Exception as e:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise RuntimeError(
                f"Could not download '{url}' for {type(self).__name__} "
                f"({e}). Download it by hand and place it at "
                f"'{osp.join(self.raw_dir, name)}'. "
                f"{self.manual or ''}".strip()) from e
        self._check_and_move(path, name, digest)
        shutil.rmtree(tmp_dir, ignore_errors=True)

    def _check_and_move(self, path: str, name: str,
                        digest: Optional[str]) -> None:
        if digest is not None:
            got = sha256sum(path)
            if got != digest:
                os.remove(path)
                raise RuntimeError(
                    f"Checksum mismatch for '{name}' downloaded from "
                    f"'{self.urls[name][0]}': expected sha256 {digest}, got "
                    f"{got}. The file was removed; the upstream file may "
                    f"have changed or the download is corrupt.")
        os.replace(path, osp.join(self.raw_dir, name))

    # -- safe loading --------------------------------------------------------
    def _process(self) -> None:
        # PyG's Dataset._process, with pre_transform.pt / pre_filter.pt read
        # by safe_torch_load instead of torch.load(weights_only=False).
        self._raw_key = None  # Digest the raw files as they are now.
        for name, fn in (('pre_transform', self.pre_transform),
                         ('pre_filter', getattr(self, 'pre_filter', None))):
            path = osp.join(self.processed_dir, f'{name}.pt')
            if not self.force_reload and osp.exists(path) and \
                    safe_torch_load(path) != _repr(fn):
                warnings.warn(
                    f"The `{name}` argument differs from the one used in "
                    f"the pre-processed version of this dataset. Pass "
                    f"`force_reload=True` to process it again.",
                    stacklevel=2)
        if not self.force_reload and all(osp.exists(f)
                                         for f in self.processed_paths):
            return
        if self.log and 'PYTEST_CURRENT_TEST' not in os.environ:
            print('Processing...', file=sys.stderr)
        created = not osp.isdir(self.processed_dir)
        os.makedirs(self.processed_dir, exist_ok=True)
        try:
            self.process()
        except BaseException:
            if created:  # No empty processed/ after a failed first load
                try:  # (only when empty: another process may be using it)
                    os.rmdir(self.processed_dir)
                except OSError:
                    pass
            raise
        for name, fn in (('pre_transform', self.pre_transform),
                         ('pre_filter', getattr(self, 'pre_filter', None))):
            with atomic_path(osp.join(self.processed_dir,
                                      f'{name}.pt')) as tmp:
                torch.save(_repr(fn), tmp)
        self._remove_stale()
        if self.log and 'PYTEST_CURRENT_TEST' not in os.environ:
            print('Done!', file=sys.stderr)

    def _remove_stale(self) -> None:
        # Processed files of earlier raw contents (same name up to the raw
        # digest) are dead weight once the current one exists.
        name = self.processed_file_names[0]
        if '__raw-' not in name:
            return
        prefix = name.rsplit('__raw-', 1)[0] + '__raw-'
        for other in os.listdir(self.processed_dir):
            key = other[len(prefix):-3]
            if other != name and other.startswith(prefix) and \
                    other.endswith('.pt') and re.fullmatch('[0-9a-f]{16}',
                                                           key):
                try:
                    os.remove(osp.join(self.processed_dir, other))
                except OSError:  # pragma: no cover - e.g. another process
                    pass

    def load(self, path: str, data_cls=HeteroData) -> None:
        r"""Loads the processed file :obj:`path` with
        :func:`~pyg_mmkg.data.safe_load.safe_torch_load` (PyG's own
        :meth:`load` falls back to :obj:`weights_only=False`).

        Args:
            path (str): The processed :obj:`.pt` file.
            data_cls (type, optional): The data class to rebuild a
                dictionary into when the file does not name one.
                (default: :class:`~torch_geometric.data.HeteroData`)
        """
        from torch_geometric.data.data import BaseData
        out = safe_torch_load(path)
        if not (isinstance(out, tuple) and len(out) in (2, 3)):
            raise FileLoadError(path, 'not a processed dataset file; remove '
                                'it or pass force_reload=True')
        data, self.slices = out[0], out[1]
        if len(out) == 3:
            data_cls = out[2]
        if not (isinstance(data_cls, type) and issubclass(data_cls,
                                                          BaseData)):
            raise FileLoadError(path, 'not a processed dataset file; remove '
                                'it or pass force_reload=True')
        self.data = data_cls.from_dict(data) if isinstance(data, dict) \
            else data

    # -- processing ----------------------------------------------------------
    def read_raw(self) -> HeteroData:
        r"""Reads the raw folder into a contract HeteroData (no features
        from encoders yet). Subclasses add dataset-specific side files."""
        return read_kg_folder(self.raw_dir, self.layout,
                              allow_split_overlap=self.allow_split_overlap)

    def process(self) -> None:
        data = self.read_raw()
        if self.layout == 'vista':
            load_vista_features(data, self.raw_dir, self.max_images,
                                self.max_images)
        self._load_feature_files(data)
        self._encode(data)
        validate(data, allow_split_overlap=self.allow_split_overlap)
        if self.pre_transform is not None:
            data = self.pre_transform(data)
        # An interrupted process leaves no half-written cache, and processes
        # preparing the same root at once do not move each other's file.
        with atomic_path(self.processed_paths[0]) as tmp:
            self.save([data], tmp)

    def _load_feature_files(self, data: HeteroData) -> None:
        for key, path in self.feature_files.items():
            store_key, attr = key.split('.', 1)
            if store_key not in (ENTITY, RELATION) or attr not in (
                    'x_text', 'x_image'):
                raise ValueError(f"feature_files key '{key}' must be "
                                 f"'entity|relation.x_text|x_image'")
            store = data[store_key]
            names = store.name
            multi = attr == 'x_image'
            real = resolve(path, required=False)
            if real is None:
                raise FileNotFoundError(f"Feature file '{path}' (for "
                                        f"feature_files['{key}']) is missing")
            obj = _load_features(real)
            if is_feature_file(obj):  # what `pyg-mmkg features` writes
                apply_feature_file(data, real, keys=[key])
                continue
            if isinstance(obj, dict):
                x, mask = feature_dict_to_tensor(path, names, multi,
                                                 self.max_images,
                                                 self.image_selection,
                                                 kind=store_key)
            else:
                x = torch.as_tensor(obj).float()
                want = 3 if multi else 2
                if multi and x.dim() == 2:
                    x = x.unsqueeze(1)
                if x.dim() != want or x.size(0) != len(names):
                    raise RawFormatError(path, None, f'expected a tensor of '
                                         f'shape [{len(names)}, ...] with '
                                         f'{want} dims, got {tuple(x.shape)}')
                if not torch.isfinite(x).all():
                    raise RawFormatError(path, None, 'contains NaN or inf '
                                         'values')
                mask = x.abs().sum(-1) > 0
            if multi:
                store.x_image, store.image_mask = x, mask
                store.has_image = mask.any(-1)
            else:
                store.x_text, store.has_text = x, mask
            data.feature_encoders[key] = f'file:{osp.basename(path)}'

    def _encode(self, data: HeteroData) -> None:
        if self.text_encoder is None and self.image_encoder is None:
            return
        from pyg_mmkg.features import attach_features
        kwargs = {}
        if self.text_encoder is not None:
            kwargs.update(text_encoder=self.text_encoder,
                          entity_texts=data[ENTITY].get('text'),
                          relation_texts=data[RELATION].get('text'))
        if self.image_encoder is not None:
            paths = self.image_paths or {}
            kwargs.update(image_encoder=self.image_encoder,
                          entity_images=[paths.get(n, [])
                                         for n in data[ENTITY].name])
            if self.max_images is not None:
                kwargs['max_images'] = self.max_images
            kwargs['selection'] = self.image_selection
        attach_features(data, cache_dir=osp.join(self.root, 'feature_cache'),
                        **kwargs)

    # -- info ----------------------------------------------------------------
    @property
    def num_relations(self) -> int:
        return int(self._data['relation'].num_nodes)

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'


def _args_section() -> str:
    r"""The ``Args:`` block of :class:`MMKGDataset`'s docstring, verbatim
    (indented as a class docstring), for subclasses that inherit its
    constructor."""
    doc = MMKGDataset.__doc__
    start = doc.index('    Args:')
    return doc[start:].rstrip()
