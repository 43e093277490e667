"""Time tracking on the ticket page (issue 10.7, B-7, E-5): logged through the contracts
service, split by rate period, priced as the billing run prices it, editable by its author
until invoiced."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from supportdesk.billing import runs
from supportdesk.billing.models import Invoice
from supportdesk.billing.tests.test_django_billing import make_rate_card
from supportdesk.contracts.models import TimeEntry
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db

# Tuesday 1 December 2026, 16:30-18:30 in New York: 30 min business, 90 min after hours.
SLOT = {"started_at": "2026-12-01T16:30", "ended_at": "2026-12-01T18:30", "work_kind": "remote",
        "category": "problem", "billable": "on", "note": "Rebuilt the VPN profile"}  # fmt: skip


@pytest.fixture
def hourly_ticket(world):
    world.vendor.timezone = "America/New_York"
    world.vendor.save(update_fields=["timezone"])
    make_rate_card(world)  # 150/h business, 225/h after hours, 08:00-17:00 New York
    return make_ticket(world, world.gina, subject="VPN profile", now=NOW)


def test_logged_time_shows_the_period_split_and_what_the_run_invoices_B7(
    client, world, hourly_ticket
):
    client.force_login(world.agent)
    logged = client.post(f"/console/tickets/{hourly_ticket.ref}/time/", SLOT)
    assert logged.status_code == 302, logged.content[:400]
    entry = TimeEntry.objects.get(ticket=hourly_ticket)
    assert entry.started_at == datetime(2026, 12, 1, 21, 30, tzinfo=UTC)
    assert (entry.minutes, entry.engineer, entry.billable) == (120, world.agent, True)
    page = client.get(f"/console/tickets/{hourly_ticket.ref}/").content.decode()
    assert "Business hours 30 min, After hours 90 min" in page
    assert "hourly 412.50 USD" in page  # 0.5 h x 150 + 1.5 h x 225
    runs.billing_run(today=date(2027, 1, 1), now=datetime(2027, 1, 1, 12, tzinfo=UTC))
    invoice = Invoice.objects.get(organization=world.gina.organization)
    assert invoice.total == Decimal("412.50")
    page = client.get(f"/console/tickets/{hourly_ticket.ref}/").content.decode()
    assert f"invoiced 412.50 USD · {invoice.label}" in page and "hourly 412.50 USD" in page
    assert "2026-12-01 16:30–18:30" in page  # in the vendor's time zone
    # invoiced time cannot change any more: the form says so and keeps what was typed
    refused = client.post(
        f"/console/tickets/{hourly_ticket.ref}/time/{entry.pk}/", {**SLOT, "note": "typed"}
    )
    assert refused.status_code == 200 and "invoiced already" in refused.content.decode()
    assert "typed" in refused.content.decode()


def test_only_the_author_edits_or_removes_time(client, world, hourly_ticket):
    client.force_login(world.agent)
    client.post(f"/console/tickets/{hourly_ticket.ref}/time/", SLOT)
    entry = TimeEntry.objects.get(ticket=hourly_ticket)
    url = f"/console/tickets/{hourly_ticket.ref}/time/{entry.pk}/"
    changed = client.post(url, {**SLOT, "ended_at": "", "minutes": "45", "billable": ""})
    assert changed.status_code == 302
    entry.refresh_from_db()
    assert (entry.minutes, entry.billable) == (45, False)
    client.force_login(world.engineer)
    other = client.post(url, SLOT)
    assert other.status_code == 200 and "only the engineer who logged" in other.content.decode()
    assert client.post(url + "delete/").status_code == 403
    client.force_login(world.rival_agent)
    assert client.get(url).status_code == 404
    client.force_login(world.agent)
    assert client.post(url + "delete/").status_code == 302
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()


def test_a_form_the_service_would_refuse_is_shown_with_its_problem(client, world, hourly_ticket):
    client.force_login(world.agent)
    both = client.post(f"/console/tickets/{hourly_ticket.ref}/time/", {**SLOT, "minutes": "30"})
    assert both.status_code == 200 and "not both" in both.content.decode()
    future = client.post(
        f"/console/tickets/{hourly_ticket.ref}/time/",
        {**SLOT, "started_at": "2099-01-01T10:00", "ended_at": "2099-01-01T11:00"},
    )
    assert future.status_code == 200 and "cannot end in the future" in future.content.decode()
    assert not TimeEntry.objects.exists()
