"""``prepared_query`` (issue 16.1): built once, and no caller ever sees another's results."""

from __future__ import annotations

import pytest

from supportdesk.core.models import Vendor
from supportdesk.core.queries import prepared_query

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


def _vendor_rows(stand_in):
    return (
        Vendor.objects.filter(slug__in=stand_in["slugs"], pk__gte=stand_in["min_id"])
        .order_by("pk")
        .values("pk", "name", "slug")
    )


def test_prepared_rows_compile_once_per_shape_and_return_what_values_gives():
    from supportdesk.core.queries import prepared_rows

    made = [Vendor.objects.create(name=f"V{i}", slug=f"v-{i}") for i in range(4)]
    builds: list[object] = []

    def build(stand_in):
        builds.append(stand_in)
        return _vendor_rows(stand_in)

    for slugs, min_id in ((["v-0", "v-2"], made[0].pk), (["v-1", "v-3"], made[2].pk)):
        values = {"slugs": slugs, "min_id": min_id}
        expected = list(_vendor_rows(values))
        assert prepared_rows(("test vendors", 2), build, values) == expected
    assert len(builds) == 1  # the second call only executed the statement
    assert builds[0]["slugs"] != ["v-0", "v-2"]  # it was built with stand-ins, not values
    # Another shape (a longer IN list) is compiled on its own.
    values = {"slugs": ["v-0", "v-1", "v-3"], "min_id": 1}
    assert prepared_rows(("test vendors", 3), build, values) == list(_vendor_rows(values))
    assert len(builds) == 2


def test_prepared_rows_take_aware_instants_and_give_them_back_as_values_does():
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from supportdesk.core.queries import prepared_rows
    from tests.factories import NOW

    def build(stand_in):
        return (
            Vendor.objects.filter(created_at__gte=stand_in["since"])
            .order_by("pk")
            .values("pk", "created_at")
        )

    vendor = Vendor.objects.create(name="Timed", slug="timed")
    Vendor.objects.filter(pk=vendor.pk).update(created_at=NOW + timedelta(microseconds=120))
    for since in (NOW, (NOW + timedelta(hours=1)).astimezone(ZoneInfo("Asia/Kolkata"))):
        got = prepared_rows(("test instants",), build, {"since": since})
        assert got == list(build({"since": since}))
    got = prepared_rows(("test instants",), build, {"since": NOW})
    assert got[-1]["created_at"] == NOW + timedelta(microseconds=120)
    assert got[-1]["created_at"].tzinfo == UTC
    with pytest.raises(ValueError, match="aware"):
        prepared_rows(("test instants",), build, {"since": datetime(2026, 1, 1)})


def test_prepared_rows_of_an_empty_query_run_no_statement_and_a_lost_value_is_an_error():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from supportdesk.core.queries import prepared_rows

    with CaptureQueriesContext(connection) as captured:
        rows = prepared_rows(
            ("test none",), lambda s: Vendor.objects.none().values("pk"), {"slug": "x"}
        )
    assert rows == [] and len(captured) == 0
    with pytest.raises(ValueError, match="slug"):  # the builder dropped a value
        prepared_rows(("test lost",), lambda s: Vendor.objects.values("pk"), {"slug": "x"})
    with pytest.raises(TypeError, match="shape"):  # flags change the SQL: they are the key
        prepared_rows(("test flag",), lambda s: Vendor.objects.values("pk"), {"on": True})
