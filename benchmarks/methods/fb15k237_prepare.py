r"""Builds FB15k-237 with MiniLM text features of its entity descriptions (no
images) as one file for `pyg-mmkg train --dataset FILE`.

The triples (kg-bert release) are linked from --raw into ROOT/raw as in
tests/datasets/test_real_stats.py; the features come from the pyg_mmkg
feature cache (~/.cache/pyg_mmkg/features/
FB15k-237.hf-mean_all-MiniLM-L6-v2_last.pt), reordered by entity name to the
dataset's `data['entity'].name` order.

    python benchmarks/methods/fb15k237_prepare.py --raw ../shared/data/FB15k-237 \
        --root /tmp/mm_bench/FB15k-237 --out /tmp/mm_bench/fb15k237_text.pt
"""
import argparse
import os
import os.path as osp

import torch

from pyg_mmkg.data.safe_load import safe_torch_load
from pyg_mmkg.datasets import FB15K_237_IMG
from pyg_mmkg.features import default_cache_dir

FILES = ('entities.txt', 'relations.txt', 'train.txt.gz', 'valid.txt.gz',
         'test.txt.gz', 'entity2text.txt', 'relation2text.txt')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--raw', required=True)
    parser.add_argument('--root', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--features', default=osp.join(
        default_cache_dir(), 'FB15k-237.hf-mean_all-MiniLM-L6-v2_last.pt'))
    args = parser.parse_args()
    raw_dir = osp.join(args.root, 'raw')
    os.makedirs(raw_dir, exist_ok=True)
    for name in FILES:
        dst = osp.join(raw_dir, name)
        if not osp.exists(dst):
            os.symlink(osp.abspath(osp.join(args.raw, name)), dst)
    data = FB15K_237_IMG(args.root)[0]
    feats = safe_torch_load(args.features)
    pos = {n: i for i, n in enumerate(feats['entity_names'])}
    names = list(data['entity'].name)
    missing = [n for n in names if n not in pos]
    if missing:
        raise ValueError(f'{len(missing)} entities lack features, e.g. '
                         f'{missing[:3]}')
    idx = torch.tensor([pos[n] for n in names])
    data['entity'].x_text = feats['entity'][idx].float()
    data['entity'].has_text = feats['entity_has_text'][idx].bool()
    if 'encoder' in feats:
        data.feature_encoders = {'entity.x_text': feats['encoder']}
    torch.save(data, args.out)
    print(data)
    print(f"{data['entity'].num_nodes} entities, "
          f"{int(data['entity'].has_text.sum())} with text, "
          f"{int((idx != torch.arange(len(idx))).sum())} rows reordered "
          f"-> {args.out}")


if __name__ == '__main__':
    main()
