r"""What a model was built with, so that a run can be re-opened.

Every :class:`~pyg_mmkg.nn.kge.ScoredKGEModel` subclass records the
arguments of the outermost constructor call that built an instance: its
:obj:`from_data(data, ...)` classmethod or its :obj:`__init__`. The trainer
writes them into the run directory, and
:func:`pyg_mmkg.train.load_run` rebuilds the same model from them.
"""
import functools
import inspect
import json
from typing import Any, Dict, Optional

# Arguments that the registry derives from the data itself.
_DERIVED = ('data', 'num_nodes', 'num_relations')


def _wrap_from_data(cls: type) -> None:
    method = cls.__dict__.get('from_data')
    if not isinstance(method, classmethod) or getattr(
            method.__func__, '_records_spec', False):
        return
    func = method.__func__

    @functools.wraps(func)
    def from_data(klass, *args, **kwargs):
        model = func(klass, *args, **kwargs)
        # The outermost call finishes last and so has the final word.
        _record(model, klass, 'from_data', func, args, kwargs)
        return model

    from_data._records_spec = True
    setattr(cls, 'from_data', classmethod(from_data))


def _wrap_init(cls: type) -> None:
    init = cls.__dict__.get('__init__')
    if init is None or getattr(init, '_records_spec', False):
        return

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        _record(self, type(self), 'init', init, (self, ) + args, kwargs)

    __init__._records_spec = True
    cls.__init__ = __init__


def record_constructor_arguments(cls: type) -> None:
    r"""Makes :obj:`cls` record how its instances are built (called for
    every subclass of :class:`ScoredKGEModel`)."""
    _wrap_init(cls)
    _wrap_from_data(cls)


def _record(model: Any, cls: type, factory: str, func: Any, args: tuple,
            kwargs: dict) -> None:
    try:
        bound = inspect.signature(func).bind(*((cls, ) if factory ==
                                              'from_data' else ()) + args,
                                             **kwargs)
    except TypeError:  # pragma: no cover - the call itself succeeded
        return
    arguments = dict(bound.arguments)
    hidden = inspect.signature(func).parameters.get('hidden_channels')
    if hidden is not None and 'hidden_channels' not in arguments and (
            hidden.default is not inspect.Parameter.empty):
        arguments['hidden_channels'] = hidden.default  # Rebuilt explicitly.
    names = list(arguments)
    if names:
        arguments.pop(names[0])  # cls / self
    for name, param in inspect.signature(func).parameters.items():
        if param.kind == param.VAR_KEYWORD and name in arguments:
            arguments.update(arguments.pop(name))
        elif param.kind == param.VAR_POSITIONAL and name in arguments:
            if arguments.pop(name):
                arguments['*' + name] = None  # Not reproducible by name.
    try:
        object.__setattr__(model, '_build_spec', {
            'class': cls, 'factory': factory, 'arguments': arguments})
    except Exception:  # pragma: no cover
        pass


def registered_name(cls: type) -> Optional[str]:
    r"""The name under which :func:`pyg_mmkg.train.get_model` resolves
    exactly :obj:`cls`, or :obj:`None`."""
    from pyg_mmkg.train.registry import _discover, _key, list_models
    for candidate in [cls.__name__] + list_models():
        if _discover(candidate) is cls:
            return _key(candidate)
    return None


def model_spec(model: Any) -> Optional[Dict[str, Any]]:
    r"""A JSON-serialisable record of how :obj:`model` was built:
    :obj:`class`, :obj:`name` (registered name or :obj:`None`),
    :obj:`factory`, :obj:`arguments` (without the data and the sizes the
    data gives) and :obj:`reloadable` with the :obj:`problems` that prevent
    a rebuild (an unregistered class, a tensor or module argument, ...).
    :obj:`None` for models that do not record their construction."""
    spec = getattr(model, '_build_spec', None)
    if spec is None:
        return None
    cls = spec['class']
    arguments, problems = {}, []
    for name, value in spec['arguments'].items():
        if name in _DERIVED:
            continue
        if name.startswith('*'):
            problems.append(f"positional arguments '{name}'")
            continue
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            problems.append(f"argument '{name}' ({type(value).__name__}) "
                            f"is not serialisable")
            arguments[name] = repr(value)[:200]
        else:
            arguments[name] = list(value) if isinstance(value,
                                                        tuple) else value
    name = registered_name(cls)
    if name is None:
        problems.append(f"class {cls.__qualname__} is not registered: "
                        f"decorate it with @register_model('<name>')")
    if spec['factory'] == 'init' and callable(getattr(cls, 'from_data',
                                                      None)):
        problems.append(f"{cls.__name__} was built with __init__ instead "
                        f"of from_data(data, ...)")
    return {
        'class': f'{cls.__module__}.{cls.__qualname__}',
        'name': name,
        'factory': spec['factory'],
        'arguments': arguments,
        'reloadable': not problems,
        'problems': problems,
    }
