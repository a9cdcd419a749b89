"""Sphinx configuration of the sklearn-fishdip documentation."""

import os
from datetime import date
from pathlib import Path

import sklearn_fishdip

# The gallery runs examples offline, on the packaged default model.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The examples read CoNLL data from FISHDIP_DATA; in a checkout, the shared data beside it.
_shared = Path(__file__).resolve().parents[2] / "shared" / "data"
if _shared.is_dir():
    os.environ.setdefault("FISHDIP_DATA", str(_shared))

project = "sklearn-fishdip"
author = "sklearn-fishdip developers"
copyright = f"{date.today().year}, {author}"
release = sklearn_fishdip.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

autosummary_generate = True
# scikit-learn adds set_score_request to estimators whose score takes sample_weight; its
# docstring links scikit-learn's own glossary, which these docs do not have.
autodoc_default_options = {
    "members": True,
    "inherited-members": False,
    "exclude-members": "set_score_request",
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Our docstrings reference types like "list of str"; do not turn every word into a link.
numpydoc_xref_param_type = False

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py.md5"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
suppress_warnings = ["config.cache"]

html_theme = "pydata_sphinx_theme"
html_title = "sklearn-fishdip"
html_theme_options = {"navigation_with_keys": False}

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "doc_module": ("sklearn_fishdip",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_fishdip": None},
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
}
