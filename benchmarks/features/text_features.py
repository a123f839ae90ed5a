r"""Real MiniLM text features for FB15k-237, WN18RR, WN9-IMG and VTKG-I.

Reads the raw files of ``../shared/data`` directly, encodes every entity and
relation text with the packaged ``all-MiniLM-L6-v2`` (mean pooling, last
layer, no normalisation), and

* fills the feature cache (``--cache-dir``), so that
  ``attach_features(..., cache_dir=...)`` with the same texts loads them
  instead of encoding;
* writes ``<cache-dir>/<Dataset>.<encoder>.pt`` = {'entity', 'entity_names',
  'entity_text', 'entity_has_text', 'relation', 'relation_names',
  'relation_text', 'relation_has_text', 'encoder'} in the raw files' order;
* appends the wall time and throughput to ``benchmarks/results/features.md``.

Example::

    python benchmarks/features/text_features.py --batch-size 128
"""
import argparse
import datetime
import gzip
import json
import os
import os.path as osp
import platform
import sys
import time
from typing import Dict, List, Optional, Tuple

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from pyg_mmkg.features import (  # noqa: E402
    HFTextEncoder, default_cache_dir, encode_texts, minilm_path, save_atomic,
    slugify)
from pyg_mmkg.features.cache import (  # noqa: E402
    cache_key, cache_path, load_cache, text_signature)

Texts = Tuple[List[str], List[Optional[str]]]  # (names, texts)


def _open(path: str):
    if path.endswith('.gz'):
        return gzip.open(path, 'rt', encoding='utf-8')
    return open(path, encoding='utf-8')


def _lines(path: str) -> List[str]:
    with _open(path) as f:
        return [l.rstrip('\r\n').rstrip('\r') for l in f if l.strip()]


def _two_cols(path: str) -> Dict[str, str]:
    out = {}
    for line in _lines(path):
        key, _, value = line.partition('\t')
        out[key.strip()] = value.strip()
    return out


def _name_and_desc(name: str, desc: Optional[str]) -> str:
    if desc and desc.strip() and desc.strip() != name.strip():
        return f'{name}: {desc.strip()}'
    return name


def fb15k_237(d: str) -> Tuple[Texts, Texts]:
    ents = _lines(osp.join(d, 'entities.txt'))
    names = _two_cols(osp.join(d, 'entity2text.txt'))
    with _open(osp.join(d, 'entity2wikidata.json.gz')) as f:
        wiki = json.load(f)
    texts = []
    for mid in ents:
        info = wiki.get(mid, {})
        name = names.get(mid) or info.get('label') or mid
        texts.append(_name_and_desc(name, info.get('description')))
    rels = _lines(osp.join(d, 'relations.txt'))
    rel_text = _two_cols(osp.join(d, 'relation2text.txt'))
    return (ents, texts), (rels, [rel_text.get(r) for r in rels])


def wn18rr(d: str) -> Tuple[Texts, Texts]:
    ents = _lines(osp.join(d, 'entities.txt'))
    gloss = _two_cols(osp.join(d, 'entity2text.txt.gz'))
    rels = _lines(osp.join(d, 'relations.txt'))
    rel_text = _two_cols(osp.join(d, 'relation2text.txt'))
    return ((ents, [gloss.get(e) for e in ents]),
            (rels, [rel_text.get(r) for r in rels]))


def wn9_img(d: str) -> Tuple[Texts, Texts]:
    pairs = [l.split('\t') for l in _lines(osp.join(d, 'entity2id.txt'))]
    ents = [p[0].strip() for p in sorted(pairs, key=lambda p: int(p[1]))]
    wn = osp.join(osp.dirname(d), 'WN18RR')
    gloss = _two_cols(osp.join(wn, 'entity2text.txt.gz'))
    pairs = [l.split('\t') for l in _lines(osp.join(d, 'relation2id.txt'))]
    rels = [p[0].strip() for p in sorted(pairs, key=lambda p: int(p[1]))]
    rel_text = _two_cols(osp.join(osp.dirname(d), 'WN18', 'relation2text.txt'))
    return ((ents, [gloss.get(e[1:]) for e in ents]),
            (rels, [rel_text.get(r) for r in rels]))


def vtkg_i(d: str) -> Tuple[Texts, Texts]:
    out = []
    for kind in ('entit', 'relation'):
        items = _lines(osp.join(d, 'entities.txt' if kind == 'entit' else
                                'relations.txt'))
        prefix = 'entity' if kind == 'entit' else 'relation'
        short = _two_cols(osp.join(d, f'{prefix}2text.txt'))
        long = _two_cols(osp.join(d, f'{prefix}2textlong.txt'))
        out.append((items, [_name_and_desc(short[i], long.get(i))
                            for i in items]))
    return out[0], out[1]


DATASETS = {'VTKG-I': vtkg_i, 'WN9-IMG': wn9_img, 'FB15k-237': fb15k_237,
            'WN18RR': wn18rr}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--datasets', nargs='+', default=list(DATASETS),
                        choices=list(DATASETS))
    parser.add_argument('--data-dir', default=osp.join(
        osp.dirname(ROOT), 'shared', 'data'))
    parser.add_argument('--cache-dir', default=default_cache_dir())
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--results', default=osp.join(
        ROOT, 'benchmarks', 'results', 'features.md'))
    parser.add_argument('--force', action='store_true',
                        help='ignore cached features and re-encode')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    enc = HFTextEncoder(minilm_path(), device=args.device, offline=True)
    rows = []
    for name in args.datasets:
        (ents, ent_text), (rels, rel_text) = DATASETS[name](
            osp.join(args.data_dir, name))
        result = {'encoder': enc.identity}
        for kind, names, texts in (('entity', ents, ent_text),
                                   ('relation', rels, rel_text)):
            key = cache_key(enc.cache_token, 'text', texts, text_signature)
            path = cache_path(args.cache_dir, 'text', enc.identity, key)
            hit = load_cache(path, key) is not None
            if hit and args.force:
                os.remove(path)
                hit = False
            start = time.perf_counter()
            out = encode_texts(enc, texts, batch_size=args.batch_size,
                               cache_dir=args.cache_dir, desc=f'{name} '
                               f'{kind} texts')
            wall = time.perf_counter() - start
            n = int(out.has_text.sum())
            chars = sum(len(t) for t in texts if t) / max(n, 1)
            print(f'{name} {kind}: {len(texts)} texts ({n} non-empty, '
                  f'{chars:.0f} chars on average) in {wall:.1f}s'
                  f'{" (cache hit)" if hit else ""}', flush=True)
            if not hit:
                rows.append((name, kind, len(texts), n, chars, wall))
            result.update({kind: out.x, f'{kind}_names': names,
                           f'{kind}_text': texts,
                           f'{kind}_has_text': out.has_text})
        target = osp.join(args.cache_dir,
                          f'{name}.{slugify(enc.identity)}.pt')
        save_atomic(result, target)
        print(f'saved {target}', flush=True)

    if rows:
        write_results(args, enc, rows)


def write_results(args, enc, rows) -> None:
    new = not osp.isfile(args.results)
    os.makedirs(osp.dirname(args.results), exist_ok=True)
    with open(args.results, 'a') as f:
        if new:
            f.write('# Feature extraction benchmarks\n\n')
        load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float(
            'nan')
        cpu = platform.processor() or platform.machine()
        f.write(
            f'## MiniLM text features ({datetime.date.today()})\n\n'
            f'Encoder `{enc.identity}` (packaged all-MiniLM-L6-v2, max '
            f'{enc.max_length} tokens), device `{args.device}`, '
            f'{torch.get_num_threads()} torch threads, batch size '
            f'{args.batch_size}, texts batched by decreasing length; torch '
            f'{torch.__version__}, {cpu}, {os.cpu_count()} cores (load '
            f'average {load:.1f} at the end).\n\n'
            f'Command: `python benchmarks/features/text_features.py '
            f'{" ".join(sys.argv[1:])}`\n\n'
            '| dataset | texts of | count | non-empty | mean chars | wall (s) '
            '| texts/s |\n|---|---|---:|---:|---:|---:|---:|\n')
        for name, kind, count, n, chars, wall in rows:
            f.write(f'| {name} | {kind} | {count:,} | {n:,} | {chars:.0f} | '
                    f'{wall:.1f} | {n / wall:.1f} |\n')
        f.write('\n')


if __name__ == '__main__':
    main()
