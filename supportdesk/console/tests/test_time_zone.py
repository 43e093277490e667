"""Times in the agent's own time zone (issue 10.9): a profile setting validated against the
IANA zones, activated for console pages only, named in the nav; typed time entries keep
meaning the vendor's zone whatever the agent's zone is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from supportdesk.contracts.models import TimeEntry
from supportdesk.tickets.models import AgentProfile
from supportdesk.tickets.selectors import agent_time_zone
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db

SLOT = {"started_at": "2026-12-01T16:30", "ended_at": "2026-12-01T18:30", "work_kind": "remote",
        "category": "problem", "billable": "on", "note": "Typed in New York time"}  # fmt: skip


@pytest.fixture
def new_york(world):
    world.vendor.timezone = "America/New_York"
    world.vendor.save(update_fields=["timezone"])
    return world


def _save_zone(client, zone: str):
    return client.post("/console/macros/", {"form": "time_zone", "time_zone": zone}, follow=True)


def test_zone_is_validated_saved_and_blank_means_the_vendors(client, new_york):
    world = new_york
    client.force_login(world.agent)
    assert agent_time_zone(user_id=world.agent.pk, vendor_id=world.vendor.pk) == "America/New_York"
    refused = _save_zone(client, "Mars/Olympus_Mons").content.decode()
    assert "unknown time zone" in refused and 'value="Mars/Olympus_Mons"' in refused  # kept
    assert not AgentProfile.objects.filter(user=world.agent).exists()
    page = _save_zone(client, "Asia/Tokyo").content.decode()
    assert "Time zone saved." in page and "Times in Asia/Tokyo" in page
    assert agent_time_zone(user_id=world.agent.pk, vendor_id=world.vendor.pk) == "Asia/Tokyo"
    page = _save_zone(client, "").content.decode()
    assert "Times in America/New_York" in page
    assert AgentProfile.objects.get(user=world.agent).time_zone == ""


def test_console_times_render_in_the_agents_zone_and_only_there(client, new_york):
    world = new_york
    ticket = make_ticket(world, subject="Clock check", now=NOW)  # 2026-01-05 15:00 UTC
    client.force_login(world.agent)
    page = client.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert "2026-01-05 10:00" in page and "Times in America/New_York" in page
    _save_zone(client, "Asia/Tokyo")
    page = client.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert "2026-01-06 00:00" in page and "Times in Asia/Tokyo" in page
    assert "2026-01-05 10:00" not in page
    # The zone is the request's only: nothing leaks to the next request or thread.
    assert timezone.get_current_timezone_name() == "UTC"


def test_typed_time_entries_keep_meaning_the_vendors_zone(client, new_york):
    world = new_york
    ticket = make_ticket(world, world.gina, subject="VPN profile", now=NOW)
    client.force_login(world.agent)
    _save_zone(client, "Asia/Tokyo")
    page = client.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert "Start and end are in the vendor's zone, America/New_York" in page
    logged = client.post(f"/console/tickets/{ticket.ref}/time/", SLOT)
    assert logged.status_code == 302, logged.content[:400]
    entry = TimeEntry.objects.get(ticket=ticket)
    assert entry.started_at == datetime(2026, 12, 1, 21, 30, tzinfo=UTC)  # 16:30 New York
    page = client.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert "2026-12-01 16:30–18:30" in page  # the entry is shown as typed
    form = client.get(f"/console/tickets/{ticket.ref}/time/{entry.pk}/").content.decode()
    assert 'value="2026-12-01T16:30"' in form and "Times are in America/New_York" in form


def test_maintenance_windows_are_typed_and_listed_in_utc_whatever_the_agents_zone(client, new_york):
    """The one other typed time on console pages: read as UTC, so the list shows UTC too."""
    from supportdesk.monitoring.models import MaintenanceWindow

    world = new_york
    client.force_login(world.agent)
    _save_zone(client, "Asia/Tokyo")
    planned = client.post("/console/alerts/maintenance/new/", {
        "organization": world.alice.organization_id, "starts_at": "2026-12-10T22:00",
        "ends_at": "2026-12-10T23:30", "reason": "Firmware",
    })  # fmt: skip
    assert planned.status_code == 302, planned.content[:300]
    window = MaintenanceWindow.objects.get(reason="Firmware")
    assert window.starts_at == datetime(2026, 12, 10, 22, 0, tzinfo=UTC)
    page = client.get("/console/alerts/integrations/").content.decode()
    assert "From (UTC) <input" in page and "2026-12-10 22:00" in page
    assert "Times in Asia/Tokyo" in page
    assert "(dates are whole UTC days)" in client.get("/console/").content.decode()
