"""PostgreSQL array literals for the column arrays of the ``UNNEST`` statements of
`core.queries` (issue 16.2).

psycopg sends a Python list by looking through its elements for their type, choosing an
adapter for it and running each element through that adapter: for the few rows of a new
ticket's history and notices, most of the Python its INSERT took before it was sent. The
column's type is known when the statement is compiled, so its values are written here
straight into the array's text form (``{1,NULL,3}``, ``{"a \\"b\\"",NULL}``), which the
statement's cast (``(%s)::bigint[]``) parses: the statement's text is the same, and so is
what PostgreSQL stores. A value of a type not written here leaves the list as it is, for
psycopg to adapt.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb


def _integer(value: Any) -> str | None:
    # psycopg's Int2/Int4/Int8 (Django's integer adapters) are ints; a bool is not a number
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(value)
    return None


def _quoted(text: str) -> str:
    """An element in double quotes: only a backslash and a double quote need escaping
    there; commas, braces, spaces and the word NULL are then plain text."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(value: Any) -> str | None:
    return _quoted(value) if isinstance(value, str) else None


def _boolean(value: Any) -> str | None:
    return "t" if value is True else "f" if value is False else None


def _instant(value: Any) -> str | None:
    # an aware instant, as Django's adapter hands it on; its offset keeps it exact
    if type(value) is datetime and value.tzinfo is not None:
        return _quoted(value.isoformat())
    return None


def _json(value: Any) -> str | None:
    if not isinstance(value, Jsonb):
        return None
    text = (value.dumps or json.dumps)(value.obj)  # as psycopg's own Jsonb dumper writes it
    return _quoted(text if isinstance(text, str) else bytes(text).decode())


# by the array's element type, as `core.queries._array_of` names it
_WRITERS: dict[str, Callable[[Any], str | None]] = {
    "smallint": _integer,
    "integer": _integer,
    "bigint": _integer,
    "varchar": _text,
    "text": _text,
    "boolean": _boolean,
    "timestamp with time zone": _instant,
    "jsonb": _json,
}


def array_literal(values: list[Any], element: str) -> str | list[Any]:
    """`values` as the text of a PostgreSQL array of `element` (its type, e.g. ``bigint``),
    or `values` themselves if `element` or any value is of a type not written here."""
    write = _WRITERS.get(element)
    if write is None:
        return values
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
            continue
        text = write(value)
        if text is None:
            return values
        parts.append(text)
    return "{" + ",".join(parts) + "}"
