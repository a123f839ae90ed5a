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
from pyg_mmkg.data.validate import UnseenEntityWarning

__all__ = ['from_rdf', 'TEXT_PREDICATES', 'IMAGE_PREDICATES',
           'UnseenEntityWarning']

RDFS = 'http://www.w3.org/2000/01/rdf-schema#'
TEXT_PREDICATES = (
    RDFS + 'label',
    RDFS + 'comment',
    'http://schema.org/description',
    'https://schema.org/description',
    'http://www.w3.org/2004/02/skos/core#definition',
    'http://purl.org/dc/terms/description',
    'http://purl.org/dc/elements/1.1/description',
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
             allow_remote: bool = False,
             text_predicates: Optional[Sequence[str]] = None,
             split_coverage: str = 'move'):
    r"""Builds a contract :class:`HeteroData` from an RDF graph.

    IRI (and blank-node) objects become entities and edges; literals of
    the :obj:`text_predicates` (by default ``rdfs:label``,
    ``rdfs:comment``, ``schema:description``, ``skos:definition``,
    ``dcterms:description`` and ``dc:description``) become entity text (in
    that order, joined by ``': '``); ``foaf:depiction`` and
    ``schema:image`` objects become image references
    (``data['entity'].image_refs``, a list of lists), not entities; numeric
    literals become ``x_numeric`` [N, L] with ``numeric_mask`` (one column
    per numeric predicate, the mean where an entity has several values, as
    LiteralE). Entity and relation ids follow the sorted string forms of the
    terms, so they are stable across runs; a blank node is named
    ``bnode:<hash of its content>`` (see
    :func:`~pyg_mmkg.data._rdf_bnodes.stable_bnode_names`), since rdflib
    names it at random on each parse.

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
            when :obj:`None`. See :obj:`split_coverage`.
        seed (int): Seed of the split. (default: :obj:`0`)
        add_numeric (bool): Builds ``x_numeric``. (default: :obj:`True`)
        max_bytes (int, optional): Refuses larger inputs; :obj:`None` for
            no bound. (default: 1 GiB)
        allow_remote (bool): Allows a URL :obj:`source` and JSON-LD
            ``@context`` / ``@import`` references (which rdflib fetches);
            both are refused otherwise. (default: :obj:`False`)
        text_predicates (list[str], optional): The predicates whose
            literals are entity text, in order; full IRIs or prefixed names
            the file declares (``'dcterms:description'``). Replaces the
            default :obj:`TEXT_PREDICATES`. (default: :obj:`None`)
        split_coverage (str): ``'move'``: a validation or test edge whose
            head, tail or relation occurs in no training edge is moved to
            training (PyKEEN's deterministic cleanup of its random split),
            so every held-out entity has a training edge, and an
            :class:`UnseenEntityWarning` gives the counts moved;
            ``'warn'``: keep the random split and only warn with the
            counts. (default: :obj:`'move'`)

    Files are read with their size bounded and handed to rdflib as bytes;
    RDF/XML and TriX documents that declare XML entities are refused
    (nested entities expand a few hundred bytes to megabytes), see
    :mod:`pyg_mmkg.data._rdf_guard`.
    """
    _check_split(split)
    if split_coverage not in ('move', 'warn'):
        raise ValueError(f"split_coverage must be 'move' or 'warn', got "
                         f"{split_coverage!r}")
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

    from pyg_mmkg.data._rdf_bnodes import stable_bnode_names
    bnames = stable_bnode_names(graph)
    text_preds = _text_predicates(graph, text_predicates)

    def key(x) -> str:
        return bnames[x] if isinstance(x, BNode) else str(x)

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
        s_key, p_key = key(s), str(p)
        if isinstance(o, (URIRef, BNode)):
            if p_key in IMAGE_PREDICATES:
                images.setdefault(s_key, []).append(key(o))
                entities.add(s_key)
                continue
            edges.append((s_key, p_key, key(o)))
            entities.update((s_key, key(o)))
        elif isinstance(o, Literal):
            entities.add(s_key)
            if p_key in text_preds:
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
    splits = _split(h, r, t, split, seed, split_coverage, len(ent_names),
                    len(rel_names))

    ent_text = []
    for n in ent_names:
        by_pred = texts.get(n, {})
        parts = []
        for pred in text_preds:
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


def _text_predicates(graph, given) -> Tuple[str, ...]:
    if given is None:
        return TEXT_PREDICATES
    if isinstance(given, str):
        given = [given]
    out = []
    for p in given:
        p = str(p)
        prefix = p.split(':', 1)[0]
        if ':' in p and '//' not in p and prefix != 'urn':
            try:
                p = str(graph.namespace_manager.expand_curie(p))
            except (ValueError, KeyError):
                raise ValueError(f"text_predicates: prefix '{prefix}:' of "
                                 f"'{p}' is not declared in the RDF file; "
                                 f"give the full IRI") from None
        out.append(p)
    return tuple(out)


def _split(h, r, t, split, seed, coverage, num_entities, num_relations):
    if split is None:
        return {'train': (h, r, t)}
    val_frac, test_frac = split
    E = h.numel()
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(E, generator=gen)
    n_val, n_test = int(round(E * val_frac)), int(round(E * test_frac))
    part = torch.zeros(E, dtype=torch.long)  # 0 train, 1 val, 2 test
    part[perm[:n_val]] = 1
    part[perm[n_val:n_val + n_test]] = 2
    train = part == 0
    seen_e = torch.zeros(num_entities, dtype=torch.bool)
    seen_e[h[train]] = True
    seen_e[t[train]] = True
    seen_r = torch.zeros(num_relations, dtype=torch.bool)
    seen_r[r[train]] = True
    unseen = ~train & ~(seen_e[h] & seen_e[t] & seen_r[r])
    if bool(unseen.any()):
        import warnings
        counts = [int((unseen & (part == k)).sum()) for k in (1, 2)]
        sizes = [int((part == k).sum()) for k in (1, 2)]
        what = (f"{counts[0]} of {sizes[0]} validation and {counts[1]} of "
                f"{sizes[1]} test edges have a head, tail or relation in no "
                f"training edge")
        if coverage == 'move':
            part[unseen] = 0  # one pass: the moved edges cover themselves
            warnings.warn(f"from_rdf split: {what}; they were moved to "
                          f"training (split_coverage='move'), so the "
                          f"held-out fractions are below {split}",
                          UnseenEntityWarning, stacklevel=3)
        else:
            warnings.warn(f"from_rdf split: {what} (split_coverage='warn' "
                          f"keeps them; such entities have no trained "
                          f"embedding)", UnseenEntityWarning, stacklevel=3)
    return {k: (h[part == i], r[part == i], t[part == i])
            for i, k in enumerate(('train', 'val', 'test'))}
