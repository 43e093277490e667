"""Attach the shipped SLA presets to the demo vendors (called from demo.load)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any

from supportdesk.core.models import Vendor
from supportdesk.sla import services
from supportdesk.sla.domain.policy import preset_spec

# demo vendor slug -> policy preset key
PRESET_FOR_SLUG = {"enterprise": "enterprise", "msp": "msp", "phones": "subscription"}


# seed 000: "weekends and designated Omtool holidays" — the vendor's own days off, on top of
# the country's holidays
OWN_HOLIDAYS = {"enterprise": True}


def vendor_holidays(year: int) -> list[dict[str, Any]]:
    """The demo vendor's own holidays: the Friday after US Thanksgiving, and Christmas Eve
    from 13:00."""
    first = date(year, 11, 1)
    thanksgiving = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
    return [
        {"date": (thanksgiving + timedelta(days=1)).isoformat()},
        {"date": date(year, 12, 24).isoformat(), "closed_from": "13:00"},
    ]


def _for_vendor(spec: dict[str, Any], vendor: Vendor, slug: str, year: int) -> dict[str, Any]:
    """The preset in the vendor's own time zone when it has one (its response targets run on
    its clock; a vendor left on UTC keeps the preset's zone), with its own holidays in every
    calendar that keeps holidays."""
    spec = copy.deepcopy(spec)
    zone = vendor.timezone if vendor.timezone and vendor.timezone != "UTC" else None
    if zone:
        spec["policy"]["timezone"] = zone
    for calendar in spec["calendars"].values():
        if zone:
            calendar["timezone"] = zone
        if OWN_HOLIDAYS.get(slug) and calendar.get("holiday_sets"):
            calendar["holidays"] = vendor_holidays(year) + vendor_holidays(year + 1)
    return spec


def demo_extend(*, vendor: Vendor, slug: str, now: datetime) -> None:
    """Create the preset's calendars (in the vendor's zone, with its own holidays) and make
    its policy the vendor's default."""
    key = PRESET_FOR_SLUG.get(slug)
    if key is None:
        return
    spec = _for_vendor(preset_spec(key), vendor, slug, now.year)
    for name, calendar in spec["calendars"].items():
        services.sla_calendar_save(vendor=vendor, name=name, spec=calendar, now=now)
    services.sla_policy_save(vendor=vendor, spec=spec["policy"], is_default=True, now=now)
