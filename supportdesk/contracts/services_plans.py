"""Changes to an existing plan (E-1, issue 11.2); `services.plan_create` makes new ones.

Running contracts and clocks keep what they snapshotted (house rule 9); a changed plan prices
and decides what comes after the change."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.domain.specs import plan_from_spec
from supportdesk.contracts.models import Plan
from supportdesk.contracts.services import _money  # the same amount check as plan_create
from supportdesk.core.errors import InvalidInput

UNSET: Any = object()


@transaction.atomic
def plan_update(
    *,
    plan: Plan,
    now: datetime,
    name: str = UNSET,
    rules: dict[str, Any] = UNSET,
    price_percent_of_list: Decimal = UNSET,
    price_fixed: Decimal = UNSET,
    per_user_price: Decimal | None = UNSET,
    rate_card_id: int | None = UNSET,
    active: bool = UNSET,
) -> tuple[Plan, dict[str, Any]]:
    """Change the given fields (takes the plan's row lock); returns the plan and the old
    values of what changed. The rate card's owner is checked by the caller (billing)."""
    row = Plan.objects.select_for_update().get(pk=plan.pk)
    values: dict[str, Any] = {}
    if name is not UNSET:
        values["name"] = " ".join(name.split())
        if not values["name"]:
            raise InvalidInput("the plan needs a name")
    if rules is not UNSET:
        if not isinstance(rules, dict):
            raise InvalidInput("plan rules must be a JSON object")
        try:
            named = values.get("name", row.name)
            plan_from_spec({**rules, "plan_id": row.slug, "kind": row.kind, "name": named})
        except EntitlementInputError as exc:
            raise InvalidInput(str(exc)) from None
        values["rules"] = rules
    if price_percent_of_list is not UNSET:
        values["price_percent_of_list"] = _money(price_percent_of_list, "price percent")
    if price_fixed is not UNSET:
        values["price_fixed"] = _money(price_fixed, "fixed price")
    if per_user_price is not UNSET:
        values["per_user_price"] = (
            None if per_user_price is None else _money(per_user_price, "user price")
        )
    if rate_card_id is not UNSET:
        values["rate_card_id"] = rate_card_id
    if active is not UNSET:
        values["active"] = bool(active)
    old = {k: getattr(row, k) for k, v in values.items() if getattr(row, k) != v}
    if old:
        for key in old:
            setattr(row, key, values[key])
        row.save(update_fields=list(old))
    return row, old
