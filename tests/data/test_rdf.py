import os.path as osp

import pytest
import torch

from pyg_mmkg.data import from_rdf, triples, validate

rdflib = pytest.importorskip('rdflib')
FIXTURES = osp.join(osp.dirname(__file__), 'fixtures')

TTL = '''
@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <http://schema.org/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

ex:paris ex:capitalOf ex:france ;
    rdfs:label "Paris"@en, "Paris (fr)"@fr ;
    schema:description "capital city"@en ;
    foaf:depiction <http://img.example.org/paris1.jpg>,
                   <http://img.example.org/paris0.jpg> ;
    ex:population "2100000"^^xsd:integer ;
    ex:area 105.4 .
ex:france ex:partOf ex:europe ;
    rdfs:comment "a country" ;
    skos:definition "French Republic"@en ;
    ex:population 68000000 ;
    schema:image "france.png" .
ex:berlin ex:capitalOf ex:germany ; ex:flag true .
'''


def test_handmade_every_case(tmp_path):
    path = tmp_path / 'kg.ttl'
    path.write_text(TTL)
    data = validate(from_rdf(str(path)))
    ent = data['entity']
    names = ent.name
    assert names == sorted(names)
    assert names == ['http://example.org/berlin', 'http://example.org/europe',
                     'http://example.org/france', 'http://example.org/germany',
                     'http://example.org/paris']
    assert data['relation'].name == ['http://example.org/capitalOf',
                                     'http://example.org/partOf']
    h, r, t = triples(data, 'train')
    got = {(names[a], data['relation'].name[b], names[c])
           for a, b, c in zip(h.tolist(), r.tolist(), t.tolist())}
    assert ('http://example.org/paris', 'http://example.org/capitalOf',
            'http://example.org/france') in got
    assert len(got) == 3  # depictions are not edges
    paris, france = names.index('http://example.org/paris'), \
        names.index('http://example.org/france')
    assert ent.text[paris] == 'Paris: capital city'  # @fr dropped
    assert ent.text[france] == 'a country: French Republic'
    assert ent.image_refs[paris] == ['http://img.example.org/paris0.jpg',
                                     'http://img.example.org/paris1.jpg']
    assert ent.image_refs[france] == ['france.png']
    assert data.numeric_predicates == ['http://example.org/area',
                                       'http://example.org/population']
    assert ent.x_numeric[paris].tolist() == pytest.approx([105.4, 2100000])
    assert ent.numeric_mask[france].tolist() == [False, True]
    assert not ent.numeric_mask[names.index('http://example.org/berlin')].any()


def test_ids_stable_and_split(tmp_path):
    path = tmp_path / 'kg.ttl'
    path.write_text(TTL)
    kw = dict(split=(0.34, 0.34), seed=1, split_coverage='warn')
    with pytest.warns(UserWarning, match='no training edge'):
        a = from_rdf(str(path), **kw)
        b = from_rdf(str(path), **kw)
    sa, sb = a['entity', 'to', 'entity'], b['entity', 'to', 'entity']
    assert torch.equal(sa.edge_index, sb.edge_index)
    assert [int(sa[f'{k}_mask'].sum()) for k in ('train', 'val', 'test')] \
        == [1, 1, 1]
    # By default, held-out edges of entities without a training edge move
    # to training (here: all of them, the three edges share no entity).
    with pytest.warns(UserWarning, match='moved to training'):
        c = from_rdf(str(path), split=(0.34, 0.34), seed=1)
    sc = c['entity', 'to', 'entity']
    assert [int(sc[f'{k}_mask'].sum()) for k in ('train', 'val', 'test')] \
        == [3, 0, 0]


def test_real_ontology_dcterms():
    r"""DCMI Metadata Terms (OWL 2 DL, RDF/XML) as shipped by owlready2."""
    data = validate(from_rdf(osp.join(FIXTURES, 'dcterms.owl'),
                             format='xml'))
    g = rdflib.Graph().parse(osp.join(FIXTURES, 'dcterms.owl'), format='xml')
    n_iri_edges = sum(1 for _, _, o in g
                      if not isinstance(o, rdflib.Literal))
    assert data['entity', 'to', 'entity'].edge_index.size(1) == n_iri_edges
    ent = data['entity']
    i = ent.name.index('http://purl.org/dc/terms/abstract')
    assert ent.text[i] == 'Abstract: A summary of the resource.'
    rels = data['relation'].name
    assert 'http://www.w3.org/2000/01/rdf-schema#subPropertyOf' in rels
    h, r, t = triples(data, 'train')
    sub = rels.index('http://www.w3.org/2000/01/rdf-schema#subPropertyOf')
    pairs = {(ent.name[a], ent.name[b]) for a, b in
             zip(h[r == sub].tolist(), t[r == sub].tolist())}
    assert ('http://purl.org/dc/terms/abstract',
            'http://purl.org/dc/terms/description') in pairs


def test_unparsable_file(tmp_path):
    path = tmp_path / 'bad.ttl'
    path.write_text('@prefix ex: <http://x/> .\nex:a ex:b \n')
    with pytest.raises(ValueError, match='bad.ttl'):
        from_rdf(str(path))


@pytest.mark.parametrize('split', [(0.7, 0.7), (-0.1, 0.2), (0.2, 1.0),
                                   (0.5, 0.5), ('a', 0.1), (0.1, )])
def test_split_that_cannot_be_meant(tmp_path, split):
    path = tmp_path / 'kg.ttl'
    path.write_text(TTL)
    with pytest.raises(ValueError, match='split'):
        from_rdf(str(path), split=split)
