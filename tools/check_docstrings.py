"""Lists public callables (the ``__all__`` of each public subpackage) whose
docstring lacks an ``Args:`` section although they take arguments.

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


def _params(obj):
    target = obj.__init__ if inspect.isclass(obj) else obj
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
            if _params(obj) and 'Args:' not in _doc(obj):
                out.append(f'{obj.__module__}.{obj.__qualname__}')
    return out


if __name__ == '__main__':
    bad = missing()
    print('\n'.join(bad))
    print(f'{len(bad)} public callables without an Args: section')
    sys.exit(1 if bad else 0)
