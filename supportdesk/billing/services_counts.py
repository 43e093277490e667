"""Per-user subscriptions billed by the counted users of the customer's inventory (E-9, B-5).

When the inventory changes (``inventory_replace``, the API's ``PUT …/inventory``), the users it
counts are compared with what the customer's subscription bills on that day. A difference is a
:class:`~supportdesk.billing.models.UserCountChange` that keeps the count item by item (the
explanation invoice lines link to) and, per plan (``PlanBilling.count_changes``), is either
proposed for billing staff to confirm in one click or applied at once:

* more users — from the day of the count, with a prorated invoice for the rest of the billing
  period (``services_subscriptions.subscription_users_add``, B-5);
* fewer users — prepaid and non-refundable, so nothing is credited: the lower count is billed
  from the next billing period (next month when billed monthly; the renewal when billed
  annually).

A later count supersedes a proposal nobody decided on.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from supportdesk.billing import selectors
from supportdesk.billing.domain.periods import add_months
from supportdesk.billing.domain.pricing import Billing
from supportdesk.billing.models import (
    CountChanges,
    UserCountChange,
    UserCountChangeState,
)
from supportdesk.billing.services import _reason, _require_billing_staff
from supportdesk.billing.services_subscriptions import subscription_users_add
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.domain.counting import count_users, parse_inventory_json
from supportdesk.contracts.models import (
    Contract,
    ContractLine,
    ContractState,
    Inventory,
    LineKind,
    PlanKind,
)
from supportdesk.contracts.selectors import vendor_today
from supportdesk.core.errors import Conflict, InvalidInput, NotFound
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import Organization

IN_FORCE = (ContractState.ACTIVE, ContractState.PAST_DUE)


def counted_users(organization: Organization) -> tuple[int, list[dict[str, Any]]]:
    """The users the organisation's inventory counts (E-9) and why, item by item; (0, [])
    without an inventory."""
    row = Inventory.objects.filter(organization=organization).first()
    if row is None:
        return 0, []
    counted = count_users(parse_inventory_json(row.items))
    return counted.total, [
        {
            "type": item.item_type.value,
            "id": item.item_id,
            "counts": item.counts,
            "reason": item.reason,
            "person": item.person,
            "billed_as": item.billed_as,
        }
        for item in counted.items
    ]


def subscription_in_force(organization: Organization, on: date) -> Contract | None:
    """The organisation's per-user subscription term in force on ``on``."""
    return (
        Contract.objects.filter(
            organization=organization,
            plan__kind=PlanKind.PER_USER,
            state__in=IN_FORCE,
            start__lte=on,
            end__gt=on,
        )
        .select_related("plan")
        .order_by("-start", "-pk")
        .first()
    )


def _next_period(contract: Contract, billing: str, on: date) -> date:
    """The first day of the billing period after the one containing ``on``."""
    if billing != Billing.MONTHLY:
        return contract.end
    k = 1
    while add_months(contract.start, k) <= on:
        k += 1
    return add_months(contract.start, k)


@transaction.atomic
def inventory_replace(
    *,
    principal: Principal | None,
    organization: Organization,
    data: Any,
    now: datetime,
    content_type: str = "application/json",
) -> tuple[Inventory, UserCountChange | None]:
    """Replace the inventory (E-9, ``contracts.services.inventory_put``: staff or a designated
    administrator) and count what it changes on the subscription (:func:`user_count_propose`)."""
    row = contract_services.inventory_put(
        principal=principal,
        organization=organization,
        data=data,
        content_type=content_type,
        now=now,
    )
    today = vendor_today(organization.vendor_id, now)
    return row, user_count_propose(organization=organization, on=today, now=now)


@transaction.atomic
def user_count_propose(
    *, organization: Organization, on: date, now: datetime
) -> UserCountChange | None:
    """Count the inventory against the subscription in force on ``on``: None when it bills
    that count already (or there is no subscription); else a change, applied at once when the
    plan says so (the system applies it: no person is needed). Locks the contract."""
    contract = subscription_in_force(organization, on)
    if contract is None:
        return None
    contract = Contract.objects.select_for_update().select_related("plan").get(pk=contract.pk)
    total, explanation = counted_users(organization)
    billed = selectors.users_on(contract, on)
    open_changes = UserCountChange.objects.filter(
        contract=contract, state=UserCountChangeState.PROPOSED
    )
    open_changes.update(state=UserCountChangeState.SUPERSEDED, decided_at=now)
    if total == billed:
        return None
    pb = selectors.plan_billing(contract.plan)
    billing = selectors.contract_billing(contract, pb)
    change = UserCountChange.objects.create(
        vendor_id=contract.vendor_id,
        organization=organization,
        contract=contract,
        counted_at=now,
        effective_on=on if total > billed else _next_period(contract, billing, on),
        users_before=billed,
        users_after=total,
        explanation=explanation,
    )
    if pb.count_changes == CountChanges.AUTOMATIC:
        _apply(change, now=now, principal=None, reason="applied automatically (plan setting)")
    return change


def _apply(
    change: UserCountChange, *, now: datetime, principal: Principal | None, reason: str
) -> None:
    contract = (
        Contract.objects.select_for_update().select_related("plan").get(pk=change.contract_id)
    )
    if contract.state not in IN_FORCE:
        raise Conflict(f"{contract.label} is {contract.state}; its users cannot change now")
    on = change.effective_on
    current = selectors.users_on(contract, on)
    why = f"inventory counts {change.users_after} users (E-9)"
    if change.users_after > current:
        change.invoice = subscription_users_add(
            contract=contract,
            added=change.users_after - current,
            on=on,
            reason=why,
            now=now,
            principal=principal,
        )
    elif change.users_after < current and on < contract.end:
        # fewer users from the next billing period: the users lines end and one line carries
        # the new count (nothing is credited, B-5)
        for line in contract.lines.filter(kind=LineKind.USERS):
            if line.start is not None and line.start >= on:
                line.delete()
            elif line.end is None or line.end > on:
                line.end = on
                line.save(update_fields=["end"])
        if change.users_after:
            ContractLine.objects.create(
                contract=contract,
                kind=LineKind.USERS,
                description=f"Counted users from {on.isoformat()}: {why}"[:200],
                quantity=change.users_after,
                unit_price=contract.plan.per_user_price or Decimal(0),
                start=on,
            )
    # fewer users on an annually billed term: the renewal bills them (runs' renewal_lines)
    change.state = UserCountChangeState.APPLIED
    change.decided_at = now
    change.decided_by_id = principal.user_id if principal else None
    change.reason = reason
    change.save(update_fields=["state", "decided_at", "decided_by", "invoice", "reason"])


@transaction.atomic
def user_count_change_decide(
    *, change_id: int, approve: bool, now: datetime, principal: Principal, reason: str = ""
) -> UserCountChange:
    """Confirm (apply) or decline a proposed count change (billing staff, one click). Locks
    the change."""
    change = UserCountChange.objects.select_for_update().filter(pk=change_id).first()
    if change is None or not (
        principal.is_superuser or (principal.is_staff and principal.vendor_id == change.vendor_id)
    ):
        raise NotFound(f"no user count change {change_id}")
    _require_billing_staff(principal, change.vendor_id)
    if change.state != UserCountChangeState.PROPOSED:
        raise Conflict(f"this count change is {change.state} already", code="decided")
    if approve:
        _apply(change, now=now, principal=principal, reason=(reason or "").strip() or "confirmed")
    else:
        change.state = UserCountChangeState.DECLINED
        change.decided_at = now
        change.decided_by_id = principal.user_id
        change.reason = _reason(reason, "declining")
        change.save(update_fields=["state", "decided_at", "decided_by", "reason"])
    return change


def users_to_invoice(organization: Organization, users: int | None) -> int:
    """The users a new subscription starts with: as given, else what the inventory counts."""
    if users is not None:
        return users
    total, _ = counted_users(organization)
    if not total:
        raise InvalidInput("give the number of users, or put the customer's inventory first")
    return total
