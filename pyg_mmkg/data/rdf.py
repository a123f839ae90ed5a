r"""Import of any RDF graph (rdflib) into the pyg-mmkg data contract."""
from __future__ import annotations

import decimal
import math
import numbers
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from pyg_mmkg.data._rdf_guard import (DEFAULT_MAX_BYTES, check_jsonld,
                                      check_xml, parser_kind, read_source)
from pyg_mmkg.data.contract import ENTITY, make_kg_data
from pyg_mmkg.data.io import shorten

__all__ = ['from_rdf', 'TEXT_PREDICATES', 'IMAGE_PREDICATES']

RDFS = 'http://www.w3.org/2000/01/rdf-schema#'
TEXT_PREDICATES = (
    RDFS + 'label',
    RDFS + 'comment',
    'http://schema.org/description',
    'https://schema.org/description',
    'http://www.w3.org/2004/02/skos/core#definition',
)
IMAGE_PREDICATES = (
    'http://xmlns.com/foaf/0.1/depiction',
    'http://schema.org/image',
    'https://schema.org/image',
)


def _rdflib():
    try:
        import rdflib
    except Exception as e:  # pragma: no cover - depends on environment
        raise ImportError("RDF import needs rdflib: pip install "
                          "'pyg-mmkg[rdf]'") from e
    return rdflib


def from_rdf(source, format: Optional[str] = None,
             languages: Sequence[str] = ('en', ''),
             split: Optional[Tuple[float, float]] = None,
             seed: int = 0, add_numeric: bool = True,
             max_bytes: Optional[int] = DEFAULT_MAX_BYTES,
             allow_remote: bool = False):
    r"""Builds a contract :class:`HeteroData` from an RDF graph.

    IRI (and blank-node) objects become entities and edges; literals with
    ``rdfs:label``, ``rdfs:comment``, ``schema:description`` or
    ``skos:definition`` become entity text (label first, then the
    descriptions, joined by ``': '``); ``foaf:depiction`` and
    ``schema:image`` objects become image references
    (``data['entity'].image_refs``, a list of lists), not entities; numeric
    literals become ``x_numeric`` [N, L] with ``numeric_mask`` (one column
    per numeric predicate, the mean where an entity has several values, as
    LiteralE). Entity and relation ids follow the sorted string forms of the
    terms, so they are stable across runs.

    Args:
        source (str or rdflib.Graph): A file rdflib can parse (a URL only
            with :obj:`allow_remote`) or a graph.
        format (str, optional): rdflib format (guessed from the file name
            when :obj:`None`).
        languages (list[str]): Literal languages kept for text, in order of
            preference (``''`` = untagged; ``'en'`` also matches ``'en-us'``).
            (default: :obj:`('en', '')`)
        split (tuple, optional): ``(val_fraction, test_fraction)`` for a
            seeded random split of the edges; all edges are training edges
            when :obj:`None`.
        seed (int): Seed of the split. (default: :obj:`0`)
        add_numeric (bool): Builds ``x_numeric``. (default: :obj:`True`)
        max_bytes (int, optional): Refuses larger inputs; :obj:`None` for
            no bound. (default: 1 GiB)
        allow_remote (bool): Allows a URL :obj:`source` and JSON-LD
            ``@context`` / ``@import`` references (which rdflib fetches);
            both are refused otherwise. (default: :obj:`False`)

    Files are read with their size bounded and handed to rdflib as bytes;
    RDF/XML and TriX documents that declare XML entities are refused
    (nested entities expand a few hundred bytes to megabytes), see
    :mod:`pyg_mmkg.data._rdf_guard`.
    """
    _check_split(split)
    rdflib = _rdflib()
    from rdflib.term import BNode, Literal, URIRef
    if isinstance(source, rdflib.Graph):
        graph = source
    else:
        data, base, label = read_source(source, max_bytes, allow_remote)
        fmt = format or rdflib.util.guess_format(label) or 'turtle'
        kind = parser_kind(rdflib, fmt)
        if kind == 'xml':
            check_xml(data, label)
        elif kind == 'jsonld' and not allow_remote:
            check_jsonld(data, label)
        graph = rdflib.Graph()
        try:
            graph.parse(data=data, format=fmt, publicID=base)
        except Exception as e:
            raise ValueError(f"Cannot parse RDF file '{label}' as {fmt}: "
                             f"{shorten(e)}") from None

    edges: List[Tuple[str, str, str]] = []
    texts: Dict[str, Dict[str, List[Tuple[int, str]]]] = {}
    images: Dict[str, List[str]] = {}
    numeric: Dict[Tuple[str, str], List[float]] = {}
    entities = set()

    def lang_rank(lang: str) -> Optional[int]:
        for i, want in enumerate(languages):
            if lang == want or (want and lang.startswith(want + '-')):
                return i
        return None

    for s, p, o in graph:
        s_key, p_key = str(s), str(p)
        if isinstance(o, (URIRef, BNode)):
            if p_key in IMAGE_PREDICATES:
                images.setdefault(s_key, []).append(str(o))
                entities.add(s_key)
                continue
            edges.append((s_key, p_key, str(o)))
            entities.update((s_key, str(o)))
        elif isinstance(o, Literal):
            entities.add(s_key)
            if p_key in TEXT_PREDICATES:
                rank = lang_rank((o.language or '').lower())
                if rank is not None:
                    texts.setdefault(s_key, {}).setdefault(p_key, []).append(
                        (rank, str(o)))
            elif p_key in IMAGE_PREDICATES:
                images.setdefault(s_key, []).append(str(o))
            elif add_numeric:
                value = o.toPython()
                if isinstance(value, bool) or not isinstance(
                        value, (numbers.Real, decimal.Decimal)):
                    continue  # dates, strings, booleans: not numeric
                if math.isfinite(float(value)):
                    numeric.setdefault((s_key, p_key), []).append(
                        float(value))
    ent_names = sorted(entities)
    rel_names = sorted({p for _, p, _ in edges})
    ent = {n: i for i, n in enumerate(ent_names)}
    rel = {n: i for i, n in enumerate(rel_names)}
    edges.sort()
    h = torch.tensor([ent[e[0]] for e in edges], dtype=torch.long)
    r = torch.tensor([rel[e[1]] for e in edges], dtype=torch.long)
    t = torch.tensor([ent[e[2]] for e in edges], dtype=torch.long)
    splits = _split(h, r, t, split, seed)

    ent_text = []
    for n in ent_names:
        by_pred = texts.get(n, {})
        parts = []
        for pred in TEXT_PREDICATES:
            if pred in by_pred:
                best = min(by_pred[pred])[0]
                values = sorted(v for rank, v in by_pred[pred]
                                if rank == best)
                parts.extend(v for v in values if v not in parts)
        ent_text.append(': '.join(parts))
    data = make_kg_data(ent_names, rel_names, splits, entity_text=ent_text)
    store = data[ENTITY]
    store.image_refs = [sorted(images.get(n, [])) for n in ent_names]
    if add_numeric and numeric:
        preds = sorted({p for _, p in numeric})
        col = {p: i for i, p in enumerate(preds)}
        x = torch.zeros(len(ent_names), len(preds))
        mask = torch.zeros(len(ent_names), len(preds), dtype=torch.bool)
        for (s_key, p_key), values in numeric.items():
            x[ent[s_key], col[p_key]] = sum(values) / len(values)
            mask[ent[s_key], col[p_key]] = True
        store.x_numeric, store.numeric_mask = x, mask
        data.numeric_predicates = preds
    return data


def _check_split(split) -> None:
    if split is None:
        return
    try:
        val_frac, test_frac = (float(x) for x in split)
    except (TypeError, ValueError):
        raise ValueError(f"split must be (val_fraction, test_fraction), got "
                         f"{split!r}") from None
    if not (0.0 <= val_frac < 1.0 and 0.0 <= test_frac < 1.0
            and val_frac + test_frac < 1.0):
        raise ValueError(f"split=({val_frac}, {test_frac}): each fraction "
                         f"must lie in [0, 1) and their sum below 1, so "
                         f"that training edges remain")


def _split(h, r, t, split, seed):
    if split is None:
        return {'train': (h, r, t)}
    val_frac, test_frac = split
    E = h.numel()
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(E, generator=gen)
    n_val, n_test = int(round(E * val_frac)), int(round(E * test_frac))
    parts = {
        'val': perm[:n_val],
        'test': perm[n_val:n_val + n_test],
        'train': perm[n_val + n_test:],
    }
    return {k: (h[v.sort().values], r[v.sort().values], t[v.sort().values])
            for k, v in parts.items()}
