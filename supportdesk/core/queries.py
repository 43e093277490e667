"""Queries whose shape never changes, set up once per process (issue 16.1), and the one
placeholder list for the hand-written statements of the hot paths.

Resolving the columns of a ``values()`` query — each name walked to its field, each relation
to its join — costs about as much as the rest of building and compiling the statement, and it
is the same on every request for a page's rows. ``@prepared_query`` runs the builder once and
hands every caller a clone of its query to narrow (``filter``, ``order_by``, slices); the
original is never evaluated, so no caller sees another's results.

Narrowing and compiling that clone is the rest, and for the hot reads (a page of the ticket
API, the token of every API call, the reads of every ticket creation) it is most of the Python
a request spends. ``@prepared_statement`` (issue 16.1, 16.2) builds and compiles a query once
per *shape* (which filters, flags, slices, how long each ``IN`` list is) and then only executes
its SQL with each call's values, the columns converted as Django's compiler converts them
(dates, decimals, JSON on SQLite): the builder runs with stand-ins for the values (unique
numbers, strings, instants), and the statement's parameters that carry a stand-in are the
places each call's value goes. ``bulk_insert`` does the same for the INSERTs of new rows.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence, Sized
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import AutoField, Field, Model, QuerySet
from django.db.models.query import ValuesIterable, ValuesListIterable
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.subqueries import InsertQuery

Q = TypeVar("Q", bound=QuerySet[Any])
M = TypeVar("M", bound=Model)


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


Row = tuple[Any, ...] | dict[str, Any]
Scalar = int | str | datetime
Argument = Scalar | Sequence[int] | Sequence[str]

_STAND_IN_INT = -(2**62)  # no id, count or cursor is negative
_STAND_IN_EPOCH = datetime(2, 1, 1, tzinfo=UTC)  # before any stored or accepted instant


@dataclass(frozen=True)
class _Compiled:
    sql: str | None  # None: the query matches nothing (an empty ``__in``), as Django knows
    params: list[Any]  # constants of the query, and None where a caller's value goes
    slots: list[int | None]  # per parameter: the index of the caller's (flattened) value
    compiler: SQLCompiler
    converters: dict[int, Any]
    names: list[str] | None  # the keys of a ``values()`` row; None for ``values_list()``


def _stand_ins(args: Sequence[Argument], counter: itertools.count) -> list[Any]:
    """Each value (alone or in a list) replaced by one no caller passes, to be found among
    the compiled parameters: ints and strs as the database adapters hand them on, datetimes
    (compared with datetime columns) as `_adapted`."""

    def stand_in(value: Scalar) -> Scalar:
        if isinstance(value, bool):
            raise TypeError("a flag changes a statement's shape: pass it as a keyword")
        n = next(counter)
        if isinstance(value, datetime):
            return _STAND_IN_EPOCH + timedelta(seconds=n)
        if isinstance(value, int):
            return _STAND_IN_INT - n
        return f"\x00prepared-statement-value-{n}"  # NUL: never a real value (core.middleware)

    return [stand_in(a) if isinstance(a, Scalar) else [stand_in(v) for v in a] for a in args]


def _adapted(value: Any, db: BaseDatabaseWrapper) -> Any:
    """A value as a datetime column's lookup passes it to the database (SQLite compares
    text)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a prepared statement takes aware datetimes only")
        return db.ops.adapt_datetimefield_value(value)
    return value


def _compile(
    build: Callable[..., QuerySet[Any, Any]],
    args: Sequence[Argument],
    shape: Any,
    db: BaseDatabaseWrapper,
) -> _Compiled:
    stand_ins = _stand_ins(args, itertools.count())
    flat = [_adapted(v, db) for a in stand_ins for v in (a if isinstance(a, list) else [a])]
    qs = build(*stand_ins, **dict(shape))
    query = qs.query
    if qs._iterable_class is ValuesIterable:
        names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
    elif qs._iterable_class is ValuesListIterable:
        names = None
    else:
        raise TypeError("a prepared statement is a values() or values_list() query")
    compiler = query.get_compiler(connection=db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return _Compiled(None, [], [], compiler, {}, names)
    index = {v: i for i, v in enumerate(flat)}
    slots = [
        index.get(p) if isinstance(p, Scalar) and not isinstance(p, bool) else None for p in params
    ]
    if sorted(s for s in slots if s is not None) != list(range(len(flat))):
        raise ValueError("each argument of a prepared statement must be used once, as is")
    fields = [s[0] for s in compiler.select[: compiler.col_count]]
    return _Compiled(
        sql, [None if s is not None else p for p, s in zip(params, slots, strict=True)],
        slots, compiler, compiler.get_converters(fields), names,
    )  # fmt: skip


_per_thread = threading.local()  # compiled statements hold their thread's connection
_COMPILED_MAX = 512  # shapes kept per thread (a page size or an IN list's length is a shape)


def prepared_statement(
    build: Callable[..., QuerySet[Any, Any]],
) -> Callable[..., list[Any]]:
    """``build(*args, **shape)`` makes a ``values()`` or ``values_list()`` query from int,
    str and aware datetime arguments (or lists of ints or strs, for ``__in``), each passed
    into a lookup once as given and never looked at (the builder runs with stand-ins); the
    decorated function runs it for the caller's arguments and returns its rows as the query
    would (dicts or tuples). Keyword arguments change the query's shape (which filters it
    has, flags, slices) and are part of what it is compiled for: keep them few, and
    hashable. Compiled once per thread, database and shape (with each list's length)."""

    @functools.wraps(build)
    def run(*args: Argument, **shape: Hashable) -> list[Any]:
        db = connections[DEFAULT_DB_ALIAS]
        compiled: dict[Hashable, _Compiled] | None = getattr(_per_thread, "compiled", None)
        if compiled is None:
            compiled = _per_thread.compiled = {}
        lengths = tuple(None if isinstance(a, Scalar) else len(a) for a in args)
        key = (run, db.alias, lengths, tuple(sorted(shape.items())))
        statement = compiled.get(key)
        if statement is None:
            if len(compiled) >= _COMPILED_MAX:
                compiled.clear()
            statement = compiled[key] = _compile(build, args, key[3], db)
        if statement.sql is None:
            return []
        flat = [_adapted(v, db) for a in args for v in ([a] if isinstance(a, Scalar) else a)]
        params = [
            p if s is None else flat[s]
            for p, s in zip(statement.params, statement.slots, strict=True)
        ]
        with _statement_cursor(db) as cursor:
            cursor.execute(statement.sql, params)
            rows: Iterable[Sequence[Any]] = cursor.fetchall()
        if statement.converters:
            rows = statement.compiler.apply_converters(rows, statement.converters)
        if statement.names is not None:
            names = statement.names
            return [dict(zip(names, row, strict=True)) for row in rows]
        return [tuple(row) for row in rows]

    return run


def _statement_cursor(db: BaseDatabaseWrapper) -> Any:
    """A cursor for the statements compiled here. On PostgreSQL (unless
    ``DATABASE_PREPARED_STATEMENTS`` is off) they are sent with their values apart and
    prepared on the server, so a connection plans each shape once instead of on every call:
    planning was about half of PostgreSQL's time for a page of the ticket API (issue 16.1).
    The rest of the ORM keeps Django's client-side binding, as some of its SQL can't be
    prepared (Django ticket #20516); what is compiled here is ``values()`` reads and INSERTs,
    which can. Django's wrapper is kept: statements are logged, counted and their errors
    Django's, as on any other cursor."""
    if db.vendor != "postgresql":
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    if db.connection.prepare_threshold is None:
        return db.cursor()
    with db.wrap_database_errors:
        return db._prepare_cursor(_preparing_cursor()(db.connection))  # type: ignore[attr-defined]


@functools.cache
def _preparing_cursor() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]

    class PreparingCursor(ServerBindingCursor):
        def _send_query_prepared(self, name: bytes, pgq: Any, **options: Any) -> None:
            # psycopg keeps no query for a prepared run; Django logs (and tests count) the
            # statement as sent, its values as $1, $2, …
            self._query = pgq
            super()._send_query_prepared(name, pgq, **options)

    return PreparingCursor


@functools.cache
def _fast_instant_loader(timezone: Any) -> type:
    """Django's ``timestamptz`` loader, parsing with ``datetime.fromisoformat`` (C) instead of
    psycopg's pure-Python pattern, which Django's loader inherits: a quarter of a ticket
    page's Python (issue 16.1) and most of reading a billing run's time entries (issue 16.4)
    went there. The same values: the text is in the session's zone, which is Django's, and
    Django's loader replaces the zone the same way."""
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


def instants_loaded_fast(*, connection: BaseDatabaseWrapper, **_: Any) -> None:
    """``connection_created``: every PostgreSQL connection reads instants with
    :func:`_fast_instant_loader`. Django keeps it, as its cursors replace the connection's
    loader only when its zone differs from the connection's."""
    if connection.vendor == "postgresql":
        loader = _fast_instant_loader(connection.timezone)
        connection.connection.adapters.register_loader("timestamptz", loader)


@dataclass(frozen=True)
class _Insert:
    sql: str | None  # None: Django inlines some value (an expression); left to bulk_create
    by_column: bool  # PostgreSQL's INSERT … SELECT * FROM UNNEST takes an array per column


_INSERTS: dict[tuple[type[Model], str, int], _Insert] = {}
_ANY_ROWS = 0  # the count of an INSERT with an array per column: the same SQL for any rows
# Statements of one row's values per row are kept up to a batch of mail intake (BATCH): the
# largest the hot paths write. Larger ones are rare and left to bulk_create.
_INSERT_ROWS_COMPILED = 100


def bulk_insert(objs: Sequence[M]) -> Sequence[M]:
    """``bulk_create`` of new rows the caller built (issue 16.2): the INSERT of each model and
    row count compiled once per database (on PostgreSQL one for any count of two rows or
    more), each value prepared for the database as Django prepares it, and the primary keys
    set on the objects. Anything else — a row with a primary key or an expression for a
    value, columns the database fills in, batches larger than the hot paths write — is left
    to ``bulk_create``."""
    if not objs:
        return objs
    model = type(objs[0])
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.generated and f is not opts.pk]
    if (
        opts.db_returning_fields != [opts.pk]
        or not isinstance(opts.pk, AutoField)
        or not connection.features.can_return_rows_from_bulk_insert
        or len(objs) > connection.ops.bulk_batch_size(fields, objs)
        or any(obj.pk is not None for obj in objs)
    ):
        return model._default_manager.bulk_create(objs)
    insert = _INSERTS.get((model, connection.vendor, _ANY_ROWS)) if len(objs) > 1 else None
    if insert is None:
        if len(objs) > _INSERT_ROWS_COMPILED:
            return model._default_manager.bulk_create(objs)
        key = (model, connection.vendor, len(objs))
        insert = _INSERTS.get(key)
        if insert is None:
            insert = _insert_compile(model, fields, objs)
            _INSERTS[(model, connection.vendor, _ANY_ROWS) if insert.by_column else key] = insert
    if insert.sql is None:
        return model._default_manager.bulk_create(objs)
    rows = []
    for obj in objs:  # as bulk_create prepares them (after compiling: pre_save sets auto_now)
        # as bulk_create: a related object saved after it was assigned gives its key
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
        row = []
        for field in fields:
            value = field.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):
                return model._default_manager.bulk_create(objs)
            row.append(field.get_db_prep_save(value, connection))
        rows.append(row)
    if insert.by_column:
        params = [list(column) for column in zip(*rows, strict=True)]
    else:
        params = [value for row in rows for value in row]
    with _statement_cursor(connection) as cursor:
        cursor.execute(insert.sql, params)
        keys = cursor.fetchall()
    alias = connection.alias
    for obj, (pk,) in zip(objs, keys, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = alias
    return objs


def _insert_compile(
    model: type[Model], fields: list[Field[Any, Any]], objs: Sequence[Model]
) -> _Insert:
    """The INSERT … RETURNING of `objs`' rows as Django writes it, if it has a placeholder for
    each value, or for each column's array of values."""
    query = InsertQuery(model)
    query.insert_values(fields, list(objs))
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [model._meta.pk]
    [(sql, params)] = compiler.as_sql()
    if len(params) == len(fields) * len(objs):
        return _Insert(str(sql), by_column=False)
    if len(objs) > 1 and len(params) == len(fields) and all(isinstance(p, list) for p in params):
        return _Insert(str(sql), by_column=True)
    return _Insert(None, by_column=False)
