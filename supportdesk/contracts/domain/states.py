"""Contract states, transitions and contract terms (SPEC E-1, B-4, B-6).

A contract moves through draft → active → past_due → suspended / lapsed / cancelled. The
allowed moves are data (``ALLOWED_TRANSITIONS``); anything else raises ``InvalidTransition``.

A ``ContractTerm`` is one term of a contract (default one year, renewed annually): the
organisation, the plan rules snapshotted onto it (house rule 9), the dates (``end`` exclusive),
the current state and the line items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from types import MappingProxyType

from .errors import EntitlementInputError
from .plans import Feature, PlanKind, PlanRules
from .vocabulary import coerce_enum, coerce_enum_set


class ContractState(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    SUSPENDED = "suspended"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"


S = ContractState

ALLOWED_TRANSITIONS: Mapping[ContractState, frozenset[ContractState]] = MappingProxyType(
    {
        # signed and started, or abandoned before it started
        S.DRAFT: frozenset({S.ACTIVE, S.CANCELLED}),
        # invoice unpaid at its due date; term ended without renewal; cancelled by agreement
        S.ACTIVE: frozenset({S.PAST_DUE, S.LAPSED, S.CANCELLED}),
        # paid; suspended after 45 days (B-4); term ended unpaid; cancelled
        S.PAST_DUE: frozenset({S.ACTIVE, S.SUSPENDED, S.LAPSED, S.CANCELLED}),
        # reinstated after payment (B-4); term ended while suspended; cancelled
        S.SUSPENDED: frozenset({S.ACTIVE, S.LAPSED, S.CANCELLED}),
        # renewed after lapse, backfilled to the original expiry (B-6); closed for good
        S.LAPSED: frozenset({S.ACTIVE, S.CANCELLED}),
        # terminal
        S.CANCELLED: frozenset(),
    }
)

IN_FORCE_STATES = frozenset({S.ACTIVE, S.PAST_DUE})
"""States in which a contract entitles its customer to covered support."""

EXPIRING_STATES = IN_FORCE_STATES | {S.SUSPENDED}
"""States a term stays in until its end; past the end it has lapsed unless it was renewed."""


class InvalidTransition(ValueError):
    """A state change that the contract state machine does not allow."""

    def __init__(self, from_state: ContractState, to_state: ContractState) -> None:
        self.from_state = from_state
        self.to_state = to_state
        self.allowed = ALLOWED_TRANSITIONS[from_state]
        allowed = ", ".join(sorted(s.value for s in self.allowed)) or "none (final state)"
        super().__init__(
            f"a contract cannot go from {from_state.value} to {to_state.value}; "
            f"allowed from {from_state.value}: {allowed}"
        )


@dataclass(frozen=True)
class Transition:
    """An allowed state change with its reason (the service writes it as an event row)."""

    from_state: ContractState
    to_state: ContractState
    reason: str


def can_transition(state: ContractState | str, to: ContractState | str) -> bool:
    """True when ``state`` → ``to`` is an allowed move."""
    current = coerce_enum(ContractState, state, field="state")
    target = coerce_enum(ContractState, to, field="to")
    return target in ALLOWED_TRANSITIONS[current]


def transition(state: ContractState | str, to: ContractState | str, *, reason: str) -> Transition:
    """Validate ``state`` → ``to``; raise ``InvalidTransition`` unless it is allowed.

    A reason is required (it becomes the audit entry).
    """
    current = coerce_enum(ContractState, state, field="state")
    target = coerce_enum(ContractState, to, field="to")
    if target not in ALLOWED_TRANSITIONS[current]:
        raise InvalidTransition(current, target)
    if not reason.strip():
        raise EntitlementInputError(
            f"a reason is required to move a contract from {current.value} to {target.value}"
        )
    return Transition(from_state=current, to_state=target, reason=reason.strip())


class LineItemKind(StrEnum):
    LICENCE = "licence"
    USERS = "users"
    OTHER = "other"


def _money(value: object, *, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise EntitlementInputError(f"{field} must be a Decimal (never a float), got {value!r}")
    result = Decimal(value)
    if not result.is_finite():
        raise EntitlementInputError(f"{field} must be a finite number, got {value!r}")
    if result < 0:
        raise EntitlementInputError(f"{field} must not be negative, got {value}")
    return result


@dataclass(frozen=True)
class LineItem:
    """A product licence (with its list price), a number of counted users, or another charge.

    ``start``/``end`` default to the term's dates; when given they must lie inside the term
    (``end`` exclusive), e.g. users added mid-term.
    """

    description: str
    kind: LineItemKind
    quantity: int
    unit_price: Decimal
    product: str | None = None
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", coerce_enum(LineItemKind, self.kind, field="kind"))
        label = f"line item {self.description!r}"
        if not self.description.strip():
            raise EntitlementInputError("line item description must not be empty")
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int):
            raise EntitlementInputError(
                f"{label}: quantity must be a whole number, got {self.quantity!r}"
            )
        if self.quantity < 0:
            raise EntitlementInputError(
                f"{label}: quantity must not be negative, got {self.quantity}"
            )
        object.__setattr__(
            self, "unit_price", _money(self.unit_price, field=f"{label}: unit price")
        )
        if self.kind is LineItemKind.LICENCE and not (self.product or "").strip():
            raise EntitlementInputError(f"{label}: a licence line item needs a product")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise EntitlementInputError(
                f"{label}: end {self.end.isoformat()} must be after start {self.start.isoformat()}"
            )


@dataclass(frozen=True)
class ContractTerm:
    """One term of a contract: ``[start, end)`` with the plan snapshotted onto it."""

    contract_id: str
    organisation_id: str
    plan: PlanRules
    start: date
    end: date
    state: ContractState
    line_items: tuple[LineItem, ...] = field(default=())
    currency: str = "USD"
    addons: frozenset[Feature] = frozenset()  # features added to this contract (E-10)

    def __post_init__(self) -> None:
        label = f"contract {self.contract_id!r}"
        addons = coerce_enum_set(Feature, self.addons, field="addons")
        object.__setattr__(self, "addons", addons)
        extra = addons - self.plan.addon_features
        if extra:
            names = ", ".join(sorted(f.value for f in extra))
            allowed = ", ".join(sorted(f.value for f in self.plan.addon_features)) or "none"
            raise EntitlementInputError(
                f"{label}: {names} is not an add-on of plan {self.plan.plan_id!r} "
                f"(add-ons: {allowed})"
            )
        if not self.contract_id.strip():
            raise EntitlementInputError("contract_id must not be empty")
        if not self.organisation_id.strip():
            raise EntitlementInputError(f"{label}: organisation_id must not be empty")
        object.__setattr__(self, "state", coerce_enum(ContractState, self.state, field="state"))
        object.__setattr__(self, "line_items", tuple(self.line_items))
        if self.end <= self.start:
            raise EntitlementInputError(
                f"{label}: end {self.end.isoformat()} must be after start "
                f"{self.start.isoformat()} (end is exclusive)"
            )
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise EntitlementInputError(
                f"{label}: currency must be a 3-letter ISO code, got {self.currency!r}"
            )
        for item in self.line_items:
            start = item.start or self.start
            end = item.end or self.end
            if start < self.start or end > self.end or end <= start:
                raise EntitlementInputError(
                    f"{label}: line item {item.description!r} runs {start.isoformat()} to "
                    f"{end.isoformat()}, outside the contract term {self.start.isoformat()} to "
                    f"{self.end.isoformat()}"
                )

    @property
    def plan_kind(self) -> PlanKind:
        return self.plan.kind

    @property
    def products(self) -> frozenset[str]:
        """Products licensed by this term's licence line items."""
        return frozenset(
            item.product
            for item in self.line_items
            if item.kind is LineItemKind.LICENCE and item.product
        )

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def effective_state(self, day: date) -> ContractState:
        """The state on ``day`` (see ``effective_state``)."""
        return effective_state(state=self.state, end=self.end, day=day)

    def in_force(self, day: date) -> bool:
        """True when the term entitles its customer on ``day`` (active or past due)."""
        return self.contains(day) and self.state in IN_FORCE_STATES


def effective_state(*, state: ContractState | str, end: date, day: date) -> ContractState:
    """The state of a term on ``day``: an active, past-due or suspended term whose exclusive
    ``end`` has come has lapsed, even before the expiry sweep records it."""
    current = coerce_enum(ContractState, state, field="state")
    return S.LAPSED if current in EXPIRING_STATES and day >= end else current


def term_expired(*, state: ContractState | str, end: date, today: date, renewed: bool) -> bool:
    """True when the expiry sweep should record a term as lapsed on ``today``: its exclusive
    ``end`` has come while it was active, past due or suspended, and no renewal follows it
    (a renewed term simply ran its course)."""
    current = coerce_enum(ContractState, state, field="state")
    return current in EXPIRING_STATES and today >= end and not renewed


def validate_terms(terms: Iterable[ContractTerm]) -> None:
    """Raise ``EntitlementInputError`` when two terms of one organisation and plan overlap.

    Cancelled terms are ignored (a cancelled term may be replaced by a new one).
    """
    by_key: dict[tuple[str, str], list[ContractTerm]] = {}
    for term in terms:
        if term.state is S.CANCELLED:
            continue
        by_key.setdefault((term.organisation_id, term.plan.plan_id), []).append(term)
    for (organisation, plan), group in by_key.items():
        group.sort(key=lambda t: (t.start, t.end, t.contract_id))
        for earlier, later in pairwise(group):
            if later.start < earlier.end:
                raise EntitlementInputError(
                    f"organisation {organisation!r}, plan {plan!r}: contract "
                    f"{earlier.contract_id!r} ({earlier.start.isoformat()} to "
                    f"{earlier.end.isoformat()}) overlaps contract {later.contract_id!r} "
                    f"({later.start.isoformat()} to {later.end.isoformat()})"
                )
