"""The import arrows between subpackages run one way:
``datasets -> data -> features -> utils``. A module below never imports a
module above it, not even lazily inside a function."""
import ast
import pathlib

import pyg_mmkg

ROOT = pathlib.Path(pyg_mmkg.__file__).parent
# Subpackage -> packages it must never import. features/cli.py is the
# ``pyg-mmkg features`` command, an entry point above everything.
FORBIDDEN = {
    'utils': ('pyg_mmkg.data', 'pyg_mmkg.datasets', 'pyg_mmkg.features',
              'pyg_mmkg.nn', 'pyg_mmkg.train', 'pyg_mmkg.evaluation'),
    'features': ('pyg_mmkg.data', 'pyg_mmkg.datasets', 'pyg_mmkg.train'),
}
ENTRY_POINTS = {'features/cli.py'}


def _imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_lower_subpackages_never_import_upper_ones():
    bad = []
    for sub, forbidden in FORBIDDEN.items():
        for path in sorted((ROOT / sub).rglob('*.py')):
            rel = path.relative_to(ROOT).as_posix()
            if rel in ENTRY_POINTS:
                continue
            for name in _imports(path):
                if name.startswith(forbidden):
                    bad.append(f'{rel} imports {name}')
    assert not bad, '\n'.join(bad)


def test_image_selection_and_file_utilities_have_one_home():
    from pyg_mmkg.features import pipeline, selection
    from pyg_mmkg.utils import files
    from pyg_mmkg.data import io
    assert pipeline.vista_scores is selection.vista_scores
    assert io.atomic_path is files.atomic_path
