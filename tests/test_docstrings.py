"""Every public callable that takes arguments documents them in an ``Args:``
section (the Sphinx build in ``.ci/run`` renders them)."""
from tools.check_docstrings import missing


def test_every_public_callable_has_an_args_section():
    bad = missing()
    assert not bad, ('public callables without an Args: section:\n'
                     + '\n'.join(bad))


def test_public_methods_are_checked_and_docstrings_are_inherited():
    from tools.check_docstrings import _methods

    class Base:
        def run(self, x):
            """Runs.

            Args:
                x (int): The input.
            """

        def stop(self, y):
            """Stops (no argument section)."""

        def fit(self, epochs):
            """Fits.

            Args:
                epochs (int): The number of epochs.
            """

    class Child(Base):
        def run(self, x):  # no docstring: Sphinx inherits Base.run's
            return x

        def stop(self, y):  # inherits a docstring without Args
            return y

        def fit(self, epochs):  # its own docstring replaces Base.fit's
            """Fits differently."""

        def own(self, z):
            """Has its own docstring but no Args."""

        @classmethod
        def build(cls, w):
            return cls()

        @staticmethod
        def helper(v):
            """Static.

            Args:
                v (int): A value.
            """

        def no_args(self):
            """Takes nothing."""

        def _private(self, q):
            return q

    def generated(self, p):  # attached later (as PyG's MessagePassing does)
        return p

    Child.generated = generated
    prefix = f'{__name__}.{Child.__qualname__}.'
    assert sorted(_methods(Child)) == sorted(
        prefix + name for name in ('stop', 'fit', 'own', 'build'))
    assert _methods(Base) == [f'{__name__}.{Base.__qualname__}.stop']
