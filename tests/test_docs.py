"""The API reference lists every public class and function."""

import importlib
import inspect
import re
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[1] / "docs" / "api.rst"
MODULES = [
    "sklearn_fishdip",
    "sklearn_fishdip.augmented",
    "sklearn_fishdip.tasks",
    "sklearn_fishdip.sparse",
    "sklearn_fishdip.models",
    "sklearn_fishdip.generation",
    "sklearn_fishdip.datasets",
    "sklearn_fishdip.metrics",
    "sklearn_fishdip.exceptions",
]


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_callable_is_in_the_api_reference(module_name):
    text = API.read_text()
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    public = [
        name
        for name in names
        if inspect.isclass(getattr(module, name)) or inspect.isfunction(getattr(module, name))
    ]
    assert public
    listed = set(re.findall(r"^\s{3}(\w+)\s*$", text, re.M))
    assert sorted(set(public) - listed) == []


# A path that only exists on one machine: a home folder or a workspace mount.
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:home|Users|root|work|mnt|tmp)/")


def test_docs_commands_run_from_the_repository_root():
    root = Path(__file__).resolve().parents[1]
    pages = [root / "README.md", *sorted((root / "docs").rglob("*.rst"))]
    pages += sorted((root / "docs").rglob("*.md"))
    offending = [
        f"{page.relative_to(root)}:{number}: {line.strip()}"
        for page in pages
        for number, line in enumerate(page.read_text().splitlines(), 1)
        if MACHINE_PATH.search(line) or re.search(r"\bcd\s+/", line)
    ]
    assert offending == []
