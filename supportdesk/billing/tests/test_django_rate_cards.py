"""Which rate card prices hourly work (B-7, B-8): a customer's own card overrides its plan's
card (``Plan.rate_card_id``), which overrides the vendor's non-subscriber rates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from supportdesk.billing import runs
from supportdesk.billing.models import Invoice, RateCard
from supportdesk.billing.tests.test_django_billing import NOW, make_rate_card
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.tests.django_helpers import make_contract
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def card(world: Any, name: str, business: str, org: Any = None) -> RateCard:
    return RateCard.objects.create(
        vendor=world.vendor, organization=org, name=name, currency="USD",
        business_rate=Decimal(business), after_hours_rate=Decimal(business),
        weekend_rate=Decimal(business), holiday_rate=Decimal(business), increment_minutes=15,
        calendar_spec={"timezone": "UTC", "always_open": True}, created_at=NOW,
    )  # fmt: skip


def one_hour(world: Any, contact: Any) -> None:
    ticket = make_ticket(world, contact, now=datetime(2026, 1, 6, 14, 0, tzinfo=UTC))
    contract_services.time_entry_add(
        principal=None, ticket=ticket, engineer=world.engineer,
        started_at=datetime(2026, 1, 6, 15, 0, tzinfo=UTC),
        ended_at=datetime(2026, 1, 6, 16, 0, tzinfo=UTC),
        work_kind="remote", category="problem", now=datetime(2026, 1, 7, tzinfo=UTC),
    )  # fmt: skip


def test_customer_override_then_plan_card_then_vendor_rates_B7_B8(world: Any) -> None:
    make_rate_card(world)  # the vendor's non-subscriber rates: 150.00 in business hours
    agreement = make_contract(world.acme, "hourly", start=date(2025, 6, 1))
    plan = agreement.plan
    plan.rate_card_id = card(world, "MSP agreement rates", "120").pk
    plan.save()
    one_hour(world, world.alice)  # Acme: hourly agreement → the plan's card
    one_hour(world, world.gina)  # Globex: no contract → the vendor's rates (Tue 10:00 NY)
    runs.billing_run(today=date(2026, 2, 1), now=NOW)
    totals = {i.organization_id: i.total for i in Invoice.objects.all()}
    assert totals == {world.acme.pk: Decimal("120.00"), world.globex.pk: Decimal("150.00")}


def test_customer_override_card_wins_B7(world: Any) -> None:
    make_rate_card(world)
    card(world, "Globex negotiated rates", "99", org=world.globex)
    one_hour(world, world.gina)
    runs.billing_run(today=date(2026, 2, 1), now=NOW)
    assert Invoice.objects.get(organization=world.globex).total == Decimal("99.00")
