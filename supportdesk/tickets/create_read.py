"""The create path's one read (issue 16.2, N-2): the queues with their agents and the
acknowledgement template, the account teams (E-2), the SLA candidate policies with the
vendors' calendars (S-1), and on PostgreSQL the customers' contracts (E-4), what their caps
used as the last creation for them read it (E-5; the decision checks that guess) and the keys
of the rows to write. None depends on another, so each module writes its part as branches of
one UNION ALL over a shared column layout and reads its own rows back.

The layout: the branch's kind (which part, see the constants), then the slots — `o1`, `o2`
integers that order a kind's rows, `i1`..`i4` integers, `t1`..`t5` text, `b1`, `b2`
booleans, `j1`, `j2` JSON. A branch names the slots it fills; the others are NULL, cast to
the slot's type (PostgreSQL types each column of a union from its branches). A row wider
than the slots goes as one JSON array (`jsonb_columns`, read back by `json_values`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    Field,
    ForeignKey,
    IntegerField,
    JSONField,
    Model,
    PositiveBigIntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SlugField,
    SmallIntegerField,
    TextField,
)

from supportdesk.core.queries import instant_from_text, numbered, statement_cursor

# the kinds of rows; the SLA's four are its policies' order of precedence (S-1)
(SLA_ORGANISATION, SLA_PLAN, SLA_VENDOR, SLA_CALENDAR, QUEUE, ACCOUNT_TEAM, KEYS, CONTRACTS,
 USAGE_TICKETS, USAGE_TIME) = range(10)  # fmt: skip


class Row(NamedTuple):
    """A row's slots, by name or in the layout's order; what a slot holds is its branch's
    (NULL where the branch leaves it empty; SQLite returns JSON as text)."""

    o1: Any
    o2: Any
    i1: Any
    i2: Any
    i3: Any
    i4: Any
    t1: Any
    t2: Any
    t3: Any
    t4: Any
    t5: Any
    b1: Any
    b2: Any
    j1: Any
    j2: Any


# each slot's SQL type, by its letter
_SQL_TYPES = {"o": "bigint", "i": "bigint", "t": "text", "b": "boolean", "j": "jsonb"}
_SLOTS = {slot: _SQL_TYPES[slot[0]] for slot in Row._fields}
Branch = tuple[str, list[Any]]  # its SQL, its parameters


def branch(kind: int, columns: Mapping[str, str], rest: str, params: Sequence[Any]) -> Branch:
    """One SELECT of the union: `columns` (slot -> expression) then `rest` (FROM ...)."""
    return _select(kind, tuple(columns.items()), rest, connection.vendor), list(params)


@functools.lru_cache(maxsize=256)
def _select(kind: int, columns: tuple[tuple[str, str], ...], rest: str, vendor: str) -> str:
    """A branch's text, made once per shape: every creation asks for the same few."""
    unknown = {slot for slot, _ in columns} - set(_SLOTS)
    if unknown:
        raise ValueError(f"no such slot: {sorted(unknown)}")
    if vendor == "sqlite":  # untyped: a NULL is a NULL
        nulls = dict.fromkeys(_SLOTS, "NULL")
    else:
        nulls = {slot: f"CAST(NULL AS {kind_})" for slot, kind_ in _SLOTS.items()}
    given = dict(columns)
    select = ", ".join(given.get(slot, nulls[slot]) for slot in _SLOTS)
    return f"SELECT {kind}, {select} {rest}"


def keys_branch(models: Sequence[type[Model]], count: int) -> Branch:
    """PostgreSQL: `count` new primary keys of each of `models` (up to four) from their
    tables' sequences, as rows `o1` = 1..count with the keys in `i1`.. in `models`' order.
    Rows written with keys known beforehand read nothing back, so their INSERTs can be held
    and sent with the others (`core.queries.inserts_together`). A key taken and not used is
    a gap in the numbering, as a rolled-back INSERT leaves one."""
    if len(models) > 4:
        raise ValueError("a row of keys has four slots")
    columns = {"o1": "g.n"}
    for slot, model in zip(("i1", "i2", "i3", "i4"), models, strict=False):
        table, column = connection.ops.quote_name(model._meta.db_table), model._meta.pk.column
        columns[slot] = f"nextval(pg_get_serial_sequence('{table}', '{column}'))"
    return branch(KEYS, columns, "FROM generate_series(1, %s) g(n)", [count])


def read_instant(text: str) -> datetime:
    """An instant of a row of the create read, as text or in JSON (`instant_from_text`)."""
    return instant_from_text(text, connection.timezone)


def _as_read(field: Field[Any, Any]) -> Callable[[Any], Any] | None:
    """How a column's JSON value becomes the value psycopg reads for the field (None: as it
    is); TypeError for a field of another kind, not written here."""
    kind = type(field)
    if kind is DecimalField:
        return Decimal  # sent as text (`jsonb_columns`): exact, at the column's scale
    if kind is DateTimeField:
        return read_instant
    if kind is DateField:
        return date.fromisoformat
    if kind is JSONField and field.decoder is None:  # type: ignore[attr-defined]
        return None  # jsonb within the array: decoded with it, as Django decodes it
    if kind in _AS_THEY_ARE:
        return None
    raise TypeError(f"{field!r} has no JSON reading here (tickets.create_read)")


_AS_THEY_ARE = (
    AutoField, BigAutoField, BigIntegerField, IntegerField, PositiveBigIntegerField,
    PositiveIntegerField, PositiveSmallIntegerField, SmallIntegerField, ForeignKey,
    BooleanField, CharField, SlugField, TextField,
)  # fmt: skip


def jsonb_columns(columns: Sequence[tuple[str, Field[Any, Any]]]) -> str:
    """PostgreSQL: the values of `columns` (an SQL expression each, with the field whose
    value it is) as one JSON array, for a `j` slot: a decimal as text (a JSON number reads
    back as a float), the rest as jsonb writes them. `json_values` reads them back."""
    for _, field in columns:
        _as_read(field)
    return "jsonb_build_array({})".format(
        ", ".join(f"({sql})::text" if type(f) is DecimalField else sql for sql, f in columns)
    )


def json_readers(fields: Sequence[Field[Any, Any]]) -> tuple[Callable[[Any], Any] | None, ...]:
    """How `json_values` reads each of a `jsonb_columns` array's values: worked out once
    per array, by its caller."""
    return tuple(_as_read(f) for f in fields)


def json_values(
    values: Sequence[Any], readers: tuple[Callable[[Any], Any] | None, ...]
) -> list[Any]:
    """A `jsonb_columns` array's values as a read of those columns gives them (psycopg's
    types, after Django's converters): rows read either way make the same objects."""
    return [
        v if read is None or v is None else read(v) for v, read in zip(values, readers, strict=True)
    ]


def union_read(branches: Sequence[Branch]) -> dict[int, list[Row]]:
    """The rows of all `branches` in one statement, by kind, each kind's in (o1, o2) order.
    Prepared on PostgreSQL: planning the union took four times as long as running it."""
    sql = " UNION ALL ".join(s for s, _ in branches) + " ORDER BY 1, 2, 3"
    params = [p for _, branch_params in branches for p in branch_params]
    postgresql = connection.vendor == "postgresql"
    if postgresql:  # too long for psycopg to remember where its marks are
        sql = numbered(sql, len(params))
    with statement_cursor(connection, numbered=postgresql) as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    found: dict[int, list[Row]] = {}
    for kind, *slots in rows:
        found.setdefault(kind, []).append(Row(*slots))
    return found
