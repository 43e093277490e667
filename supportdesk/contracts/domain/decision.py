"""The entitlement decision taken at intake (SPEC E-4, E-5, E-6, E-8, T-8, T-10, B-8).

``decide`` answers, for one request from an identified contact (T-8: any contact may ask, the
plan decides the cost): is it covered by a contract, or billable hourly, and why.

Entitlement is judged at the time of receipt: the contract terms whose dates contain the
request's receipt date (in ``tz``) are candidates. The order of the rules:

1. No term in force (active or past due) → hourly at non-subscriber rates (E-4, B-8) with the
   reason ``suspended``, ``lapsed`` or ``no_contract``.
2. Out-of-scope category (hardware, network, third party by default) → hourly, with the T-10
   suggestion to close it as out of scope.
3. Hourly-only plan → hourly at the contract's rates (``hourly_plan``).
4. Category not included and no allowance cap for it → hourly ``not_included``.
5. A cap that applies to the request is used up → hourly ``cap_exhausted`` with advice.
6. Otherwise covered (``included``).

Flags are informational: ``past_due_warning``, ``version_unsupported`` (E-6),
``api_beyond_base`` (E-8), ``cap_exceeded``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from enum import StrEnum
from typing import Literal

from .caps import Cap, CapUsage, UsageEvent, usage_for_caps
from .errors import EntitlementInputError
from .plans import PlanKind
from .states import ContractState, ContractTerm
from .versions import Catalogue, version_status
from .vocabulary import Category, Channel, coerce_enum


class ReasonCode(StrEnum):
    INCLUDED = "included"
    HOURLY_PLAN = "hourly_plan"
    NO_CONTRACT = "no_contract"
    LAPSED = "lapsed"
    SUSPENDED = "suspended"
    CAP_EXHAUSTED = "cap_exhausted"
    OUT_OF_SCOPE = "out_of_scope"
    NOT_INCLUDED = "not_included"


class DecisionFlag(StrEnum):
    VERSION_UNSUPPORTED = "version_unsupported"
    CAP_EXCEEDED = "cap_exceeded"
    API_BEYOND_BASE = "api_beyond_base"
    PAST_DUE_WARNING = "past_due_warning"


class RateBasis(StrEnum):
    """Which rates apply: none (covered), the contract's rate card, or non-subscriber rates."""

    COVERED = "covered"
    CONTRACT = "contract"
    NON_SUBSCRIBER = "non_subscriber"


class Suggestion(StrEnum):
    CLOSE_OUT_OF_SCOPE = "close_out_of_scope"
    OFFER_BEYOND_CAP = "offer_beyond_cap"
    RENEW_CONTRACT = "renew_contract"


@dataclass(frozen=True)
class Request:
    """A support request as seen at intake."""

    organisation_id: str
    requester_id: str
    channel: Channel
    category: Category
    received_at: datetime
    product: str | None = None
    version: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel", coerce_enum(Channel, self.channel, field="channel"))
        category = coerce_enum(Category, self.category, field="category")
        object.__setattr__(self, "category", category)
        if not self.organisation_id.strip():
            raise EntitlementInputError("request organisation_id must not be empty")
        if not self.requester_id.strip():
            raise EntitlementInputError(
                "request requester_id must not be empty: only identified contacts get a decision"
            )
        if self.received_at.tzinfo is None or self.received_at.utcoffset() is None:
            raise EntitlementInputError("request received_at must be an aware datetime")
        if self.version is not None and not self.product:
            raise EntitlementInputError("request version given without a product")


@dataclass(frozen=True)
class Decision:
    covered: bool
    billing: Literal["covered", "hourly"]
    reason: ReasonCode
    explanation: str
    rate_basis: RateBasis
    flags: frozenset[DecisionFlag]
    contract_id: str | None
    cap_notices: tuple[str, ...]
    suggestion: Suggestion | None
    decided_at: datetime


_HOURLY_NON_SUBSCRIBER = "accepted, billable hourly at non-subscriber rates"


def _usage_for(
    term: ContractTerm, cap: Cap, cap_usage: Mapping[str, Sequence[CapUsage]], day: date
) -> CapUsage:
    for usage in cap_usage.get(term.contract_id, ()):
        if usage.cap_name == cap.name:
            if not usage.period_start <= day < usage.period_end:
                raise EntitlementInputError(
                    f"cap usage {cap.name!r} for contract {term.contract_id!r} covers "
                    f"{usage.period_start.isoformat()} to {usage.period_end.isoformat()}, "
                    f"not the request date {day.isoformat()}"
                )
            return usage
    raise EntitlementInputError(
        f"cap usage {cap.name!r} for contract {term.contract_id!r} is missing"
    )


def _notice(cap: Cap, usage: CapUsage) -> str:
    if usage.exhausted:
        advice = f": {cap.exhausted_advice}" if cap.exhausted_advice else ""
        return f"{cap.label} used up ({usage.summary()}){advice}"
    return (
        f"{cap.label}: {usage.summary()} used this contract year "
        f"({usage.period_start.isoformat()} to {usage.period_end.isoformat()}, "
        f"{usage.remaining:f} left)"
    )


@dataclass(frozen=True)
class _Outcome:
    covered: bool
    reason: ReasonCode
    explanation: str
    rate_basis: RateBasis
    flags: frozenset[DecisionFlag]
    notices: tuple[str, ...]
    suggestion: Suggestion | None


def _evaluate(
    term: ContractTerm,
    request: Request,
    cap_usage: Mapping[str, Sequence[CapUsage]],
    day: date,
) -> _Outcome:
    plan = term.plan
    flags: set[DecisionFlag] = set()
    label = f"contract {term.contract_id} ({plan.name})"
    if term.state is ContractState.PAST_DUE:
        flags.add(DecisionFlag.PAST_DUE_WARNING)
    if request.category is Category.API_DEVELOPER and plan.api_base_only:
        flags.add(DecisionFlag.API_BEYOND_BASE)
    category = request.category.value.replace("_", " ")

    if request.category in plan.out_of_scope_categories:
        return _Outcome(
            False,
            ReasonCode.OUT_OF_SCOPE,
            f"{category} issues are out of scope for {label}: close the ticket with a note "
            "telling the customer to resolve it with that party (T-10), or bill the work hourly",
            RateBasis.CONTRACT,
            frozenset(flags),
            (),
            Suggestion.CLOSE_OUT_OF_SCOPE,
        )
    if plan.kind is PlanKind.HOURLY_ONLY:
        return _Outcome(
            False,
            ReasonCode.HOURLY_PLAN,
            f"{label} bills all work hourly at the agreed rate of the period it is done in",
            RateBasis.CONTRACT,
            frozenset(flags),
            (),
            None,
        )

    applicable = [
        cap
        for cap in plan.caps
        if cap.counts.applies_to(channel=request.channel, category=request.category)
    ]
    granted = any(cap.grants for cap in applicable)
    if request.category not in plan.included_categories and not granted:
        advice = plan.not_included_advice.get(request.category)
        return _Outcome(
            False,
            ReasonCode.NOT_INCLUDED,
            f"{category} help by {request.channel.value} is not included in {label}"
            + (f": {advice}" if advice else "")
            + "; billable hourly",
            RateBasis.CONTRACT,
            frozenset(flags),
            (),
            None,
        )

    notices: list[str] = []
    exhausted: list[Cap] = []
    for cap in applicable:
        usage = _usage_for(term, cap, cap_usage, day)
        notices.append(_notice(cap, usage))
        if usage.exhausted:
            exhausted.append(cap)
    if exhausted:
        flags.add(DecisionFlag.CAP_EXCEEDED)
        names = ", ".join(cap.label.lower() for cap in exhausted)
        return _Outcome(
            False,
            ReasonCode.CAP_EXHAUSTED,
            f"{names} used up for this contract year under {label}; billable hourly",
            RateBasis.CONTRACT,
            frozenset(flags),
            tuple(notices),
            Suggestion.OFFER_BEYOND_CAP,
        )
    explanation = f"covered by {label}"
    if DecisionFlag.PAST_DUE_WARNING in flags:
        explanation += "; the contract is past due, remind the customer to pay"
    if DecisionFlag.API_BEYOND_BASE in flags:
        explanation += "; API help is limited to the base licensed functionality (E-8)"
    return _Outcome(
        True,
        ReasonCode.INCLUDED,
        explanation,
        RateBasis.COVERED,
        frozenset(flags),
        tuple(notices),
        None,
    )


def _rank(outcome: _Outcome, term: ContractTerm) -> tuple[int, int, int, str]:
    return (
        0 if outcome.covered else 1,
        0 if term.state is ContractState.ACTIVE else 1,
        -term.start.toordinal(),
        term.contract_id,
    )


def _not_in_force(
    terms: Sequence[ContractTerm], day: date
) -> tuple[ReasonCode, str, ContractTerm | None]:
    started = [t for t in terms if t.start <= day and t.state is not ContractState.DRAFT]
    suspended = [t for t in started if t.effective_state(day) is ContractState.SUSPENDED]
    if suspended:
        term = max(suspended, key=lambda t: (t.start, t.contract_id))
        return (
            ReasonCode.SUSPENDED,
            f"contract {term.contract_id} is suspended (B-4): {_HOURLY_NON_SUBSCRIBER}",
            term,
        )
    lapsed = [t for t in started if t.effective_state(day) is ContractState.LAPSED]
    if lapsed:
        term = max(lapsed, key=lambda t: (t.end, t.contract_id))
        return (
            ReasonCode.LAPSED,
            f"contract {term.contract_id} lapsed on {term.end.isoformat()}: "
            f"{_HOURLY_NON_SUBSCRIBER}",
            term,
        )
    return (
        ReasonCode.NO_CONTRACT,
        f"no active contract: {_HOURLY_NON_SUBSCRIBER}",
        None,
    )


def decide(
    *,
    contracts: Sequence[ContractTerm],
    request: Request,
    cap_usage: Mapping[str, Sequence[CapUsage]],
    catalogue: Catalogue,
    now: datetime,
    tz: tzinfo = UTC,
) -> Decision:
    """Decide coverage and billing for ``request``.

    ``contracts``: the requesting organisation's contract terms (any state).
    ``cap_usage``: per contract id, the usage of that contract's caps in the contract year
    containing the receipt date (see ``compute_cap_usage``).
    ``tz``: the zone in which contract dates are read.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise EntitlementInputError("now must be an aware datetime")
    if request.received_at > now:
        raise EntitlementInputError(
            f"request received_at {request.received_at.isoformat()} is after now {now.isoformat()}"
        )
    for term in contracts:
        if term.organisation_id != request.organisation_id:
            raise EntitlementInputError(
                f"contract {term.contract_id!r} belongs to organisation "
                f"{term.organisation_id!r}, not to the requester's {request.organisation_id!r}"
            )
    day = request.received_at.astimezone(tz).date()

    in_force = [t for t in contracts if t.in_force(day)]
    product_note = ""
    if request.product:
        matching = [t for t in in_force if request.product in t.products]
        generic = [t for t in in_force if not t.products]
        if in_force and not matching and not generic:
            licensed = ", ".join(sorted({p for t in in_force for p in t.products}))
            product_note = f" (contracts cover {licensed}, not {request.product})"
        in_force = matching or generic

    if not in_force:
        reason, explanation, matched = _not_in_force(contracts, day)
        if product_note and reason is ReasonCode.NO_CONTRACT:
            explanation = (
                f"no active contract for {request.product}{product_note}: {_HOURLY_NON_SUBSCRIBER}"
            )
        version_flags, version_note = _version_check(request, catalogue, window=1)
        return Decision(
            covered=False,
            billing="hourly",
            reason=reason,
            explanation=explanation + version_note,
            rate_basis=RateBasis.NON_SUBSCRIBER,
            flags=version_flags,
            contract_id=matched.contract_id if matched else None,
            cap_notices=(),
            suggestion=Suggestion.RENEW_CONTRACT if matched else None,
            decided_at=now,
        )

    outcomes = [(_evaluate(t, request, cap_usage, day), t) for t in in_force]
    outcome, chosen = min(outcomes, key=lambda pair: _rank(*pair))
    version_flags, version_note = _version_check(
        request, catalogue, window=chosen.plan.version_window
    )
    return Decision(
        covered=outcome.covered,
        billing="covered" if outcome.covered else "hourly",
        reason=outcome.reason,
        explanation=outcome.explanation + version_note,
        rate_basis=outcome.rate_basis,
        flags=outcome.flags | version_flags,
        contract_id=chosen.contract_id,
        cap_notices=outcome.notices,
        suggestion=outcome.suggestion,
        decided_at=now,
    )


def _version_check(
    request: Request, catalogue: Catalogue, *, window: int
) -> tuple[frozenset[DecisionFlag], str]:
    """E-6: flag (never refuse) a request on a version outside the support window."""
    if not (request.product and request.version):
        return frozenset(), ""
    status = version_status(catalogue, request.product, request.version, window=window)
    if status.supported or status.code == "unknown_product":
        return frozenset(), ""
    return (
        frozenset({DecisionFlag.VERSION_UNSUPPORTED}),
        f"; version flagged (E-6): {status.explanation}",
    )


def compute_cap_usage(
    contracts: Sequence[ContractTerm],
    *,
    events_by_contract: Mapping[str, Sequence[UsageEvent]],
    at: datetime,
    tz: tzinfo = UTC,
) -> dict[str, tuple[CapUsage, ...]]:
    """Usage of every cap of every term in force at ``at``, keyed by contract id.

    Contract years are counted from the term's start (one-year terms renewed annually, with
    backfilled renewals, keep the years aligned with the anniversary).
    """
    day = at.astimezone(tz).date()
    return {
        term.contract_id: usage_for_caps(
            term.plan.caps,
            events=events_by_contract.get(term.contract_id, ()),
            contract_start=term.start,
            at=at,
            tz=tz,
        )
        for term in contracts
        if term.in_force(day)
    }
