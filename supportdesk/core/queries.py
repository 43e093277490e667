"""Queries whose shape never changes, set up once per process (issue 16.1), and the one
placeholder list for the hand-written statements of the hot paths.

Resolving the columns of a ``values()`` query — each name walked to its field, each relation
to its join — costs about as much as the rest of building and compiling the statement, and it
is the same on every request for a page's rows. ``@prepared_query`` runs the builder once and
hands every caller a clone of its query to narrow (``filter``, ``order_by``, slices); the
original is never evaluated, so no caller sees another's results.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sized
from typing import Any, TypeVar

from django.db.models import QuerySet

Q = TypeVar("Q", bound=QuerySet[Any])


def prepared_query(build: Callable[[], Q]) -> Callable[[], Q]:
    built = functools.cache(build)

    @functools.wraps(build)
    def fresh() -> Q:
        return built().all()

    return fresh


def in_placeholders(values: Sized) -> str:
    """The ``%s`` marks of an ``IN (…)`` list; ``NULL`` for none, which matches no row on
    either database where an empty list would be a syntax error."""
    return ", ".join(["%s"] * len(values)) or "NULL"
