"""Column arrays written as PostgreSQL array literals (core.arrays), and the rows bulk_insert
sends with them (issue 16.2, N-2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from supportdesk.core.arrays import array_literal
from supportdesk.core.models import Vendor, VendorEvent
from supportdesk.core.queries import bulk_insert

pytestmark = pytest.mark.django_db

# PostgreSQL text holds no NUL; UTF-8 holds no lone surrogate
_TEXT = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(_TEXT, max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(_TEXT, max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_ZONES = st.sampled_from([UTC, ZoneInfo("Asia/Kolkata"), ZoneInfo("America/St_Johns"),
                          timezone(timedelta(hours=-3, minutes=-7, seconds=-11))])  # fmt: skip
_INSTANTS = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=_ZONES
)


def test_values_of_the_column_type_are_written_as_a_literal_and_others_left_to_psycopg_N2():
    assert array_literal([1, None, -(2**63)], "bigint") == "{1,NULL,-9223372036854775808}"
    assert array_literal(['a "b"', "c\\d", "NULL", "", "{,}"], "varchar") == (
        '{"a \\"b\\"","c\\\\d","NULL","","{,}"}'
    )
    assert array_literal([True, False, None], "boolean") == "{t,f,NULL}"
    assert array_literal([Jsonb({"k": ['"']})], "jsonb") == '{"{\\"k\\": [\\"\\\\\\"\\"]}"}'
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert array_literal([when], "timestamp with time zone") == '{"2026-03-01T09:30:00+00:00"}'
    assert array_literal([], "bigint") == "{}"
    for values, element in [
        ([1, True], "bigint"),  # a bool is no integer
        ([1, Decimal("2")], "integer"),
        (["a", 1], "text"),
        ([datetime(2026, 3, 1)], "timestamp with time zone"),  # naive: Django's to convert
        ([{"k": 1}], "jsonb"),  # not adapted for JSON
        ([Decimal("1.5")], "numeric"),  # a type not written here
    ]:
        assert array_literal(values, element) is values


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.text(_TEXT, max_size=30),
            _INSTANTS,
            st.none() | st.integers(0, 2**63 - 1),
            st.text(_TEXT, max_size=40),
            _JSON,
        ),
        min_size=2,
        max_size=5,
    )
)
def test_rows_inserted_from_column_arrays_read_back_as_given_N2(rows: list[tuple[Any, ...]]):
    """Quotes, backslashes, braces, commas, the word NULL, empty text, any offset: each
    value stored as it was given, on either database (on PostgreSQL through the arrays'
    literals: one INSERT … UNNEST for any count of rows)."""
    vendor = Vendor.objects.get_or_create(name="Arrays", slug="arrays")[0]
    VendorEvent.objects.filter(vendor=vendor).delete()
    objs = [
        VendorEvent(
            vendor=vendor, kind=kind, at=at, actor_id=actor, actor_email=email, data={"v": data}
        )
        for kind, at, actor, email, data in rows
    ]
    bulk_insert(objs, returning=False)
    stored = VendorEvent.objects.filter(vendor=vendor).order_by("pk")
    got = [(e.kind, e.at, e.actor_id, e.actor_email, e.data["v"]) for e in stored]
    # in UTC: a local time in a DST gap or fold never equals one of another zone (PEP 495)
    given = [(k, at.astimezone(UTC), actor, mail, data) for k, at, actor, mail, data in rows]
    assert got == given


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(st.none() | st.text(_TEXT, max_size=20), max_size=6))
def test_postgresql_parses_a_text_literal_back_into_the_values_N2(texts: list[str | None]):
    literal = array_literal(texts, "text")
    assert isinstance(literal, str)
    if connection.vendor != "postgresql":
        return  # SQLite has no arrays: its INSERTs take a row of values at a time
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [literal])
        assert cursor.fetchone()[0] == texts
