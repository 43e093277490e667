"""Issue 17.6: the staff console's views (T-1, T-6): pages, actions and their errors.

Every console route is found from the URL resolver, so a new page is covered by the access
tests without editing them: anonymous visitors go to the login page, contacts get a 403 page,
staff of another vendor get a 404 for this vendor's objects, staff see the page. Vendor
settings (and new monitoring integrations) are for the vendor's admins: other staff get a 403.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from supportdesk.accounts.models import Role, User
from supportdesk.accounts.services import staff_user_create
from supportdesk.api.tests.builders import BUILDERS
from supportdesk.billing.tests.test_django_reinstatement import lapsed_subscription
from supportdesk.core.tenancy import principal_for
from supportdesk.notifications.mail_templates import VARIABLES
from supportdesk.tickets import services as ticket_services
from supportdesk.tickets import services_console
from supportdesk.tickets.models import Channel, Message, MessageKind, SavedView, Status, Ticket
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


def _params(route: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", route)


CONSOLE = [route for route in _routes(get_resolver().url_patterns) if route.startswith("console/")]
# Pages only the vendor's admins may open: other staff of the vendor get a 403.
ADMIN_ONLY = (
    "console/settings/",
    "console/alerts/integrations/new/",
    "console/alerts/integrations/<int:integration_id>/rules/",
)


def _admin_only(route: str) -> bool:
    return route.startswith(ADMIN_ONLY)


def _mail(world: Any, sender: str) -> int:
    from supportdesk.intake.services import email_ingest

    raw = f"From: {sender}\r\nTo: support@vendor.example\r\nSubject: Hi\r\n\r\nhello\r\n"
    return email_ingest(raw.encode(), vendor=world.vendor, now=NOW).inbound_id


def _inbound(world: Any, boss: User) -> int:
    """A stored mail from a customer's contact."""
    return _mail(world, "alice@acme.example")


def _claimed(world: Any, boss: User) -> int:
    """An unauthenticated mail from the asking staff member, waiting for them (T-11): only
    they may confirm or discard it."""
    return _mail(world, boss.email)


def _macro(world: Any, boss: User) -> int:
    """A vendor-wide macro (any staff member of the vendor may use it)."""
    return services_console.macro_create(
        principal=principal_for(boss), data={"name": "Thanks", "body": "Thanks!"},
        vendor_wide=True, now=NOW,
    ).pk  # fmt: skip


def _saved_view(world: Any, boss: User) -> int:
    """The asking staff member's own saved view (saved views are personal)."""
    return SavedView.objects.create(
        user=boss, name="P1 only", query={"priority": "P1"}, created_at=NOW
    ).pk


def _time_entry(world: Any, boss: User) -> int:
    """Time the asking staff member logged (only its author may change it) on the ticket the
    route's `ref` was just built for (parameters are built in route order)."""
    from datetime import timedelta

    from supportdesk.contracts.services import time_entry_add

    ticket = Ticket.objects.filter(vendor=world.vendor).latest("pk")
    return time_entry_add(
        principal=principal_for(boss), ticket=ticket, engineer=boss, work_kind="remote",
        category="problem", started_at=NOW - timedelta(hours=2), minutes=30, now=NOW,
    ).pk  # fmt: skip


def _resolved_ticket(world: Any, boss: User) -> int:
    """A resolved ticket of Acme (only a solved ticket becomes a knowledge-base draft)."""
    ticket = make_ticket(world)
    ticket_services.ticket_status_change(
        ticket=ticket, principal=principal_for(boss), status=Status.RESOLVED, now=NOW
    )
    return ticket.ref


# Route parameters that are not in builders.BUILDERS: (built for the vendor and the staff member
# asking, whether the value names an object of the vendor that another vendor must not reach).
OTHER_PARAMS: dict[str, tuple[Callable[[Any, User], Any], bool]] = {
    "inbound_id": (_inbound, True),  # a stored mail
    "macro_id": (_macro, True),
    "view_id": (_saved_view, True),
    "entry_id": (_time_entry, True),
    "user_id": (lambda world, boss: world.engineer.pk, True),  # a staff member of the vendor
    "kind": (lambda world, boss: next(iter(VARIABLES)), False),  # a mail template's kind
    "action": (lambda world, boss: None, False),  # per route: ACTIONS
}
# Per route, parameters built otherwise than above.
ROUTE_PARAMS: dict[str, dict[str, Callable[[Any, User], Any]]] = {
    "console/mail/<int:inbound_id>/confirm/": {"inbound_id": _claimed},
    "console/mail/<int:inbound_id>/discard/": {"inbound_id": _claimed},
    "console/kb/from-ticket/<int:ref>/": {"ref": _resolved_ticket},
    # a lapsed contract (an active one has nothing to reinstate: 409)
    "console/billing/contracts/<int:contract_id>/reinstate/": {
        "contract_id": lambda world, boss: lapsed_subscription(world).pk
    },
}
# `action` per route: an action that exists, asked with an empty form.
ACTIONS = {
    "console/tickets/<int:ref>/<slug:action>/": "reply",
    "console/settings/staff/<int:user_id>/<slug:action>/": "absence",
}


def _url(route: str, values: dict[str, Any]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)


@pytest.fixture
def boss(world: Any) -> User:
    """Staff of the vendor with every role (role checks other than admin are not under test)."""
    return staff_user_create(
        email="boss@vendor.example", password=PASSWORD, vendor=world.vendor, roles=Role.values
    )


@pytest.fixture
def rival_admin(world: Any) -> User:
    return staff_user_create(
        email="admin@rival.example", password=PASSWORD, vendor=world.other_vendor,
        roles=[Role.ADMIN],
    )  # fmt: skip


def _values(world: Any, boss: User, route: str) -> dict[str, Any]:
    """The route's parameters, each naming an object of the vendor (its organisation Acme)."""
    values: dict[str, Any] = {}
    for name in _params(route):
        if name in ROUTE_PARAMS.get(route, {}):
            values[name] = ROUTE_PARAMS[route][name](world, boss)
        elif name == "action":
            values[name] = ACTIONS[route]
        elif name in OTHER_PARAMS:
            values[name] = OTHER_PARAMS[name][0](world, boss)
        else:
            values[name] = BUILDERS[name][0](world, world.acme)
    return values


def test_every_console_route_parameter_is_known():
    names = {name for route in CONSOLE for name in _params(route)}
    assert CONSOLE and names <= set(BUILDERS) | set(OTHER_PARAMS), names
    with_action = {route for route in CONSOLE if "action" in _params(route)}
    assert with_action == set(ACTIONS), with_action
    assert all(route in CONSOLE for route in ADMIN_ONLY)


@pytest.mark.parametrize("route", CONSOLE)
def test_console_access_by_who_is_asking(client, world, boss, rival_admin, route):
    url = _url(route, _values(world, boss, route))
    client.force_login(boss)
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
    if _admin_only(route):  # staff of the vendor without the admin role: not for them either
        client.force_login(world.agent)
        assert send(url).status_code == 403, url
    has_object = any(OTHER_PARAMS.get(name, (None, True))[1] for name in _params(route))
    # Another vendor's staff: its admins where only admins get in, so the 404 is about the
    # object (or the page shows their own vendor's), not about the role.
    client.force_login(rival_admin if _admin_only(route) else world.rival_agent)
    rival = send(url)
    assert rival.status_code in ((404,) if has_object else (200, 302, 400)), (url, rival)


def test_queue_lists_own_vendor_tickets_and_filters(client, world):
    mine = make_ticket(world, subject="Printer offline")
    other = make_ticket(world, subject="Scanner jam", priority="P1")
    theirs = make_ticket(world, world.rex, subject="Rival secret")
    client.force_login(world.agent)
    page = client.get("/console/").content.decode()  # the default view: all open tickets
    assert "Printer offline" in page and "Scanner jam" in page and "Rival secret" not in page
    only_p1 = client.get("/console/", {"priority": "P1"}).content.decode()
    assert "Scanner jam" in only_p1 and "Printer offline" not in only_p1
    foreign = client.get("/console/", {"organization": world.rival_org.pk}).content.decode()
    assert "Rival secret" not in foreign and "Printer offline" not in foreign
    # built-in views narrow too: the agent's own open tickets
    ticket_services.ticket_assign(
        ticket=other, principal=principal_for(world.agent), assignee=world.agent, now=NOW
    )
    own = client.get("/console/", {"view": "mine"}).content.decode()
    assert "Scanner jam" in own and "Printer offline" not in own
    unassigned = client.get("/console/", {"view": "unassigned"}).content.decode()
    assert "Printer offline" in unassigned and "Scanner jam" not in unassigned
    # text search is its own page, ranked, own vendor's tickets only
    found = client.get("/console/search/", {"q": "printer"}).content.decode()
    assert "Printer offline" in found and "Scanner jam" not in found
    assert "Rival secret" not in client.get("/console/search/", {"q": "rival"}).content.decode()
    rows = client.get("/console/", HTTP_HX_REQUEST="true")
    assert b"<html" not in rows.content and b"Printer offline" in rows.content
    # a filter the list cannot read is dropped with a message, not applied
    bogus = client.get("/console/", {"status": "bogus"}, follow=True)
    assert bogus.status_code == 200 and "Filter ignored" in bogus.content.decode()
    assert "Printer offline" in bogus.content.decode()
    # a saved view is the agent's own filters: it opens as the list it saved
    saved = client.post("/console/views/save/", {"name": "Urgent", "priority": "P1"})
    assert saved.status_code == 302
    view = SavedView.objects.get(user=world.agent, name="Urgent")
    opened = client.get("/console/", {"saved": view.pk}, follow=True).content.decode()
    assert "Scanner jam" in opened and "Printer offline" not in opened
    client.force_login(world.rival_agent)  # nor another vendor's staff
    assert client.get("/console/", {"saved": view.pk}).status_code == 404
    rival_page = client.get("/console/").content.decode()
    assert "Rival secret" in rival_page and "Printer offline" not in rival_page
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
