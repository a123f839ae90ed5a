r"""Bounded, entity-free and offline parsing of RDF files for
:func:`pyg_mmkg.data.from_rdf`.

* The input is read by us, at most :obj:`max_bytes` of it, and handed to
  rdflib as bytes (with the file's URI as base, as rdflib would use).
* RDF/XML and TriX: any entity declaration (internal or external) or
  external entity reference is refused before rdflib sees the document,
  the same rule as :mod:`defusedxml`'s ``forbid_entities`` and
  ``forbid_external``, checked with the standard library's expat, so that
  nested entities cannot expand a small file to megabytes (rdflib's
  character handling makes that quadratic).
* JSON-LD: a ``@context`` or ``@import`` that is a reference (a string,
  which rdflib would fetch or open) rather than an inline object is
  refused unless :obj:`allow_remote`.
"""
from __future__ import annotations

import json
import os
import pathlib
import urllib.parse
import xml.parsers.expat as expat
from typing import Any, Optional, Tuple

from pyg_mmkg.data.io import shorten

DEFAULT_MAX_BYTES = 1 << 30


class _Refused(Exception):
    pass


def _is_url(text: str) -> bool:
    return urllib.parse.urlsplit(text).scheme.lower() in (
        'http', 'https', 'ftp')


def read_source(source: Any, max_bytes: Optional[int],
                allow_remote: bool) -> Tuple[bytes, str, str]:
    r"""Returns ``(content, base_uri, label)`` of a local file (or, with
    :obj:`allow_remote`, a URL)."""
    label = os.fspath(source) if isinstance(source, os.PathLike) else \
        str(source)
    limit = max_bytes if max_bytes is not None else -1
    if _is_url(label):
        if not allow_remote:
            raise ValueError(f"'{shorten(label)}' is a URL; from_rdf reads "
                             f"local files unless allow_remote=True")
        import urllib.request
        with urllib.request.urlopen(label, timeout=60) as f:
            data = f.read(limit + 1 if limit >= 0 else -1)
        base = label
    else:
        if max_bytes is not None and os.path.isfile(label) and \
                os.path.getsize(label) > max_bytes:
            raise ValueError(_too_big(label, max_bytes))
        try:
            with open(label, 'rb') as f:
                data = f.read(limit + 1 if limit >= 0 else -1)
        except OSError as e:
            raise ValueError(f"Cannot read RDF file '{label}': "
                             f"{e.strerror or e}") from e
        base = pathlib.Path(label).absolute().as_uri()
    if max_bytes is not None and len(data) > max_bytes:
        raise ValueError(_too_big(label, max_bytes))
    return data, base, label


def _too_big(label: str, max_bytes: int) -> str:
    return (f"RDF file '{label}' is larger than max_bytes={max_bytes:,}; "
            f"pass a larger max_bytes (or None) to read it")


def parser_kind(rdflib, fmt: str) -> str:
    r"""``'xml'``, ``'jsonld'`` or ``'other'`` for rdflib format
    :obj:`fmt`."""
    from rdflib.parser import Parser
    try:
        module = rdflib.plugin.get(fmt, Parser).__module__
    except Exception:  # unknown format: rdflib reports it
        return 'other'
    if module.endswith(('.rdfxml', '.trix')):
        return 'xml'
    if module.endswith('.jsonld'):
        return 'jsonld'
    return 'other'


def check_xml(data: bytes, label: str) -> None:
    r"""Raises a :class:`ValueError` if the XML document declares entities
    or references external ones."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def entity_decl(name, *args):
        raise _Refused(f"declares the XML entity '{shorten(name, 80)}'")

    def external_ref(context, base, system_id, public_id):
        raise _Refused(f"references the external entity "
                       f"'{shorten(system_id, 80)}'")

    parser.EntityDeclHandler = entity_decl
    parser.UnparsedEntityDeclHandler = entity_decl
    parser.ExternalEntityRefHandler = external_ref
    try:
        parser.Parse(data, True)
    except _Refused as e:
        raise ValueError(f"Refusing to parse RDF/XML file '{label}': it "
                         f"{e} (entity expansion is disabled, since nested "
                         f"entities can expand a small file to gigabytes)"
                         ) from None
    except expat.ExpatError:
        return  # malformed XML: rdflib reports it with its own message


def check_jsonld(data: bytes, label: str) -> None:
    r"""Raises a :class:`ValueError` if a ``@context`` or ``@import``
    anywhere in the JSON-LD document is a reference rather than inline."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return  # rdflib reports malformed JSON
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key in ('@context', '@import'):
                refs = [v for v in (value if isinstance(value, list)
                                    else [value]) if isinstance(v, str)]
                if refs:
                    raise ValueError(
                        f"Refusing to parse JSON-LD file '{label}': its "
                        f"{key} '{shorten(refs[0], 120)}' is a reference "
                        f"that rdflib would fetch; inline the context or "
                        f"pass allow_remote=True")
            stack.append(value)
