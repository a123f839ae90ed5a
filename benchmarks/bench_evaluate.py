r"""Throughput of filtered head + tail evaluation on FB15k-237 sized random
data (14,541 entities, 237 relations, 20,466 test triples, ~310k filter
triples) with a DistMult scorer of dimension 200.

    python tests/evaluation/bench_evaluate.py [--threads 1] [--batch-size N]
        [--device cpu] [--skew 1.0] [--data ../shared/data/FB15k-237]

With ``--data``, the real FB15k-237 splits (``{train,valid,test}.txt.gz``,
tab-separated labels) give the test queries and the filter; the embeddings
stay random (throughput does not depend on training).

Not collected by pytest (file name does not start with ``test_``).
"""
import argparse
import gzip
import os.path as osp
import time

import torch

from pyg_mmkg.evaluation import FilterIndex, evaluate


class BenchDistMult(torch.nn.Module):
    r"""DistMult with the :meth:`encode` / :meth:`score_tails` /
    :meth:`score_heads` interface of the API spec."""
    def __init__(self, num_nodes, num_relations, hidden_channels):
        super().__init__()
        self.num_nodes = num_nodes
        self.hidden_channels = hidden_channels
        self.node_emb = torch.nn.Embedding(num_nodes, hidden_channels)
        self.rel_emb = torch.nn.Embedding(num_relations, hidden_channels)

    def encode(self):
        return self.node_emb.weight, self.rel_emb.weight

    def forward(self, head_index, rel_type, tail_index, encoded=None):
        ent, rel = self.encode() if encoded is None else encoded
        return (ent[head_index] * rel[rel_type] * ent[tail_index]).sum(-1)

    def score_tails(self, head_index, rel_type, encoded=None):
        ent, rel = self.encode() if encoded is None else encoded
        return (ent[head_index] * rel[rel_type]) @ ent.t()

    def score_heads(self, rel_type, tail_index, encoded=None):
        ent, rel = self.encode() if encoded is None else encoded
        return (rel[rel_type] * ent[tail_index]) @ ent.t()


def load(root):
    r"""Reads train, valid and test (in this order, test last)."""
    ent, rel, out = {}, {}, []
    for split in ['train', 'valid', 'test']:
        with gzip.open(osp.join(root, f'{split}.txt.gz'), 'rt') as f:
            for line in f:  # Loading only; not part of the measurement.
                a, b, c = line.strip().split('\t')
                out.append((ent.setdefault(a, len(ent)),
                            rel.setdefault(b, len(rel)),
                            ent.setdefault(c, len(ent))))
    h, r, t = torch.tensor(out).t()
    return h, r, t, len(ent), len(rel)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--batch-size', type=int, default=None)
    parser.add_argument('--num-test', type=int, default=20466)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--data', default=None)
    parser.add_argument('--skew', type=float, default=0.0,
                        help='Zipf exponent of entity and relation '
                        'frequencies (0: uniform; ~1 gives many known '
                        'answers per query, as in FB15k-237)')
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    num_nodes, num_relations, dim = 14541, 237, 200
    num_train, num_val = 272115, 17535
    num_all = num_train + num_val + args.num_test
    if args.data is not None:
        h, r, t, num_nodes, num_relations = load(args.data)
        args.num_test = 20466
        num_all = h.numel()

    def sample(num, size):
        weight = torch.arange(1, num + 1, dtype=torch.double)**-args.skew
        return torch.multinomial(weight, size, replacement=True)

    if args.data is None:
        h, r, t = (sample(n, num_all)
                   for n in (num_nodes, num_relations, num_nodes))

    t0 = time.perf_counter()
    filter_index = FilterIndex(h, r, t, num_nodes, num_relations)
    build = time.perf_counter() - t0
    filter_index = filter_index.to(args.device)

    model = BenchDistMult(num_nodes, num_relations, dim).to(args.device)
    test = [x[-args.num_test:].to(args.device) for x in (h, r, t)]
    num_queries = 2 * args.num_test

    evaluate(model, *[x[:512] for x in test], filter_index=filter_index,
             batch_size=args.batch_size)  # Warm-up.
    times = []
    for _ in range(args.repeats):
        if args.device != 'cpu':
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        result = evaluate(model, *test, filter_index=filter_index,
                          batch_size=args.batch_size)
        if args.device != 'cpu':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    best = min(times)
    row, _ = filter_index.tails(test[0], test[1])
    row2, _ = filter_index.heads(test[1], test[2])
    print(f'filter build: {build:.3f}s for {num_all} triples '
          f'({filter_index.num_triples} distinct); known answers per test '
          f'query: {(row.numel() + row2.numel()) / num_queries:.1f}')
    print(f'threads={args.threads} device={args.device} '
          f'batch_size={args.batch_size}: {num_queries} queries in '
          f'{best:.3f}s (best of {args.repeats}) = '
          f'{num_queries / best:,.0f} queries/s')
    print(result)


if __name__ == '__main__':
    main()
