"""Changes to an existing plan (E-1, issue 11.2); `services.plan_create` makes new ones.

A plan's terms (kind, rules, prices, currency) are never edited in place: contracts snapshot
them at signing (house rule 9) and renewals read them, so new terms are a new plan. What may
change is its name and the rate card that prices hourly work under it (rate cards are dated,
so work is priced at then-current rates, B-8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from supportdesk.contracts.models import Plan
from supportdesk.core.errors import InvalidInput

UNSET: Any = object()


@transaction.atomic
def plan_update(
    *,
    plan: Plan,
    now: datetime,
    name: str = UNSET,
    rate_card_id: int | None = UNSET,
) -> tuple[Plan, dict[str, Any]]:
    """Change the given fields (takes the plan's row lock); returns the plan and the old
    values of what changed. The rate card's owner is checked by the caller (billing)."""
    row = Plan.objects.select_for_update().get(pk=plan.pk)
    values: dict[str, Any] = {}
    if name is not UNSET:
        values["name"] = " ".join(name.split())
        if not values["name"] or len(values["name"]) > 200:
            raise InvalidInput("the plan needs a name of at most 200 characters")
    if rate_card_id is not UNSET:
        values["rate_card_id"] = rate_card_id
    old = {k: getattr(row, k) for k, v in values.items() if getattr(row, k) != v}
    if old:
        for key in old:
            setattr(row, key, values[key])
        row.save(update_fields=list(old))
    return row, old
