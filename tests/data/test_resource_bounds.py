r"""Resource bounds of the readers (issue 17, part 6): XML entities, remote
JSON-LD contexts, input size, and the length of quoted lines."""
import http.server
import json
import threading
import time

import pytest

from pyg_mmkg.data import from_rdf
from pyg_mmkg.data.io import (RawFormatError, read_id_map, read_list,
                              read_triples)

RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#'


def entity_bomb(levels: int) -> str:
    # 64 characters, then each entity is ten copies of the previous one:
    # 64 * 10 ** levels characters from ~100 bytes per level.
    ents = ['<!ENTITY e0 "' + 'a' * 64 + '">']
    for i in range(1, levels + 1):
        ents.append(f'<!ENTITY e{i} "' + f'&e{i - 1};' * 10 + '">')
    return ('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n' + '\n'.join(ents)
            + f'\n]>\n<rdf:RDF xmlns:rdf="{RDF}" '
            'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">\n'
            '<rdf:Description rdf:about="http://example.org/x">'
            f'<rdfs:label>&e{levels};</rdfs:label></rdf:Description>\n'
            '</rdf:RDF>\n')


def test_rdfxml_entities_are_refused(tmp_path):
    # Three levels (64,000 characters) keep the test fast on a parser that
    # expands; six levels (a 542-byte file) ran for over 5 minutes.
    for levels in (3, 6):
        path = tmp_path / f'bomb{levels}.rdf'
        path.write_text(entity_bomb(levels))
        t0 = time.perf_counter()
        with pytest.raises(ValueError, match='declares the XML entity') as e:
            from_rdf(str(path))
        assert str(path) in str(e.value)
        assert time.perf_counter() - t0 < 5
    # External entities too (file contents would be read into literals).
    secret = tmp_path / 'secret.txt'
    secret.write_text('password')
    path = tmp_path / 'xxe.rdf'
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY s SYSTEM '
        f'"file://{secret}">]>\n<rdf:RDF xmlns:rdf="{RDF}" '
        'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">'
        '<rdf:Description rdf:about="http://example.org/x"><rdfs:label>&s;'
        '</rdfs:label></rdf:Description></rdf:RDF>\n')
    with pytest.raises(ValueError, match='XML entity'):
        from_rdf(str(path))


def test_plain_rdfxml_still_parses(tmp_path):
    path = tmp_path / 'ok.rdf'
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF>\n<rdf:RDF '
        f'xmlns:rdf="{RDF}" xmlns:ex="http://example.org/" '
        'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">'
        '<rdf:Description rdf:about="http://example.org/a">'
        '<ex:p rdf:resource="http://example.org/b"/>'
        '<rdfs:label>A &amp; B</rdfs:label></rdf:Description></rdf:RDF>\n')
    data = from_rdf(str(path))
    assert data['entity'].name == ['http://example.org/a',
                                   'http://example.org/b']
    assert data['entity'].text[0] == 'A & B'


class _ContextServer(http.server.BaseHTTPRequestHandler):
    requests = []

    def do_GET(self):  # noqa: N802
        type(self).requests.append(self.path)
        body = json.dumps({'@context': {
            'knows': {'@id': 'http://example.org/knows', '@type': '@id'}}})
        self.send_response(200)
        self.send_header('Content-Type', 'application/ld+json')
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def context_url():
    server = http.server.HTTPServer(('127.0.0.1', 0), _ContextServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _ContextServer.requests.clear()
    yield f'http://127.0.0.1:{server.server_port}/context.jsonld'
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize('nested', [False, True])
def test_jsonld_remote_context_refused_unless_asked(tmp_path, context_url,
                                                    nested):
    doc = {'@context': context_url, '@id': 'http://example.org/a',
           'knows': 'http://example.org/b'}
    if nested:  # hidden in a scoped context of an inline one
        doc = {'@context': {'x': {'@id': 'http://example.org/x',
                                  '@context': context_url}},
               '@graph': [doc]}
    path = tmp_path / 'kg.jsonld'
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match='allow_remote=True') as e:
        from_rdf(str(path))
    assert str(path) in str(e.value)
    assert _ContextServer.requests == []  # nothing was fetched
    data = from_rdf(str(path), allow_remote=True)
    assert _ContextServer.requests == ['/context.jsonld']
    assert data['relation'].name == ['http://example.org/knows']


def test_input_size_is_bounded(tmp_path):
    path = tmp_path / 'kg.nt'
    path.write_text('<http://e/a> <http://e/p> <http://e/b> .\n' * 100)
    with pytest.raises(ValueError, match='larger than max_bytes') as e:
        from_rdf(str(path), max_bytes=1000)
    assert str(path) in str(e.value)
    assert from_rdf(str(path), max_bytes=None)['entity'].num_nodes == 2
    with pytest.raises(ValueError, match='allow_remote'):
        from_rdf('http://127.0.0.1:9/kg.nt')


HUGE = 'x' * (20 << 20)  # a 20 MiB line


@pytest.mark.parametrize('case', ['columns', 'id_map', 'duplicate',
                                  'unknown', 'rdf'])
def test_error_quotes_at_most_200_characters_of_a_line(tmp_path, case):
    path = tmp_path / 'f.txt'
    if case == 'columns':
        path.write_text(f'a\tr\tb\n{HUGE}\n')
        call = lambda: read_triples(str(path))  # noqa: E731
    elif case == 'id_map':
        path.write_text(f'a 0\n{HUGE}\n')
        call = lambda: read_id_map(str(path))  # noqa: E731
    elif case == 'duplicate':
        path.write_text(f'{HUGE}\n{HUGE}\n')
        call = lambda: read_list(str(path))  # noqa: E731
    elif case == 'unknown':
        from pyg_mmkg.data.raw import read_kg_folder
        (tmp_path / 'entities.txt').write_text('a\nb\n')
        (tmp_path / 'relations.txt').write_text('r\n')
        (tmp_path / 'train.txt').write_text(f'a\tr\tb\n{HUGE}\tr\tb\n')
        call = lambda: read_kg_folder(str(tmp_path), 'vista')  # noqa: E731
    else:
        path = tmp_path / 'kg.ttl'  # (rdflib's N-Triples parser is
        # quadratic in an unterminated literal: minutes for a few MiB)
        path.write_text(f'<http://e/a> <http://e/p> <{HUGE} .\n')
        call = lambda: from_rdf(str(path))  # noqa: E731
    with pytest.raises((RawFormatError, ValueError)) as e:
        call()
    message = str(e.value)
    assert len(message) < 600, len(message)
    assert 'x' * 201 not in message
    if case != 'rdf':  # the head of the line is quoted
        assert 'x' * 200 in message
    assert str(tmp_path) in message
