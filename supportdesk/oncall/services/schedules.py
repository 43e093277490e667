"""On-call set-up writes: configuration, schedules, escalation chains (O-1, O-4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from supportdesk.accounts.models import Role, User
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.phones import normalize_e164
from supportdesk.oncall.domain.escalation import EscalationChain as DomainChain
from supportdesk.oncall.domain.escalation import (
    NotifyOnCall,
    NotifyPersons,
    NotifyRole,
)
from supportdesk.oncall.domain.schedule import Schedule as DomainSchedule
from supportdesk.oncall.domain.schedule import participants
from supportdesk.oncall.models import (
    EmergencyMenu,
    EscalationChain,
    OnCallConfig,
    Schedule,
)
from supportdesk.sla.domain.calendar import BusinessCalendar
from supportdesk.sla.models import Calendar

# Chain specs may name the domain's generic role; staff roles are accounts.Role values.
ROLE_ALIASES = {"system_architect": Role.ARCHITECT.value}
DEFAULT_BUSINESS_HOURS = {
    "weekly": {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
}


def config_for(vendor: Vendor) -> OnCallConfig:
    config, _ = OnCallConfig.objects.get_or_create(vendor=vendor)
    return config


def business_calendar(config: OnCallConfig) -> BusinessCalendar:
    """The phone line's business hours: the chosen SLA calendar (S-1) — the same working
    hours and holidays the response targets run on — else the config's own hours."""
    if config.business_calendar is not None:
        return config.business_calendar.calendar()
    spec = dict(config.business_hours or DEFAULT_BUSINESS_HOURS)
    spec.setdefault("timezone", config.vendor.timezone)
    return BusinessCalendar.from_spec(spec)


@transaction.atomic
def config_update(
    *,
    vendor: Vendor,
    business_calendar: Calendar | None = None,
    business_hours: Mapping[str, Any] | None = None,
    helpdesk_number: str | None = None,
    inbound_numbers: Iterable[str] | None = None,
    emergency_chain: EscalationChain | None = None,
    sms_gateway_domain: str | None = None,
    emergency_menu: str | None = None,
) -> OnCallConfig:
    config = OnCallConfig.objects.select_for_update().get(pk=config_for(vendor).pk)
    region = vendor.country
    if business_calendar is not None:
        if business_calendar.vendor_id != vendor.pk:
            raise InvalidInput("the business calendar belongs to another vendor")
        config.business_calendar = business_calendar
    if business_hours is not None:
        spec = dict(business_hours)
        spec.setdefault("timezone", vendor.timezone)
        try:
            BusinessCalendar.from_spec(spec)
        except ValueError as exc:
            raise InvalidInput(f"business hours: {exc}") from None
        config.business_hours = spec
    if helpdesk_number is not None:
        config.helpdesk_number = (
            normalize_e164(helpdesk_number, region=region) if helpdesk_number else ""
        )
    if inbound_numbers is not None:
        numbers = [normalize_e164(n, region=region) for n in inbound_numbers if n]
        config.inbound_numbers = "\n".join(numbers)
    if emergency_chain is not None:
        if emergency_chain.vendor_id != vendor.pk:
            raise InvalidInput("the emergency chain belongs to another vendor")
        config.emergency_chain = emergency_chain
    if sms_gateway_domain is not None:
        config.sms_gateway_domain = sms_gateway_domain.strip().lstrip("@").lower()
    if emergency_menu is not None:
        if emergency_menu not in EmergencyMenu.values:
            raise InvalidInput(
                f"emergency_menu must be one of {', '.join(EmergencyMenu.values)}, "
                f"not {emergency_menu!r}"
            )
        config.emergency_menu = emergency_menu
    dialled = set(config.inbound_numbers.split())
    if config.helpdesk_number and config.helpdesk_number in dialled:
        raise InvalidInput(
            f"the phone menu would forward callers to {config.helpdesk_number}, the number they "
            "dialled: give the helpdesk a line of its own"
        )
    config.save()
    return config


def _staff_by_key(vendor_id: int) -> dict[str, User]:
    users = User.objects.filter(vendor_id=vendor_id, is_staff=True, is_active=True)
    return {u.email.lower(): u for u in users}


@transaction.atomic
def schedule_save(
    *, vendor: Vendor, slug: str, name: str, spec: Mapping[str, Any], now: datetime
) -> Schedule:
    """Create or replace the schedule `slug` (O-1). Participants are staff emails."""
    data = dict(spec)
    data["id"] = slug
    data.setdefault("name", name)
    try:
        schedule = DomainSchedule.from_spec(data)
    except ValueError as exc:
        raise InvalidInput(f"schedule: {exc}") from None
    staff = _staff_by_key(vendor.pk)
    unknown = [p for p in participants(schedule) if p.lower() not in staff]
    if unknown:
        raise InvalidInput(f"schedule: not staff of {vendor.name}: {', '.join(unknown)}")
    row, _ = Schedule.objects.update_or_create(
        vendor=vendor,
        slug=slug,
        defaults={"name": name, "spec": schedule.to_spec(), "updated_at": now},
        create_defaults={
            "name": name, "spec": schedule.to_spec(), "created_at": now, "updated_at": now
        },
    )  # fmt: skip
    return row


@transaction.atomic
def chain_save(
    *, vendor: Vendor, slug: str, name: str, spec: Mapping[str, Any], now: datetime
) -> EscalationChain:
    """Create or replace the escalation chain `slug` (O-4), checking what its steps name."""
    data = dict(spec)
    data["id"] = slug
    data.setdefault("name", name)
    try:
        chain = DomainChain.from_spec(data)
    except ValueError as exc:
        raise InvalidInput(f"chain: {exc}") from None
    staff = _staff_by_key(vendor.pk)
    schedules = set(Schedule.objects.filter(vendor=vendor).values_list("slug", flat=True))
    for i, step in enumerate(chain.steps):
        if isinstance(step, NotifyOnCall) and step.schedule not in schedules:
            raise InvalidInput(f"chain: steps[{i}]: no schedule {step.schedule!r}")
        if (
            isinstance(step, NotifyRole)
            and ROLE_ALIASES.get(step.role, step.role) not in Role.values
        ):
            raise InvalidInput(f"chain: steps[{i}]: unknown role {step.role!r}")
        if isinstance(step, NotifyPersons):
            unknown = [p for p in step.persons if p.lower() not in staff]
            if unknown:
                raise InvalidInput(f"chain: steps[{i}]: not staff: {', '.join(unknown)}")
    row, _ = EscalationChain.objects.update_or_create(
        vendor=vendor,
        slug=slug,
        defaults={"name": name, "spec": chain.to_spec(), "updated_at": now},
        create_defaults={
            "name": name,
            "spec": chain.to_spec(),
            "created_at": now,
            "updated_at": now,
        },
    )
    return row
