"""Sphinx configuration of the pyg-mmkg API documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(``.ci/run`` builds it with warnings as errors).
"""
import os
import sys

sys.path.insert(0, os.path.abspath('..'))

project = 'pyg-mmkg'
author = 'pyg-mmkg developers'
extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.mathjax',
    'sphinx.ext.viewcode',
]
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build']
napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_member_order = 'bysource'
autodoc_typehints = 'none'
autodoc_default_options = {'members': True, 'show-inheritance': True}
# Optional third-party packages are imported lazily by pyg-mmkg; autodoc
# never needs them.
autodoc_mock_imports = ['open_clip', 'timm', 'rdflib', 'optuna']
html_theme = 'alabaster'
nitpicky = False
