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
places each call's value goes. ``bulk_insert`` does the same for the INSERTs of new rows,
``bulk_update`` for the UPDATEs of many saved rows.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    OneToOneField,
    PositiveBigIntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    QuerySet,
    SmallAutoField,
    SmallIntegerField,
    TextField,
)
from django.db.models.query import ValuesIterable, ValuesListIterable
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.subqueries import InsertQuery
from django.utils.timezone import is_aware

from supportdesk.core.arrays import array_literal

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
    hashable. Compiled once per thread, database and shape (with each list's length).
    ``.text(*args, **shape)`` gives the statement and its parameters instead of running it,
    for a read made within another statement."""

    def bound(args: Sequence[Argument], shape: dict[str, Hashable]) -> tuple[_Compiled, list[Any]]:
        db = _default_wrapper()
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
        flat = [_adapted(v, db) for a in args for v in ([a] if isinstance(a, Scalar) else a)]
        params = [
            p if s is None else flat[s]
            for p, s in zip(statement.params, statement.slots, strict=True)
        ]
        return statement, params

    @functools.wraps(build)
    def run(*args: Argument, **shape: Hashable) -> list[Any]:
        statement, params = bound(args, shape)
        if statement.sql is None:
            return []
        with statement_cursor(_default_wrapper()) as cursor:
            cursor.execute(statement.sql, params)
            rows: Iterable[Sequence[Any]] = cursor.fetchall()
        if statement.converters:
            rows = statement.compiler.apply_converters(rows, statement.converters)
        if statement.names is not None:
            names = statement.names
            return [dict(zip(names, row, strict=True)) for row in rows]
        return [tuple(row) for row in rows]

    def text(*args: Argument, **shape: Hashable) -> tuple[str, list[Any]] | None:
        """The SQL and parameters `run` sends for these arguments (None: it would match
        nothing), to be read within another statement; for a ``values_list()`` read whose
        columns need no conversion after psycopg's (ValueError otherwise)."""
        statement, params = bound(args, shape)
        if statement.converters or statement.names is not None:
            raise ValueError(f"{build.__name__} reads values to convert or names them")
        return None if statement.sql is None else (statement.sql, params)

    run.text = text  # type: ignore[attr-defined]
    return run


@contextlib.contextmanager
def inserts_together() -> Iterator[None]:
    """Hold the INSERTs made inside that read nothing back — ``bulk_insert(returning=False)``
    and new search documents — and send them when it ends, in order: on PostgreSQL as one
    statement (each in a data-modifying ``WITH``, run once to completion), elsewhere one by
    one. Each statement sent costs a round trip and its Python (a fifth of a new ticket's
    CPU went to sending statements, issue 16.2). What runs inside must not read or rewrite
    the rows it holds; an error inside drops them. Nested, the outermost one sends."""
    if getattr(_per_thread, "held", None) is not None:
        yield
        return
    held: list[tuple[str, list[Any]]] = []
    _per_thread.held = held
    try:
        yield
    finally:
        _per_thread.held = None
    db = _default_wrapper()
    if db.vendor != "postgresql":
        with statement_cursor(db) as cursor:
            for sql, params in held:
                cursor.execute(sql, params)
        return
    with statement_cursor(db, numbered=True) as cursor:
        for sql, params in _joined(held):
            cursor.execute(sql, params)


_MOST_PARAMETERS = 65_535  # of one PostgreSQL statement (the protocol counts them in 16 bits)


def _joined(held: list[tuple[str, list[Any]]]) -> list[tuple[str, list[Any]]]:
    """The held INSERTs as few statements as their values allow, in order, each in a
    data-modifying ``WITH`` of its own (run once, to completion, whether read or not), their
    placeholders numbered (``$1``, ``$2``, …: see :func:`_numbered`)."""
    groups: list[list[tuple[str, list[Any]]]] = [[]]
    for statement in held:
        if groups[-1] and sum(len(p) for _, p in groups[-1]) + len(statement[1]) > _MOST_PARAMETERS:
            groups.append([])
        groups[-1].append(statement)
    return [
        (
            _numbered(tuple(sql for sql, _ in group), tuple(len(p) for _, p in group)),
            [v for _, params in group for v in params],
        )
        for group in groups
    ]


@functools.lru_cache(maxsize=256)
def _numbered(texts: tuple[str, ...], counts: tuple[int, ...]) -> str:
    """`texts` (with `counts` ``%s`` marks each) as one statement with numbered placeholders
    (:func:`numbered`): a data-modifying ``WITH`` each, unless there is one. Joined from the
    same texts, it is the same statement."""
    first = 1
    joined = []
    for sql, count in zip(texts, counts, strict=True):
        text = numbered(sql, count, first=first)
        joined.append(text)
        first += count
    if len(joined) == 1:
        return joined[0]
    together = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(joined))
    return f"WITH {together} SELECT 1"


@functools.lru_cache(maxsize=512)
def numbered(sql: str, count: int, *, first: int = 1) -> str:
    """`sql` with its `count` ``%s`` marks as numbered placeholders from `first` (``$1``,
    ``$2``, …; a ``%%`` is a ``%``), for :func:`statement_cursor` ``(numbered=True)``.
    psycopg finds the marks of a statement again on every run unless it is short with few
    parameters (a long one's search was a twentieth of a new ticket's Python, issue 16.2);
    numbered once here, it parses nothing. Any other ``%``, or another count, raises."""
    between = sql.split("%s")
    if len(between) != count + 1 or any("%" in b.replace("%%", "") for b in between):
        raise ValueError(f"a numbered statement takes %s marks only, one per value: {sql!r}")
    marks = [f"${n}" for n in range(first, first + count)] + [""]
    return "".join(b.replace("%%", "%") + m for b, m in zip(between, marks, strict=True))


def insert_statement(db: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> None:
    """Run an INSERT that reads nothing back (prepared, see :func:`statement_cursor`), or
    hold it for the end of :func:`inserts_together`."""
    held = getattr(_per_thread, "held", None)
    if held is not None and db.alias == DEFAULT_DB_ALIAS:
        held.append((sql, list(params)))
        return
    with statement_cursor(db) as cursor:
        cursor.execute(sql, params)


def statement_cursor(db: BaseDatabaseWrapper, *, numbered: bool = False) -> Any:
    """A cursor for the statements compiled here. On PostgreSQL (unless
    ``DATABASE_PREPARED_STATEMENTS`` is off) they are sent with their values apart and
    prepared on the server, so a connection plans each shape once instead of on every call:
    planning was about half of PostgreSQL's time for a page of the ticket API (issue 16.1).
    The rest of the ORM keeps Django's client-side binding, as some of its SQL can't be
    prepared (Django ticket #20516); what is compiled here is ``values()`` reads and INSERTs,
    which can. Django's wrapper is kept: statements are logged, counted and their errors
    Django's, as on any other cursor. `numbered`: on PostgreSQL, statements whose
    placeholders are ``$1``, ``$2``, … (passed on as they are) instead of ``%s``."""
    if db.vendor != "postgresql":
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    raw = db.connection
    if raw.prepare_threshold is None and not numbered:
        return db.cursor()
    kept: tuple[Any, dict[bool, Any]] | None = getattr(db, "_statement_cursors", None)
    if kept is None or kept[0] is not raw:  # a new connection: new cursors
        kept = db._statement_cursors = (raw, {})  # type: ignore[attr-defined]
    cursor = kept[1].get(numbered)
    if cursor is None:
        cursor = kept[1][numbered] = _preparing_cursor(numbered=numbered)(raw)
    with db.wrap_database_errors:
        return db._prepare_cursor(cursor)  # type: ignore[attr-defined]


@functools.cache
def _preparing_cursor(*, numbered: bool) -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]
    from psycopg.raw_cursor import RawCursorMixin

    class PreparingCursor(ServerBindingCursor):
        def _send_query_prepared(self, name: bytes, pgq: Any, **options: Any) -> None:
            # psycopg keeps no query for a prepared run; Django logs (and tests count) the
            # statement as sent, its values as $1, $2, …
            self._query = pgq
            super()._send_query_prepared(name, pgq, **options)

        def close(self) -> None:
            """Kept open for the connection's next statement (`statement_cursor`): with it
            the adapters it chose for each type of value, which a new cursor chooses again
            (for a list, after a look at every element: a tenth of a new ticket's Python,
            issue 16.2). A client-side cursor holds nothing on the server."""

    if numbered:
        return type("NumberedPreparingCursor", (RawCursorMixin, PreparingCursor), {})
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
                return instant_from_text(str(data, "ascii"), self.timezone)
            except ValueError:  # infinity, BC, another DateStyle: psycopg's own parser
                return super().load(data)

    FastInstantLoader.timezone = timezone
    return FastInstantLoader


def instant_from_text(text: str, zone: Any) -> datetime:
    """An instant as PostgreSQL writes it, as text or in JSON (ISO 8601, in the session's
    zone, which is Django's `zone`), as Django's loader gives it; ValueError for what
    ``datetime.fromisoformat`` cannot read (infinity, BC)."""
    instant = datetime.fromisoformat(text)
    return instant if instant.tzinfo is zone else instant.replace(tzinfo=zone)


def instants_loaded_fast(*, connection: BaseDatabaseWrapper, **_: Any) -> None:
    """``connection_created``: every PostgreSQL connection reads instants with
    :func:`_fast_instant_loader`. Django keeps it, as its cursors replace the connection's
    loader only when its zone differs from the connection's."""
    if connection.vendor == "postgresql":
        loader = _fast_instant_loader(connection.timezone)
        connection.connection.adapters.register_loader("timestamptz", loader)


def prepared_plans_generic(*, connection: BaseDatabaseWrapper, **_: Any) -> None:
    """``connection_created``: on PostgreSQL, the statements prepared here keep one generic
    plan per connection. By default the server plans a prepared statement again for each
    call's values whenever its generic plan's estimate is above the average of the custom
    plans: a contact's page of tickets (an organisation with few of them) was planned on
    every request, 2.1 ms of planning for 0.4 ms of work, where its generic plan runs in
    0.34 ms (issue 16.1). The rest of the ORM binds on the client and is never prepared."""
    if connection.vendor == "postgresql" and connection.connection.prepare_threshold is not None:
        with connection.connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_generic_plan")


@dataclass(frozen=True)
class _Insert:
    sql: str | None  # None: Django inlines some value (an expression); left to bulk_create
    by_column: bool  # PostgreSQL's INSERT … SELECT * FROM UNNEST takes an array per column
    returning: str = ""  # the clause that ends `sql`
    elements: tuple[str, ...] = ()  # by_column: each column's array element type

    def text(self, *, returning: bool) -> str:
        assert self.sql is not None
        return self.sql if returning else self.sql[: -len(self.returning)].rstrip()


# by model, database, rows (or _ANY_ROWS), the field told apart by (skip_conflicts), columns
_INSERTS: dict[tuple[type[Model], str, int, str, int], _Insert] = {}
_ANY_ROWS = 0  # the count of an INSERT with an array per column: the same SQL for any rows
# Statements of one row's values per row are kept up to a batch of mail intake (BATCH): the
# largest the hot paths write. Larger ones are rare and left to bulk_create.
_INSERT_ROWS_COMPILED = 100


def _default_wrapper() -> BaseDatabaseWrapper:
    """The default database's connection itself: ``django.db.connection`` is a proxy that
    looks it up again on every attribute, and the conversions of each value of each row
    read several (issue 16.2)."""
    return connections[DEFAULT_DB_ALIAS]


def bulk_insert(
    objs: Sequence[M], *, skip_conflicts: str = "", returning: bool = True
) -> Sequence[M]:
    """``bulk_create`` of new rows the caller built (issue 16.2): the INSERT of each model and
    row count compiled once per database (on PostgreSQL one for any count of two rows or
    more), each value prepared for the database as Django prepares it, and the primary keys
    set on the objects. Anything else — a row with a primary key or an expression for a
    value, columns the database fills in, batches larger than the hot paths write — is left
    to ``bulk_create``.

    With `skip_conflicts`, the name of a field whose values tell the objects apart, a row
    that would break a unique constraint is not inserted (``INSERT … ON CONFLICT DO
    NOTHING``: stored before, or meanwhile by another transaction, or by an earlier object
    of `objs`) and its object keeps no primary key; the rows are inserted in statements of
    as many as the database takes, and only the objects inserted are returned (issue 16.3).
    The database returns the inserted rows' keys with that field's values, as neither
    promises to return them in order. ``bulk_create`` can't tell which rows it skipped, so
    there is nothing to leave to it: rows it would take raise ``TypeError``.

    With ``returning=False`` nothing is read back: the objects get no primary keys and come
    back as given (with `skip_conflicts`, whichever were skipped); rows of a model whose key
    is not the database's (a UUID made with the object) are compiled too, with their keys.
    For rows nothing refers to in the same transaction: history, notifications, registries;
    inside :func:`inserts_together` they are sent with the others it holds (issue 16.2)."""
    if not objs:
        return objs
    connection = _default_wrapper()
    model = type(objs[0])
    opts = model._meta
    # a key made with the object (a UUID), or reserved from the table's sequence
    keys_given = not isinstance(opts.pk, AutoField) or (
        not returning and all(obj.pk is not None for obj in objs)
    )
    fields = [
        f for f in opts.concrete_fields if not f.generated and (keys_given or f is not opts.pk)
    ]
    size = connection.ops.bulk_batch_size(fields, objs)
    if (
        any(f is not opts.pk for f in opts.db_returning_fields)  # columns the database fills
        or (keys_given and (returning or bool(skip_conflicts)))
        or not connection.features.can_return_rows_from_bulk_insert
        or any((obj.pk is None) is keys_given for obj in objs)
    ):
        return _left_to_bulk_create(objs, skip_conflicts)
    if not skip_conflicts:
        if len(objs) > size:
            return model._default_manager.bulk_create(objs)
        done = _insert(model, fields, objs, None, returning=returning)
        return objs if done is not None else model._default_manager.bulk_create(objs)
    key = next(f for f in fields if f.name == skip_conflicts)
    step = max(1, min(size, _INSERT_ROWS_COMPILED))
    inserted: list[M] = []
    for start in range(0, len(objs), step):
        chunk = objs[start : start + step]
        done = _insert(model, fields, chunk, key, returning=returning)
        if done is None:
            return _left_to_bulk_create(objs, skip_conflicts)
        inserted += done
    return inserted


def _left_to_bulk_create(objs: Sequence[M], skip_conflicts: str) -> Sequence[M]:
    if skip_conflicts:
        raise TypeError("bulk_insert(skip_conflicts=…) takes new rows of plain values only")
    return type(objs[0])._default_manager.bulk_create(objs)


def _insert(
    model: type[M],
    fields: list[Field[Any, Any]],
    objs: Sequence[M],
    key: Field[Any, Any] | None,
    *,
    returning: bool = True,
) -> list[M] | None:
    """The compiled INSERT of `objs` (one statement), their keys set; the objects inserted
    (all of them without `key`, see :func:`bulk_insert`), or None to leave them to
    ``bulk_create``."""
    connection = _default_wrapper()
    skip, vendor, columns = key.name if key is not None else "", connection.vendor, len(fields)
    insert = _INSERTS.get((model, vendor, _ANY_ROWS, skip, columns)) if len(objs) > 1 else None
    if insert is None:
        if len(objs) > _INSERT_ROWS_COMPILED:
            return None
        compiled_as = (model, vendor, len(objs), skip, columns)
        insert = _INSERTS.get(compiled_as)
        if insert is None:
            insert = _insert_compile(model, fields, objs, key)
            if insert.by_column:
                compiled_as = (model, vendor, _ANY_ROWS, skip, columns)
            _INSERTS[compiled_as] = insert
    if insert.sql is None:
        return None
    preparers = _preparers(model, fields, connection)
    rows = []
    for obj in objs:  # as bulk_create prepares them (after compiling: pre_save sets auto_now)
        # as bulk_create: a related object saved after it was assigned gives its key (Django
        # looks only at related objects the row holds: none, nothing to look at)
        if obj._state.fields_cache:
            obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
        row: list[Any] = []
        for attname, field, own_pre_save, plain, convert in preparers:
            value = getattr(obj, attname) if own_pre_save else field.pre_save(obj, True)
            if plain is not None and value is None:
                row.append(None)
            elif type(value) is plain:
                row.append(value if convert is None else convert(value))
            elif hasattr(value, "resolve_expression"):
                return None
            else:
                row.append(field.get_db_prep_save(value, connection))
        rows.append(row)
    if insert.by_column:
        params = [
            array_literal(list(column), element)
            for column, element in zip(zip(*rows, strict=True), insert.elements, strict=True)
        ]
    else:
        params = [value for row in rows for value in row]
    if not returning:
        insert_statement(connection, insert.text(returning=False), params)
        for obj in objs:
            if obj.pk is not None:  # its key given: the row is written (or held) as it is
                obj._state.adding = False
                obj._state.db = connection.alias
        return list(objs)
    with statement_cursor(connection) as cursor:
        cursor.execute(insert.text(returning=True), params)
        returned = cursor.fetchall()
    if key is None:
        inserted = list(objs)
        keys = [pk for (pk,) in returned]
    else:  # matched by the key's value, as the database prepared it
        at = fields.index(key)
        waiting: dict[Any, list[M]] = {}
        for obj, row in zip(objs, rows, strict=True):
            waiting.setdefault(row[at], []).append(obj)
        inserted = [waiting[value].pop(0) for _, value in returned]
        keys = [pk for pk, _ in returned]
    alias = connection.alias
    for obj, pk in zip(inserted, keys, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = alias
    return inserted


# A value of the exact type given here goes to the database as it is (an int through the
# backend's integer adapter), and None as None, for exactly these field classes (a subclass
# may convert anything): what their get_db_prep_save does, without its four calls per value.
_AS_IS: dict[type[Field[Any, Any]], type] = {CharField: str, TextField: str, BooleanField: bool}
_INTEGERS = (
    IntegerField, BigIntegerField, SmallIntegerField, PositiveIntegerField,
    PositiveBigIntegerField, PositiveSmallIntegerField,
)  # fmt: skip
_AUTO_KEYS = (AutoField, BigAutoField, SmallAutoField)
_Preparer = tuple[str, Field[Any, Any], bool, type | None, Callable[[Any], Any] | None]
_PREPARERS: dict[tuple[type[Model], str, int], list[_Preparer]] = {}  # by model, db, columns


def _preparers(
    model: type[Model], fields: list[Field[Any, Any]], db: BaseDatabaseWrapper
) -> list[_Preparer]:
    """Per field of an INSERT's row: its attribute, the field, whether its value is the
    attribute as is (Field's own pre_save), and the type of value that needs no conversion
    (`value_as_is`), with the one conversion it still has."""
    found = _PREPARERS.get((model, db.vendor, len(fields)))
    if found is None:
        found = _PREPARERS[model, db.vendor, len(fields)] = [
            (f.attname, f, type(f).pre_save is Field.pre_save, *value_as_is(f, db)) for f in fields
        ]
    return found


def value_as_is(
    field: Field[Any, Any], db: BaseDatabaseWrapper
) -> tuple[type | None, Callable[[Any], Any] | None]:
    """The exact type of the values `field` gives the database as they are (or after the one
    returned call), None and its own; (None, None) where every value takes Django's
    conversion (``get_db_prep_save``)."""
    if db.vendor not in ("postgresql", "sqlite"):
        return None, None
    target = field
    if type(field) in (ForeignKey, OneToOneField):
        target = field.target_field  # type: ignore[attr-defined]
        if type(target) not in (*_AUTO_KEYS, *_INTEGERS):
            return None, None
    if type(target) in _AUTO_KEYS:  # its get_db_prep_value takes no integer adapter
        return int, None
    if type(target) in _INTEGERS:
        internal, adapt = target.get_internal_type(), db.ops.adapt_integerfield_value
        return int, lambda value: adapt(value, internal)
    if type(field) is DateTimeField:  # an aware instant needs the backend's adapter alone
        instant = db.ops.adapt_datetimefield_value

        def adapt_instant(value: datetime) -> Any:
            return instant(value) if is_aware(value) else field.get_db_prep_save(value, db)

        return datetime, adapt_instant
    return _AS_IS.get(type(field)), None


def _insert_compile(
    model: type[Model],
    fields: list[Field[Any, Any]],
    objs: Sequence[Model],
    key: Field[Any, Any] | None,
) -> _Insert:
    """The INSERT … RETURNING of `objs`' rows as Django writes it (with ``ON CONFLICT DO
    NOTHING`` and `key` returned too, given a key), if it has a placeholder for each value,
    or for each column's array of values. Not Django's ``ignore_conflicts``: on SQLite that
    is ``INSERT OR IGNORE``, which also drops a row breaking a NOT NULL or CHECK constraint
    where this must fail as it does on PostgreSQL."""
    query = InsertQuery(model)
    query.insert_values(fields, list(objs))
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [model._meta.pk] + ([key] if key is not None else [])
    [(sql, params)] = compiler.as_sql()
    returning, _ = connection.ops.return_insert_columns(compiler.returning_fields)
    sql = str(sql)
    if not sql.endswith(" " + returning):
        return _Insert(None, by_column=False)
    head = sql[: -len(returning)]
    by_column = (
        len(objs) > 1 and len(params) == len(fields) and all(isinstance(p, list) for p in params)
    )
    if not by_column and len(params) != len(fields) * len(objs):
        return _Insert(None, by_column=False)
    if not by_column and len(objs) > 1 and _unnestable(fields, compiler):
        head = _unnest_head(model, fields)
        by_column = True
    if key is not None:
        head += "ON CONFLICT DO NOTHING "
    elements = tuple(_element_of(f) for f in fields) if by_column else ()
    return _Insert(head + returning, by_column=by_column, returning=returning, elements=elements)


def _unnestable(fields: list[Field[Any, Any]], compiler: SQLCompiler) -> bool:
    """Django inserts rows on PostgreSQL from an array per column (``UNNEST``), planned once
    for any count of rows, but not when a field has a placeholder of its own, which might
    depend on the value: a ``BinaryField``'s is a plain ``%s`` there, so intake's stored
    messages (issue 16.3) can be inserted that way too. On PostgreSQL only, and for the
    column types Django unnests."""
    db = compiler.connection
    return db.vendor == "postgresql" and all(
        (getattr(f, "target_field", f) if f.is_relation else f).get_internal_type() in db.data_types
        and (not hasattr(f, "get_placeholder") or f.get_placeholder(None, compiler, db) == "%s")
        for f in fields
    )


def _array_of(field: Field[Any, Any]) -> str:
    """The PostgreSQL array type of a column's values, its type without a length (as
    Django's UNNEST insert has it, so no value is cut)."""
    return f"{_element_of(field)}[]"


def _element_of(field: Field[Any, Any]) -> str:
    """A column's type without a length: its array's element type (`core.arrays`)."""
    return str(field.db_type(connection)).split("(")[0]


def _unnest_head(model: type[Model], fields: list[Field[Any, Any]]) -> str:
    """``INSERT INTO … SELECT * FROM UNNEST(…)`` as Django's PostgreSQL compiler writes it."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)  # names from the model only
    arrays = ", ".join(f"(%s)::{_array_of(f)}" for f in fields)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT * FROM UNNEST({arrays}) "  # noqa: S608


def bulk_update(objs: Sequence[Model], names: Sequence[str]) -> None:
    """``obj.save(update_fields=names)`` for each of `objs` (saved rows of one model), in one
    statement (issue 16.3). On PostgreSQL ``UPDATE … FROM UNNEST(…)``: an array per column,
    prepared once for any count of rows, where an UPDATE per row had the server parse and
    plan each (intake's applied messages: a quarter of the server's time per batch). On
    SQLite, where a statement costs no round trip, an UPDATE per row (``executemany``). Not
    Django's ``bulk_update``, which builds a CASE per field and row."""
    if not objs:
        return
    connection = _default_wrapper()
    opts = type(objs[0])._meta
    concrete = {f.name: f for f in opts.concrete_fields}
    fields = [concrete[name] for name in names]
    pk = concrete[opts.pk.name]
    quote = connection.ops.quote_name
    rows = [
        [pk.get_db_prep_save(obj.pk, connection)]
        + [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in fields]
        for obj in objs
    ]
    table = quote(opts.db_table)
    if connection.vendor == "postgresql":
        columns = [pk, *fields]
        elements = [_element_of(f) for f in columns]
        arrays = ", ".join(f"(%s)::{element}[]" for element in elements)
        names_sql = ", ".join(quote(f.column) for f in columns)
        sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields)
        sql = (  # names from the model only
            f"UPDATE {table} SET {sets} FROM UNNEST({arrays}) AS v ({names_sql}) "  # noqa: S608
            f"WHERE {table}.{quote(pk.column)} = v.{quote(pk.column)}"
        )
        params = [
            array_literal(list(column), element)
            for column, element in zip(zip(*rows, strict=True), elements, strict=True)
        ]
        with statement_cursor(connection) as cursor:
            cursor.execute(sql, params)
        return
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {table} SET {sets} WHERE {quote(pk.column)} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [row[1:] + row[:1] for row in rows])
