"""Factory functions: every object is made through the services users go through."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from supportdesk.accounts.models import User
from supportdesk.accounts.services import api_token_create, staff_user_create
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal, principal_for
from supportdesk.customers.models import Contact, Organization
from supportdesk.customers.services import (
    contact_create,
    contact_portal_access_grant,
    organization_create,
)
from supportdesk.tickets import services
from supportdesk.tickets.models import Queue, Ticket

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # a Monday, before the real clock
PASSWORD = "correct-horse-battery"


@dataclass
class World:
    vendor: Vendor
    other_vendor: Vendor
    queue: Queue
    acme: Organization
    globex: Organization
    rival_org: Organization
    alice: Contact  # acme, portal user
    bob: Contact  # acme, portal user
    gina: Contact  # globex, portal user
    rex: Contact  # other vendor's customer, portal user
    agent: User
    engineer: User
    architect: User
    rival_agent: User  # staff of the other vendor

    def principal(self, who: User | Contact) -> Principal:
        user = who.user if isinstance(who, Contact) else who
        return principal_for(user)


def make_vendor(slug: str) -> Vendor:
    return Vendor.objects.create(
        name=f"{slug.title()} Support", slug=slug, support_email=f"support@{slug}.example"
    )


def make_contact(org: Organization, name: str, email: str, *, phone: str = "") -> Contact:
    contact = contact_create(
        organization=org, name=name, emails=[email], phones=[phone] if phone else []
    )
    contact_portal_access_grant(contact=contact, password=PASSWORD)
    contact.refresh_from_db()
    return contact


def build_world() -> World:
    vendor = make_vendor("vendor")
    other = make_vendor("rival")
    queue = Queue.objects.create(
        vendor=vendor, name="Support", email="support@vendor.example", is_default=True
    )
    Queue.objects.create(vendor=other, name="Support", is_default=True)
    agent = staff_user_create(
        email="agent@vendor.example", password=PASSWORD, vendor=vendor, roles=["agent"],
        display_name="Agent Smith",
    )  # fmt: skip
    engineer = staff_user_create(
        email="engineer@vendor.example", password=PASSWORD, vendor=vendor, roles=["engineer"]
    )
    architect = staff_user_create(
        email="architect@vendor.example", password=PASSWORD, vendor=vendor, roles=["architect"]
    )
    queue.members.add(agent, engineer, architect)
    rival_agent = staff_user_create(
        email="agent@rival.example", password=PASSWORD, vendor=other, roles=["agent"]
    )
    acme = organization_create(vendor=vendor, name="Acme")
    globex = organization_create(vendor=vendor, name="Globex")
    rival_org = organization_create(vendor=other, name="Rival Customer")
    return World(
        vendor=vendor,
        other_vendor=other,
        queue=queue,
        acme=acme,
        globex=globex,
        rival_org=rival_org,
        alice=make_contact(acme, "Alice", "alice@acme.example", phone="+12125550100"),
        bob=make_contact(acme, "Bob", "bob@acme.example"),
        gina=make_contact(globex, "Gina", "gina@globex.example"),
        rex=make_contact(rival_org, "Rex", "rex@rival.example"),
        agent=agent,
        engineer=engineer,
        architect=architect,
        rival_agent=rival_agent,
    )


def make_ticket(
    world: World, contact: Contact | None = None, *, now: datetime = NOW, **fields: Any
) -> Ticket:
    contact = contact or world.alice
    org = contact.organization
    values: dict[str, Any] = {
        "subject": "Printer offline",
        "body": "It says offline since 8am.",
        "priority": "P3",
        "channel": "portal",
    }
    values.update(fields)
    return services.ticket_create(
        principal=principal_for(contact.user),
        vendor=org.vendor,
        organization=org,
        requester=contact,
        now=now,
        **values,
    )


class ApiClient:
    """Django's test client speaking JSON with a bearer token."""

    def __init__(self, client: Any, user: User) -> None:
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user)}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, **self.headers)

    def _send(self, method: str, path: str, body: Any) -> Any:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return getattr(self.client, method)(
            f"/api/v1{path}", data, content_type="application/json", **self.headers
        )

    def post(self, path: str, body: Any) -> Any:
        return self._send("post", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._send("patch", path, body)
