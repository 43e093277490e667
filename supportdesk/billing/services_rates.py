"""Writes of hourly rate cards (B-7, B-8, issue 11.2) and which card a plan's hourly work
uses. A card is checked by the pricing domain (`domain.hourly.RateCard`) and its calendar by
`BusinessCalendar` before it is stored."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from supportdesk.billing.models import RateCard
from supportdesk.billing.runs_hourly import card_calendar, domain_rate_card
from supportdesk.contracts.models import Plan
from supportdesk.contracts.services_plans import plan_update
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import Vendor

RATES = ("business_rate", "after_hours_rate", "weekend_rate", "holiday_rate")
FIELDS = (
    "name", "currency", *RATES, "increment_minutes", "rounding", "minimum_charge",
    "calendar_spec", "effective_from",
)  # fmt: skip


def _amount(value: Any, what: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(f"{what} is not a number: {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise InvalidInput(f"{what} must be a number from 0 to 999999999999, got {value}")
    if amount != amount.quantize(Decimal("0.001")):
        raise InvalidInput(f"{what} has more than three decimal places: {value}")
    return amount


@transaction.atomic
def rate_card_save(
    *,
    vendor: Vendor,
    now: datetime,
    name: str,
    currency: str,
    rates: dict[str, Any],
    calendar_spec: dict[str, Any],
    increment_minutes: int = 15,
    rounding: str = "up",
    minimum_charge: Any = None,
    effective_from: datetime | None = None,
    card: RateCard | None = None,
) -> tuple[RateCard, dict[str, Any]]:
    """Create a vendor card (no customer: the non-subscriber rates, or a plan's), or change
    `card` (this vendor's; takes its row lock). Returns the card and the old values of what
    changed."""
    name = " ".join(name.split())
    currency = currency.strip().upper()
    if not name or len(name) > 100:
        raise InvalidInput("the rate card needs a name of at most 100 characters")
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise InvalidInput(f"currency must be a three-letter code such as USD, got {currency!r}")
    missing = [k for k in RATES if k not in rates]
    if missing:
        raise InvalidInput(f"missing rates: {', '.join(missing)}")
    values: dict[str, Any] = {k: _amount(rates[k], k.replace("_", " ")) for k in RATES}
    values.update(
        name=name, currency=currency, increment_minutes=increment_minutes, rounding=rounding,
        minimum_charge=(
            None if minimum_charge in (None, "") else _amount(minimum_charge, "minimum charge")
        ),
        calendar_spec=calendar_spec, effective_from=effective_from,
    )  # fmt: skip
    if card is None:
        row = RateCard(vendor=vendor, created_at=now)
    else:
        if card.vendor_id != vendor.pk or card.organization_id is not None:
            raise InvalidInput("not one of the vendor's rate cards")
        row = RateCard.objects.select_for_update().get(pk=card.pk)
    old = {k: getattr(row, k) for k in FIELDS} if card is not None else {}
    for key, value in values.items():
        setattr(row, key, value)
    try:  # the same checks the billing run applies when it prices work
        domain_rate_card(row)
        card_calendar(row)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"rate card: {exc}") from None
    row.save()
    return row, {k: v for k, v in old.items() if v != values[k]}


@transaction.atomic
def plan_rate_card_set(
    *, plan: Plan, card: RateCard | None, now: datetime
) -> tuple[Plan, dict[str, Any]]:
    """The card that prices hourly work under `plan` (B-7); None: the non-subscriber rates."""
    if card is not None and (card.vendor_id != plan.vendor_id or card.organization_id):
        raise InvalidInput("the rate card is not one of the plan's vendor's cards")
    return plan_update(plan=plan, rate_card_id=card.pk if card else None, now=now)
