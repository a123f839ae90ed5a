"""Lists public callables (the ``__all__`` of each public subpackage, and the
public methods of those classes) whose docstring lacks an ``Args:`` section
although they take arguments.

A method that has no docstring of its own and overrides a base-class method
whose docstring has an ``Args:`` section passes (Sphinx inherits docstrings).

Usage: ``python tools/check_docstrings.py`` (exit code 1 when any is missing).
"""
import importlib
import inspect
import sys

PACKAGES = [
    'pyg_mmkg.data', 'pyg_mmkg.datasets', 'pyg_mmkg.features',
    'pyg_mmkg.loader', 'pyg_mmkg.evaluation', 'pyg_mmkg.nn',
    'pyg_mmkg.nn.kge', 'pyg_mmkg.nn.models', 'pyg_mmkg.nn.encoders',
    'pyg_mmkg.train', 'pyg_mmkg.utils', 'pyg_mmkg.predict', 'pyg_mmkg.tune',
    'pyg_mmkg.utils.threads',
]

PENDING = set()  # modules whose methods are not checked yet: none


def _params(target):
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    return [p for p in sig.parameters.values()
            if p.name not in ('self', 'cls')
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _doc(obj):
    doc = inspect.getdoc(obj) or ''
    if inspect.isclass(obj) and '__init__' in vars(obj):
        doc += '\n' + (inspect.getdoc(obj.__init__) or '')
    return doc


def _function(raw):
    """The plain function behind a class-body entry, or None."""
    if isinstance(raw, (classmethod, staticmethod)):
        raw = raw.__func__
    return raw if inspect.isfunction(raw) else None


def _inherits_args(cls, name):
    for base in cls.__mro__[1:]:
        fn = _function(vars(base).get(name))
        if fn is not None and 'Args:' in (fn.__doc__ or ''):
            return True
    return False


def _methods(cls):
    """Qualified names of public methods of ``cls`` lacking ``Args:``.

    Only functions written in the class body count: PyG's
    ``MessagePassing`` attaches generated ``propagate``/``collect``
    functions to the class when it is first instantiated.
    """
    out = []
    for name, raw in vars(cls).items():
        fn = _function(raw)
        if (name.startswith('_') or fn is None or not _params(fn)
                or fn.__qualname__ != f'{cls.__qualname__}.{name}'):
            continue
        if fn.__doc__ is None and _inherits_args(cls, name):
            continue
        if 'Args:' not in (fn.__doc__ or ''):
            out.append(f'{cls.__module__}.{cls.__qualname__}.{name}')
    return out


def missing():
    out, seen = [], set()
    for name in PACKAGES:
        mod = importlib.import_module(name)
        for attr in getattr(mod, '__all__', []):
            obj = getattr(mod, attr, None)
            if obj is None or id(obj) in seen:
                continue
            seen.add(id(obj))
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue
            target = obj.__init__ if inspect.isclass(obj) else obj
            if _params(target) and 'Args:' not in _doc(obj):
                out.append(f'{obj.__module__}.{obj.__qualname__}')
            if inspect.isclass(obj) and obj.__module__ not in PENDING:
                out.extend(_methods(obj))
    return out


if __name__ == '__main__':
    bad = missing()
    print('\n'.join(bad))
    print(f'{len(bad)} public callables without an Args: section')
    sys.exit(1 if bad else 0)
