from __future__ import annotations

import base64
import importlib.metadata

import pytest

from supportdesk.tickets.models import Ticket
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_health_and_schema_are_public(client, db):
    health = client.get("/api/v1/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["database"] == "ok"
    assert health.json()["version"] == importlib.metadata.version("supportdesk")
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/tickets", "/api/v1/tickets/{ref}", "/api/v1/tickets/{ref}/messages",
                 "/api/v1/tickets/{ref}/escalate", "/api/v1/organizations",
                 "/api/v1/organizations/{org_id}/contacts"):  # fmt: skip
        assert path in schema["paths"], path
    assert client.get("/api/v1/docs").status_code == 200


def test_requests_without_a_valid_token_get_401_json(client, world):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer sd_not-a-real-token"}):
        response = client.get("/api/v1/tickets", **headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"


def test_contact_creates_ticket_for_own_organisation(api, world):
    response = api(world.alice.user).post(
        "/tickets",
        {"subject": "Scanner jam", "body": "Tray 2", "priority": "P2",
         "attachments": [{"filename": "shot.png",
                          "content_base64": base64.b64encode(PNG).decode()}]},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["organization"] == {"id": world.acme.pk, "name": "Acme"}
    assert body["requester"]["email"] == "alice@acme.example"
    ticket = Ticket.objects.get(pk=body["ref"])
    assert ticket.messages.get().attachments.get().content_type == "image/png"


def test_staff_creates_ticket_naming_organisation_and_requester_by_email(api, world):
    response = api(world.agent).post(
        "/tickets",
        {"subject": "Call", "body": "Logged", "priority": "P1", "channel": "phone",
         "organization": world.globex.pk, "requester": "GINA@globex.example"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["requester"]["id"] == world.gina.pk


@pytest.mark.parametrize(
    ("payload", "status", "needle"),
    [
        ({"subject": "x", "body": "y", "priority": "P7", "organization": 0}, 400, "priority"),
        ({"subject": "x", "body": "y"}, 400, "which organisation"),
        ({"body": "y", "priority": "P1"}, 422, "subject: Field required"),
        ({"subject": "x", "body": "y", "organization": "abc"}, 422, "organization"),
        ({"subject": "x", "body": "y", "requester": "nobody@x.example", "organization": None},
         400, "which organisation"),
        ('{"subject": ', 400, ""),
    ],
)  # fmt: skip
def test_bad_input_gets_4xx_with_a_message(api, world, payload, status, needle):
    if isinstance(payload, dict) and payload.get("organization") == 0:
        payload["organization"] = world.acme.pk
    response = api(world.agent).post("/tickets", payload)
    assert response.status_code == status, response.content
    assert needle in response.json()["detail"]
    assert Ticket.objects.count() == 0


def test_unknown_requester_email_is_a_400(api, world):
    response = api(world.agent).post(
        "/tickets",
        {"subject": "x", "body": "y", "organization": world.acme.pk, "requester": "no@x.example"},
    )
    assert response.status_code == 400 and "no contact" in response.json()["detail"]


def test_list_filters_and_walks_every_page_once_with_the_cursor(api, world):
    made = [make_ticket(world, priority="P1" if i % 3 == 0 else "P3") for i in range(11)]
    make_ticket(world, world.gina, priority="P1")
    client = api(world.alice.user)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"priority": "P1", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/tickets", **params).json()
        seen += [t["ref"] for t in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = sorted((t.ref for i, t in enumerate(made) if i % 3 == 0), reverse=True)
    assert seen == expected and pages == 2
    assert client.get("/tickets", cursor="garbage!").status_code == 400
    assert client.get("/tickets", limit=0).status_code == 422
    assert client.get("/tickets", status="bogus").status_code == 400


def test_a_list_page_costs_the_same_queries_whatever_its_length(api, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(world.agent)

    def queries_for_page() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            items = client.get("/tickets", limit=50).json()["items"]
        assert all(item["entitlement"] is not None for item in items)
        return len(items), len(captured)

    make_ticket(world)
    make_ticket(world, world.gina)
    queries_for_page()  # the first use of a token also records when it was last used
    few, few_queries = queries_for_page()
    for i in range(12):
        make_ticket(world, world.gina if i % 2 else world.alice)
    many, many_queries = queries_for_page()
    assert (few, many) == (2, 14)
    assert many_queries == few_queries, (few_queries, many_queries)


def test_staff_patch_changes_fields_through_the_services(api, world):
    ticket = make_ticket(world)
    response = api(world.agent).patch(
        f"/tickets/{ticket.ref}",
        {"priority": "P2", "status": "open", "assignee": world.engineer.pk, "subject": "New"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["priority"], body["status"], body["subject"]) == ("P2", "open", "New")
    assert body["assignee"]["id"] == world.engineer.pk
    kinds = set(ticket.events.values_list("kind", flat=True))
    assert {"priority_changed", "status_changed", "assigned", "subject_changed"} <= kinds
    auto = api(world.agent).patch(f"/tickets/{ticket.ref}", {"assignee": "auto"})
    assert auto.status_code == 200
    bad = api(world.agent).patch(f"/tickets/{ticket.ref}", {"assignee": world.rival_agent.pk})
    assert bad.status_code == 400


def test_contacts_cannot_patch(api, world):
    ticket = make_ticket(world)
    response = api(world.alice.user).patch(f"/tickets/{ticket.ref}", {"status": "closed"})
    assert response.status_code == 403


def test_messages_thread_hides_internal_notes_from_customers(api, world):
    ticket = make_ticket(world)
    staff = api(world.agent)
    assert (
        staff.post(
            f"/tickets/{ticket.ref}/messages", {"body": "hm", "kind": "internal"}
        ).status_code
        == 201
    )
    assert staff.post(f"/tickets/{ticket.ref}/messages", {"body": "On it"}).status_code == 201
    customer = api(world.bob.user)
    thread = customer.get(f"/tickets/{ticket.ref}/messages").json()
    assert [m["body"] for m in thread] == ["It says offline since 8am.", "On it"]
    assert len(staff.get(f"/tickets/{ticket.ref}/messages").json()) == 3
    denied = customer.post(f"/tickets/{ticket.ref}/messages", {"body": "x", "kind": "internal"})
    assert denied.status_code == 403


def test_escalate_T9(api, world):
    ticket = make_ticket(world, priority="P1")
    response = api(world.agent).post(f"/tickets/{ticket.ref}/escalate", {"reason": "Kernel bug"})
    assert response.status_code == 200
    assert response.json()["escalation_reason"] == "Kernel bug"
    again = api(world.agent).post(f"/tickets/{ticket.ref}/escalate", {"reason": "x"})
    assert again.status_code == 400 and again.json()["code"] == "already_escalated"
    customer = api(world.alice.user).post(f"/tickets/{ticket.ref}/escalate", {"reason": "x"})
    assert customer.status_code == 403


def test_organisations_and_contacts(api, world):
    staff = api(world.agent)
    created = staff.post("/organizations", {"name": "Initech"})
    assert created.status_code == 201
    org_id = created.json()["id"]
    assert staff.post("/organizations", {"name": "initech"}).status_code == 409
    contact = staff.post(
        f"/organizations/{org_id}/contacts",
        {"name": "Peter", "email": "Peter@Initech.example", "phones": ["281 555 0199"]},
    )
    assert contact.status_code == 201, contact.content
    assert contact.json()["email"] == "peter@initech.example"
    assert contact.json()["phones"] == ["+12815550199"]
    dup = staff.post(
        f"/organizations/{org_id}/contacts", {"name": "P2", "email": "peter@initech.example"}
    )
    assert dup.status_code == 409
    bad_phone = staff.post(
        f"/organizations/{org_id}/contacts",
        {"name": "Q", "email": "q@i.example", "phones": ["abc"]},
    )
    assert bad_phone.status_code == 400
    listed = staff.get(f"/organizations/{org_id}/contacts").json()
    assert [c["name"] for c in listed] == ["Peter"]
    assert api(world.alice.user).post("/organizations", {"name": "Mine"}).status_code == 403
    names = [o["name"] for o in api(world.alice.user).get("/organizations").json()]
    assert names == ["Acme"]


# --- tenancy: every endpoint, another customer's (or vendor's) object answers 404 -------------


def _endpoints(ticket_ref: int, org_id: int) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", f"/tickets/{ticket_ref}", None),
        ("patch", f"/tickets/{ticket_ref}", {"priority": "P1"}),
        ("get", f"/tickets/{ticket_ref}/messages", None),
        ("post", f"/tickets/{ticket_ref}/messages", {"body": "peek"}),
        ("post", f"/tickets/{ticket_ref}/escalate", {"reason": "peek"}),
        ("get", f"/organizations/{org_id}", None),
        ("get", f"/organizations/{org_id}/contacts", None),
        ("post", f"/organizations/{org_id}/contacts", {"name": "x", "email": "x@x.example"}),
    ]


@pytest.mark.parametrize("index", range(8))
@pytest.mark.parametrize(
    "intruder", ["other_customer", "other_vendor_staff", "other_vendor_contact"]
)
def test_another_tenant_gets_404_on_every_endpoint(api, world, index, intruder):
    ticket = make_ticket(world, world.alice)
    user = {
        "other_customer": world.gina.user,
        "other_vendor_staff": world.rival_agent,
        "other_vendor_contact": world.rex.user,
    }[intruder]
    method, path, body = _endpoints(ticket.ref, world.acme.pk)[index]
    client = api(user)

    def footprint() -> tuple[int, int, int]:
        return ticket.events.count(), ticket.messages.count(), world.acme.contacts.count()

    before = footprint()
    response = client.get(path) if body is None else getattr(client, method)(path, body)
    assert response.status_code == 404, (path, response.content)
    assert response.json()["code"] == "not_found"
    assert footprint() == before


def test_a_user_no_longer_staff_sees_nothing(api, world):
    make_ticket(world, world.alice)
    client = api(world.agent)
    assert len(client.get("/tickets").json()["items"]) == 1
    world.agent.is_staff = False
    world.agent.save(update_fields=["is_staff"])
    assert client.get("/tickets").json()["items"] == []
    assert client.get("/organizations").json() == []


def test_tenants_lists_never_include_other_tenants(api, world):
    make_ticket(world, world.alice)
    make_ticket(world, world.gina)
    make_ticket(world, world.rex)
    assert len(api(world.gina.user).get("/tickets").json()["items"]) == 1
    assert len(api(world.agent).get("/tickets").json()["items"]) == 2
    assert len(api(world.rival_agent).get("/tickets").json()["items"]) == 1
    # Filtering by a foreign organisation id finds nothing rather than leaking.
    assert api(world.gina.user).get("/tickets", organization=world.acme.pk).json()["items"] == []
    staff_create = api(world.rival_agent).post(
        "/tickets", {"subject": "x", "body": "y", "organization": world.acme.pk}
    )
    assert staff_create.status_code == 404
    contact_create = api(world.gina.user).post(
        "/tickets", {"subject": "x", "body": "y", "organization": world.acme.pk}
    )
    assert contact_create.status_code == 404


def test_attachment_download_is_tenant_scoped_and_never_inline_html(client, world):
    from supportdesk.tickets.services import AttachmentInput

    ticket = make_ticket(
        world, attachments=[AttachmentInput("x.html", b"<html><script>1</script></html>")]
    )
    attachment = ticket.messages.get().attachments.get()
    client.force_login(world.bob.user)
    response = client.get(f"/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(world.gina.user)
    assert client.get(f"/attachments/{attachment.pk}/").status_code == 404
    client.force_login(world.rival_agent)
    assert client.get(f"/attachments/{attachment.pk}/").status_code == 404


@pytest.mark.parametrize(
    "fields",
    [{"channel": "phone"}, {"channel": "portal"}, {"caller_number": "+12125550100"},
     {"channel": "api", "caller_number": "+12125550100"}],
)  # fmt: skip
def test_contacts_cannot_set_channel_or_caller_number(api, world, fields):
    """Issue 17.3: the channel decides caps and response targets; the caller number is staff's."""
    response = api(world.alice.user).post("/tickets", {"subject": "s", "body": "b", **fields})
    assert response.status_code == 403, response.content
    assert not Ticket.objects.exists()


def test_contact_ticket_channel_is_the_api_and_staff_may_set_it(api, world):
    mine = api(world.alice.user).post("/tickets", {"subject": "s", "body": "b", "channel": "api"})
    assert mine.status_code == 201 and mine.json()["channel"] == "api"
    logged = api(world.agent).post(
        "/tickets",
        {"subject": "Call", "body": "b", "channel": "phone", "caller_number": "+12125550100",
         "organization": world.acme.pk},
    )  # fmt: skip
    assert logged.status_code == 201, logged.content
    assert (logged.json()["channel"], logged.json()["caller_number"]) == ("phone", "+12125550100")


def test_portal_ignores_channel_and_caller_number_fields(client, world):
    client.force_login(world.alice.user)
    response = client.post(
        "/portal/tickets/new/",
        {"subject": "s", "body": "b", "priority": "P3", "channel": "phone",
         "caller_number": "+12125550100"},
    )  # fmt: skip
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.caller_number) == ("portal", "")
