"""Fixtures of the Django on-call tests. Django imports stay inside fixtures (pure tests here
run without it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from supportdesk.notifications.fake_provider import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    ProviderServer,
)


@pytest.fixture
def provider(settings: Any) -> Any:
    with ProviderServer() as server:
        settings.TWILIO_API_BASE = server.url
        settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
        settings.TWILIO_FROM_NUMBER = FROM_NUMBER
        settings.PUBLIC_BASE_URL = ""
        yield server


@dataclass
class Paging:
    world: Any
    schedule: Any
    chain: Any
    architects: list[Any]  # every user with the architect role
    on_call: Any  # the engineer on call in the schedule


@pytest.fixture
def paging(world: Any, provider: Any) -> Paging:
    """The world plus: engineer on call (weekly, 24x7), 3 architects, the emergency chain."""
    from supportdesk.accounts.models import User
    from supportdesk.accounts.services import staff_user_create
    from supportdesk.oncall.domain.escalation import emergency_chain
    from supportdesk.oncall.services.schedules import chain_save, config_update, schedule_save
    from tests.factories import NOW, PASSWORD

    vendor = world.vendor
    User.objects.filter(pk=world.engineer.pk).update(phone="+15125550100")
    User.objects.filter(pk=world.architect.pk).update(phone="+15125550101")
    extra = [
        staff_user_create(
            email=f"arch{i}@vendor.example",
            password=PASSWORD,
            vendor=vendor,
            roles=["architect"],
            display_name=f"Architect {i}",
            phone=f"+1512555011{i}",
        )
        for i in (2, 3)
    ]
    world.engineer.refresh_from_db()
    world.architect.refresh_from_db()
    schedule = schedule_save(
        vendor=vendor,
        slug="primary",
        name="Primary",
        spec={
            "layers": [
                {
                    "name": "base",
                    "rotations": [
                        {
                            "id": "weekly",
                            "participants": [world.engineer.email],
                            "zone": "America/Chicago",
                            "start": "2025-01-06",
                            "handoff": "09:00",
                            "shift": "weekly",
                        }
                    ],
                }
            ]
        },
        now=NOW,
    )
    chain = chain_save(
        vendor=vendor,
        slug="emergency",
        name="Emergency",
        spec=emergency_chain(schedule="primary", role="architect").to_spec(),
        now=NOW,
    )
    config_update(
        vendor=vendor,
        emergency_chain=chain,
        helpdesk_number="+15125550000",
        inbound_numbers=["+15125559999"],
        sms_gateway_domain="sms.example",
    )
    return Paging(world, schedule, chain, [world.architect, *extra], world.engineer)
