r"""Relation-wise popularity baseline: scores a candidate tail of (h, r, ?)
by how often it is a tail of r in the training triples (heads likewise),
ranked with the library's filtered, realistic-rank evaluation. It tells
how much of a model's MRR a frequency prior alone reaches.

    python benchmarks/reproduction/popularity_baseline.py --data-root DIR
"""
import argparse
import json
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

from run_all import load  # noqa: E402
from pyg_mmkg.data import triples  # noqa: E402
from pyg_mmkg.evaluation import FilterIndex, evaluate  # noqa: E402


class Popularity(torch.nn.Module):
    def __init__(self, h, r, t, num_nodes, num_relations):
        super().__init__()
        tail = torch.zeros(num_relations, num_nodes)
        head = torch.zeros(num_relations, num_nodes)
        tail.index_put_((r, t), torch.ones_like(r, dtype=torch.float),
                        accumulate=True)
        head.index_put_((r, h), torch.ones_like(r, dtype=torch.float),
                        accumulate=True)
        self.register_buffer('tail', tail)
        self.register_buffer('head', head)

    def score_tails(self, head_index, rel_type, encoded=None):
        return self.tail[rel_type]

    def score_heads(self, rel_type, tail_index, encoded=None):
        return self.head[rel_type]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data-root', required=True)
    parser.add_argument('--datasets', default='MKG-W,MKG-Y,DB15K')
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = {}
    for name in args.datasets.split(','):
        data = load(args.data_root, name)
        N, R = data['entity'].num_nodes, data['relation'].num_nodes
        splits = {s: triples(data, s) for s in ('train', 'val', 'test')}
        fi = FilterIndex.from_triples(list(splits.values()), N, R)
        model = Popularity(*splits['train'], N, R)
        res = evaluate(model, *splits['test'], filter_index=fi,
                       batch_size=1024)
        out[name] = {k: {m: round(float(v) * 100, 2) for m, v in res[k].items()
                         if m in ('mrr', 'hits@1', 'hits@10')}
                     for k in ('both', 'head', 'tail')}
        print(name, json.dumps(out[name]), flush=True)


if __name__ == '__main__':
    main()
