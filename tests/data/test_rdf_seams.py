"""Seam 5 of issue 16: RDF splits, blank nodes, text predicates. On the
code before the fix, `from_rdf(dcterms.owl, split=(0.1, 0.1))` put entities
in val/test that never occur in train and `validate` said nothing, blank
nodes got new random names on each parse, and dcterms:description was
dropped with no `text_predicates=` to add it."""
import os.path as osp
import warnings

import pytest
import torch

from pyg_mmkg.data import UnseenEntityWarning, from_rdf, validate

rdflib = pytest.importorskip('rdflib')
DCTERMS = osp.join(osp.dirname(__file__), 'fixtures', 'dcterms.owl')


def _named(data, split):
    store = data['entity', 'to', 'entity']
    m = store[f'{split}_mask']
    ent, rel = data['entity'].name, data['relation'].name
    (h, t), r = store.edge_index[:, m].tolist(), store.edge_type[m].tolist()
    return [(ent[a], rel[b], ent[c]) for a, b, c in zip(h, r, t)]


def _unseen(data):
    """Held-out triples with a head or tail absent from train (by name)."""
    train = {x for h, _, t in _named(data, 'train') for x in (h, t)}
    return {s: [x for x in _named(data, s) if x[0] not in train
                or x[2] not in train] for s in ('val', 'test')}


def test_split_puts_every_held_out_entity_in_train():
    with pytest.warns(UnseenEntityWarning, match='moved to training'):
        data = from_rdf(DCTERMS, format='xml', split=(0.1, 0.1))
    assert _unseen(data) == {'val': [], 'test': []}
    n = {s: len(_named(data, s)) for s in ('train', 'val', 'test')}
    g = rdflib.Graph().parse(DCTERMS, format='xml')
    total = sum(1 for _, _, o in g if not isinstance(o, rdflib.Literal))
    assert sum(n.values()) == total and n['val'] > 0 and n['test'] > 0
    with warnings.catch_warnings():
        warnings.simplefilter('error', UnseenEntityWarning)
        validate(data)


def test_validate_warns_about_unseen_entities():
    with pytest.warns(UnseenEntityWarning, match='no training edge'):
        data = from_rdf(DCTERMS, format='xml', split=(0.1, 0.1),
                        split_coverage='warn')
    unseen = _unseen(data)
    assert unseen['val']  # the random split alone leaves some
    n_val = len(_named(data, 'val'))
    with pytest.warns(UnseenEntityWarning,
                      match=f"{len(unseen['val'])} of {n_val} val triples"):
        validate(data)


BNODES = '''
@prefix ex: <http://example.org/> .
ex:alice ex:address {a} .
{a} ex:city ex:lisbon ; ex:street "Rua Augusta" .
ex:bob ex:address {b} .
{b} ex:city ex:porto .
ex:carol ex:knows [ ex:knows ex:alice ] .
'''


def test_blank_node_ids_are_stable_across_parses(tmp_path):
    one, two = tmp_path / 'a.ttl', tmp_path / 'b.ttl'
    one.write_text(BNODES.format(a='_:x1', b='_:x2'))
    two.write_text(BNODES.format(a='_:other', b='_:more'))  # other labels
    runs = [from_rdf(str(p)) for p in (one, one, two)]
    names = runs[0]['entity'].name
    assert sum(n.startswith('bnode:') for n in names) == 3
    for data in runs[1:]:
        assert data['entity'].name == names
        assert torch.equal(data['entity', 'to', 'entity'].edge_index,
                           runs[0]['entity', 'to', 'entity'].edge_index)
    # Alice's and Bob's addresses differ in content, so in name:
    edges = _named(runs[0], 'train')
    alice = [t for h, r, t in edges if h == 'http://example.org/alice']
    bob = [t for h, r, t in edges if h == 'http://example.org/bob']
    assert alice != bob and alice[0].startswith('bnode:')


DESCRIBED = '''
@prefix ex: <http://example.org/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:a rdfs:label "Alpha" ; dcterms:description "the first letter" ;
    ex:note "a note" ; ex:next ex:b .
'''


def test_text_predicates(tmp_path):
    path = tmp_path / 'kg.ttl'
    path.write_text(DESCRIBED)
    data = from_rdf(str(path))  # dcterms:description is a default now
    i = data['entity'].name.index('http://example.org/a')
    assert data['entity'].text[i] == 'Alpha: the first letter'
    data = from_rdf(str(path), text_predicates=['ex:note', 'rdfs:label'])
    assert data['entity'].text[i] == 'a note: Alpha'
    data = from_rdf(str(path), text_predicates=[
        'http://purl.org/dc/terms/description'])
    assert data['entity'].text[i] == 'the first letter'
    with pytest.raises(ValueError, match="prefix 'nope:'"):
        from_rdf(str(path), text_predicates=['nope:thing'])
