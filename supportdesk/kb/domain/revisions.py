"""Revision diffs of articles. Pure."""

from __future__ import annotations

import difflib


def revision_diff(*, before_title: str, before: str, after_title: str, after: str) -> str:
    """A unified diff of title and body from one revision to the next ('' when unchanged)."""
    old = [f"# {before_title}", "", *before.splitlines()]
    new = [f"# {after_title}", "", *after.splitlines()]
    lines = difflib.unified_diff(old, new, "before", "after", lineterm="", n=2)
    return "\n".join(lines)
