"""The lean read path (issue 16.1): list and get build their JSON from values() rows and
render it with orjson, skipping django-ninja's response validation. These tests prove the
lean output is what the old path (model instances -> ``ticket_out`` -> ``TicketOut``
validated by pydantic) produced, for a varied set of tickets, that it conforms to the
declared schema, and pin the statements per list page and per get.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportdesk.api.schemas import TicketOut, TicketPage
from supportdesk.api.serializers import ticket_out
from supportdesk.contracts.tests.django_helpers import make_contract, make_product
from supportdesk.core.tenancy import principal_for
from supportdesk.customers.models import ContactEmail
from supportdesk.tickets import selectors, services
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db

# Statements for one list page (and one get) besides authentication: the page (its
# always-present relations and the entitlement with its contract joined, the requester's
# primary address a subquery) and the products (only when a ticket on the page has one).
PAGE_STATEMENTS = 2
# Authentication with a bearer token: the token with its user, contact, organisation and
# roles joined. The address's sign-in failures (django-axes) were read by the request before,
# less than a second ago (accounts.throttling.bearer_address_allowed): not read again.
AUTH_STATEMENTS = 1


def _varied_tickets(world: Any) -> list[Any]:
    staff = principal_for(world.agent)
    made = [make_ticket(world)]  # portal, contact requester, no contract
    make_contract(world.acme, "enterprise")
    product = make_product(world.vendor)
    made.append(make_ticket(world, world.bob, product=product, version="10.2", channel="email"))
    # The requester's primary address is not the first one stored.
    ContactEmail.objects.filter(contact=world.bob).update(is_primary=False)
    ContactEmail.objects.create(
        contact=world.bob, vendor=world.vendor, address="bob.primary@acme.example", is_primary=True
    )
    no_requester = services.ticket_create(
        principal=staff, vendor=world.vendor, organization=world.globex, requester=None,
        subject="Phone call, caller unknown", body="Logged by phone", priority="P1",
        channel="phone", caller_number="+12125550199", now=NOW + timedelta(microseconds=123_456),
    )  # fmt: skip
    made.append(no_requester)
    assigned = make_ticket(world, world.gina, subject="Assigned", now=NOW + timedelta(hours=1))
    services.ticket_assign(ticket=assigned, principal=staff, assignee=world.agent, now=NOW)
    made.append(assigned)
    world.engineer.first_name, world.engineer.last_name = "Eve", "Engineer"
    world.engineer.save(update_fields=["first_name", "last_name"])
    named = make_ticket(world, subject="Full name, no display name")
    services.ticket_assign(ticket=named, principal=staff, assignee=world.engineer, now=NOW)
    made.append(named)
    email_only = make_ticket(world, subject="Assignee known by e-mail only")
    services.ticket_assign(ticket=email_only, principal=staff, assignee=world.architect, now=NOW)
    made.append(email_only)
    escalated = make_ticket(world, subject="Escalated", priority="P1")
    services.ticket_escalate(ticket=escalated, principal=staff, reason="Outage", now=NOW)
    made.append(escalated)
    closed = make_ticket(world, subject="Closed")
    services.ticket_close_out_of_scope(
        ticket=closed, principal=staff, scope="hardware", note="See your printer vendor", now=NOW
    )
    made.append(closed)
    return made


def _old_page(principal: Any, **filters: Any) -> list[dict[str, Any]]:
    """The pre-16.1 read path: model instances with their relations (``ticket_get``),
    ``ticket_out``, pydantic validation and dump."""
    query = selectors.ticket_list_query(
        principal=principal, filters=selectors.TicketFilters(**filters)
    )
    return [
        TicketOut.model_validate(
            ticket_out(selectors.ticket_get(principal=principal, ref=pk))
        ).model_dump(mode="json")
        for pk in query.values_list("pk", flat=True)[:50]
    ]


@pytest.mark.parametrize("who", ["agent", "alice"])
def test_lean_list_and_get_equal_the_schema_validated_output(api, world, who):
    made = _varied_tickets(world)
    user = world.agent if who == "agent" else world.alice.user
    principal = principal_for(user)
    client = api(user)
    expected = _old_page(principal)
    assert len(expected) == (len(made) if who == "agent" else 6)
    assert {bool(t["entitlement"] and t["entitlement"]["contract"]) for t in expected} == {
        True,
        False,
    }
    page = client.get("/tickets", limit=50)
    assert page.status_code == 200
    assert page["Content-Type"].startswith("application/json")
    assert page.json()["items"] == expected
    TicketPage.model_validate(page.json())  # conforms to the declared schema
    for item in expected:
        got = client.get(f"/tickets/{item['ref']}")
        assert got.status_code == 200 and got.json() == item
    hidden = next(t for t in made if t.organization_id != world.acme.pk)
    if who == "alice":
        assert client.get(f"/tickets/{hidden.ref}").status_code == 404


def test_lean_list_filters_equal_the_old_path(api, world):
    _varied_tickets(world)
    principal = principal_for(world.agent)
    client = api(world.agent)
    for filters, params in (
        ({"priority": "P1"}, {"priority": "P1"}),
        ({"status": "closed"}, {"status": "closed"}),
        ({"open_only": True}, {"open": "true"}),
        ({"escalated": True}, {"escalated": "true"}),
        ({"organization_id": world.globex.pk}, {"organization": world.globex.pk}),
    ):
        assert client.get("/tickets", **params).json()["items"] == _old_page(principal, **filters)
    # `q` ranks by relevance (tickets.search): the same tickets, in the same order, as the
    # model-instance path ranks them.
    ranked, _ = selectors.ticket_queue_page(
        principal=principal, filters=selectors.TicketFilters(q="assign")
    )
    expected = [
        TicketOut.model_validate(
            ticket_out(selectors.ticket_get(principal=principal, ref=t.pk))
        ).model_dump(mode="json")
        for t in ranked
    ]
    assert expected  # the word is on some of the tickets
    assert client.get("/tickets", q="assign").json()["items"] == expected


def test_list_page_and_get_statements_are_pinned_whatever_the_page_length(api, world):
    client = api(world.agent)
    make_ticket(world)
    ref = make_ticket(world, world.gina).ref
    client.get("/tickets")  # the first use of a token also records when it was last used
    with CaptureQueriesContext(connection) as auth_only:
        assert client.get("/tickets", status="bogus").status_code == 400
    auth = len(auth_only)
    assert auth == AUTH_STATEMENTS, [q["sql"] for q in auth_only]

    def statements(path: str, **params: Any) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path, **params).status_code == 200
        return len(captured) - auth

    assert statements("/tickets", limit=50) == PAGE_STATEMENTS - 1  # no product on the page
    make_contract(world.acme, "enterprise")
    product = make_product(world.vendor)
    for i in range(48):
        make_ticket(world, world.gina if i % 2 else world.bob, product=product)
    assert statements("/tickets", limit=50) == PAGE_STATEMENTS
    assert statements(f"/tickets/{ref}") == PAGE_STATEMENTS - 1  # no product on this one


@pytest.mark.parametrize("who", ["agent", "admin", "superuser", "alice", "not_staff", "inactive"])
def test_a_tokens_principal_is_the_users_principal(world, who):
    """The one-statement token lookup builds the principal ``principal_for`` builds."""
    from supportdesk.accounts.models import Role, StaffRole, User
    from supportdesk.accounts.services import api_token_create, api_token_principal

    if who == "alice":
        user = world.alice.user
    elif who == "superuser":
        user = User.objects.create_superuser("root@vendor.example", "x")
    else:
        user = world.agent
        for role in (Role.ENGINEER, Role.ADMIN) if who == "admin" else (Role.ENGINEER,):
            StaffRole.objects.get_or_create(user=user, role=role)
        if who in ("not_staff", "inactive"):
            user.is_staff = False
            user.is_active = who != "inactive"
            user.save(update_fields=["is_staff", "is_active"])
    raw = api_token_create(user=user)
    principal = api_token_principal(raw=raw, now=NOW)
    if who == "inactive":
        assert principal is None
        return
    assert principal == principal_for(User.objects.get(pk=user.pk))
    assert principal is not None
    if who == "admin":
        assert {"engineer", "admin"} <= principal.roles
    if who == "not_staff":  # unticking staff takes the vendor and the roles away
        assert principal.vendor_id is None and not principal.roles
