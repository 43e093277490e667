"""Creating contract terms (E-1), one or many at once: :func:`contracts_create_many` is the one
implementation; ``services.contract_create`` is its batch of one, and the billing run signs a
batch of renewals with it (B-3).

A batch reads and locks the terms of all its organisations with one query, validates every
item against them and against the items before it (so two renewals of one organisation in a
batch cannot overlap either), then writes the contracts, their lines and their
``ContractEvent`` rows with one statement each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from supportdesk.contracts import selectors
from supportdesk.contracts.domain.caps import add_years
from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.domain.specs import plan_from_spec, plan_to_spec
from supportdesk.contracts.domain.states import ContractTerm, LineItem, validate_terms
from supportdesk.contracts.models import (
    Contract,
    ContractEvent,
    ContractLine,
    ContractState,
    LineKind,
    Plan,
    Product,
)
from supportdesk.core.errors import Conflict, DomainError, InvalidInput
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.customers.models import Organization

INITIAL_STATES = (ContractState.DRAFT, ContractState.ACTIVE)


def _require_staff(principal: Principal | None, vendor_id: int) -> None:
    """None is the system itself (demo loader, sweeps); people must be this vendor's staff."""
    if principal is not None:
        require_staff_of(principal, vendor_id)


def _invalid(exc: Exception) -> InvalidInput:
    return InvalidInput(str(exc))


def _money(value: Any, what: str) -> Decimal:
    if isinstance(value, float | bool):
        raise InvalidInput(f"{what} must be a decimal string or whole number, not {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"{what} is not a number: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"{what} must not be negative, got {value}")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(f"{what} has more than two decimal places: {value}")
    return amount


@dataclass(frozen=True)
class LineInput:
    """A contract line: a licence (product + list price), counted users, or another charge."""

    kind: str
    quantity: int
    unit_price: Decimal | str | int
    description: str = ""
    product: Product | None = None
    start: date | None = None
    end: date | None = None
    reactivation_fee: Decimal | str | None = None  # a third-party licence's own fee (B-6)


def _line_item(line: LineInput, index: int) -> tuple[LineItem, Decimal]:
    where = f"lines[{index}]"
    if line.kind not in LineKind.values:
        raise InvalidInput(
            f"{where}.kind must be one of {', '.join(LineKind.values)}; got {line.kind!r}"
        )
    if isinstance(line.quantity, bool) or not isinstance(line.quantity, int):
        raise InvalidInput(f"{where}.quantity must be a whole number, got {line.quantity!r}")
    if line.quantity < 0:
        raise InvalidInput(f"{where}.quantity must not be negative, got {line.quantity}")
    price = _money(line.unit_price, f"{where}.unit_price")
    description = (line.description or "").strip() or (
        line.product.name if line.product else line.kind
    )
    try:
        item = LineItem(
            description=description,
            kind=line.kind,  # type: ignore[arg-type]
            quantity=line.quantity,
            unit_price=price,
            product=line.product.name if line.product else None,
            start=line.start,
            end=line.end,
        )
    except EntitlementInputError as exc:
        raise InvalidInput(f"{where}: {exc}") from None
    return item, price


def _check_renewal_of_lapsed(
    predecessor: Contract, *, start: date, state: str, reinstating: bool
) -> None:
    """B-6: a renewal after a lapse backfills to the original expiry, and signing it is a
    reinstatement (the fee is charged then, by the billing app)."""
    if start != predecessor.end:
        raise InvalidInput(
            f"{predecessor.label} lapsed on {predecessor.end.isoformat()}: its renewal "
            f"backfills to that date, so it must start on {predecessor.end.isoformat()}, "
            f"not {start.isoformat()} (B-6)",
            code="backfill_required",
        )
    if state == ContractState.ACTIVE and not reinstating:
        raise Conflict(
            f"{predecessor.label} has lapsed: renewing it is a reinstatement with its fee "
            f"(B-4, B-6); POST /api/v1/contracts/{predecessor.pk}/reinstate, or create the "
            "renewal as a draft and activate it",
            code="reinstatement_required",
        )


@dataclass(frozen=True)
class ContractInput:
    """One term to create; the arguments of ``services.contract_create``."""

    organization: Organization
    plan: Plan
    start: date
    end: date | None = None
    state: str = ContractState.DRAFT
    lines: Sequence[LineInput] = ()
    reference: str = ""
    currency: str | None = None
    predecessor: Contract | None = None
    price_percent_override: Decimal | str | None = None
    price_fixed_override: Decimal | str | None = None
    reason: str = ""
    reinstating: bool = False
    addons: Sequence[str] = ()


@dataclass
class _Checked:
    """An item that passed validation: the values to write."""

    item: ContractInput
    term: ContractTerm
    spec: dict[str, Any]
    end: date
    currency: str
    lines: list[tuple[LineInput, LineItem, Decimal, Decimal | None]]
    percent: Decimal | None
    fixed: Decimal | None


def _check(
    item: ContractInput, specs: dict[int, dict[str, Any]], terms: list[ContractTerm]
) -> _Checked:
    """Validate one item against ``terms`` (its organisation's, locked); raises DomainError
    with nothing written."""
    organization, plan, start = item.organization, item.plan, item.start
    if plan.vendor_id != organization.vendor_id:
        raise InvalidInput("the plan belongs to another vendor")
    if item.state not in INITIAL_STATES:
        raise InvalidInput(
            f"a contract starts as draft or active, not {item.state!r}; "
            "other states are reached by transitions"
        )
    end = item.end
    if end is None:
        end = add_years(start, plan.term_months // 12) if plan.term_months % 12 == 0 else None
        if end is None:
            raise InvalidInput("give the contract an end date")
    if end <= start:
        raise InvalidInput(
            f"end {end.isoformat()} must be after start {start.isoformat()} (end is exclusive)"
        )
    predecessor = item.predecessor
    if predecessor is not None and predecessor.organization_id != organization.pk:
        raise InvalidInput("the predecessor contract belongs to another organisation")
    if predecessor is not None and predecessor.state == ContractState.LAPSED:
        _check_renewal_of_lapsed(
            predecessor, start=start, state=item.state, reinstating=item.reinstating
        )
    for line in item.lines:
        if line.product is not None and line.product.vendor_id != organization.vendor_id:
            raise InvalidInput(f"product {line.product.pk} belongs to another vendor")
    items = [_line_item(line, i) for i, line in enumerate(item.lines)]
    currency = (item.currency or plan.currency).upper()
    try:
        if plan.pk not in specs:  # the same plan's spec serves every item of a batch
            specs[plan.pk] = plan_to_spec(
                plan_from_spec(
                    {**plan.rules, "plan_id": plan.slug, "kind": plan.kind, "name": plan.name}
                )
            )
        spec = specs[plan.pk]
        term = ContractTerm(
            contract_id=item.reference or "new contract",
            organisation_id=str(organization.pk),
            plan=plan_from_spec(spec),
            start=start,
            end=end,
            state=item.state,  # type: ignore[arg-type]
            line_items=tuple(li for li, _ in items),
            currency=currency,
            addons=frozenset(item.addons),  # type: ignore[arg-type]
        )
        validate_terms([*terms, term])
    except EntitlementInputError as exc:
        raise _invalid(exc) from None
    percent = (
        None
        if item.price_percent_override is None
        else _money(item.price_percent_override, "price percent override")
    )
    fixed = (
        None
        if item.price_fixed_override is None
        else _money(item.price_fixed_override, "fixed override")
    )
    fees = [
        None
        if line.reactivation_fee is None
        else _money(line.reactivation_fee, f"lines[{i}].reactivation_fee")
        for i, line in enumerate(item.lines)
    ]
    return _Checked(
        item,
        term,
        spec,
        end,
        currency,
        [
            (line, li, price, fee)
            for line, (li, price), fee in zip(item.lines, items, fees, strict=True)
        ],
        percent,
        fixed,
    )


@transaction.atomic
def contracts_create_many(
    *,
    principal: Principal | None,
    items: Sequence[ContractInput],
    now: datetime,
    partial: bool = False,
) -> list[Contract | DomainError]:
    """Create many contract terms (E-1) with a handful of statements, whatever their number.

    Each item is refused exactly as ``services.contract_create`` documents (another vendor's
    plan or product, end not after start, bad lines, an overlap with a term of the same
    organisation and plan — existing or earlier in the batch —, an initial state other than
    draft or active, the B-6 rules on renewing a lapsed term). Without ``partial`` the first
    refusal raises and nothing is written; with ``partial`` a refused item's place in the
    answer holds its error and the others are created (the billing run: one renewal that
    cannot be signed must not hold up the batch)."""
    for item in items:
        _require_staff(principal, item.organization.vendor_id)
    org_ids = sorted({item.organization.pk for item in items})
    terms: dict[str, list[ContractTerm]] = defaultdict(list)
    for term in selectors.contract_terms_many(organization_ids=org_ids, lock=True):
        terms[term.organisation_id].append(term)
    specs: dict[int, dict[str, Any]] = {}
    answers: list[Contract | DomainError] = []
    checked: list[_Checked] = []
    for item in items:
        try:
            ok = _check(item, specs, terms[str(item.organization.pk)])
        except DomainError as exc:
            if not partial:
                raise
            answers.append(exc)
            continue
        terms[str(item.organization.pk)].append(ok.term)
        checked.append(ok)
        answers.append(_contract(ok, now))
    made = Contract.objects.bulk_create(
        [a for a in answers if isinstance(a, Contract)]
    )  # primary keys come back (PostgreSQL, SQLite ≥ 3.35)
    ContractLine.objects.bulk_create(
        ContractLine(
            contract=contract,
            kind=line.kind,
            description=li.description,
            product=line.product,
            quantity=line.quantity,
            unit_price=price,
            start=line.start,
            end=line.end,
            reactivation_fee=fee,
        )
        for contract, ok in zip(made, checked, strict=True)
        for line, li, price, fee in ok.lines
    )
    ContractEvent.objects.bulk_create(
        ContractEvent(
            contract=contract,
            at=now,
            actor_id=principal.user_id if principal else None,
            kind="created",
            from_state="",
            to_state=contract.state,
            reason=ok.item.reason.strip() or "created",
        )
        for contract, ok in zip(made, checked, strict=True)
    )
    return answers


def _contract(ok: _Checked, now: datetime) -> Contract:
    item = ok.item
    return Contract(
        vendor_id=item.organization.vendor_id,
        organization=item.organization,
        plan=item.plan,
        plan_snapshot=ok.spec,
        reference=item.reference.strip()[:60],
        start=item.start,
        end=ok.end,
        state=item.state,
        predecessor=item.predecessor,
        currency=ok.currency,
        price_percent_override=ok.percent,
        price_fixed_override=ok.fixed,
        addons=sorted(f.value for f in ok.term.addons),
        created_at=now,
        updated_at=now,
    )
