"""Small builders for the pure entitlement tests (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from supportdesk.contracts.domain.plans import PlanRules
from supportdesk.contracts.domain.states import ContractState, ContractTerm, LineItem, LineItemKind


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def licence(product: str, price: str = "10000", quantity: int = 1) -> LineItem:
    return LineItem(
        description=f"{product} licence",
        kind=LineItemKind.LICENCE,
        quantity=quantity,
        unit_price=Decimal(price),
        product=product,
    )


def term(
    plan: PlanRules,
    *,
    contract_id: str = "C-1",
    organisation_id: str = "org-1",
    start: date = date(2025, 1, 1),
    end: date = date(2026, 1, 1),
    state: ContractState = ContractState.ACTIVE,
    line_items: tuple[LineItem, ...] = (),
    addons: frozenset[str] = frozenset(),
) -> ContractTerm:
    return ContractTerm(
        addons=addons,  # type: ignore[arg-type]
        contract_id=contract_id,
        organisation_id=organisation_id,
        plan=plan,
        start=start,
        end=end,
        state=state,
        line_items=line_items,
    )
