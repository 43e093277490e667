"""Attach the shipped SLA presets to the demo vendors (called from demo.load)."""

from __future__ import annotations

from datetime import datetime

from supportdesk.core.models import Vendor
from supportdesk.sla import services
from supportdesk.sla.domain.policy import preset_spec

# demo vendor slug -> policy preset key
PRESET_FOR_SLUG = {"enterprise": "enterprise", "msp": "msp", "phones": "subscription"}


def demo_extend(*, vendor: Vendor, slug: str, now: datetime) -> None:
    """Create the preset's calendars and make its policy the vendor's default."""
    key = PRESET_FOR_SLUG.get(slug)
    if key is None:
        return
    spec = preset_spec(key)
    for name, calendar in spec["calendars"].items():
        services.sla_calendar_save(vendor=vendor, name=name, spec=calendar, now=now)
    services.sla_policy_save(vendor=vendor, spec=spec["policy"], is_default=True, now=now)
