r"""Builds WN9-IMG with MiniLM text features of its entity glosses (no
images) as one file for `pyg-mmkg train --dataset FILE`.

The triples come from the IKRL release (raw files copied from --raw); the
features from the pyg_mmkg feature cache
(~/.cache/pyg_mmkg/features/WN9-IMG.hf-mean_all-MiniLM-L6-v2_last.pt),
matched to the dataset's entities by name.

    python benchmarks/methods/prepare_wn9.py --raw ../shared/data/WN9-IMG \
        --root /tmp/mm_bench/WN9-IMG --out /tmp/mm_bench/wn9_text.pt
"""
import argparse
import os
import os.path as osp
import shutil

import torch

from pyg_mmkg.data.safe_load import safe_torch_load
from pyg_mmkg.datasets import WN9_IMG
from pyg_mmkg.features import default_cache_dir


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--raw', required=True)
    parser.add_argument('--root', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--features', default=osp.join(
        default_cache_dir(), 'WN9-IMG.hf-mean_all-MiniLM-L6-v2_last.pt'))
    args = parser.parse_args()
    raw_dir = osp.join(args.root, 'raw')
    os.makedirs(raw_dir, exist_ok=True)
    for name in os.listdir(args.raw):
        if name.endswith('.txt'):
            shutil.copy2(osp.join(args.raw, name), osp.join(raw_dir, name))
    data = WN9_IMG(args.root)[0]
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
    data.feature_encoders = {'entity.x_text': feats['encoder']}
    torch.save(data, args.out)
    print(f"{data['entity'].num_nodes} entities, "
          f"{int(data['entity'].has_text.sum())} with text -> {args.out}")


if __name__ == '__main__':
    main()
