"""``prepared_query`` (issue 16.1): built once, and no caller ever sees another's results;
``prepared_statement`` and ``bulk_insert`` (issue 16.2): compiled once, the same rows as the
ORM's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportdesk.core.models import Vendor, VendorEvent
from supportdesk.core.queries import (
    _INSERTS,
    bulk_insert,
    prepared_query,
    prepared_statement,
)

pytestmark = pytest.mark.django_db


def test_a_prepared_query_is_built_once_and_every_caller_gets_a_fresh_clone():
    builds: list[int] = []

    @prepared_query
    def vendor_names():
        builds.append(1)
        return Vendor.objects.values("name")

    first = vendor_names()
    assert {"name": "Acme Support"} not in list(first)  # evaluated, its results cached
    Vendor.objects.create(name="Acme Support", slug="acme-support")
    # The next caller's query runs afresh: no results cached by an earlier caller.
    assert {"name": "Acme Support"} in list(vendor_names())
    assert list(vendor_names().filter(name="Acme Support")) == [{"name": "Acme Support"}]
    assert vendor_names() is not vendor_names()
    assert len(builds) == 1


def _events(vendor: Vendor, *days: int) -> list[VendorEvent]:
    return [
        VendorEvent(vendor=vendor, kind="settings", at=datetime(2026, 3, d, 9, tzinfo=UTC),
                    data={"day": d, "price": "1.50"})
        for d in days
    ]  # fmt: skip


def test_a_prepared_statement_is_compiled_once_per_shape_and_answers_as_the_orm_N2():
    builds: list[int] = []

    @prepared_statement
    def events(ids: list[int], since: datetime, *, of_kind: bool) -> Any:
        builds.append(1)
        rows = VendorEvent.objects.filter(pk__in=ids, at__gte=since)
        if of_kind:
            rows = rows.filter(kind="settings")
        return rows.values_list("pk", "at", "data", "vendor__name").order_by("pk")

    vendor = Vendor.objects.create(name="Acme Support", slug="acme-support")
    stored = bulk_insert(_events(vendor, 1, 2, 3))
    ids = [e.pk for e in stored]
    since = datetime(2026, 3, 2, tzinfo=UTC)
    orm = list(
        VendorEvent.objects.filter(pk__in=ids, at__gte=since)
        .values_list("pk", "at", "data", "vendor__name")
        .order_by("pk")
    )
    assert events(ids, since, of_kind=True) == orm  # datetimes aware, JSON decoded
    assert events(ids[::-1], since, of_kind=True) == orm
    assert events(ids[:1], since, of_kind=True) == []
    assert events(ids[:2], datetime(2026, 1, 1, tzinfo=UTC), of_kind=False) == list(
        VendorEvent.objects.filter(pk__in=ids[:2])
        .values_list("pk", "at", "data", "vendor__name")
        .order_by("pk")
    )
    assert events([], since, of_kind=True) == []
    # lists of 3, 1, 2 (without the kind) and none: each compiled once
    assert len(builds) == 4
    events(ids, since, of_kind=True)
    assert len(builds) == 4


def test_bulk_insert_sets_the_keys_of_what_it_stores_in_one_statement_N2():
    vendor = Vendor.objects.create(name="Acme Support", slug="acme-support")
    for days in [(1, 2), (3, 4)]:  # compiling, then compiled
        with CaptureQueriesContext(connection) as captured:
            stored = bulk_insert(_events(vendor, *days))
        assert len(captured) == 1
        assert [e._state.adding for e in stored] == [False, False]
        assert [(e.pk, e.data["day"]) for e in stored] == list(
            VendorEvent.objects.filter(pk__in=[e.pk for e in stored])
            .order_by("pk")
            .values_list("pk", "data__day")
        )
    # compiled (PostgreSQL inserts several rows from an array per column), not bulk_create's
    assert _INSERTS[VendorEvent, connection.vendor, 2].sql is not None
    with_key = _events(vendor, 5)
    with_key[0].pk = 10_000  # left to bulk_create
    assert bulk_insert(with_key)[0].pk == 10_000
    assert VendorEvent.objects.get(pk=10_000).at == datetime(2026, 3, 5, 9, tzinfo=UTC)
