"""The API reference lists every public class and function."""

import importlib
import inspect
import json
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


def _pages(root):
    """README and every docs page, the places that quote commands and figures."""
    docs = root / "docs"
    return [root / "README.md", *sorted(docs.rglob("*.rst")), *sorted(docs.rglob("*.md"))]


# A path that only exists on one machine: a home folder or a workspace mount.
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:home|Users|root|work|mnt|tmp)/")


def test_docs_commands_run_from_the_repository_root():
    root = Path(__file__).resolve().parents[1]
    offending = [
        f"{page.relative_to(root)}:{number}: {line.strip()}"
        for page in _pages(root)
        for number, line in enumerate(page.read_text().splitlines(), 1)
        if MACHINE_PATH.search(line) or re.search(r"\bcd\s+/", line)
    ]
    assert offending == []


# The docs cite the JSON behind a figure by its path in this tracked folder.
MEASURED = re.compile(r"benchmarks/measured/[\w./-]+?\.json")


def test_cited_measurements_exist_with_their_provenance():
    root = Path(__file__).resolve().parents[1]
    cited = sorted({match for page in _pages(root) for match in MEASURED.findall(page.read_text())})
    problems = []
    for name in cited:
        path = root / name
        if not path.is_file():
            problems.append(f"{name}: cited in the docs but not in the repository")
            continue
        record = json.loads(path.read_text())
        meta = record.get("metadata", record)
        commit = (meta.get("git") or {}).get("commit", "")
        if not re.fullmatch(r"[0-9a-f]{40}", commit) or not meta.get("command"):
            problems.append(f"{name}: records no command or no commit")
    assert problems == []
