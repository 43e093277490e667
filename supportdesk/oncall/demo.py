"""On-call part of the demo presets: seed 001 emergency path, seed 000 DSE chain. Idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

from supportdesk.accounts.models import Role, User
from supportdesk.core.models import Vendor
from supportdesk.oncall.domain.escalation import emergency_chain, enterprise_chain
from supportdesk.oncall.services.schedules import chain_save, config_update, schedule_save
from supportdesk.sla.domain.policy import preset_spec
from supportdesk.sla.models import Calendar


def _monday_before(now: datetime) -> str:
    day = now.date() - timedelta(days=now.weekday() + 7)
    return day.isoformat()


def _emails(vendor: Vendor, role: str) -> list[str]:
    users = User.objects.filter(vendor=vendor, is_active=True, roles__role=role).order_by("pk")
    return [u.email for u in users]


def demo_extend(*, vendor: Vendor, slug: str, now: datetime) -> None:
    if slug == "msp":
        _msp(vendor, now)
    elif slug == "enterprise":
        _enterprise(vendor, now)


# the helpdesk's own lines, where the phone menu forwards callers who are not in an emergency
HELPDESK_LINES = {"msp": "+12815550100", "enterprise": "+18885550100"}


def _msp(vendor: Vendor, now: datetime) -> None:
    """Architects rotate weekly (hand-off Monday 08:00 Central); after hours a voicemail pages
    the one on call and every architect by SMS and email, every 10 minutes, 3 rounds."""
    architects = _emails(vendor, Role.ARCHITECT)
    if not architects:
        return
    schedule = schedule_save(
        vendor=vendor,
        slug="architects",
        name="System architects (weekly)",
        spec={
            "layers": [
                {
                    "name": "weekly",
                    "rotations": [
                        {
                            "id": "architects-weekly",
                            "participants": architects,
                            "zone": vendor.timezone,
                            "start": _monday_before(now),
                            "handoff": "08:00",
                            "shift": "weekly",
                        }
                    ],
                }
            ],
        },
        now=now,
    )
    chain = chain_save(
        vendor=vendor,
        slug="emergency",
        name="Emergency (after-hours voicemail)",
        spec=emergency_chain(schedule=schedule.slug, role=Role.ARCHITECT.value).to_spec(),
        now=now,
    )
    # "After hours" is the SLA preset's business calendar (loaded before this): one calendar
    # decides both when response targets run and when the phone offers the emergency menu.
    [calendar_name, *_] = preset_spec("msp")["calendars"]
    config_update(
        vendor=vendor,
        business_calendar=Calendar.objects.get(vendor=vendor, name=calendar_name),
        helpdesk_number=HELPDESK_LINES["msp"],  # never the number the caller dialled
        inbound_numbers=[vendor.emergency_phone or vendor.support_phone],
        emergency_chain=chain,
        sms_gateway_domain="sms-gateway.harbor-it.example",
    )


def _enterprise(vendor: Vendor, now: datetime) -> None:
    """24x7: the Dedicated Support Engineer first (SMS, email, voice), then the backup."""
    engineers = _emails(vendor, Role.ENGINEER)
    if len(engineers) < 2:
        return
    dse, backup = engineers[0], engineers[1]
    schedule_save(
        vendor=vendor,
        slug="dse",
        name="Dedicated Support Engineers (daily)",
        spec={
            "layers": [
                {
                    "name": "daily",
                    "rotations": [
                        {
                            "id": "dse-daily",
                            "participants": [dse, backup],
                            "zone": vendor.timezone,
                            "start": _monday_before(now),
                            "handoff": "09:00",
                            "shift": "daily",
                        }
                    ],
                }
            ],
        },
        now=now,
    )
    # The chain names no one: each emergency pages the DSE and backup of the caller's own
    # customer (contracts' support assignment, E-2).
    chain = chain_save(
        vendor=vendor,
        slug="enterprise-dse",
        name="Dedicated Support Engineer, then backup",
        spec=enterprise_chain().to_spec(),
        now=now,
    )
    # 8AM-8PM ET a person answers; at night, weekends and holidays the caller reaches the
    # emergency menu, which pages the DSE on call (seed 000). One calendar with the SLA preset.
    calendars = preset_spec("enterprise")["calendars"]
    working = next(iter(calendars))
    calendar = Calendar.objects.filter(vendor=vendor, name=working).first()
    config_update(
        vendor=vendor,
        business_calendar=calendar,
        # without the SLA preset loaded, the same hours as the phone line's own
        business_hours=None if calendar else {**calendars[working], "timezone": vendor.timezone},
        helpdesk_number=HELPDESK_LINES["enterprise"],  # never the number the caller dialled
        inbound_numbers=[vendor.support_phone],
        emergency_chain=chain,
    )
