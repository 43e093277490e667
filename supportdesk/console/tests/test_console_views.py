"""Issue 17.6: the staff console's views (T-1, T-6): pages, actions and their errors.

Every console route is found from the URL resolver, so a new page is covered by the access
tests without editing them: anonymous visitors go to the login page, contacts get a 403 page,
staff of another vendor get a 404 for this vendor's objects, staff see the page.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from supportdesk.accounts.models import Role
from supportdesk.accounts.services import staff_user_create
from supportdesk.api.tests.builders import BUILDERS
from supportdesk.tickets.models import Channel, Message, MessageKind, Status, Ticket
from tests.factories import NOW, PASSWORD, make_ticket

pytestmark = pytest.mark.django_db


def _routes(patterns: list[Any], prefix: str = "") -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append(prefix + str(pattern.pattern))
    return found


CONSOLE = [route for route in _routes(get_resolver().url_patterns) if route.startswith("console/")]
# Route parameters that are not in builders.BUILDERS, with the value a request uses.
OTHER_PARAMS = {"action": "reply", "inbound_id": None}  # None: built per test (a stored mail)


def _url(route: str, values: dict[str, Any]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)


@pytest.fixture
def values(world: Any) -> dict[str, Any]:
    from supportdesk.intake.services import email_ingest

    built = {name: build(world, world.acme) for name, (build, _) in BUILDERS.items()}
    built["action"] = OTHER_PARAMS["action"]
    raw = b"From: alice@acme.example\r\nTo: support@vendor.example\r\nSubject: Hi\r\n\r\nhello\r\n"
    built["inbound_id"] = email_ingest(raw, vendor=world.vendor, now=NOW).inbound_id
    return built


def test_every_console_route_parameter_is_known():
    names = {name for route in CONSOLE for name in re.findall(r"<(?:\w+:)?(\w+)>", route)}
    assert CONSOLE and names <= set(BUILDERS) | set(OTHER_PARAMS), names


@pytest.mark.parametrize("route", CONSOLE)
def test_console_access_by_who_is_asking(client, world, values, route):
    url = _url(route, values)
    boss = staff_user_create(
        email="boss@vendor.example", password=PASSWORD, vendor=world.vendor, roles=Role.values
    )
    client.force_login(boss)  # every role: role checks are not under test here
    mine = client.get(url)
    # Actions answer GET with 405; they are then asked by POST with an empty form.
    post_only = mine.status_code == 405
    send = client.post if post_only else client.get
    if post_only:
        mine = send(url, {})
    # an empty form is a 400, or a 404 naming what it could not find (mail: the contact)
    expected = (200, 302, 400, 404) if post_only else (200, 302)
    assert mine.status_code in expected, (url, mine.status_code, mine.content[:300])
    client.logout()
    anonymous = send(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/"), url
    client.force_login(world.alice.user)
    assert send(url).status_code == 403, url  # contacts: not for them
    client.force_login(world.rival_agent)
    rival = send(url)
    has_object = "<" in route
    assert rival.status_code in ((404,) if has_object else (200, 302, 400)), (url, rival)


def test_queue_lists_own_vendor_tickets_and_filters(client, world):
    mine = make_ticket(world, subject="Printer offline")
    other = make_ticket(world, subject="Scanner jam", priority="P1")
    theirs = make_ticket(world, world.rex, subject="Rival secret")
    client.force_login(world.agent)
    page = client.get("/console/").content.decode()
    assert "Printer offline" in page and "Scanner jam" in page and "Rival secret" not in page
    only_p1 = client.get("/console/", {"priority": "P1"}).content.decode()
    assert "Scanner jam" in only_p1 and "Printer offline" not in only_p1
    found = client.get("/console/", {"q": "printer"}).content.decode()
    assert "Printer offline" in found and "Scanner jam" not in found
    rows = client.get("/console/", HTTP_HX_REQUEST="true")
    assert b"<html" not in rows.content and b"Printer offline" in rows.content
    assert client.get("/console/", {"status": "bogus"}).status_code == 400
    assert {mine.vendor_id, other.vendor_id} != {theirs.vendor_id}


def test_ticket_page_shows_thread_and_is_404_for_another_vendor(client, world):
    ticket = make_ticket(world, body="It says offline since 8am.")
    client.force_login(world.agent)
    page = client.get(f"/console/tickets/{ticket.ref}/")
    assert page.status_code == 200 and b"It says offline since 8am." in page.content
    assert client.get("/console/tickets/999999/").status_code == 404
    client.force_login(world.rival_agent)
    assert client.get(f"/console/tickets/{ticket.ref}/").status_code == 404


def _act(client, ticket: Ticket, action: str, data: dict[str, Any]) -> Any:
    return client.post(f"/console/tickets/{ticket.ref}/{action}/", data)


def test_reply_and_internal_note(client, world):
    ticket = make_ticket(world)
    client.force_login(world.agent)
    assert _act(client, ticket, "reply", {"body": "On it", "kind": "public"}).status_code == 302
    assert _act(client, ticket, "reply", {"body": "hmm", "kind": "internal"}).status_code == 302
    kinds = list(ticket.messages.order_by("pk").values_list("kind", "channel"))
    assert kinds[1:] == [(MessageKind.PUBLIC, Channel.EMAIL), (MessageKind.INTERNAL, Channel.EMAIL)]
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [("reply", {"body": "", "kind": "public"}, "body"),
     ("reply", {"body": "x", "kind": "shout"}, "kind"),
     ("status", {"status": "bogus"}, "status"),
     ("priority", {"priority": "P9"}, "priority"),
     ("assign", {"assignee": "999999"}, "unknown staff user"),
     ("escalate", {"reason": ""}, "reason"),
     ("out-of-scope", {"scope": "nope", "note": "x"}, "scope")],
)  # fmt: skip
def test_invalid_forms_are_a_400_page_with_the_problem(client, world, action, data, message):
    ticket = make_ticket(world)
    client.force_login(world.agent)
    response = _act(client, ticket, action, data)
    assert response.status_code == 400, response.content[:300]
    assert message in response.content.decode()
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_status_priority_assign_and_escalate(client, world):
    ticket = make_ticket(world)
    client.force_login(world.agent)
    assert _act(client, ticket, "status", {"status": Status.ON_HOLD}).status_code == 302
    assert _act(client, ticket, "priority", {"priority": "P2"}).status_code == 302
    assert _act(client, ticket, "assign", {"assignee": str(world.engineer.pk)}).status_code == 302
    assert _act(client, ticket, "escalate", {"reason": "angry customer"}).status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee_id) == (
        Status.ON_HOLD, "P2", world.engineer.pk,
    )  # fmt: skip
    assert ticket.escalated_at is not None


def test_assigning_another_vendors_staff_is_refused(client, world):
    ticket = make_ticket(world)
    client.force_login(world.agent)
    response = _act(client, ticket, "assign", {"assignee": str(world.rival_agent.pk)})
    assert response.status_code in (400, 403, 404)
    ticket.refresh_from_db()
    assert ticket.assignee_id != world.rival_agent.pk


def test_actions_unknown_foreign_and_by_get(client, world):
    ticket = make_ticket(world)
    client.force_login(world.agent)
    assert _act(client, ticket, "explode", {}).status_code == 404
    assert client.get(f"/console/tickets/{ticket.ref}/reply/").status_code == 405
    client.force_login(world.rival_agent)
    assert _act(client, ticket, "reply", {"body": "hi", "kind": "public"}).status_code == 404
    client.force_login(world.alice.user)
    assert _act(client, ticket, "reply", {"body": "hi", "kind": "internal"}).status_code == 403
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_new_call_finds_the_caller_by_number(client, world):
    client.force_login(world.agent)
    assert client.get("/console/calls/new/").status_code == 200
    response = client.post(
        "/console/calls/new/",
        {"caller_number": "(212) 555-0100", "subject": "Server down", "notes": "n",
         "priority": "P1"},
    )  # fmt: skip
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Server down")
    assert (ticket.requester, ticket.channel, ticket.caller_number) == (
        world.alice, Channel.PHONE, "+12125550100",
    )  # fmt: skip


def test_new_call_from_an_unknown_number_needs_an_organisation(client, world):
    client.force_login(world.agent)
    data = {"caller_number": "+13125550199", "subject": "Help", "notes": "n", "priority": "P3"}
    refused = client.post("/console/calls/new/", data)
    assert refused.status_code == 400 and b"choose the caller" in refused.content
    assert client.post("/console/calls/new/", {**data, "subject": ""}).status_code == 400
    foreign = client.post("/console/calls/new/", {**data, "organization": world.rival_org.pk})
    assert foreign.status_code == 404
    ok = client.post("/console/calls/new/", {**data, "organization": world.globex.pk})
    assert ok.status_code == 302
    assert Ticket.objects.get().organization == world.globex
