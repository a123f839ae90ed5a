"""Every public callable that takes arguments documents them in an ``Args:``
section (the Sphinx build in ``.ci/run`` renders them)."""
from tools.check_docstrings import missing


def test_every_public_callable_has_an_args_section():
    bad = missing()
    assert not bad, ('public callables without an Args: section:\n'
                     + '\n'.join(bad))
