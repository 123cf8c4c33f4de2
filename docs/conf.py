"""Sphinx configuration of the edgraph API reference.

Built from the repository root; any warning fails the build, and ``-n`` makes every reference
that does not resolve a warning::

    python -m sphinx -W --keep-going -n -b html docs build/docs
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import edgraph  # noqa: E402

project = "edgraph"
release = version = edgraph.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]

html_theme = "alabaster"
# Tables of contents list modules, not every function and class.
toc_object_entries = False

autodoc_default_options = {
    "member-order": "bysource",
    "show-inheritance": True,
}
# Methods without a docstring of their own (``forward``, Lightning hooks) would otherwise show
# torch's and Lightning's docstrings; every edgraph method that has something to say says it.
autodoc_inherit_docstrings = False
napoleon_numpy_docstring = False

nitpicky = True
# References into other packages cannot resolve: the build runs offline, without intersphinx.
# Only third-party and standard-library names belong here; a broken reference to an edgraph
# name is fixed where it is written.
_EXTERNAL = [
    r"torch(\..*)?",
    r"torch_geometric(\..*)?",
    r"networkx(\..*)?",
    r"numpy(\..*)?",
    r"scipy(\..*)?",
    r"rdkit(\..*)?",
    r"lightning(\..*)?",
    r"abc\..*",
    r"argparse\..*",
    r"collections\.abc\..*",
    r"os\..*",
    r"pathlib\..*",
    r"typing\..*",
]
nitpick_ignore_regex = [(r"py:.*", pattern) for pattern in _EXTERNAL]
# torch's ``Tensor`` as a string annotation autodoc cannot evaluate (the fields of the NamedTuple
# ``edgraph.objectives.ChainBatch``, under ``from __future__ import annotations``).
nitpick_ignore = [("py:class", "Tensor")]


def _public_bases(app, name, obj, options, bases):
    """List a private edgraph base class (``_GraphInMemoryDataset``) as the classes it derives from."""
    i = 0
    while i < len(bases):
        base = bases[i]
        if base.__name__.startswith("_") and base.__module__.startswith("edgraph"):
            bases[i : i + 1] = list(base.__bases__)
        else:
            i += 1


def setup(app):
    app.connect("autodoc-process-bases", _public_bases)
