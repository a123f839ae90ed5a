import hashlib
import os
import os.path as osp
from typing import Any, Callable, Dict, Iterable, Optional

import torch

from pyg_mmkg.utils.files import atomic_save
from pyg_mmkg.features._utils import slugify


def default_cache_dir() -> str:
    r"""The default feature cache folder: :obj:`$PYG_MMKG_CACHE` if set,
    else :obj:`~/.cache/pyg_mmkg/features`."""
    return os.environ.get(
        'PYG_MMKG_CACHE',
        osp.join(osp.expanduser('~'), '.cache', 'pyg_mmkg', 'features'))


def text_signature(text: Optional[str]) -> str:
    r"""The signature of a text input: the text itself."""
    return '\x00none' if text is None else text


def image_signature(item: Any) -> str:
    r"""A string that changes whenever an image input changes: a file path
    with its size and modification time, or a hash of the bytes of an
    in-memory image."""
    if item is None:
        return '\x00none'
    if isinstance(item, (str, os.PathLike)):
        path = os.fspath(item)
        try:
            st = os.stat(path)
            return f'{path}|{st.st_size}|{st.st_mtime_ns}'
        except OSError:
            return f'{path}|missing'
    if isinstance(item, (bytes, bytearray)):
        return 'bytes:' + hashlib.sha1(bytes(item)).hexdigest()
    tobytes = getattr(item, 'tobytes', None)
    if tobytes is not None:  # A PIL image or a numpy array.
        extra = f"{getattr(item, 'mode', '')}{getattr(item, 'size', '')}"
        return f'array:{extra}:' + hashlib.sha1(tobytes()).hexdigest()
    return repr(item)


def cache_key(token: str, kind: str, items: Iterable[Any],
              signature: Callable[[Any], str], **options: Any) -> str:
    r"""The sha256 (hex) of the encoder's :obj:`cache_token`, the kind of
    features, the options and the :obj:`signature` of all inputs, in order
    (an input may be a list of items, e.g. the images of one entity)."""
    h = hashlib.sha256()
    h.update(f'{token}\x1e{kind}\x1e{sorted(options.items())}\x1e'.encode())
    for item in items:
        if isinstance(item, (list, tuple)):
            sig = '\x1d'.join(signature(x) for x in item) + '\x1c'
        else:
            sig = signature(item)
        h.update(sig.encode('utf-8', 'surrogatepass'))
        h.update(b'\x1f')
    return h.hexdigest()


def cache_path(cache_dir: str, kind: str, identity: str, key: str) -> str:
    r"""The cache file of features of :obj:`kind` for an encoder
    :obj:`identity` and an input key."""
    return osp.join(cache_dir, f'{kind}-{slugify(identity)}-{key[:20]}.pt')


def load_cache(path: Optional[str], key: str) -> Optional[Dict[str, Any]]:
    r"""Loads a cache file if it exists and was written for :obj:`key`."""
    if path is None or not osp.isfile(path):
        return None
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except Exception:  # noqa: BLE001 - A damaged file is a cache miss.
        return None
    if not isinstance(obj, dict) or obj.get('key') != key:
        return None
    return obj


def save_atomic(obj: Any, path: str) -> None:
    r"""Saves :obj:`obj` with :func:`torch.save` so that readers never see
    a partially written file (:func:`pyg_mmkg.utils.files.atomic_save`).

    Args:
        obj (Any): The object to save.
        path (str): The target file.
    """
    atomic_save(obj, path)
