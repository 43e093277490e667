"""Queries whose shape never changes, set up once per process (issue 16.1), and the one
placeholder list for the hand-written statements of the hot paths.

Resolving the columns of a ``values()`` query — each name walked to its field, each relation
to its join — costs about as much as the rest of building and compiling the statement, and it
is the same on every request for a page's rows. ``@prepared_query`` runs the builder once and
hands every caller a clone of its query to narrow (``filter``, ``order_by``, slices); the
original is never evaluated, so no caller sees another's results.

Narrowing and compiling that clone is the rest, and for the hot reads (a page of the ticket
API, the token of every API call) it is most of the Python a request spends. ``prepared_rows``
builds and compiles a narrowed query once per *shape* (which filters, which slice) and then
only executes its SQL with each call's values: the builder is called with stand-ins for the
values (unique numbers, strings, instants), and the statement's parameters that carry a
stand-in are the places each call's value goes.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence, Sized
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

Q = TypeVar("Q", bound=QuerySet[Any])
Rows = QuerySet[Any, dict[str, Any]]


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


# -- statements compiled once per shape ------------------------------------------------------

_STAND_IN_BASE = -(2**53)  # no id, count or cursor is negative
_STAND_IN_EPOCH = datetime(1901, 1, 1, tzinfo=UTC)  # before any stored or accepted instant


class _Compiled:
    """A ``values()`` query compiled for one connection: its SQL, its parameters with the
    value names that replace stand-ins, and the compiler whose converters turn the fetched
    columns into the values ``values()`` gives (SQLite's text instants, JSON)."""

    def __init__(self, qs: Rows, stand_ins: Mapping[str, Any], db: BaseDatabaseWrapper) -> None:
        query = qs.query
        self.names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        self.compiler: SQLCompiler = query.get_compiler(connection=db)
        try:
            self.sql, params = self.compiler.as_sql()
        except EmptyResultSet:  # e.g. ``none()``: no statement, no rows
            self.sql, params = "", ()
        self.params = list(params)
        if self.sql:
            columns = [s[0] for s in self.compiler.select[: self.compiler.col_count]]
            self.converters = self.compiler.get_converters(columns)
        where = {_adapt(v, db): name for name, v in _flat(stand_ins)}
        self.slots = [(i, where[p]) for i, p in enumerate(self.params) if _is_key(p, where)]
        found = {name for _, name in self.slots}
        missing = {name for name, _ in _flat(stand_ins)} - found
        if self.sql and missing:
            raise ValueError(f"prepared_rows: {sorted(missing)} not in the statement's parameters")

    def rows(self, values: Mapping[str, Any], db: BaseDatabaseWrapper) -> list[dict[str, Any]]:
        if not self.sql:
            return []
        flat = {name: _adapt(v, db) for name, v in _flat(values)}
        params = self.params.copy()
        for index, name in self.slots:
            params[index] = flat[name]
        with db.cursor() as cursor:
            if db.vendor == "postgresql":
                _load_instants_fast(cursor.cursor, db)
            cursor.execute(self.sql, params)
            fetched: Iterable[Sequence[Any]] = cursor.fetchall()
        if self.converters:  # as SQLCompiler.results_iter, with the converters found once
            fetched = self.compiler.apply_converters(fetched, self.converters)
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in fetched]


def _flat(values: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Each value by name; a list or tuple (an ``IN`` list) as one name per element."""
    out: list[tuple[str, Any]] = []
    for name, value in values.items():
        if isinstance(value, list | tuple):
            out.extend((f"{name}[{i}]", v) for i, v in enumerate(value))
        else:
            out.append((name, value))
    return out


def _is_key(param: Any, where: Mapping[Any, str]) -> bool:
    try:
        return param in where and not isinstance(param, bool)
    except TypeError:  # an unhashable parameter (a JSON value) is never a stand-in
        return False


def _adapt(value: Any, db: BaseDatabaseWrapper) -> Any:
    """A value as Django passes it to the driver for a lookup (instants as the backend stores
    them: SQLite compares text)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("prepared_rows takes aware datetimes only")
        return db.ops.adapt_datetimefield_value(value)
    return value


def _stand_in(value: Any, n: int) -> Any:
    if isinstance(value, bool):
        raise TypeError("a flag changes a statement's shape: make it part of the key")
    if isinstance(value, int):
        return _STAND_IN_BASE - n
    if isinstance(value, str):
        return f"\x00stand-in {n}\x00"  # NUL: never a real value (core.middleware refuses it)
    if isinstance(value, datetime):
        return _STAND_IN_EPOCH + timedelta(seconds=n + 1)
    if isinstance(value, list | tuple):
        return [_stand_in(v, n * 1000 + i + 1) for i, v in enumerate(value)]
    raise TypeError(f"prepared_rows cannot stand in for a {type(value).__name__}")


_compiled = threading.local()  # per thread, like Django's connections
_COMPILED_MAX = 512  # shapes kept per thread; a page size is part of a shape


def prepared_rows(
    key: Hashable,
    build: Callable[[Mapping[str, Any]], Rows],
    values: Mapping[str, Any],
    *,
    using: str = "default",
) -> list[dict[str, Any]]:
    """The rows of ``build(values)`` (a ``values()`` queryset), as ``list(build(values))``
    gives them, built and compiled once per ``key`` and connection.

    ``key`` must name everything that changes the statement's SQL other than ``values``:
    which filters apply, flags, slice bounds. ``values`` are ids, strings, aware datetimes,
    or lists of them (an ``IN`` list's length is part of the shape, so of ``key``); ``build``
    must pass each one unchanged into a lookup and must not look at it (it is called with
    stand-ins), so validate before. Only lookups on columns whose values Django hands to the
    driver as they are (integers, text) or as instants fit: a value Django converts on the way
    (an IP address on PostgreSQL, a UUID) hides its stand-in, and compiling fails loudly.
    """
    db = connections[using]
    cache: dict[tuple[Any, ...], _Compiled] | None = getattr(_compiled, "by_key", None)
    if cache is None:
        cache = _compiled.by_key = {}
    slot = (using, id(db), key)
    compiled = cache.get(slot)
    if compiled is None:
        stand_ins = {name: _stand_in(v, n) for n, (name, v) in enumerate(values.items())}
        compiled = _Compiled(build(stand_ins), stand_ins, db)
        if len(cache) >= _COMPILED_MAX:
            cache.clear()
        cache[slot] = compiled
    return compiled.rows(values, db)


# -- PostgreSQL instants ---------------------------------------------------------------------


@functools.cache
def _fast_instant_loader(timezone: Any) -> type:
    """Django's ``timestamptz`` loader, parsing with ``datetime.fromisoformat`` (C) instead of
    psycopg's pure-Python pattern, which Django's loader inherits: a quarter of a ticket
    page's Python went there. The same values: the text is in the session's zone, which is
    Django's, and Django's loader replaces the zone the same way."""
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class FastInstantLoader(BaseTzLoader):
        def load(self, data: Any) -> datetime:
            try:
                instant = datetime.fromisoformat(str(data, "ascii"))
            except ValueError:  # infinity, BC, another DateStyle: psycopg's own parser
                return super().load(data)
            zone = self.timezone
            return instant if instant.tzinfo is zone else instant.replace(tzinfo=zone)

    FastInstantLoader.timezone = timezone
    return FastInstantLoader


def _load_instants_fast(cursor: Any, db: BaseDatabaseWrapper) -> None:
    cursor.adapters.register_loader("timestamptz", _fast_instant_loader(db.timezone))
