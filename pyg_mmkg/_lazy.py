r"""Lazy package exports (PEP 562): names are imported from their module on
first use, so that ``pyg-mmkg --help`` and other light users do not pay for
torch and its dependents. Imports nothing of pyg-mmkg (and not torch)."""
import importlib
import sys
from typing import Any, Callable, Dict, List, Tuple


def lazy_exports(package: str, exports: Dict[str, str]
                 ) -> Tuple[Callable[[str], Any], Callable[[], List[str]]]:
    r"""Returns the module-level :obj:`__getattr__` and :obj:`__dir__` of
    :obj:`package` for :obj:`exports`; a name, once imported, is cached in
    the package's namespace.

    Args:
        package (str): The package's :obj:`__name__`.
        exports (dict): Exported name -> the module that defines it.
    """
    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f'module {package!r} has no attribute '
                                 f'{name!r}')
        value = getattr(importlib.import_module(module), name)
        vars(sys.modules[package])[name] = value
        return value

    def __dir__() -> List[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
