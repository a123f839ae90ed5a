import io
import os
import os.path as osp
import re
from typing import Any, List, Optional, Sequence

from pyg_mmkg.features._utils import import_optional

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.gif', '.bmp', '.webp',
                    '.tif', '.tiff')


#: Identifies how :func:`load_image` turns pixels into RGB; part of the
#: image feature cache key, so a change here never serves stale features.
LOADER_VERSION = 'rgb-alpha-on-white-1'


def to_rgb(img: Any) -> Any:
    r"""Converts a :class:`PIL.Image.Image` of any mode to RGB. Transparent
    pixels (an alpha channel, or a palette/greyscale image with a
    transparent colour) are composited on white, as a viewer shows them:
    a plain :obj:`convert('RGB')` would keep whatever colour hides under
    the transparency (often black) and turn a drawing on a transparent
    canvas into a black square."""
    Image = import_optional('PIL.Image', 'vision')
    if img.mode in ('P', 'L', 'RGB') and 'transparency' in img.info:
        img = img.convert('RGBA')
    if img.mode in ('RGBA', 'LA', 'PA', 'RGBa', 'La'):
        img = img.convert('RGBA')
        white = Image.new('RGBA', img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    return img.convert('RGB')


def load_image(item: Any) -> Any:
    r"""Opens one image as an RGB :class:`PIL.Image.Image` (see
    :func:`to_rgb`: transparency is composited on white). :obj:`item` may
    be a file path, raw encoded bytes, or a :class:`PIL.Image.Image`. The
    pixels are decoded here, so a truncated or corrupt file raises now.

    Args:
        item (Any): A file path, encoded bytes or a :class:`PIL.Image.Image`.
    """
    Image = import_optional('PIL.Image', 'vision')
    if isinstance(item, Image.Image):
        return to_rgb(item)
    if isinstance(item, (bytes, bytearray)):
        item = io.BytesIO(bytes(item))
    elif isinstance(item, (str, os.PathLike)):
        item = os.fspath(item)
    else:
        raise TypeError(f"Cannot read an image from '{type(item).__name__}'")
    with Image.open(item) as img:
        img.load()
        return to_rgb(img)


def _natural_key(text: str) -> List[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', text)]


def _dir_candidates(name: str) -> List[str]:
    stripped = name.strip('/')
    out = [name, stripped, stripped.replace('/', '.'),
           stripped.replace('/', '_')]
    return list(dict.fromkeys(c for c in out if c))


def find_images(images_dir: str, names: Sequence[str],
                extensions: Sequence[str] = IMAGE_EXTENSIONS,
                ) -> List[List[str]]:
    r"""Lists the image files of every entity (or relation) below
    :obj:`images_dir`, in natural file-name order
    (:obj:`img_2` before :obj:`img_10`).

    An item named :obj:`name` owns the files in the folder
    :obj:`images_dir/<name>/` (the layout of RSME, MKGformer and most MMKG
    image dumps), where a Freebase id such as :obj:`/m/027rn` may also be
    written :obj:`m.027rn` or :obj:`m_027rn`; and files directly in
    :obj:`images_dir` named :obj:`<name>.<ext>` or :obj:`<name>_<k>.<ext>`.

    Args:
        images_dir (str): The root folder.
        names (list[str]): The raw item names, in id order.
        extensions (list[str], optional): File extensions counted as images
            (case-insensitive).

    Returns:
        A list with one (possibly empty) list of file paths per name.
    """
    exts = tuple(e.lower() for e in extensions)
    flat = {}
    if osp.isdir(images_dir):
        for fname in sorted(os.listdir(images_dir), key=_natural_key):
            stem, ext = osp.splitext(fname)
            if ext.lower() not in exts:
                continue
            flat.setdefault(stem, []).append(fname)
            base, _, suffix = stem.rpartition('_')
            if base and suffix.isdigit():
                flat.setdefault(base, []).append(fname)

    out: List[List[str]] = []
    for name in names:
        files: Optional[List[str]] = None
        for cand in _dir_candidates(name):
            folder = osp.join(images_dir, cand)
            if osp.isdir(folder):
                names_in = sorted(os.listdir(folder), key=_natural_key)
                files = [
                    osp.join(folder, f) for f in names_in
                    if osp.splitext(f)[1].lower() in exts
                ]
                break
            if cand in flat:
                files = [osp.join(images_dir, f) for f in flat[cand]]
                break
        out.append(files or [])
    return out
