"""``prepared_query`` (issue 16.1): built once, and no caller ever sees another's results;
``prepared_statement`` and ``bulk_insert`` (issue 16.2): compiled once, the same rows as the
ORM's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.core.models import Vendor, VendorEvent
from supportdesk.core.queries import (
    _INSERTS,
    bulk_insert,
    bulk_update,
    inserts_together,
    prepared_query,
    prepared_statement,
    statement_cursor,
    value_as_is,
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
    # compiled, not bulk_create's; PostgreSQL inserts any rows from an array per column
    rows = 0 if connection.vendor == "postgresql" else 2
    columns = len(VendorEvent._meta.concrete_fields) - 1  # all but the key
    assert _INSERTS[VendorEvent, connection.vendor, rows, "", columns].sql is not None
    with CaptureQueriesContext(connection) as captured:  # a batch of intake's size, compiled
        stored = bulk_insert(_events(vendor, *[n % 31 + 1 for n in range(87)]))
    assert len(captured) == 1
    assert [(e.pk, e.data["day"]) for e in stored] == list(
        VendorEvent.objects.filter(pk__in=[e.pk for e in stored])
        .order_by("pk")
        .values_list("pk", "data__day")
    )
    assert len(stored) == 87
    assert (VendorEvent, connection.vendor, rows and 87, "", columns) in _INSERTS
    with_key = _events(vendor, 5)
    with_key[0].pk = 10_000  # left to bulk_create
    assert bulk_insert(with_key)[0].pk == 10_000
    assert VendorEvent.objects.get(pk=10_000).at == datetime(2026, 3, 5, 9, tzinfo=UTC)


def test_bulk_insert_takes_the_key_of_a_related_object_saved_after_it_was_assigned_N2():
    """As bulk_create: a row holding a related object reads its key when it is inserted; a
    related object still unsaved is refused; a row given the key alone is inserted as is."""
    at = datetime(2026, 3, 1, 9, tzinfo=UTC)
    vendor = Vendor(name="Later Support", slug="later-support")
    held = VendorEvent(vendor=vendor, kind="set_up", at=at)
    with pytest.raises(ValueError, match="unsaved related object"):
        bulk_insert([held])
    vendor.save()
    by_key = VendorEvent(vendor_id=vendor.pk, kind="set_up", at=at)
    stored = bulk_insert([held, by_key])
    assert [e.vendor_id for e in stored] == [vendor.pk, vendor.pk]
    assert VendorEvent.objects.filter(vendor=vendor).count() == 2


def _vendor_rows() -> list[tuple[Any, ...]]:
    return list(Vendor.objects.order_by("slug").values_list("pk", "slug", "name"))


def test_bulk_insert_skipping_conflicts_stores_only_new_keys_and_says_which_N2():
    stored_before = Vendor.objects.create(name="First", slug="s-a")
    for round_ in range(2):  # compiling, then compiled
        objs = [
            Vendor(name=f"B{round_}", slug=f"s-b{round_}"),
            Vendor(name="Again", slug="s-a"),  # stored before: skipped
            Vendor(name=f"C{round_}", slug=f"s-c{round_}"),
            Vendor(name="Twice", slug=f"s-b{round_}"),  # an earlier object's key: skipped
        ]
        with CaptureQueriesContext(connection) as captured:
            inserted = bulk_insert(objs, skip_conflicts="slug")
        assert len(captured) == 1
        assert inserted == [objs[0], objs[2]]
        assert [o.pk for o in (objs[1], objs[3])] == [None, None]
        assert [o._state.adding for o in inserted] == [False, False]
        got = {slug: (pk, name) for pk, slug, name in _vendor_rows()}
        assert got[f"s-b{round_}"] == (objs[0].pk, f"B{round_}")
        assert got[f"s-c{round_}"] == (objs[2].pk, f"C{round_}")
        assert got["s-a"] == (stored_before.pk, "First")
    assert Vendor.objects.count() == 5
    assert bulk_insert([Vendor(name="Again", slug="s-a")], skip_conflicts="slug") == []


def test_bulk_insert_skipping_conflicts_takes_more_rows_than_one_statement_N2():
    objs = [Vendor(name=f"Many {i}", slug=f"many-{i:03d}") for i in range(230)]
    objs.insert(100, Vendor(name="Again", slug="many-005"))
    with CaptureQueriesContext(connection) as captured:
        inserted = bulk_insert(objs, skip_conflicts="slug")
    assert len(captured) > 1  # statements of at most a batch of intake each
    assert len(inserted) == 230 and objs[100] not in inserted and objs[100].pk is None
    assert [(o.pk, o.slug, o.name) for o in inserted] == _vendor_rows()


def test_bulk_insert_skipping_conflicts_skips_only_conflicts_N2():
    from django.db import IntegrityError, transaction

    # not SQLite's INSERT OR IGNORE, which would drop the row that breaks NOT NULL unseen
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert([Vendor(name="Fine", slug="fine"), Vendor(name=None, slug="no-name")],
                    skip_conflicts="slug")  # fmt: skip
    assert not Vendor.objects.exists()
    with_key = Vendor(pk=10_000, name="Keyed", slug="keyed")
    with pytest.raises(TypeError):  # bulk_create could not say which rows it skipped
        bulk_insert([with_key], skip_conflicts="slug")


def test_bulk_insert_of_binary_values_inserts_from_arrays_on_postgresql_N2():
    from supportdesk.intake.models import InboundEmail

    vendor = Vendor.objects.create(name="Acme Support", slug="acme-support")
    raws = [bytes(range(256)) * 4, b"\x00\\x'\"", b""]
    objs = [
        InboundEmail(vendor=vendor, raw=raw, size=len(raw), content_hash=f"h{i}",
                     dedupe_key=f"k{i}", received_at=datetime(2026, 3, 1, tzinfo=UTC))
        for i, raw in enumerate(raws)
    ]  # fmt: skip
    with CaptureQueriesContext(connection) as captured:
        inserted = bulk_insert(objs, skip_conflicts="dedupe_key")
    assert len(captured) == 1 and inserted == objs
    if connection.vendor == "postgresql":  # one statement, planned once, for any count of rows
        assert "UNNEST" in captured[0]["sql"]
    got = dict(InboundEmail.objects.filter(vendor=vendor).values_list("pk", "raw"))
    assert {pk: bytes(raw) for pk, raw in got.items()} == {o.pk: o.raw for o in objs}


def test_bulk_insert_without_returning_stores_the_rows_and_reads_nothing_back_N2():
    vendor = Vendor.objects.create(name="Acme Support", slug="acme-support")
    for days in [(1,), (2, 3), (4, 5)]:  # compiling, then compiled (one row and rows)
        objs = _events(vendor, *days)
        with CaptureQueriesContext(connection) as captured:
            stored = bulk_insert(objs, returning=False)
        assert len(captured) == 1 and "RETURNING" not in captured[0]["sql"].upper()
        assert stored == objs and [e.pk for e in objs] == [None] * len(days)
    stored_days = VendorEvent.objects.filter(vendor=vendor).values_list("data__day", flat=True)
    assert sorted(stored_days) == [1, 2, 3, 4, 5]
    # skipping conflicts: nothing says which rows were skipped, and only they are
    Vendor.objects.create(name="First", slug="s-a")
    objs = [Vendor(name="B", slug="s-b"), Vendor(name="Again", slug="s-a")]
    assert bulk_insert(objs, skip_conflicts="slug", returning=False) == objs
    assert _vendor_rows()[1:] == [(Vendor.objects.get(slug="s-a").pk, "s-a", "First"),
                                  (Vendor.objects.get(slug="s-b").pk, "s-b", "B")]  # fmt: skip


def test_bulk_insert_without_returning_writes_keys_reserved_from_the_sequence_N2():
    vendor = Vendor.objects.create(name="Acme Support", slug="acme-support")
    for days in [(1,), (2, 3)]:  # compiling, then compiled
        objs = _events(vendor, *days)
        top = VendorEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for n, obj in enumerate(objs, start=1):
            obj.pk = top + 10 * n  # as a sequence reserves them: above any row's
        with CaptureQueriesContext(connection) as captured:
            assert bulk_insert(objs, returning=False) == objs
        assert len(captured) == 1 and "RETURNING" not in captured[0]["sql"].upper()
        assert [(o._state.adding, o._state.db) for o in objs] == [(False, "default")] * len(days)
        stored = VendorEvent.objects.filter(pk__in=[o.pk for o in objs])
        assert sorted(stored.values_list("pk", "data__day")) == [
            (o.pk, o.data["day"]) for o in objs
        ]
    columns = len(VendorEvent._meta.concrete_fields)
    assert (VendorEvent, connection.vendor, 1, "", columns) in _INSERTS
    # some with a key, some without: nothing to write them with at once, left to bulk_create
    mixed = _events(vendor, 4, 5)
    mixed[0].pk = 50_000
    bulk_insert(mixed, returning=False)
    assert VendorEvent.objects.filter(pk=50_000).exists() and VendorEvent.objects.count() == 5


def test_inserts_held_together_are_sent_at_the_end_in_one_statement_on_postgresql_N2():
    vendor = Vendor.objects.create(name="Acme Support", slug="acme-support")
    with CaptureQueriesContext(connection) as captured, inserts_together():
        bulk_insert(_events(vendor, 1), returning=False)
        with inserts_together():  # nested: the outer one sends
            bulk_insert(_events(vendor, 2, 3), returning=False)
        keyed = bulk_insert(_events(vendor, 4))  # its keys are read: sent at once
        assert len(captured) == 1 and keyed[0].pk is not None
        assert VendorEvent.objects.count() == 1  # the held rows are not there yet
        sent_inside = len(captured)
    held = [q["sql"] for q in captured][sent_inside:]  # after the count
    if connection.vendor == "postgresql":
        assert len(held) == 1 and held[0].startswith("WITH w0 AS (INSERT INTO")
        assert "w1 AS (INSERT INTO" in held[0] and "w2" not in held[0]
        assert "%s" not in held[0] and "$1" in held[0]  # numbered: psycopg parses nothing
    else:  # one by one, in order
        assert len(held) == 2 and all(q.startswith("INSERT INTO") for q in held)
    days = VendorEvent.objects.order_by("data__day").values_list("data__day", flat=True)
    assert list(days) == [1, 2, 3, 4]


def test_inserts_held_together_keep_each_statement_within_the_parameter_limit_N2(
    monkeypatch: Any,
):
    from supportdesk.core import queries

    vendor = Vendor.objects.create(name="Acme Support", slug="acme-support")
    monkeypatch.setattr(queries, "_MOST_PARAMETERS", 12)  # two one-row events (6 values each)
    with CaptureQueriesContext(connection) as captured, inserts_together():
        for day in (1, 2, 3):
            bulk_insert(_events(vendor, day), returning=False)
    sent = [q["sql"] for q in captured]
    if connection.vendor == "postgresql":
        assert len(sent) == 2 and sent[0].startswith("WITH w0") and "w1 AS" in sent[0]
        assert sent[1].startswith("INSERT INTO")
    else:
        assert len(sent) == 3
    assert sorted(VendorEvent.objects.values_list("data__day", flat=True)) == [1, 2, 3]


def test_statement_cursors_stay_open_for_the_connections_next_statement_N2():
    """On PostgreSQL one client cursor a kind of placeholders and connection, so the adapters
    it chose for each type of value (a list's after a look at each element) are chosen once;
    closing Django's wrapper leaves it open, and each statement reads its own rows."""
    answers, cursors = [], []
    for value in (1, 2, 3):
        with statement_cursor(connection) as cursor:
            cursor.execute("SELECT %s + 1", [value])
            answers.append(cursor.fetchall())
        cursors.append(cursor.cursor)
    assert answers == [[(2,)], [(3,)], [(4,)]]
    with statement_cursor(connection, numbered=connection.vendor == "postgresql") as numbered:
        marks = "$1" if connection.vendor == "postgresql" else "%s"
        numbered.execute(f"SELECT {marks}", [7])
        assert numbered.fetchall() == [(7,)]
    if connection.vendor == "postgresql":
        assert cursors[0] is cursors[1] is cursors[2] and not cursors[0].closed
        assert numbered.cursor is not cursors[0]
    else:  # SQLite: Django's cursors, closed with their wrapper
        assert len({id(c) for c in cursors}) == 3


def test_held_statements_are_joined_with_numbered_placeholders_N2():
    from supportdesk.core.queries import _numbered

    texts = ("INSERT INTO a (x, y) VALUES (%s, %s)", "INSERT INTO b (z) SELECT %s WHERE '%%' = %s")
    assert _numbered(texts, (2, 2)) == (
        "WITH w0 AS (INSERT INTO a (x, y) VALUES ($1, $2)), "
        "w1 AS (INSERT INTO b (z) SELECT $3 WHERE '%' = $4) SELECT 1"
    )
    assert _numbered(texts[:1], (2,)) == "INSERT INTO a (x, y) VALUES ($1, $2)"
    for wrong in (((texts[0],), (3,)), (("SELECT '%d' = %s",), (1,))):
        with pytest.raises(ValueError, match="marks only, one per value"):
            _numbered(*wrong)


def test_inserts_held_together_are_dropped_when_the_block_fails_N2():
    vendor = Vendor.objects.create(name="Acme Support", slug="acme-support")
    with pytest.raises(ValueError), inserts_together():
        bulk_insert(_events(vendor, 1), returning=False)
        raise ValueError("the service failed")
    with inserts_together():  # and nothing of the failed block is sent later
        bulk_insert(_events(vendor, 2), returning=False)
    assert list(VendorEvent.objects.values_list("data__day", flat=True)) == [2]


def test_bulk_insert_of_rows_keyed_by_uuid_is_compiled_only_without_returning_N2():
    from django_tasks_db.models import DBTaskResult, get_date_max

    def row(path: str) -> DBTaskResult:  # its key made with the object (uuid4)
        return DBTaskResult(args_kwargs={"args": [1], "kwargs": {}}, task_path=path,
                            backend_name="default", run_after=get_date_max())  # fmt: skip

    for path in ("a.first", "a.second"):  # compiling, then compiled
        obj = row(path)
        with CaptureQueriesContext(connection) as captured:
            bulk_insert([obj], returning=False)
        assert len(captured) == 1
        stored = DBTaskResult.objects.get(pk=obj.pk)
        assert (stored.task_path, stored.args_kwargs, stored.status) == (path, obj.args_kwargs,
                                                                         "READY")  # fmt: skip
        assert stored.enqueued_at is not None  # auto_now_add, as the ORM fills it in
    columns = len(DBTaskResult._meta.concrete_fields)  # the key too
    assert (DBTaskResult, connection.vendor, 1, "", columns) in _INSERTS
    returned = row("a.third")  # returning: left to bulk_create, which keeps the key
    assert bulk_insert([returned])[0].pk == DBTaskResult.objects.get(task_path="a.third").pk


def test_bulk_update_saves_the_fields_of_many_rows_in_one_statement_N2():
    from supportdesk.intake.models import InboundEmail

    vendor, other = (Vendor.objects.create(name=n, slug=n) for n in ("upd-a", "upd-b"))
    at = datetime(2026, 3, 1, tzinfo=UTC)
    rows = bulk_insert(
        [
            InboundEmail(vendor=vendor, raw=b"x", size=1, content_hash=f"h{i}",
                         dedupe_key=f"u{i}", received_at=at)
            for i in range(3)
        ]
    )  # fmt: skip
    untouched = [(r.pk, r.raw) for r in rows]
    rows[0].state, rows[0].reason, rows[0].processed_at = "failed", 'it\'s "quoted"', at
    rows[1].vendor, rows[1].attempts = other, 2  # a relation, by its key
    rows[2].reason = ""
    rows[0].subject = "not among the fields saved"
    with CaptureQueriesContext(connection) as captured:
        bulk_update(rows, ["state", "reason", "processed_at", "vendor", "attempts"])
    assert len(captured) == 1
    got = list(
        InboundEmail.objects.order_by("pk").values_list(
            "pk", "state", "reason", "processed_at", "vendor_id", "attempts", "subject", "raw"
        )
    )
    assert [g[:7] for g in got] == [
        (r.pk, r.state, r.reason, r.processed_at, r.vendor_id, r.attempts, "") for r in rows
    ]
    assert [(g[0], bytes(g[7])) for g in got] == untouched
    assert got[0][3] == at and got[1][3] is None and got[1][4] == other.pk


@prepared_statement
def _vendors(slugs: list[str], min_id: int) -> Any:
    return (
        Vendor.objects.filter(slug__in=slugs, pk__gte=min_id)
        .order_by("pk")
        .values("pk", "name", "slug")
    )


def test_a_prepared_values_statement_gives_the_dicts_values_gives():
    made = [Vendor.objects.create(name=f"V{i}", slug=f"v-{i}") for i in range(4)]
    for slugs, min_id in ((["v-0", "v-2"], made[0].pk), (["v-1", "v-3"], made[2].pk)):
        expected = list(_vendors.__wrapped__(slugs, min_id))
        assert expected and _vendors(slugs, min_id) == expected
    assert _vendors(["v-0", "v-1", "v-3"], 1) == [
        {"pk": v.pk, "name": v.name, "slug": v.slug} for v in (made[0], made[1], made[3])
    ]


def test_a_prepared_statement_takes_aware_instants_in_any_zone_and_gives_them_back_in_utc():
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from tests.factories import NOW

    @prepared_statement
    def since(at: datetime) -> Any:
        return Vendor.objects.filter(created_at__gte=at).order_by("pk").values("pk", "created_at")

    vendor = Vendor.objects.create(name="Timed", slug="timed")
    Vendor.objects.filter(pk=vendor.pk).update(created_at=NOW + timedelta(microseconds=120))
    for at in (NOW, (NOW + timedelta(hours=1)).astimezone(ZoneInfo("Asia/Kolkata"))):
        assert since(at) == list(since.__wrapped__(at))
    got = since(NOW)
    assert got[-1]["created_at"] == NOW + timedelta(microseconds=120)
    assert got[-1]["created_at"].tzinfo == UTC
    with pytest.raises(ValueError, match="aware"):
        since(datetime(2026, 1, 1))


def test_a_prepared_statement_of_no_rows_runs_nothing_and_a_lost_value_or_a_flag_is_an_error():
    @prepared_statement
    def nothing(slug: str) -> Any:
        return Vendor.objects.filter(slug=slug).none().values("pk")

    with CaptureQueriesContext(connection) as captured:
        assert nothing("x") == []
    assert len(captured) == 0

    @prepared_statement
    def dropping(slug: str) -> Any:
        return Vendor.objects.values("pk")

    with pytest.raises(ValueError, match="used once"):  # the builder dropped a value
        dropping("x")

    @prepared_statement
    def flagged(on: Any) -> Any:
        return Vendor.objects.filter(pk__gte=on).values("pk")

    with pytest.raises(TypeError, match="shape"):  # flags change the SQL: they are the key
        flagged(True)


def test_instants_read_back_equal_and_postgresql_parses_them_with_the_fast_loader():
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from tests.factories import NOW

    vendor = Vendor.objects.create(name="Timed", slug="timed")
    cases = [NOW, NOW + timedelta(microseconds=7), NOW.astimezone(ZoneInfo("Asia/Kolkata"))]
    for instant in cases:
        Vendor.objects.filter(pk=vendor.pk).update(created_at=instant)
        (got,) = Vendor.objects.filter(pk=vendor.pk).values_list("created_at", flat=True)
        assert got == instant and got.tzinfo == UTC
    if connection.vendor != "postgresql":
        return  # SQLite's instants are text, converted by Django, never by psycopg
    from psycopg.pq import Format

    with connection.cursor() as cursor:
        adapters = cursor.cursor.adapters
        loader = adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT)
        assert loader.__name__ == "FastInstantLoader"
        cursor.execute("SELECT '0044-03-15 12:00:00+00 BC'::timestamptz")
        with pytest.raises(Exception, match="BC"):  # psycopg's parser, as before: not Python's
            cursor.fetchone()


def test_compiled_statements_run_prepared_on_postgresql_with_one_generic_plan_N2():
    made = [Vendor.objects.create(name=f"P{i}", slug=f"p-{i}") for i in range(3)]
    for i in range(3):  # one shape, new values each time: the same rows as the ORM's
        slugs = [f"p-{i}", f"p-{(i + 1) % 3}"]
        assert _vendors(slugs, made[0].pk) == list(_vendors.__wrapped__(slugs, made[0].pk))
    for days in [(1, 2), (3, 4)]:
        bulk_insert(_events(made[0], *days))
    assert VendorEvent.objects.filter(vendor=made[0]).count() == 4
    if connection.vendor != "postgresql":
        return  # SQLite has no planner to spare: its statements are compiled by the driver
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        prepared = {sql: (generic, custom) for sql, generic, custom in cursor.fetchall()}
    reads = [n for sql, n in prepared.items() if 'FROM "core_vendor"' in sql and "IN (" in sql]
    inserts = [n for sql, n in prepared.items() if 'INSERT INTO "core_vendorevent"' in sql]
    # one statement, its one generic plan reused by each call, never planned for the values
    assert reads and max(reads) >= (3, 0) and all(custom == 0 for _, custom in reads)
    assert inserts and max(inserts) >= (2, 0) and all(custom == 0 for _, custom in inserts)


def test_with_prepared_statements_off_compiled_statements_bind_on_the_client():
    made = [Vendor.objects.create(name=f"C{i}", slug=f"c-{i}") for i in range(2)]
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        connection.connection.prepare_threshold = None  # DATABASE_PREPARED_STATEMENTS=false
    try:
        slugs = ["c-0", "c-1", "missing", "none"]  # a list length no other test compiles
        assert _vendors(slugs, made[0].pk) == list(_vendors.__wrapped__(slugs, made[0].pk))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_prepared_statements")
                assert cursor.fetchone() == (0,)
    finally:
        if connection.vendor == "postgresql":
            connection.connection.prepare_threshold = 0


def _fields_with_values_as_is() -> list[tuple[Any, type, Any]]:
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            plain, convert = value_as_is(field, connection)
            if plain is not None:
                found.append((field, plain, convert))
    return found


def test_values_as_is_cover_the_keys_texts_and_flags_of_the_project_N2():
    kinds = {plain for _, plain, _ in _fields_with_values_as_is()}
    assert kinds == {int, str, bool, datetime}


@given(
    value=st.one_of(
        st.none(),
        st.booleans(),
        st.text(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.datetimes(timezones=st.sampled_from([UTC, ZoneInfo("America/New_York")])),
    )
)
def test_a_value_taken_as_is_is_what_django_would_send_N2(value: Any):
    """bulk_insert's shortcut: for every field of every model that takes values of a type as
    they are, each value (and None) reaches the database as Django's own conversion has it,
    of the same type (on PostgreSQL an integer travels as its column's integer width)."""
    for field, plain, convert in _fields_with_values_as_is():
        if value is not None and type(value) is not plain:
            continue
        fast = value if value is None or convert is None else convert(value)
        slow = field.get_db_prep_save(value, connection)
        assert (type(fast), fast) == (type(slow), slow), field
