"""Past-due standing, reinstatement, suspension, lapse and renewal dates (B-3, B-4, B-6).

Everything here is **per contract**: a customer with one overdue contract keeps its other
contracts in good standing. Dates are plain ``date`` values in the billing calendar; ``today``
is passed in.

Standing of one contract (:func:`contract_standing`)
    Inputs: ``term_end`` — exclusive end of the coverage already paid for; ``due_date`` of the
    oldest unpaid invoice (the renewal, or an instalment) and whether it is ``paid``. With
    ``days = today − since`` where ``since`` is where the plan's past-due clock starts
    (:func:`past_due_since`: the invoice's ``due_date``, or — ``past_due_clock="term_end"``,
    seed 000 — the end of the paid coverage, never before the due date):

    * nothing owed → ``active`` before ``term_end``, ``lapsed`` from ``term_end`` on;
    * ``days <= past_due_after_days`` (0) → ``active``; beyond → ``past_due``;
    * ``days >= reinstatement_after_days`` (30) → a reinstatement fee is owed:
      ``reinstatement_percent`` (5) % of the fee basis (total licence list price), B-4. It is
      *owed*, not charged: it is charged when the contract is reinstated
      (:func:`reinstatement_charge`), never by the passing of time;
    * ``days >= suspend_after_days`` (45) **and** the paid coverage has ended → ``suspended``
      (``suspend_mode="automatic"``) or ``suspension_due`` until a person approves it
      (``"approval"``); ``"never"`` keeps it past due. Suspension never cuts into a period
      already paid for;
    * with ``lapse_after_days`` set (per-user subscriptions: 0), a contract whose unpaid
      invoice is a ``renewal`` is ``lapsed`` from ``term_end + lapse_after_days`` on — the
      customer did not renew — and a lapsed contract owes the reinstatement fee when it
      renews after all (B-6; the fee is charged on that renewal, never at the lapse). An
      unpaid instalment inside a term is chased like any invoice (past due, fee,
      suspension): it is no lapse. Enterprise plans leave it ``None``: they are suspended
      instead of lapsing while an invoice is chased.

Renewal after lapse (B-6)
    The new term starts at the ORIGINAL expiry date, not the renewal date (backfill), plus the
    reinstatement fee.

Renewal invoices (B-3)
    issued ``lead_months`` (1–2, configurable) before the term's end:
    ``renewal_issue_date(term_end, lead_months) = add_months(term_end, −lead_months)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from .lines import LineKind, PriceLine
from .money import Money, MoneyError, sum_money
from .periods import Term, add_months, days_between, term_end

__all__ = [
    "DunningPolicy",
    "LapseRenewal",
    "PastDueClock",
    "ReinstatementCharge",
    "Standing",
    "StandingReport",
    "SuspendMode",
    "backfill_terms",
    "contract_standing",
    "lapse_renewal",
    "past_due_since",
    "reinstatement_charge",
    "reinstatement_fee_lines",
    "renewal_issue_date",
    "renewal_term_after_lapse",
]


class Standing(StrEnum):
    ACTIVE = "active"
    PAST_DUE = "past_due"
    SUSPENSION_DUE = "suspension_due"  # 45+ days past due, waiting for approval to suspend
    SUSPENDED = "suspended"
    LAPSED = "lapsed"


class SuspendMode(StrEnum):
    AUTOMATIC = "automatic"
    APPROVAL = "approval"
    NEVER = "never"  # past due, chased, never suspended for it (seed 001: the MSP)


class PastDueClock(StrEnum):
    """Where the past-due days of B-4 are counted from (a plan setting)."""

    DUE_DATE = "due_date"  # the unpaid invoice's due date
    TERM_END = "term_end"  # the end of the paid coverage (seed 000: the contract is past due)


def _days(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative int, got {value!r}")
    return value


def _plain(d: date, what: str) -> None:
    if isinstance(d, datetime):
        raise TypeError(f"{what} must be a date, not a datetime")


@dataclass(frozen=True, slots=True)
class DunningPolicy:
    """Plan thresholds (B-4); snapshot them onto the contract when it starts."""

    past_due_after_days: int = 0
    reinstatement_after_days: int = 30
    reinstatement_percent: Decimal = Decimal(5)
    reinstatement_fixed: Money | None = None  # optional flat fee on top of the percentage
    suspend_after_days: int = 45
    suspend_mode: SuspendMode = SuspendMode.APPROVAL  # "reserves the right to suspend"
    lapse_after_days: int | None = None  # None: never lapses while chased (enterprise)
    past_due_clock: PastDueClock = PastDueClock.DUE_DATE

    def __post_init__(self) -> None:
        _days(self.past_due_after_days, "past_due_after_days")
        _days(self.reinstatement_after_days, "reinstatement_after_days")
        _days(self.suspend_after_days, "suspend_after_days")
        if self.lapse_after_days is not None:
            _days(self.lapse_after_days, "lapse_after_days")
        pct = self.reinstatement_percent
        if not isinstance(pct, Decimal | int) or isinstance(pct, bool) or not 0 <= pct <= 100:
            raise MoneyError(f"reinstatement_percent must be 0..100, got {pct!r}")
        if self.reinstatement_fixed is not None and self.reinstatement_fixed.is_negative():
            raise MoneyError("reinstatement_fixed must not be negative")
        object.__setattr__(self, "suspend_mode", SuspendMode(self.suspend_mode))
        object.__setattr__(self, "past_due_clock", PastDueClock(self.past_due_clock))


def past_due_since(*, due_date: date, paid_through: date, clock: PastDueClock) -> date:
    """The day the past-due clock of an unpaid invoice starts (B-4): its due date, or with
    ``TERM_END`` the end of the coverage already paid for (``paid_through``, the first day
    the invoice covers), whichever is later — a renewal invoice due a month before expiry
    makes nobody past due while the paid term still runs.

    >>> past_due_since(due_date=date(2026, 3, 3), paid_through=date(2026, 4, 1),
    ...                clock=PastDueClock.TERM_END)
    datetime.date(2026, 4, 1)
    """
    _plain(due_date, "due_date")
    _plain(paid_through, "paid_through")
    if PastDueClock(clock) is PastDueClock.TERM_END:
        return max(due_date, paid_through)
    return due_date


def reinstatement_fee_lines(
    basis: Money,
    policy: DunningPolicy,
    *,
    reference: str | None = None,
    basis_label: str = "total licence list price",
) -> list[PriceLine]:
    """The reinstatement fee (B-4 / B-6): ``percent`` % of ``basis`` (5 % of 140,000.00 =
    7,000.00), plus the optional flat fee. A zero fee gives no lines."""
    lines: list[PriceLine] = []
    pct = Decimal(policy.reinstatement_percent)
    if pct:
        lines.append(
            PriceLine(
                description=(
                    f"Reinstatement fee: {format(pct.normalize(), 'f')} % of {basis_label} {basis}"
                ),
                quantity=pct / 100,
                unit_price=basis,
                amount=basis.percent(pct),
                period_start=None,
                period_end=None,
                kind=LineKind.REINSTATEMENT_FEE,
                reference=reference,
            )
        )
    fixed = policy.reinstatement_fixed
    if fixed is not None and not fixed.is_zero():
        lines.append(
            PriceLine(
                description="Reinstatement fee (flat)",
                quantity=Decimal(1),
                unit_price=fixed,
                amount=fixed,
                period_start=None,
                period_end=None,
                kind=LineKind.REINSTATEMENT_FEE,
                reference=reference,
            )
        )
    return lines


@dataclass(frozen=True, slots=True)
class StandingReport:
    state: Standing
    days_past_due: int  # 0 when nothing is overdue
    fee_lines: tuple[PriceLine, ...]  # owed to reinstate; empty when none

    @property
    def fee(self) -> Money | None:
        if not self.fee_lines:
            return None
        return sum_money((line.amount for line in self.fee_lines), self.fee_lines[0].currency)


def contract_standing(
    *,
    term_end: date,
    due_date: date | None,
    paid: bool,
    today: date,
    fee_basis: Money,
    policy: DunningPolicy | None = None,
    suspension_approved: bool = False,
    reference: str | None = None,
    renewal: bool = True,
) -> StandingReport:
    """Standing of ONE contract on ``today`` (rules in the module docstring). ``renewal``:
    the unpaid invoice opens a new term (False for an instalment inside a term)."""
    policy = policy or DunningPolicy()
    _plain(term_end, "term_end")
    _plain(today, "today")
    if due_date is not None:
        _plain(due_date, "due_date")

    def fee() -> tuple[PriceLine, ...]:
        return tuple(reinstatement_fee_lines(fee_basis, policy, reference=reference))

    def lapse_fee() -> tuple[PriceLine, ...]:
        # renewing on the expiry date itself backfills nothing and costs no fee (B-6)
        return fee() if today > term_end else ()

    if paid or due_date is None:
        if today < term_end:
            return StandingReport(Standing.ACTIVE, 0, ())
        # coverage ran out and no renewal invoice is open: the contract has lapsed
        return StandingReport(Standing.LAPSED, 0, lapse_fee())

    since = past_due_since(due_date=due_date, paid_through=term_end, clock=policy.past_due_clock)
    overdue = max(days_between(since, today), 0)
    coverage_over = today >= term_end
    owes_fee = overdue >= policy.reinstatement_after_days
    if (
        renewal
        and policy.lapse_after_days is not None
        and days_between(term_end, today) >= policy.lapse_after_days
    ):
        return StandingReport(Standing.LAPSED, overdue, fee() if owes_fee else lapse_fee())
    suspends = policy.suspend_mode is not SuspendMode.NEVER
    if suspends and overdue >= policy.suspend_after_days and coverage_over:
        if policy.suspend_mode == SuspendMode.AUTOMATIC or suspension_approved:
            state = Standing.SUSPENDED
        else:
            state = Standing.SUSPENSION_DUE
        return StandingReport(state, overdue, fee())
    if overdue > policy.past_due_after_days:
        return StandingReport(Standing.PAST_DUE, overdue, fee() if owes_fee else ())
    return StandingReport(Standing.ACTIVE, overdue, ())


# --------------------------------------------------------------------------------------------
# renewals


def renewal_issue_date(term_end: date, lead_months: int = 1) -> date:
    """B-3: the renewal invoice for the term ending ``term_end`` (exclusive) is issued
    ``lead_months`` before it. 2026-03-01 with lead 1 → 2026-02-01; with lead 2 → 2026-01-01."""
    _plain(term_end, "term_end")
    if isinstance(lead_months, bool) or not isinstance(lead_months, int):
        raise TypeError("lead_months must be an int")
    if not 0 <= lead_months <= 12:
        raise ValueError(f"renewal lead must be 0..12 months, got {lead_months}")
    return add_months(term_end, -lead_months)


def renewal_term_after_lapse(original_end: date, renewal_date: date, months: int = 12) -> Term:
    """B-6: the renewed term starts at the ORIGINAL expiry date, whatever the renewal date.

    ``original_end`` is the exclusive end of the lapsed term (its expiry date). For a lapse
    longer than one term, see :func:`backfill_terms`.
    """
    _plain(original_end, "original_end")
    _plain(renewal_date, "renewal_date")
    return Term(original_end, term_end(original_end, months))


def backfill_terms(original_end: date, renewal_date: date, months: int = 12) -> list[Term]:
    """Every term from the original expiry up to and including the one that contains
    ``renewal_date`` — what a renewal after a lapse has to pay for (B-6)."""
    _plain(renewal_date, "renewal_date")
    terms = [renewal_term_after_lapse(original_end, renewal_date, months)]
    while terms[-1].end <= renewal_date:
        k = len(terms)  # anchored at the original expiry, never stepped from the last end
        terms.append(
            Term(add_months(original_end, k * months), add_months(original_end, (k + 1) * months))
        )
    return terms


@dataclass(frozen=True, slots=True)
class LapseRenewal:
    terms: tuple[Term, ...]  # backfilled terms, the first starting at the original expiry
    backfilled_days: int  # days between the original expiry and the renewal date
    fee_lines: tuple[PriceLine, ...]


def lapse_renewal(
    *,
    original_end: date,
    renewal_date: date,
    fee_basis: Money,
    policy: DunningPolicy | None = None,
    months: int = 12,
    reference: str | None = None,
    basis_label: str = "total licence list price",
) -> LapseRenewal:
    """Renewal of a lapsed contract: backfilled term(s) plus the reinstatement fee (B-6).

    Renewing on or before ``original_end`` is not a lapse: no fee, nothing backfilled.
    """
    policy = policy or DunningPolicy()
    terms = tuple(backfill_terms(original_end, renewal_date, months))
    lapsed_days = max(days_between(original_end, renewal_date), 0)
    fee = (
        tuple(
            reinstatement_fee_lines(fee_basis, policy, reference=reference, basis_label=basis_label)
        )
        if lapsed_days > 0
        else ()
    )
    return LapseRenewal(terms, lapsed_days, fee)


@dataclass(frozen=True, slots=True)
class ReinstatementCharge:
    """What reinstating a past-due contract on ``on`` costs (B-4)."""

    since: date  # where the past-due clock started
    days_past_due: int
    fee_lines: tuple[PriceLine, ...]  # empty when reinstated before the threshold


def reinstatement_charge(
    *,
    since: date,
    on: date,
    fee_basis: Money,
    policy: DunningPolicy | None = None,
    reference: str | None = None,
    basis_label: str = "total licence list price",
) -> ReinstatementCharge:
    """The fee of reinstating, on ``on``, a contract past due since ``since`` (B-4): owed
    from ``reinstatement_after_days`` (30) days past due on, charged at reinstatement.

    >>> from decimal import Decimal
    >>> charge = reinstatement_charge(since=date(2026, 4, 1), on=date(2026, 5, 2),
    ...                               fee_basis=Money(Decimal("140000"), "USD"))
    >>> charge.days_past_due, [str(x.amount) for x in charge.fee_lines]
    (31, ['7,000.00 USD'])
    """
    policy = policy or DunningPolicy()
    _plain(since, "since")
    _plain(on, "on")
    days = max(days_between(since, on), 0)
    if days == 0 or days < policy.reinstatement_after_days:
        return ReinstatementCharge(since, days, ())
    lines = reinstatement_fee_lines(fee_basis, policy, reference=reference, basis_label=basis_label)
    return ReinstatementCharge(since, days, tuple(lines))
