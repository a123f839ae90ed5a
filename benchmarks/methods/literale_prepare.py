r"""Builds FB15k-237 with the MMKB FB15K numeric literals as `x_numeric` /
`numeric_mask` (LiteralE's preprocessing: attributes occurring more than 5
times in the FB15K literal file, `http://rdf.freebase.com/key/` dropped,
the last value of an (entity, attribute) pair kept; FB15k entities that are
not in FB15k-237 skipped), saved as one file for
`pyg-mmkg train --dataset FILE`.

    python benchmarks/methods/literale_prepare.py \
        --raw ../shared/data/FB15k-237 \
        --literals ../shared/data/MMKB/FB15K/FB15K_NumericalTriples.txt.gz \
        --root /tmp/mm_bench/FB15k-237 --out /tmp/mm_bench/fb15k237_num.pt
"""
import argparse
import os
import os.path as osp

import torch

from pyg_mmkg.data.literals import attach_numeric_literals
from pyg_mmkg.datasets import FB15K_237_IMG

FILES = ('entities.txt', 'relations.txt', 'train.txt.gz', 'valid.txt.gz',
         'test.txt.gz', 'entity2text.txt', 'relation2text.txt')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--raw', required=True)
    parser.add_argument('--literals', required=True)
    parser.add_argument('--root', required=True)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    raw_dir = osp.join(args.root, 'raw')
    os.makedirs(raw_dir, exist_ok=True)
    for name in FILES:
        dst = osp.join(raw_dir, name)
        if not osp.exists(dst):
            os.symlink(osp.abspath(osp.join(args.raw, name)), dst)
    data = FB15K_237_IMG(args.root)[0]
    attach_numeric_literals(data, args.literals, min_count=5,
                            exclude=['http://rdf.freebase.com/key/'],
                            unknown='skip')
    store = data['entity']
    mask = store.numeric_mask
    torch.save(data, args.out)
    print(f"{store.num_nodes} entities, {mask.size(1)} attributes, "
          f"{int(mask.sum())} values, {int(mask.any(1).sum())} entities "
          f"with at least one -> {args.out}")


if __name__ == '__main__':
    main()
