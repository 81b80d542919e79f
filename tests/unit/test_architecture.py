"""The house rules that import-linter cannot see (ARCHITECTURE.md, "Decisions"): every module's
examples hold; no module reaches into another's private names; modules stay small; one
unit-of-work decorator commits, and every route has it."""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("webmap", "spatial")
#: The only modules that commit a transaction themselves, and why.
COMMITTERS = {
    "webmap/infra/db.py": "the unit-of-work decorator, and the owner's sessions",
    "webmap/web/idempotency.py": "the key and the create commit together, before the answer",
    "webmap/infra/audit.py": "a refusal's audit entry, after the refused request rolled back",
    "webmap/features/sharing/publication.py": "each publication, before anything shows it",
    "webmap/access/session.py": "an access token's use, audited even if the request fails",
}
MAX_LINES = 450


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("name", [_module(p) for p in _sources()])
def test_every_modules_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{name}: {result.failed} example(s) failed"


def test_no_module_imports_another_modules_private_names() -> None:
    offences = []
    for path in _sources():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    private = alias.name.startswith("_") and not alias.name.startswith("__")
                    if private and node.module.split(".")[0] in PACKAGES:
                        offences.append(f"{path.relative_to(ROOT)}: {node.module}.{alias.name}")
    assert offences == [], "private names imported across modules: " + ", ".join(offences)


def test_modules_stay_small() -> None:
    big = [
        f"{p.relative_to(ROOT)} ({n} lines)"
        for p in _sources()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    ]
    assert big == [], f"over {MAX_LINES} lines: " + ", ".join(big)


def test_only_the_unit_of_work_commits() -> None:
    found = set()
    for path in _sources():
        rel = str(path.relative_to(ROOT))
        if rel.startswith(("webmap/cli/", "webmap/demo/")):
            continue  # commands and the demo loader own their (owner) sessions
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "commit":
                found.add(rel)
    assert found <= set(COMMITTERS), f"commits outside the unit of work: {found - set(COMMITTERS)}"


def test_every_route_runs_in_a_unit_of_work() -> None:
    from webmap import create_app

    app = create_app({"mode": "test", "database_url": "postgresql+psycopg://x@127.0.0.1:1/x"})
    missing = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in {"static", "health.healthz"}
        and not getattr(app.view_functions[rule.endpoint], "csmap_unit_of_work", False)
    ]
    assert missing == [], f"routes without @unit_of_work: {missing}"
