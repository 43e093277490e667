"""Every write to plans, contracts, time entries, inventories and ticket entitlements.

The rules are the pure `contracts.domain` functions; these services build their inputs from
the database, validate before writing (so a refused request changes nothing), write an
append-only ContractEvent for every contract state change in the same transaction, and queue
mail through the outbox. Creating terms is ``services_create.contracts_create_many`` (many at
once: the billing run's renewals); ``contract_create`` here is its batch of one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef

from supportdesk.accounts.models import User
from supportdesk.contracts import selectors
from supportdesk.contracts.domain.counting import (
    count_users,
    parse_inventory_csv,
    parse_inventory_json,
)
from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.domain.specs import inventory_to_json, plan_from_spec
from supportdesk.contracts.domain.states import (
    ContractTerm,
    InvalidTransition,
    term_expired,
    transition,
)
from supportdesk.contracts.models import (
    Contract,
    ContractEvent,
    ContractState,
    Inventory,
    Plan,
    PlanKind,
    ProductVersion,
    Release,
    ReleaseKind,
    SupportAssignment,
    TicketEntitlement,
    TimeEntry,
    WorkCategory,
    WorkKind,
)
from supportdesk.contracts.services_create import (
    INITIAL_STATES as INITIAL_STATES,
)
from supportdesk.contracts.services_create import (
    ContractInput,
    _check_renewal_of_lapsed,
    _invalid,
    _money,
    _require_staff,
    contracts_create_many,
)
from supportdesk.contracts.services_create import (
    LineInput as LineInput,
)
from supportdesk.contracts.services_entitlement import entitlement_apply
from supportdesk.core.errors import Forbidden, InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import ContactRole, Organization
from supportdesk.tickets.events import ticket_event_record
from supportdesk.tickets.models import Ticket, TicketEventKind

log = logging.getLogger(__name__)

EXPIRING_STATES = (ContractState.ACTIVE, ContractState.PAST_DUE, ContractState.SUSPENDED)
# A successor in one of these states was never signed or was called off: it renews nothing.
NOT_A_RENEWAL = (ContractState.DRAFT, ContractState.CANCELLED)
MAX_ENTRY_MINUTES = 24 * 60


# --- plans -----------------------------------------------------------------------------------


@transaction.atomic
def plan_create(
    *,
    vendor: Vendor,
    slug: str,
    name: str,
    kind: str,
    rules: dict[str, Any],
    now: datetime,
    price_percent_of_list: Decimal = Decimal(0),
    price_fixed: Decimal = Decimal(0),
    per_user_price: Decimal | None = None,
    backup_retention_days: int = 90,
    backup_interval_months: int = 12,
    currency: str = "USD",
) -> Plan:
    """A plan whose rules are validated by the domain (`plan_from_spec`)."""
    if kind not in PlanKind.values:
        raise InvalidInput(f"plan kind must be one of {', '.join(PlanKind.values)}; got {kind!r}")
    slug = (slug or "").strip()
    if not slug:
        raise InvalidInput("plan slug must not be empty")
    try:
        plan_from_spec({**rules, "plan_id": slug, "kind": kind, "name": name})
    except EntitlementInputError as exc:
        raise _invalid(exc) from None
    if Plan.objects.filter(vendor=vendor, slug=slug).exists():
        raise InvalidInput(f"a plan {slug!r} already exists", code="duplicate")
    return Plan.objects.create(
        vendor=vendor,
        slug=slug,
        name=name,
        kind=kind,
        rules=rules,
        currency=currency,
        price_percent_of_list=_money(price_percent_of_list, "price percent"),
        price_fixed=_money(price_fixed, "fixed price"),
        per_user_price=None if per_user_price is None else _money(per_user_price, "user price"),
        backup_retention_days=backup_retention_days,
        backup_interval_months=backup_interval_months,
        created_at=now,
    )


# --- catalogue (E-6, E-7, K-3) ----------------------------------------------------------------


@transaction.atomic
def product_version_set_released(*, version: ProductVersion, released_on: date) -> ProductVersion:
    version.released_on = released_on
    version.save(update_fields=["released_on"])
    return version


@transaction.atomic
def release_create(
    *,
    version: ProductVersion,
    name: str,
    shipped_on: date,
    upgrade_sold_separately: bool = False,
    kind: str = "maintenance",
) -> Release:
    """A downloadable release of a product version (major, maintenance or patch, K-3); E-7
    gates it by its ship date."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a release needs a name")
    if kind not in ReleaseKind.values:
        raise InvalidInput(f"unknown release kind {kind!r}; one of {', '.join(ReleaseKind.values)}")
    if Release.objects.filter(version=version, name=name).exists():
        raise InvalidInput(f"{version} already has a release named {name!r}", code="duplicate")
    return Release.objects.create(
        version=version,
        name=name[:100],
        shipped_on=shipped_on,
        upgrade_sold_separately=upgrade_sold_separately,
        kind=kind,
    )


# --- contracts -------------------------------------------------------------------------------


def contract_create(
    *,
    principal: Principal | None,
    organization: Organization,
    plan: Plan,
    start: date,
    now: datetime,
    end: date | None = None,
    state: str = ContractState.DRAFT,
    lines: Sequence[LineInput] = (),
    reference: str = "",
    currency: str | None = None,
    predecessor: Contract | None = None,
    price_percent_override: Decimal | str | None = None,
    price_fixed_override: Decimal | str | None = None,
    reason: str = "",
    reinstating: bool = False,
    addons: Sequence[str] = (),
) -> Contract:
    """Create one contract term (E-1); default term: the plan's months (one year).

    Refused, with nothing written: a plan or product of another vendor, end not after start,
    lines outside the term or with negative quantities/prices, a term overlapping another
    (not cancelled) term of the same organisation and plan, an initial state other than
    draft or active. The renewal of a lapsed term starts at its end (B-6 backfill) and is
    prepared as a draft: it becomes active only through the billing app's reinstatement,
    which charges the reinstatement fee (``reinstating`` is that path).
    """
    (made,) = contracts_create_many(
        principal=principal,
        items=[
            ContractInput(
                organization=organization,
                plan=plan,
                start=start,
                end=end,
                state=state,
                lines=lines,
                reference=reference,
                currency=currency,
                predecessor=predecessor,
                price_percent_override=price_percent_override,
                price_fixed_override=price_fixed_override,
                reason=reason,
                reinstating=reinstating,
                addons=addons,
            )
        ],
        now=now,
    )
    assert isinstance(made, Contract)  # not partial: a refusal raised
    return made


@transaction.atomic
def contract_addons_set(
    *, principal: Principal | None, contract: Contract, addons: Sequence[str], now: datetime
) -> Contract:
    """Switch a contract's add-ons (features its plan offers as add-ons, e.g. the softphone
    app, seed 002); the entitlement flags follow at once (E-10). Staff only; locks the row and
    records a ContractEvent."""
    _require_staff(principal, contract.vendor_id)
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    try:
        term = selectors.contract_term(contract)
        wanted = ContractTerm(
            contract_id=term.contract_id, organisation_id=term.organisation_id, plan=term.plan,
            start=term.start, end=term.end, state=term.state, line_items=term.line_items,
            currency=term.currency, addons=frozenset(addons),  # type: ignore[arg-type]
        )  # fmt: skip
    except EntitlementInputError as exc:
        raise _invalid(exc) from None
    before = sorted(contract.addons or [])
    after = sorted(f.value for f in wanted.addons)
    if before == after:
        return contract
    contract.addons = after
    contract.updated_at = now
    contract.save(update_fields=["addons", "updated_at"])
    ContractEvent.objects.create(
        contract=contract,
        at=now,
        actor_id=principal.user_id if principal else None,
        kind="addons",
        from_state=contract.state,
        to_state=contract.state,
        reason=f"add-ons {', '.join(before) or 'none'} → {', '.join(after) or 'none'}",
    )
    return contract


@transaction.atomic
def contract_transition(
    *,
    principal: Principal | None,
    contract: Contract,
    to: str,
    reason: str,
    now: datetime,
    reinstating: bool = False,
) -> Contract:
    """Move a contract to another state (E-1, B-4, B-6) with a reason; locks the row and writes
    a ContractEvent. Moves the state machine does not allow are refused with the allowed ones.
    Activating the prepared renewal of a lapsed term is a reinstatement: only the billing
    app's reinstatement does it (``reinstating``), so the fee is never skipped."""
    _require_staff(principal, contract.vendor_id)
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if (
        contract.state == ContractState.DRAFT
        and to == ContractState.ACTIVE
        and contract.predecessor_id is not None
    ):
        predecessor = Contract.objects.get(pk=contract.predecessor_id)
        if predecessor.state == ContractState.LAPSED:
            _check_renewal_of_lapsed(
                predecessor, start=contract.start, state=to, reinstating=reinstating
            )
    try:
        move = transition(contract.state, to, reason=reason or "")
    except InvalidTransition as exc:
        raise InvalidInput(str(exc), code="invalid_transition") from None
    except EntitlementInputError as exc:
        raise _invalid(exc) from None
    contract.state = move.to_state.value
    contract.updated_at = now
    contract.save(update_fields=["state", "updated_at"])
    ContractEvent.objects.create(
        contract=contract,
        at=now,
        actor_id=principal.user_id if principal else None,
        kind="transition",
        from_state=move.from_state.value,
        to_state=move.to_state.value,
        reason=move.reason,
    )
    return contract


# --- expiry over time (E-1, E-10) -----------------------------------------------------------


@transaction.atomic
def contract_expire(*, contract_id: int, now: datetime) -> Contract | None:
    """Record that one term ended without a renewal: it moves to lapsed, audited like every
    transition. Locks the row and re-checks it, so concurrent sweeps record each lapse once;
    None when there is nothing (any more) to record."""
    contract = (
        Contract.objects.select_for_update().select_related("vendor").filter(pk=contract_id).first()
    )
    if contract is None:
        return None
    today = now.astimezone(selectors.vendor_tz(contract.vendor.timezone)).date()
    renewed = contract.renewals.exclude(state__in=NOT_A_RENEWAL).exists()
    if not term_expired(state=contract.state, end=contract.end, today=today, renewed=renewed):
        return None
    return contract_transition(
        principal=None,
        contract=contract,
        to=ContractState.LAPSED,
        reason=f"term expired on {contract.end.isoformat()} without a renewal",
        now=now,
    )


def contract_expiry_sweep(*, now: datetime) -> list[int]:
    """The periodic sweep (core.runtime.PERIODIC): every active, past-due or suspended term
    whose end has come in its vendor's zone and that no signed renewal follows is recorded
    as lapsed, which switches its entitlement flags off (E-10). Idempotent. Returns the ids
    of the contracts it lapsed.

    Past due and suspension (B-4) are the billing run's moves; this sweep only records expiry.
    """
    renewed = Contract.objects.filter(predecessor=OuterRef("pk")).exclude(state__in=NOT_A_RENEWAL)
    lapsed = []
    for vendor in Vendor.objects.order_by("pk"):
        today = now.astimezone(selectors.vendor_tz(vendor.timezone)).date()
        due = (
            Contract.objects.filter(vendor=vendor, state__in=EXPIRING_STATES, end__lte=today)
            .filter(~Exists(renewed))
            .order_by("end", "pk")
            .values_list("pk", flat=True)
        )
        for contract_id in list(due):
            if contract_expire(contract_id=contract_id, now=now) is not None:
                lapsed.append(contract_id)
    return lapsed


# --- time, assignments, inventory ------------------------------------------------------------


def time_entry_span(
    *,
    started_at: datetime,
    ended_at: datetime | None,
    minutes: int | None,
    work_kind: str,
    category: str,
    now: datetime,
) -> tuple[datetime, int]:
    """(end, minutes) of a time entry given by a start with an end or a duration; the rules
    every logged or edited entry obeys (B-7, E-5)."""
    if work_kind not in WorkKind.values:
        raise InvalidInput(
            f"work kind must be one of {', '.join(WorkKind.values)}; got {work_kind!r}"
        )
    if category not in WorkCategory.values:
        raise InvalidInput(
            f"category must be one of {', '.join(WorkCategory.values)}; got {category!r}"
        )
    if started_at.tzinfo is None:
        raise InvalidInput("start must carry a time zone")
    if (ended_at is None) == (minutes is None):
        raise InvalidInput("give either an end time or a duration in minutes, not both")
    if ended_at is None:
        assert minutes is not None
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
            raise InvalidInput(f"duration must be a positive number of minutes, got {minutes!r}")
        if minutes > MAX_ENTRY_MINUTES:  # checked before the sum, which could overflow
            raise InvalidInput(
                f"a time entry lasts 1 to {MAX_ENTRY_MINUTES} minutes; got {minutes}"
            )
        ended_at = started_at + timedelta(minutes=minutes)
    if ended_at <= started_at:
        raise InvalidInput("the end must be after the start")
    total = int((ended_at - started_at).total_seconds() // 60)
    if total <= 0 or total > MAX_ENTRY_MINUTES:
        raise InvalidInput(f"a time entry lasts 1 to {MAX_ENTRY_MINUTES} minutes; got {total}")
    if ended_at > now + timedelta(minutes=5):
        raise InvalidInput("a time entry cannot end in the future")
    return ended_at, total


@transaction.atomic
def time_entry_add(
    *,
    principal: Principal | None,
    ticket: Ticket,
    engineer: User,
    started_at: datetime,
    work_kind: str,
    category: str,
    now: datetime,
    ended_at: datetime | None = None,
    minutes: int | None = None,
    billable: bool = True,
    note: str = "",
) -> TimeEntry:
    """Log work on a ticket: a start with an end or a duration in minutes (B-7, E-5)."""
    _require_staff(principal, ticket.vendor_id)
    if engineer.vendor_id != ticket.vendor_id or not engineer.is_staff:
        raise InvalidInput("the engineer must be a staff member of this vendor")
    ended_at, total = time_entry_span(
        started_at=started_at, ended_at=ended_at, minutes=minutes, work_kind=work_kind,
        category=category, now=now,
    )  # fmt: skip
    return TimeEntry.objects.create(
        vendor_id=ticket.vendor_id,
        ticket=ticket,
        engineer=engineer,
        started_at=started_at,
        ended_at=ended_at,
        minutes=total,
        work_kind=work_kind,
        category=category,
        billable=billable,
        note=note.strip(),
        created_at=now,
    )


@transaction.atomic
def support_assignment_set(
    *,
    principal: Principal | None,
    organization: Organization,
    dse: User,
    backup: User | None,
    now: datetime,
) -> SupportAssignment:
    """Name the customer's Dedicated Support Engineer and backup (E-2)."""
    _require_staff(principal, organization.vendor_id)
    for who, user in (("DSE", dse), ("backup", backup)):
        if user is not None and (user.vendor_id != organization.vendor_id or not user.is_staff):
            raise InvalidInput(f"the {who} must be a staff member of this vendor")
    if backup is not None and backup.pk == dse.pk:
        raise InvalidInput("the backup must be someone other than the DSE")
    row, _ = SupportAssignment.objects.update_or_create(
        organization=organization, defaults={"dse": dse, "backup": backup, "updated_at": now}
    )
    return row


def inventory_parse(*, data: Any, content_type: str) -> dict[str, Any]:
    """Validate an inventory (JSON object, or CSV text) and return its stored JSON form."""
    try:
        if content_type.split(";")[0].strip().lower() == "text/csv":
            if not isinstance(data, str):
                raise InvalidInput("CSV inventory must be text")
            inventory = parse_inventory_csv(data)
        else:
            inventory = parse_inventory_json(data)
    except EntitlementInputError as exc:
        raise _invalid(exc) from None
    return inventory_to_json(inventory)


@transaction.atomic
def inventory_put(
    *,
    principal: Principal | None,
    organization: Organization,
    data: Any,
    now: datetime,
    content_type: str = "application/json",
) -> Inventory:
    """Replace the organisation's phone-system inventory (E-9). Staff, or a designated
    administrator of that organisation, may do it; bad input changes nothing."""
    if principal is not None and principal.is_contact:
        if principal.organization_id != organization.pk:
            raise Forbidden("this inventory belongs to another organisation")
        if not organization.contacts.filter(
            pk=principal.contact_id or 0, role=ContactRole.ADMINISTRATOR
        ).exists():
            raise Forbidden("only designated administrators may replace the inventory")
    else:
        _require_staff(principal, organization.vendor_id)
    items = inventory_parse(data=data, content_type=content_type)
    count_users(parse_inventory_json(items))  # proves the stored form reads back
    row, _ = Inventory.objects.update_or_create(
        organization=organization,
        defaults={
            "items": items,
            "updated_at": now,
            "updated_by_id": principal.user_id if principal else None,
        },
    )
    return row


# --- the intake decision (E-4..E-8, T-8) ----------------------------------------------------


@transaction.atomic
def ticket_category_set(
    *, principal: Principal, ticket: Ticket, category: str, now: datetime
) -> TicketEntitlement:
    """Set the ticket's request category (E-8, T-10) and decide its entitlement again."""
    _require_staff(principal, ticket.vendor_id)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    old = TicketEntitlement.objects.filter(ticket=ticket).first()
    row = entitlement_apply(ticket=ticket, now=now, category=category)
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.ENTITLEMENT_DECIDED,
        at=now,
        actor_id=principal.user_id,
        data={
            "old_category": old.category if old else None,
            "category": row.category,
            "covered": row.covered,
            "reason": row.reason,
            "flags": row.flags,
        },
    )
    return row
