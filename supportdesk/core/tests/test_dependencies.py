"""Issue 17.5 item 6: the apps depend one way, intake -> tickets -> core.

Read from the source with `ast`: every import of another supportdesk app, at module level or
inside a function (a lazy import is still a cycle); `if TYPE_CHECKING:` blocks are types only.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LAYERS = ["intake", "tickets", "core"]  # each may import those after it, never before


def imported_apps(source: str) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [child.module]
            found.update(n.split(".")[1] for n in names if n.startswith("supportdesk."))
            visit(child)

    visit(ast.parse(source))
    return found


def app_imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in (ROOT / "supportdesk").rglob("*.py"):
        parts = path.relative_to(ROOT / "supportdesk").parts
        if len(parts) < 2 or "tests" in parts or "migrations" in parts:
            continue
        graph[parts[0]] |= imported_apps(path.read_text()) - {parts[0]}
    return graph


def test_core_imports_no_domain_app():
    assert app_imports()["core"] == set()


def test_tickets_never_imports_intake_not_even_lazily_T3():
    assert "intake" not in app_imports()["tickets"]


def test_notifications_depend_on_core_only_N2():
    """The outbox carries every channel (SMS and voice providers included) for every app."""
    assert app_imports()["notifications"] == {"core"}


def test_layers_point_one_way_intake_tickets_core():
    graph = app_imports()
    backwards = [
        (low, high)
        for i, high in enumerate(LAYERS)
        for low in LAYERS[i + 1 :]
        if high in graph[low]
    ]
    assert backwards == []
    assert "tickets" in graph["intake"] and "core" in graph["tickets"]  # the scan sees imports


def test_the_scan_sees_lazy_imports_and_skips_type_checking_blocks():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from supportdesk.billing.models import Invoice\n"
        "def f():\n    from supportdesk.intake.services import email_ingest\n"
        "import supportdesk.sla.services\n"
    )
    assert imported_apps(source) == {"intake", "sla"}
