"""The demo's SLA presets say what the seeds say (S-1, S-2): each vendor's targets run in its
own time zone, and the enterprise vendor's own holidays are in its calendars (seed 000:
"weekends and designated Omtool holidays")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supportdesk.core.models import Vendor
from supportdesk.sla.demo import demo_extend
from supportdesk.sla.domain.calendar import BusinessCalendar
from supportdesk.sla.models import Calendar, SlaPolicy

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_phone_preset_runs_in_the_vendors_own_zone_S1(world) -> None:
    vendor = Vendor.objects.create(name="Bluebell", slug="bluebell", timezone="America/Los_Angeles")
    demo_extend(vendor=vendor, slug="phones", now=NOW)
    policy = SlaPolicy.objects.get(vendor=vendor)
    assert policy.spec["timezone"] == "America/Los_Angeles"
    assert {c.spec["timezone"] for c in Calendar.objects.filter(vendor=vendor)} == {
        "America/Los_Angeles"
    }


def test_enterprise_calendar_keeps_the_vendors_own_holidays_S1_seed000(world) -> None:
    vendor = Vendor.objects.create(name="Northwind", slug="nw", timezone="America/New_York")
    demo_extend(vendor=vendor, slug="enterprise", now=NOW)
    calendars = [c for c in Calendar.objects.filter(vendor=vendor) if c.spec.get("holiday_sets")]
    assert calendars
    for row in calendars:
        dates = {h["date"] for h in row.spec["holidays"]}
        assert {"2026-11-27", "2026-12-24"} <= dates  # day after Thanksgiving, Christmas Eve
        BusinessCalendar.from_spec(row.spec)  # a valid calendar
