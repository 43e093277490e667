"""Macros, canned replies and signatures (T-12, issue 10.4)."""

from __future__ import annotations

import pytest

from supportdesk.accounts.services import staff_user_create
from supportdesk.core.errors import Forbidden, InvalidInput, NotFound
from supportdesk.tickets import services_console
from supportdesk.tickets.macros import macro_apply, macro_get, macro_list, macro_render
from supportdesk.tickets.models import TicketEvent
from tests.factories import NOW, PASSWORD, make_ticket

pytestmark = pytest.mark.django_db


def macro(world, who=None, vendor_wide=False, **data):
    return services_console.macro_create(
        principal=world.principal(who or world.agent), data={"name": "m", **data},
        vendor_wide=vendor_wide, now=NOW,
    )  # fmt: skip


def test_placeholders_fill_from_the_ticket_requester_and_agent_T12(world):
    ticket = make_ticket(world, subject="Printer offline")
    m = macro(
        world,
        body="Hi {{ requester.first_name }}, #{{ ticket.ref }} ({{ ticket.subject|lower }}) "
        "is with {{ agent.name }} at {{ organization.name }}.",
    )
    text = macro_render(macro=m, ticket=ticket, agent=world.agent)
    assert text == f"Hi Alice, #{ticket.ref} (printer offline) is with Agent Smith at Acme."


def test_rendering_is_sandboxed_no_tags_no_model_objects_T12(world):
    ticket = make_ticket(world)
    for body in ("{% load static %}", "{% include 'base.html' %}", "{% debug %}",
                 "{% url 'console:queue' %}", "{{ x|nosuchfilter }}", "{% if %}"):  # fmt: skip
        with pytest.raises(InvalidInput, match="cannot be used as a macro"):
            macro(world, body=body)
    m = macro(world, body="[{{ ticket.organization.vendor }}][{{ requester.user.password }}]")
    assert macro_render(macro=m, ticket=ticket, agent=world.agent) == "[][]"


def test_macro_sets_status_priority_assignee_and_tags_through_services_T12(world):
    ticket = make_ticket(world)
    m = macro(world, set_status="waiting_customer", set_priority="P2", assign_to_me="on",
              add_tags="callback, vip")  # fmt: skip
    done = macro_apply(macro=m, ticket=ticket, principal=world.principal(world.agent), now=NOW)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == (
        "waiting_customer",
        "P2",
        world.agent,
    )
    assert sorted(t.name for t in ticket.tags.all()) == ["callback", "vip"]
    assert len(done) == 5
    kinds = set(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert {"status_changed", "priority_changed", "assigned", "tag_added"} <= kinds


def test_personal_and_vendor_wide_macros_are_scoped_T12(world):
    mine = macro(world, name="mine", body="x")
    with pytest.raises(Forbidden):
        macro(world, name="shared", body="x", vendor_wide=True)
    admin = staff_user_create(
        email="boss@vendor.example", password=PASSWORD, vendor=world.vendor, roles=["admin"]
    )
    shared = macro(world, who=admin, name="shared", body="x", vendor_wide=True)
    assert list(macro_list(principal=world.principal(world.agent))) == [mine, shared]
    assert list(macro_list(principal=world.principal(world.engineer))) == [shared]
    assert list(macro_list(principal=world.principal(world.rival_agent))) == []
    assert list(macro_list(principal=world.principal(world.alice))) == []
    with pytest.raises(NotFound):
        macro_get(principal=world.principal(world.engineer), macro_id=mine.pk)
    with pytest.raises(InvalidInput, match="text or something"):
        macro(world, name="empty")


def test_signature_is_appended_to_public_replies_only_T12(world, client):
    ticket = make_ticket(world)
    services_console.signature_save(
        principal=world.principal(world.agent), signature="Agent Smith\nVendor"
    )
    client.force_login(world.agent)
    url = f"/console/tickets/{ticket.ref}/reply/"
    client.post(url, {"body": "Fixed it.", "kind": "public"})
    client.post(url, {"body": "Note to self.", "kind": "internal"})
    public, note = ticket.messages.order_by("pk")[1:]
    assert public.body_text == "Fixed it.\n\n-- \nAgent Smith\nVendor"
    assert note.body_text == "Note to self."


def test_insert_menu_endpoint_renders_for_this_ticket_and_agent_T12(world, client):
    ticket = make_ticket(world)
    m = macro(world, body="Dear {{ requester.name }}")
    client.force_login(world.agent)
    response = client.get(f"/console/tickets/{ticket.ref}/macros/{m.pk}/")
    assert response.status_code == 200 and response.content == b"Dear Alice"
    client.force_login(world.rival_agent)
    assert client.get(f"/console/tickets/{ticket.ref}/macros/{m.pk}/").status_code == 404


def test_macro_page_keeps_what_was_typed_on_an_error_T12(world, client):
    client.force_login(world.agent)
    page = client.post("/console/macros/", {"form": "macro", "name": "Greeting",
                                            "body": "Hi {% debug %}"})  # fmt: skip
    html = page.content.decode()
    assert page.status_code == 200 and "cannot be used as a macro" in html
    assert 'value="Greeting"' in html and "Hi {% debug %}" in html


def test_demo_gives_every_agent_macros_and_a_signature_T12(world):
    from supportdesk.tickets.demo import demo_extend
    from supportdesk.tickets.macros import signature_get

    demo_extend(vendor=world.vendor, now=NOW)
    names = [m.name for m in macro_list(principal=world.principal(world.engineer))]
    assert names == ["Ask for logs", "Escalate to P1 and take it", "Solved, please confirm"]
    assert signature_get(user_id=world.engineer.pk).startswith(world.engineer.name)
    ticket = make_ticket(world)
    logs = macro_list(principal=world.principal(world.engineer)).get(name="Ask for logs")
    assert macro_render(macro=logs, ticket=ticket, agent=world.engineer).startswith("Hi Alice,")
