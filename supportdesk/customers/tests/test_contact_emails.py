"""Issue 17.5 item 1: contact addresses stored in the form intake matches (T-2)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps

from supportdesk.customers.models import ContactEmail
from supportdesk.intake import services as intake
from supportdesk.intake.models import InboundState
from supportdesk.intake.tests.test_django_ingest import mail
from supportdesk.tickets.models import Ticket
from tests.factories import NOW

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "supportdesk.customers.migrations.0002_normalise_contact_emails"
)


def test_data_migration_normalises_rows_the_admin_wrote_and_intake_then_matches_T2(world: Any):
    # Before rule 15 the admin stored whatever was typed.
    ContactEmail.objects.create(
        contact=world.alice, vendor=world.vendor, address="Alice.Second@Acme.example"
    )
    ContactEmail.objects.create(contact=world.bob, vendor=world.vendor, address="BOB@acme.example")
    migration.normalise_contact_emails(apps, None)
    addresses = set(ContactEmail.objects.values_list("address", flat=True))
    assert {"alice.second@acme.example", "bob@acme.example"} <= addresses
    assert "BOB@acme.example" in addresses  # taken by Bob's own row: left for a person
    result = intake.email_ingest(
        mail(sender="Alice <Alice.Second@Acme.example>"),
        vendor=world.vendor,
        now=NOW,
        source="test",
    )
    assert result.state == InboundState.TICKET_CREATED
    assert Ticket.objects.get(pk=result.ticket_id).requester == world.alice


def test_contact_phone_is_read_in_the_vendors_country_T6(world: Any):
    """Issue 17.5 item 7: a UK vendor's `020 7946 0018` is +442079460018."""
    from supportdesk.customers.services import contact_create

    world.vendor.country = "GB"
    world.vendor.save(update_fields=["country"])
    org = type(world.acme).objects.get(pk=world.acme.pk)  # its vendor read afresh
    contact = contact_create(organization=org, name="Uma", phones=["020 7946 0018"])
    assert list(contact.phones.values_list("number", flat=True)) == ["+442079460018"]
