"""Sphinx configuration of the posejax documentation.

Build (from the repository root, after ``pip install -e '.[docs]'``)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The notebooks are rendered from ``notebooks/`` with the outputs stored in them (they are written
executed by ``tools/make_notebooks.py``); the docs build never runs them.
"""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

from sphinx.util import logging as sphinx_logging

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # document this checkout, also without an install

import posejax  # noqa: E402
import posejax.accessor  # noqa: E402, F401  (df.pose documented from the real class)

project = "posejax"
author = "the posejax authors"
copyright = "the posejax authors; Apache-2.0"  # noqa: A001 (Sphinx's name)
release = version = posejax.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "notebooks/.ipynb_checkpoints"]
templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# -- API reference ---------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"  # the numpydoc sections say the types
numpydoc_show_class_members = False  # the class template lists the members
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
add_module_names = True

# -- Notebooks: rendered with their stored outputs, never executed here ------------------------
nb_execution_mode = "off"
nb_output_stderr = "show"
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3


def _copy_notebooks() -> None:
    """notebooks/*.ipynb into docs/notebooks/ (a build copy, ignored by git)."""
    target = DOCS / "notebooks"
    target.mkdir(exist_ok=True)
    for old in target.glob("*.ipynb"):
        old.unlink()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        shutil.copy2(path, target / path.name)


_copy_notebooks()

# -- HTML ------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"posejax {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_sidebars = {"index": []}


# -- Docstrings ------------------------------------------------------------------------------
# The code base heads single examples "Example" (numpydoc knows only "Examples" and would drop the
# section): rename the heading before numpydoc parses the docstring. Any other numpydoc complaint
# becomes a Sphinx warning, so that the build (run with -W) fails on it.
_logger = sphinx_logging.getLogger("posejax.docs")
_show_python_warning = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None):
    if "numpydoc" in str(filename):
        if not str(message).startswith("Unknown section Example in"):
            _logger.warning("numpydoc: %s", message)
        return
    _show_python_warning(message, category, filename, lineno, file, line)


warnings.showwarning = _show_warning


def _examples_heading(app, what, name, obj, options, lines):
    for i in range(len(lines) - 1):
        if lines[i].strip() == "Example" and lines[i + 1].strip() == "-------":
            lines[i] = lines[i].replace("Example", "Examples")
            lines[i + 1] = lines[i + 1].replace("-------", "--------")


def _skip_generated_members(app, what, name, obj, skip, options):
    # scikit-learn adds set_<method>_request to every estimator for metadata routing; it is
    # scikit-learn's API, documented there, not the estimator's own.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    # NamedTuple fields ("Alias for field number 0"): the class's Attributes section says more.
    if (getattr(obj, "__doc__", None) or "").startswith("Alias for field number"):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _examples_heading, priority=100)
    app.connect("autodoc-skip-member", _skip_generated_members)
