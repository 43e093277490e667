"""House rule 3: the billing domain is pure — no Django, no clock reads (``now`` is passed in)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parent.parent / "domain"
SOURCES = sorted(DOMAIN.glob("*.py"))
CLOCK_CALLS = {"now", "today", "utcnow", "utcfromtimestamp", "fromtimestamp", "time"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_domain_module_is_pure_B1(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        for name in names:
            assert not name.startswith("django"), f"{path.name} imports {name}"
            assert name not in {"time", "random"}, f"{path.name} imports {name}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK_CALLS, (
                f"{path.name}:{node.lineno} reads the clock ({node.func.attr}); pass it in"
            )
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "float", f"{path.name}:{node.lineno} converts to float"


def test_domain_sources_found_B1() -> None:
    assert {p.name for p in SOURCES} >= {
        "money.py",
        "periods.py",
        "pricing.py",
        "dunning.py",
        "hourly.py",
    }
