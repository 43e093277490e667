"""Issue 17.3: no input makes the API answer 500 or an HTML page.

Integers beyond 64 bits, dates at the ends of the calendar, NUL characters, non-numeric ids and
oversized bodies each answer a JSON 4xx with a message.
"""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from supportdesk.api.api import api as ninja_api
from supportdesk.core.limits import INT64_MAX, INT64_MIN
from supportdesk.core.views import server_error
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db

HUGE = str(2**64)


def _json_error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert body["detail"] and body["code"]
    return body


@pytest.mark.parametrize(
    "path",
    ["/tickets/abc", "/tickets/-1", "/tickets/1.5/messages", "/tickets/null,null",
     f"/tickets/{HUGE}/messages", f"/organizations/{HUGE}/inventory",
     f"/oncall/runs/{HUGE}", "/no-such-endpoint"],
)  # fmt: skip
def test_unknown_paths_and_ids_answer_json_404(api, world, path):
    _json_error(api(world.agent).get(path), 404)


@pytest.mark.parametrize(
    "query",
    [{"queue": HUGE}, {"assignee": HUGE}, {"organization": HUGE}, {"organization": "-1"},
     {"queue": str(INT64_MAX + 1)}, {"limit": HUGE}],
)  # fmt: skip
def test_integer_filters_out_of_range_are_4xx_not_500(api, world, query):
    response = api(world.agent).get("/tickets", **query)
    assert response.status_code in (400, 422), response.content
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [f"/oncall/runs?ticket={HUGE}", f"/invoices?organization={HUGE}",
     f"/invoices.csv?organization={HUGE}", f"/contracts?organization={HUGE}",
     f"/reports/sla?organization={HUGE}"],
)  # fmt: skip
def test_integer_filters_of_every_app_are_bounded(api, world, path):
    response = api(world.agent).client.get("/api/v1" + path, **api(world.agent).headers)
    assert response.status_code in (400, 404, 422), response.content


def test_every_integer_query_parameter_declares_its_range():
    """A new query parameter typed plain `int` (unbounded) fails here: use api.schemas.Id."""
    unbounded = []
    for path, methods in ninja_api.get_openapi_schema()["paths"].items():
        for method, operation in methods.items():
            for param in operation.get("parameters", []):
                if param["in"] != "query":
                    continue
                schema = param["schema"]
                for option in schema.get("anyOf", [schema]):
                    if option.get("type") != "integer":
                        continue
                    low, high = option.get("minimum"), option.get("maximum")
                    if low is None or high is None or low < INT64_MIN or high > INT64_MAX:
                        unbounded.append(f"{method.upper()} {path} ?{param['name']}")
    assert not unbounded, unbounded


def test_integers_in_json_bodies_beyond_64_bits_are_400(api, world):
    body = {"subject": "s", "body": "b", "organization": 2**64}
    _json_error(api(world.agent).post("/tickets", body), 400)
    body = {"subject": "s", "body": "b", "organization": -(2**63) - 1}
    _json_error(api(world.agent).post("/tickets", body), 400)


@pytest.mark.parametrize(
    ("name", "value"),
    [("created_after", "0001-01-01T00:00:00+14:00"),
     ("created_before", "9999-12-31T23:59:59-14:00"), ("created_after", "0001-01-01"),
     ("created_before", "9999-12-31T23:59:59Z")],
)  # fmt: skip
def test_dates_at_the_ends_of_the_calendar_are_422_with_the_range(api, world, name, value):
    body = _json_error(api(world.agent).get("/tickets", **{name: value}), 422)
    assert "between 1900-01-01 and 2999-12-31" in body["detail"]


def test_dates_inside_the_range_with_extreme_offsets_work(api, world):
    make_ticket(world)
    client = api(world.agent)
    assert (
        len(client.get("/tickets", created_after="1900-01-02T00:00:00+14:00").json()["items"]) == 1
    )
    assert client.get("/tickets", created_before="2999-12-30T23:59:59-14:00").status_code == 200


@pytest.mark.parametrize(
    "entry",
    [{"started_at": "0001-01-01T00:00:00+14:00", "minutes": 5},
     {"started_at": "2026-01-05T09:00:00Z", "minutes": 2**40},
     {"started_at": "2026-01-05T09:00:00Z", "minutes": 2**63 - 1},
     {"started_at": "2026-01-05T09:00:00Z", "ended_at": "9999-12-31T23:59:59-14:00"}],
)  # fmt: skip
def test_time_entry_durations_and_dates_are_checked_before_arithmetic(api, world, entry):
    ticket = make_ticket(world)
    response = api(world.engineer).post(
        f"/tickets/{ticket.ref}/time-entries", {"work_kind": "phone", **entry}
    )
    assert response.status_code in (400, 422), response.content


def test_nul_in_a_query_parameter_is_400(api, world):
    body = _json_error(api(world.agent).get("/tickets", q="\x00"), 400)
    assert "NUL" in body["detail"]
    _json_error(api(world.alice.user).get("/tickets", status="open\x00"), 400)


def test_nul_in_json_strings_and_keys_is_400(api, world):
    client = api(world.alice.user)
    body = _json_error(client.post("/tickets", {"subject": "a\x00b", "body": "x"}), 400)
    assert "subject" in body["detail"]
    ticket = make_ticket(world)
    _json_error(client.post(f"/tickets/{ticket.ref}/messages", {"body": "ok", "\x00": 1}), 400)
    raw = '{"body": "escaped \\u0000 nul"}'
    _json_error(client.post(f"/tickets/{ticket.ref}/messages", raw), 400)
    # an escaped backslash followed by "u0000" is six ordinary characters, not a NUL
    fine = json.dumps({"body": "path C:\\u0000"})
    assert client.post(f"/tickets/{ticket.ref}/messages", fine).status_code == 201


def test_nul_in_a_text_body_is_400(api, world):
    """A CSV inventory with a NUL: PostgreSQL's jsonb refused the stored text (a 500 before)."""
    who = api(world.agent)
    response = who.client.put(
        f"/api/v1/organizations/{world.acme.pk}/inventory",
        "kind,name\ndevice,pbx\x00\n",
        content_type="text/csv",
        **who.headers,
    )
    assert _json_error(response, 400)["code"] == "invalid"


def test_nul_in_form_fields_is_a_400_page(client, world):
    client.force_login(world.alice.user)
    response = client.post(
        "/portal/tickets/new/", {"subject": "x\x00", "body": "y", "priority": "P3"}
    )
    assert response.status_code == 400
    assert b"NUL" in response.content
    client.force_login(world.agent)
    assert client.get("/console/", {"q": "\x00"}).status_code == 400


def test_oversized_body_is_json_413(api, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = _json_error(
        api(world.alice.user).post("/tickets", {"subject": "s", "body": "x" * 2000}), 413
    )
    assert body["code"] == "too_large"


def test_server_errors_under_api_are_json(world):
    request = RequestFactory().get("/api/v1/tickets")
    response = server_error(request)
    assert response.status_code == 500
    assert json.loads(response.content)["code"] == "server_error"
    page = server_error(RequestFactory().get("/console/"))
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def test_an_unhandled_exception_in_an_api_view_is_json_500(world, rf):
    """The API's last-resort handler: logged, JSON, no traceback leaked."""
    from supportdesk.api.api import server_error as api_server_error

    response = api_server_error(rf.get("/api/v1/tickets"), RuntimeError("boom"))
    assert response.status_code == 500
    assert json.loads(response.content) == {
        "detail": "internal error; it has been logged",
        "code": "server_error",
    }


@pytest.mark.parametrize("amount", ["1e30", "12345678901234.5", "-1e14", "NaN", "Infinity"])
def test_amounts_must_fit_the_money_columns(api, world, amount):
    """PostgreSQL refuses a numeric(16,3) overflow with an error (a 500 before); SQLite kept it."""
    from supportdesk.accounts.services import staff_user_create
    from tests.factories import PASSWORD

    clerk = staff_user_create(
        email="clerk@vendor.example", password=PASSWORD, vendor=world.vendor, roles=["billing"]
    )
    response = api(clerk).post("/payments", {"organization": world.acme.pk, "amount": amount})
    body = _json_error(response, 422)
    assert "amount" in body["detail"]
