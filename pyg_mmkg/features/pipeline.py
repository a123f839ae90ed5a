import os
import warnings
from typing import Any, List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from pyg_mmkg.features.base import FeatureEncoder
from pyg_mmkg.features.cache import (
    cache_key,
    cache_path,
    image_signature,
    load_cache,
    save_atomic,
    text_signature,
)
from pyg_mmkg.features.images import LOADER_VERSION, load_image
from pyg_mmkg.features.selection import SELECTIONS, _rank_within, phash_order, vista_scores  # noqa: F401,E501



class TextFeatures(NamedTuple):
    x: Tensor  #: [N, D] float32; zero rows where :obj:`has_text` is False.
    has_text: Tensor  #: [N] bool; False for a None or blank text.


class ImageFeatures(NamedTuple):
    x: Tensor  #: [N, K, D] float32, zero-padded.
    mask: Tensor  #: [N, K] bool, True where a slot holds an image.
    has_image: Tensor  #: [N] bool, True if at least one image was read.
    num_skipped: int  #: Number of images that could not be read.
    skipped: List[str]  #: The unreadable images, as strings.


def encode_texts(
    encoder: FeatureEncoder,
    texts: Sequence[Optional[str]],
    batch_size: int = 64,
    cache_dir: Optional[str] = None,
    progress: bool = True,
    desc: str = 'texts',
) -> TextFeatures:
    r"""Encodes a list of texts in batches, in the given order.

    Texts are batched by decreasing length (which cuts padding, and so runs
    faster) and put back in the input order. A :obj:`None` or blank text is
    not encoded: its row is zero and :obj:`has_text` is :obj:`False`.

    Args:
        encoder (FeatureEncoder): A text encoder.
        texts (list[str or None]): The :obj:`N` texts.
        batch_size (int, optional): Texts per forward pass.
            (default: :obj:`64`)
        cache_dir (str, optional): If set, the result is cached in this
            folder, keyed by the encoder (identity, options, weights) and all
            texts; a later call with the same key loads it instead of
            encoding. (default: :obj:`None`)
        progress (bool, optional): Show a :obj:`tqdm` progress bar.
            (default: :obj:`True`)
        desc (str, optional): The progress bar label.
            (default: :obj:`'texts'`)
    """
    texts = list(texts)
    path = key = None
    if cache_dir is not None:
        key = cache_key(encoder.cache_token, 'text', texts, text_signature)
        path = cache_path(cache_dir, 'text', encoder.identity, key)
        cached = load_cache(path, key)
        if cached is not None:
            return TextFeatures(cached['x'], cached['has_text'])

    has_text = torch.tensor(
        [t is not None and str(t).strip() != '' for t in texts],
        dtype=torch.bool)
    index = has_text.nonzero().view(-1).tolist()
    index.sort(key=lambda i: -len(str(texts[i])))  # Stable sort.

    x: Optional[Tensor] = None
    batches = range(0, len(index), batch_size)
    for start in tqdm(batches, desc=f'Encoding {desc}', disable=not progress):
        chunk = index[start:start + batch_size]
        out = encoder.encode_text([str(texts[i]) for i in chunk])
        if x is None:
            x = out.new_zeros(len(texts), out.size(-1))
        x[torch.tensor(chunk)] = out
    if x is None:
        x = torch.zeros(len(texts), encoder.dim)

    if path is not None:
        save_atomic({'key': key, 'identity': encoder.identity, 'x': x,
                     'has_text': has_text}, path)
    return TextFeatures(x, has_text)


class _ImageItems(Dataset):
    def __init__(self, items: List[Any], encoder: FeatureEncoder):
        self.items = items
        self.encoder = encoder

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Tuple[int, Optional[Tensor]]:
        try:
            return i, self.encoder.preprocess(load_image(self.items[i]))
        except Exception:  # noqa: BLE001 - Corrupt or unreadable image.
            return i, None


def _collate(batch: List[Tuple[int, Optional[Tensor]]]) -> Any:
    ok = [(i, x) for i, x in batch if x is not None]
    failed = [i for i, x in batch if x is None]
    if len(ok) == 0:
        return [], None, failed
    return [i for i, _ in ok], torch.stack([x for _, x in ok]), failed


def _encode_items(encoder: FeatureEncoder, items: List[Any], batch_size: int,
                  num_workers: int, pbar: Any) -> Tuple[Tensor, Tensor]:
    r"""Encodes images; returns features [M, D] and an ok mask [M]."""
    loader = DataLoader(_ImageItems(items, encoder), batch_size=batch_size,
                        shuffle=False, num_workers=num_workers,
                        collate_fn=_collate)
    ok = torch.zeros(len(items), dtype=torch.bool)
    x: Optional[Tensor] = None
    for idx, pixels, failed in loader:
        if pixels is not None:
            out = encoder.encode_image(pixels)
            if x is None:
                x = out.new_zeros(len(items), out.size(-1))
            x[torch.tensor(idx)] = out
            ok[torch.tensor(idx)] = True
        pbar.update(len(idx) + len(failed))
    if x is None:
        x = torch.zeros(len(items), encoder.dim)
    return x, ok


def _describe(item: Any) -> str:
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item)
    return f'<{type(item).__name__}>'


def _as_lists(images: Sequence[Any]) -> List[List[Any]]:
    out = []
    for item in images:
        if item is None:
            out.append([])
        elif isinstance(item, (list, tuple)):
            out.append([x for x in item if x is not None])
        else:
            out.append([item])
    return out


def encode_images(
    encoder: FeatureEncoder,
    images: Sequence[Any],
    max_images: int = 1,
    selection: str = 'first',
    batch_size: int = 32,
    cache_dir: Optional[str] = None,
    num_workers: int = 0,
    progress: bool = True,
    desc: str = 'images',
) -> ImageFeatures:
    r"""Encodes up to :obj:`max_images` images per entity (or relation).

    Unreadable or corrupt images are skipped and counted (see
    :obj:`ImageFeatures.num_skipped`), never fatal.

    Args:
        encoder (FeatureEncoder): An image encoder.
        images (list): One entry per item: :obj:`None` (no image), one image,
            or a list of images; an image is a file path, encoded bytes, or a
            :class:`PIL.Image.Image`.
        max_images (int, optional): :obj:`K`, the slots kept per item.
            (default: :obj:`1`)
        selection (str, optional): :obj:`'first'` keeps the first :obj:`K`
            readable images in the given order; :obj:`'vista'` encodes all of
            them and keeps the :obj:`K` most central ones (see
            :func:`vista_scores`), most central first; :obj:`'phash'`
            orders each item's images by RSME's pHash centrality
            (:func:`~pyg_mmkg.features.selection.phash_scores`) and keeps
            the first :obj:`K` readable ones (:obj:`K = 1`: RSME's filter
            gate). (default: :obj:`'first'`)
        batch_size (int, optional): Images per forward pass.
            (default: :obj:`32`)
        cache_dir (str, optional): Cache folder, as in :func:`encode_texts`;
            file inputs are keyed by path, size and modification time.
            (default: :obj:`None`)
        num_workers (int, optional): :class:`DataLoader` workers that decode
            and preprocess images. (default: :obj:`0`)
        progress (bool, optional): Show a progress bar. (default: :obj:`True`)
        desc (str, optional): The progress bar label.
    """
    if selection not in SELECTIONS:
        raise ValueError(f"'selection' must be one of {SELECTIONS} "
                         f"(got '{selection}')")
    if max_images < 1:
        raise ValueError(f"'max_images' must be positive (got {max_images})")
    lists = _as_lists(images)
    N, K = len(lists), max_images
    path = key = None
    if cache_dir is not None:
        key = cache_key(encoder.cache_token, 'image', lists, image_signature,
                        max_images=K, selection=selection,
                        loader=LOADER_VERSION)
        path = cache_path(cache_dir, 'image', encoder.identity, key)
        cached = load_cache(path, key)
        if cached is not None:
            return ImageFeatures(cached['x'], cached['mask'],
                                 cached['has_image'], cached['num_skipped'],
                                 list(cached['skipped']))

    if selection == 'phash':  # RSME's filter gate: most central first
        lists = phash_order(lists)
    # (item, position) pairs to encode. 'first' asks for K per item, then
    # asks again for the next ones of items whose images failed to load.
    taken = [0] * N
    wanted = [min(len(c), K) if selection != 'vista' else len(c)
              for c in lists]
    feats, ents, poss, skipped = [], [], [], []
    total = sum(wanted)
    with tqdm(total=total, desc=f'Encoding {desc}',
              disable=not progress) as pbar:
        while sum(wanted) > 0:
            items, ent, pos = [], [], []
            for i, c in enumerate(lists):
                for p in range(taken[i], taken[i] + wanted[i]):
                    items.append(c[p])
                    ent.append(i)
                    pos.append(p)
                taken[i] += wanted[i]
            x, ok = _encode_items(encoder, items, batch_size, num_workers,
                                  pbar)
            feats.append(x[ok])
            ent_t, pos_t = torch.tensor(ent), torch.tensor(pos)
            ents.append(ent_t[ok])
            poss.append(pos_t[ok])
            bad = (~ok).nonzero().view(-1).tolist()
            skipped += [_describe(items[j]) for j in bad]
            wanted = [0] * N
            if selection != 'vista':
                for j in bad:
                    i = ent[j]
                    if taken[i] + wanted[i] < len(lists[i]):
                        wanted[i] += 1
                pbar.total += sum(wanted)
                pbar.refresh()

    if len(feats) == 0:  # Not a single image given.
        feats, ents, poss = [torch.zeros(0, encoder.dim)], [], []
    x_all = torch.cat(feats, dim=0)
    ent_all = torch.cat(ents).long() if ents else torch.zeros(0).long()
    pos_all = torch.cat(poss).long() if poss else torch.zeros(0).long()
    if selection == 'vista':
        score = vista_scores(x_all, ent_all, N)
    else:
        score = -pos_all.double()
    perm, rank = _rank_within(ent_all, score, N)
    keep = rank < K
    dim = x_all.size(-1)
    out = torch.zeros(N, K, dim)
    mask = torch.zeros(N, K, dtype=torch.bool)
    out[ent_all[perm][keep], rank[keep]] = x_all[perm][keep]
    mask[ent_all[perm][keep], rank[keep]] = True
    has_image = mask.any(dim=-1)
    if len(skipped) > 0:
        warnings.warn(f"{len(skipped)} image(s) could not be read and were "
                      f"skipped (first: '{skipped[0]}')")

    result = ImageFeatures(out, mask, has_image, len(skipped), skipped)
    if path is not None:
        save_atomic({'key': key, 'identity': encoder.identity, 'x': out,
                     'mask': mask, 'has_image': has_image,
                     'num_skipped': len(skipped), 'skipped': skipped}, path)
    return result
