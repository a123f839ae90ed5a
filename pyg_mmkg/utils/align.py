r"""Matching of name-keyed side data (feature dicts, text maps) to the
entities or relations of a graph, with counts instead of silent misses.

A dict keyed by ids, by misspelled names or by node type, an empty dict or
a text file of another graph used to load as "no feature for anyone" (or as
the wrong feature). :func:`align_keys` makes that an error when no key
matches, and a :class:`FeatureMatchWarning` with the counts when some keys
match no name while some names get nothing.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Iterable, List, Optional, Sequence

__all__ = ['FeatureMatchWarning', 'align_keys', 'NODE_TYPE_KEYS']

NODE_TYPE_KEYS = frozenset({'entity', 'relation'})


class FeatureMatchWarning(UserWarning):
    r"""Some keys of side data match no entity (or relation) name."""


def _examples(items: Iterable[Any], k: int = 3) -> str:
    out: List[str] = []
    for item in items:
        out.append(repr(item))
        if len(out) == k:
            break
    return ', '.join(out)


def _looks_like_ids(keys: Sequence[Any]) -> bool:
    return all(isinstance(k, int) or (isinstance(k, str) and k.isdigit())
               for k in keys)


def align_keys(keys: Iterable[Any], names: Sequence[str], what: str = 'entity',
               source: str = 'side data',
               error: Optional[Callable[[str], Exception]] = None
               ) -> List[int]:
    r"""Returns, for each key, the position of the equal name in
    :obj:`names` (``-1`` when there is none).

    Raises a :class:`ValueError` when :obj:`keys` is empty, when the keys
    are node types (``{'entity': tensor}``) or when no key is a name (with
    examples of both, and a hint when the keys look like ids), and warns
    with :class:`FeatureMatchWarning` (``k of M keys ... n of N names``)
    when some keys match no name while some names stay without a value.
    A superset (every name found, extra keys) is silent.

    Args:
        keys (iterable): The keys of the side data, in its order.
        names (list[str]): The names, position = id.
        what (str): ``'entity'`` or ``'relation'`` (for the message).
        source (str): What the keys come from (a file path, for the
            messages).
        error (callable, optional): Builds the exception from the message
            (default: a :class:`ValueError` prefixed with :obj:`source`).
    """
    fail = error or (lambda msg: ValueError(f'{source}: {msg}'))
    keys = list(keys)
    if not keys:
        raise fail(f'holds no {what} at all (an empty dict), which would '
                   f'load as {what} features of width 0')
    if set(map(str, keys)) <= NODE_TYPE_KEYS:
        raise fail(
            f'is keyed by node type ({_examples(keys)}), not by '
            f'{what} name; pass the tensor itself (rows in {what} id order) '
            f'or a dict {what} name -> tensor')
    index = {n: i for i, n in enumerate(names)}
    pos = [index.get(k, -1) if isinstance(k, str) else -1 for k in keys]
    matched = sum(p >= 0 for p in pos)
    if matched == 0:
        hint = (f' The keys look like {what} ids: key the dict by name '
                f'(data[{what!r}].name) or save a tensor in id order.'
                if _looks_like_ids(keys) else '')
        raise fail(
            f'none of its {len(keys):,} keys is one of the '
            f'{len(names):,} {what} names (keys e.g. {_examples(keys)}; '
            f'names e.g. {_examples(names)}), so no {what} would get a '
            f'value.{hint}')
    covered = len({p for p in pos if p >= 0})
    unmatched = len(keys) - matched
    if unmatched and covered < len(names):
        missing = [k for k, p in zip(keys, pos) if p < 0]
        warnings.warn(
            f'{source}: {matched:,} of {len(keys):,} keys are {what} names '
            f'and {unmatched:,} are not (e.g. {_examples(missing)}); '
            f'{covered:,} of {len(names):,} {what} names get a value',
            FeatureMatchWarning, stacklevel=3)
    return pos
