r"""`pyg-mmkg features`: encode a dataset's texts and images.

.. code-block:: bash

    pyg-mmkg features --dataset VTKG-I --root data/VTKG-I \
        --text-encoder minilm --image-encoder efficientnet-lite0 \
        --images-dir /data/vtkg-i-images --max-images 5 --selection vista
"""
import argparse
import os
import os.path as osp
import sys
from typing import Any, List, Optional

from pyg_mmkg.features._utils import slugify
from pyg_mmkg.features.resolve import ENCODER_SPECS


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    r"""Adds the :obj:`features` command to an :obj:`argparse` sub-parser
    collection and returns its parser."""
    p = subparsers.add_parser(
        'features', help='encode entity/relation texts and images',
        description="Encode a dataset's entity and relation texts and "
        "images with a pretrained encoder and save the feature tensors.",
        epilog=ENCODER_SPECS, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('--dataset', required=True,
                   help='dataset name or raw KG folder')
    p.add_argument('--root', default=None,
                   help='dataset root folder (default: the folder itself, '
                   'or $PYG_HOME/pyg_mmkg/NAME)')
    p.add_argument('--text-encoder', default=None, metavar='SPEC',
                   help="text encoder, e.g. 'minilm' or 'hf-mean:DIR'")
    p.add_argument('--image-encoder', default=None, metavar='SPEC',
                   help="image encoder, e.g. 'efficientnet-lite0' or "
                   "'open_clip:ViT-B-32:FILE'")
    p.add_argument('--images-dir', default=None,
                   help='folder with one sub-folder (or file prefix) per '
                   'entity name')
    p.add_argument('--relation-images-dir', default=None,
                   help='the same for relation images')
    p.add_argument('--max-images', type=int, default=1, metavar='K',
                   help='image slots per entity (default: 1)')
    p.add_argument('--selection', choices=['first', 'vista', 'phash'],
                   default=None, help='which K images to keep (default: '
                   "the dataset's: 'vista' for VISTA's datasets, else "
                   "'first')")
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--num-workers', type=int, default=0,
                   help='image decoding worker processes (default: 0)')
    p.add_argument('--cache-dir', default=None,
                   help='feature cache (default: $PYG_MMKG_CACHE or '
                   '~/.cache/pyg_mmkg/features)')
    p.add_argument('--no-cache', action='store_true',
                   help='do not read or write the feature cache')
    p.add_argument('--device', default=None, help="e.g. 'cpu' or 'cuda'")
    p.add_argument('--precision', default='auto',
                   choices=['auto', 'fp32', 'fp16', 'bf16'])
    p.add_argument('--offline', action='store_true',
                   help='never try to download a model')
    p.add_argument('--out', default=None,
                   help='output file (default: ROOT/features/'
                   'DATASET--TEXT--IMAGE.pt); a feature file that `train '
                   '--dataset FILE` and feature_files= accept')
    p.add_argument('--no-progress', action='store_true')
    p.set_defaults(func=run)
    return p


def _get_data(name: str, root: str) -> Any:
    from pyg_mmkg.datasets import get_dataset
    dataset = get_dataset(name, root)
    selection = getattr(dataset, 'image_selection', 'first')
    if hasattr(dataset, 'node_types'):  # Already a HeteroData object.
        return dataset, selection
    return dataset[0], selection


def _default_root(name: str) -> str:
    from pyg_mmkg.datasets import DATASETS, _norm
    from torch_geometric import get_home_dir
    canonical = {_norm(k): k for k in DATASETS}.get(_norm(name), name)
    return osp.join(get_home_dir(), 'pyg_mmkg', canonical)


def run(args: argparse.Namespace) -> int:
    r"""Runs the :obj:`features` command; returns the exit status."""
    from pyg_mmkg.features.attach import attach_features
    from pyg_mmkg.features.cache import default_cache_dir, save_atomic
    from pyg_mmkg.features.images import find_images
    from pyg_mmkg.features.resolve import load_encoder

    if args.text_encoder is None and args.image_encoder is None:
        print('error: give --text-encoder and/or --image-encoder',
              file=sys.stderr)
        return 2
    if args.image_encoder is not None and args.images_dir is None and (
            args.relation_images_dir is None):
        print('error: --image-encoder needs --images-dir', file=sys.stderr)
        return 2

    for flag, folder in (('--images-dir', args.images_dir),
                         ('--relation-images-dir', args.relation_images_dir)):
        if folder is not None and not os.path.isdir(folder):
            print(f"error: {flag} '{folder}' is not a folder",
                  file=sys.stderr)
            return 2

    data, selection = _get_data(args.dataset, args.root)
    kw = dict(device=args.device, precision=args.precision,
              offline=True if args.offline else None)
    text_enc = image_enc = None
    entity_texts = relation_texts = None
    entity_images = relation_images = None
    if args.text_encoder is not None:
        entity_texts = getattr(data['entity'], 'text', None)
        if entity_texts is None:
            print(f"error: dataset '{args.dataset}' has no entity texts "
                  f"(data['entity'].text)", file=sys.stderr)
            return 1
        if 'relation' in data.node_types:
            relation_texts = getattr(data['relation'], 'text', None)
        text_enc = load_encoder(args.text_encoder, 'text', **kw)
    if args.image_encoder is not None:
        image_enc = load_encoder(args.image_encoder, 'image', **kw)
        if args.images_dir is not None:
            entity_images = find_images(args.images_dir, data['entity'].name)
        if args.relation_images_dir is not None:
            relation_images = find_images(args.relation_images_dir,
                                          data['relation'].name)

    cache_dir: Optional[str] = None
    if not args.no_cache:
        cache_dir = args.cache_dir or default_cache_dir()
    attach_features(data, text_encoder=text_enc, image_encoder=image_enc,
                    entity_texts=entity_texts, entity_images=entity_images,
                    relation_texts=relation_texts,
                    relation_images=relation_images, cache_dir=cache_dir,
                    batch_size=args.batch_size, max_images=args.max_images,
                    selection=args.selection or selection,
                    num_workers=args.num_workers,
                    progress=not args.no_progress)

    out = args.out
    if out is None:
        folder = os.path.isdir(args.dataset)
        name = osp.basename(osp.normpath(args.dataset)) if folder \
            else args.dataset
        parts: List[str] = [slugify(name)]
        parts += [slugify(e.identity) for e in (text_enc, image_enc) if e]
        root = args.root or (args.dataset if folder else
                             _default_root(args.dataset))
        out = osp.join(root, 'features', '--'.join(parts) + '.pt')
    from pyg_mmkg.data.feature_file import make_feature_file
    save_atomic(make_feature_file(data, args.dataset, args.root), out)
    for key, identity in sorted(data.feature_encoders.items()):
        node_type, attr = key.split('.')
        shape = tuple(data[node_type][attr].shape)
        extra = ''
        if attr == 'x_text':
            extra = f", {int(data[node_type].has_text.sum())} with text"
        else:
            extra = f", {int(data[node_type].has_image.sum())} with images"
        print(f'{key}: {shape} from {identity}{extra}')
    print(f'saved to {out}')
    return 0
