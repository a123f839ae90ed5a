r"""Stable names for RDF blank nodes: rdflib gives a blank node a new random
name on every parse, so entity ids that follow sorted names would change
from one parse of the same file to the next. Each blank node is named by a
hash of its content instead (a skolemisation by content, as in the
iterative colour refinement of Hogan's "Canonical forms for isomorphic and
equivalent RDF graphs", 2017, without its final distinguishing step)."""
from __future__ import annotations

import hashlib
from typing import Dict, Iterable, List, Tuple

__all__ = ['BNODE_PREFIX', 'stable_bnode_names']

#: Prefix of the names given to blank nodes (``bnode:`` + 20 hex digits).
BNODE_PREFIX = 'bnode:'


def _digest(parts: Iterable[str]) -> str:
    h = hashlib.sha1()
    for p in parts:
        h.update(p.encode('utf-8', 'surrogatepass'))
        h.update(b'\0')
    return h.hexdigest()[:20]


def stable_bnode_names(graph, max_rounds: int = 32) -> Dict[object, str]:
    r"""Maps every blank node of :obj:`graph` to a name that depends only on
    the graph's content, not on the parse.

    A blank node starts with one colour; each round, its colour becomes a
    hash of its colour and the sorted (direction, predicate, neighbour
    colour or term) of all its triples, until the number of distinct
    colours stops growing. Blank nodes that still share a colour are
    indistinguishable by their surroundings (automorphic in practice): they
    are told apart by a ``-0``, ``-1``, ... suffix in the order of their
    parse, and any order gives the same graph up to renaming.

    Args:
        graph (rdflib.Graph): The parsed graph.
        max_rounds (int): Refinement rounds at most. (default: :obj:`32`)
    """
    from rdflib.term import BNode, Literal
    bnodes: List[object] = []
    seen = set()
    edges: Dict[object, List[Tuple[str, str, object]]] = {}

    def term(x) -> str:
        if isinstance(x, Literal):
            return f'L{x.n3()}'
        return f'I{x}'

    for s, p, o in graph:
        for node, direction, other in ((s, 'o', o), (o, 'i', s)):
            if isinstance(node, BNode):
                if node not in seen:
                    seen.add(node)
                    bnodes.append(node)
                edges.setdefault(node, []).append((direction, str(p), other))
    if not bnodes:
        return {}
    colour = {b: '' for b in bnodes}
    distinct = 1
    for _ in range(max_rounds):
        new = {}
        for b in bnodes:
            items = sorted(
                f'{d}|{p}|' + (f'B{colour[x]}' if isinstance(x, BNode)
                               else term(x))
                for d, p, x in edges[b])
            new[b] = _digest([colour[b]] + items)
        count = len(set(new.values()))
        colour = new
        if count == distinct:
            break
        distinct = count
    names: Dict[object, str] = {}
    used: Dict[str, int] = {}
    for b in bnodes:
        c = colour[b]
        k = used.get(c, 0)
        used[c] = k + 1
        names[b] = BNODE_PREFIX + c + (f'-{k}' if k else '')
    # The first of a colour is unsuffixed only when it is alone:
    for b in bnodes:
        if used[colour[b]] > 1 and '-' not in names[b][len(BNODE_PREFIX):]:
            names[b] = names[b] + '-0'
    return names
