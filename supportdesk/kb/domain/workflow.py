"""Article workflow (K-2): draft -> review -> published, and back. Pure."""

from __future__ import annotations

# from-state -> the states it may move to
MOVES: dict[str, frozenset[str]] = {
    "draft": frozenset({"review", "published"}),
    "review": frozenset({"draft", "published"}),
    "published": frozenset({"draft"}),
}


def may_move(current: str, target: str) -> bool:
    return target in MOVES.get(current, frozenset())
