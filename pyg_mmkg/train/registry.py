"""A small name -> model resolver used by the trainer and the CLI."""
import importlib
import inspect
from typing import Any, Callable, Dict, List, Optional

from torch.nn import Module

# Built-in unimodal models, resolved lazily from `pyg_mmkg.nn.kge`.
_UNIMODAL = {
    'transe': 'TransE',
    'distmult': 'DistMult',
    'complex': 'ComplEx',
    'rotate': 'RotatE',
    'tucker': 'TuckER',
}

_REGISTRY: Dict[str, Callable[..., Module]] = {}


def _key(name: str) -> str:
    return name.lower().replace('-', '').replace('_', '')


def register_model(name: str, cls: Optional[Callable[..., Module]] = None):
    r"""Registers a model class (or factory) under :obj:`name`
    (case-, dash- and underscore-insensitive). Usable as a decorator:

    .. code-block:: python

        @register_model('mymodel')
        class MyModel(ScoredKGEModel):
            @classmethod
            def from_data(cls, data, hidden_channels=64, **kwargs): ...

    A class with a :obj:`from_data(data, **kwargs)` classmethod is built
    with it; any other callable is called as
    :obj:`cls(num_nodes=N, num_relations=R, **kwargs)`.

    Args:
        name (str): The name :obj:`--model` and :obj:`TrainConfig.model` use.
        cls (callable, optional): The class or factory; omitted when used as a
            decorator. (default: :obj:`None`)
    """
    if cls is None:
        def decorator(c):
            register_model(name, c)
            return c

        return decorator
    _REGISTRY[_key(name)] = cls
    return cls


def _discover(name: str) -> Optional[Callable[..., Module]]:
    key = _key(name)
    if key in _REGISTRY:
        return _REGISTRY[key]
    if key in _UNIMODAL:
        module = importlib.import_module('pyg_mmkg.nn.kge')
        cls = getattr(module, _UNIMODAL[key], None)
        if cls is not None:
            return cls
    # Multimodal models: any public class of `pyg_mmkg.nn.models` whose
    # name matches, so that new methods need no registration.
    try:
        module = importlib.import_module('pyg_mmkg.nn.models')
    except ImportError:  # pragma: no cover
        return None
    for attr in getattr(module, '__all__', []):
        if _key(attr) == key:
            return getattr(module, attr)
    return None


def list_models() -> List[str]:
    r"""Names that :func:`get_model` resolves."""
    names = set(_UNIMODAL) | set(_REGISTRY)
    try:
        module = importlib.import_module('pyg_mmkg.nn.models')
        names |= {_key(a) for a in getattr(module, '__all__', [])}
    except ImportError:  # pragma: no cover
        pass
    return sorted(names)


def _accepts(fn: Callable, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return True
    return name in params or any(p.kind == p.VAR_KEYWORD
                                 for p in params.values())


def get_model(name: str, data: Any, **kwargs) -> Module:
    r"""Builds the model :obj:`name` for the knowledge graph :obj:`data`.

    Unimodal models (:obj:`transe`, :obj:`distmult`, :obj:`complex`,
    :obj:`rotate`, :obj:`tucker`) are built from the graph's numbers of
    entities and relations; models with a :obj:`from_data` classmethod
    (multimodal ones) receive :obj:`data` itself. Keyword arguments a
    model does not accept are dropped only if they are :obj:`None`;
    otherwise the model's own error is raised.

    Args:
        name (str): The model name (see :func:`list_models`).
        data (HeteroData): The knowledge graph.
        **kwargs (optional): Model arguments, *e.g.*
            :obj:`hidden_channels`, :obj:`reciprocal`.
    """
    cls = _discover(name)
    if cls is None:
        raise ValueError(f"Unknown model '{name}' (available: "
                         f"{', '.join(list_models())})")
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    from_data = getattr(cls, 'from_data', None)
    if callable(from_data):
        factory = from_data
        args = (data, )
    else:
        from pyg_mmkg.data import num_entities, num_relations
        factory = cls
        args = ()
        kwargs.setdefault('num_nodes', num_entities(data))
        kwargs.setdefault('num_relations', num_relations(data))
    # `modalities` is optional information: pass it only where accepted.
    if 'modalities' in kwargs and not _accepts(factory, 'modalities'):
        kwargs.pop('modalities')
    if kwargs.get('reciprocal') is False and not _accepts(
            factory, 'reciprocal'):
        kwargs.pop('reciprocal')
    if 'reciprocal' in kwargs and not _accepts(factory, 'reciprocal'):
        raise ValueError(f"Model '{name}' does not support reciprocal "
                         f"relations, which the 1-N regimes need; use "
                         f"regime='slcwa'")
    return factory(*args, **kwargs)
