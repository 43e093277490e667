"""What a billing run should do, decided purely and idempotently (B-3, B-4, B-9).

A billing run is ``plan_billing_run(state, today)`` → actions, then the service layer carries
out each action in its own transaction and records the action's ``key`` (a unique row) in the
same transaction. Because every action carries an :class:`IdempotencyKey` and the planner never
proposes a key that ``state.done`` already holds, a second run on the same day — or any later
run, or a run for an earlier date — issues nothing twice.

Keys
    ``(contract_id, "invoice", period_start)`` — the invoice for the service period starting
    ``period_start`` (initial invoice, renewal, or a monthly instalment; B-3, B-5);
    ``(contract_id, "suspend", due_date)``, ``(contract_id, "suspension_approval", due_date)``
    — B-4 dunning steps for the unpaid invoice due on ``due_date``; ``(contract_id, "lapse",
    term_end)`` — marking a lapse (an unpaid renewal at the end of a term, per-user plans).

    The run never charges the reinstatement fee: it is owed from 30 days past due (the
    plan's past-due clock, ``dunning.past_due_since``) and charged when the contract is
    reinstated — by a payment or an explicit reinstatement (B-4, B-6) — keyed
    ``(contract_id, "reinstatement_fee", since)`` so it is charged once per lapse.

Invoice schedule of a contract (periods anchored at ``start``, see periods.py)
    * annual billing: one invoice per term; the first is issued on ``start``, each renewal
      ``renewal_lead_months`` before its term begins (B-3);
    * monthly billing: one invoice per month; the first month of each renewal term is the
      renewal invoice, issued ``renewal_lead_months`` before it; other months on their first day.
    * ``billing_changes``: the customer's choice of monthly or annual billing (B-5) takes
      effect at the start of a term, so each term is billed one way or the other.
    A run issues everything whose issue date has come and that was not issued yet, so a run
    that was skipped for a while catches up. ``stop_after`` (a cancelled or non-renewing
    contract) stops invoicing periods that start on or after that date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from itertools import pairwise
from typing import NamedTuple

from .dunning import DunningPolicy, Standing, contract_standing, renewal_issue_date
from .money import Money
from .periods import Term, add_months
from .pricing import Billing

__all__ = [
    "Action",
    "ActionKind",
    "BillingState",
    "ContractSchedule",
    "IdempotencyKey",
    "OpenInvoice",
    "RenewalDue",
    "apply_actions",
    "billing_changes",
    "billing_in_force",
    "plan_billing_run",
    "renewals_due",
]


class IdempotencyKey(NamedTuple):
    contract_id: str
    purpose: str
    on: date  # period start for invoices, due date for dunning steps


class ActionKind(StrEnum):
    ISSUE_INVOICE = "issue_invoice"
    SUSPEND = "suspend"
    REQUEST_SUSPENSION_APPROVAL = "request_suspension_approval"
    MARK_LAPSED = "mark_lapsed"


@dataclass(frozen=True, slots=True)
class ContractSchedule:
    """The billing facts of one contract (snapshotted from its plan)."""

    contract_id: str
    start: date
    term_months: int = 12
    billing: Billing = Billing.ANNUAL
    renewal_lead_months: int = 1
    stop_after: date | None = None
    dunning: DunningPolicy = field(default_factory=DunningPolicy)
    # (term start, billing) in date order: how the terms from that day on are billed (B-5)
    billing_changes: tuple[tuple[date, Billing], ...] = ()

    def __post_init__(self) -> None:
        if not self.contract_id:
            raise ValueError("contract_id is required")
        if self.term_months <= 0:
            raise ValueError("term_months must be positive")
        renewal_issue_date(self.start, self.renewal_lead_months)  # validates the lead
        object.__setattr__(self, "billing", Billing(self.billing))
        changes = tuple((day, Billing(b)) for day, b in self.billing_changes)
        if any(a[0] >= b[0] for a, b in pairwise(changes)):
            raise ValueError("billing_changes must be in strictly increasing date order")
        object.__setattr__(self, "billing_changes", changes)

    def billing_on(self, day: date) -> Billing:
        """How the period starting ``day`` is billed: the last change on or before it."""
        return billing_in_force(self.billing, self.billing_changes, day)


def billing_in_force(
    default: Billing, changes: tuple[tuple[date, Billing], ...], day: date
) -> Billing:
    billing = Billing(default)
    for since, chosen in changes:
        if since > day:
            break
        billing = chosen
    return billing


def billing_changes(
    choices: Iterable[tuple[date, Billing | str]],
) -> tuple[tuple[date, Billing], ...]:
    """The changes that stand, from choices in the order they were made: a later choice
    replaces every earlier one that takes effect on or after its own day (B-5)."""
    out: list[tuple[date, Billing]] = []
    for since, chosen in choices:
        out = [c for c in out if c[0] < since]
        out.append((since, Billing(chosen)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """The oldest unpaid invoice of a contract, for dunning (B-4)."""

    contract_id: str
    due_date: date
    paid_through: date  # exclusive end of the coverage already paid for
    fee_basis: Money  # total licence list price (or the plan's basis)
    suspension_approved: bool = False
    renewal: bool = True  # it opens a new term; False for an instalment inside a term


@dataclass(frozen=True, slots=True)
class BillingState:
    contracts: tuple[ContractSchedule, ...] = ()
    open_invoices: tuple[OpenInvoice, ...] = ()
    done: frozenset[IdempotencyKey] = frozenset()


@dataclass(frozen=True, slots=True)
class Action:
    key: IdempotencyKey
    kind: ActionKind
    contract_id: str
    period: Term | None = None  # the service period an invoice covers
    issue_date: date | None = None


@dataclass(frozen=True, slots=True)
class RenewalDue:
    key: IdempotencyKey
    contract_id: str
    period: Term  # the term (or first month) the invoice covers
    issue_date: date
    renewal: bool  # False for the very first invoice and for ordinary monthly instalments


def _invoice_schedule(contract: ContractSchedule, today: date) -> Iterator[RenewalDue]:
    term_months = contract.term_months
    # beyond this, no period can have an issue date <= today (lead + 1 month of clamping slack)
    horizon = add_months(today, contract.renewal_lead_months + 1)
    t = 0
    while True:
        first = t * term_months  # months from start to this term
        term_start = add_months(contract.start, first)
        months = term_months if contract.billing_on(term_start) is Billing.ANNUAL else 1
        for j in range(term_months // months):
            period = Term(
                add_months(contract.start, first + j * months),
                add_months(contract.start, first + (j + 1) * months),
            )
            if period.start > horizon:
                return
            if contract.stop_after is not None and period.start >= contract.stop_after:
                return
            is_renewal = t > 0 and j == 0
            if is_renewal:
                issue = renewal_issue_date(period.start, contract.renewal_lead_months)
            else:
                issue = period.start
            if issue <= today:
                key = IdempotencyKey(contract.contract_id, "invoice", period.start)
                yield RenewalDue(key, contract.contract_id, period, issue, is_renewal)
        t += 1


def renewals_due(
    contracts: Iterable[ContractSchedule], today: date, done: frozenset[IdempotencyKey]
) -> list[RenewalDue]:
    """Invoices (initial, renewal, instalment) whose issue date has come and whose key is not
    in ``done``, oldest first per contract."""
    due: list[RenewalDue] = []
    for contract in contracts:
        due.extend(item for item in _invoice_schedule(contract, today) if item.key not in done)
    return due


def _dunning_actions(
    contract: ContractSchedule, invoice: OpenInvoice, today: date
) -> Iterator[Action]:
    report = contract_standing(
        term_end=invoice.paid_through,
        due_date=invoice.due_date,
        paid=False,
        today=today,
        fee_basis=invoice.fee_basis,
        policy=contract.dunning,
        suspension_approved=invoice.suspension_approved,
        reference=contract.contract_id,
        renewal=invoice.renewal,
    )
    cid = contract.contract_id
    # the fee the report says is owed is charged at reinstatement, never here (B-4, B-6)
    if report.state is Standing.SUSPENDED:
        yield Action(IdempotencyKey(cid, "suspend", invoice.due_date), ActionKind.SUSPEND, cid)
    elif report.state is Standing.SUSPENSION_DUE:
        key = IdempotencyKey(cid, "suspension_approval", invoice.due_date)
        yield Action(key, ActionKind.REQUEST_SUSPENSION_APPROVAL, cid)
    elif report.state is Standing.LAPSED:
        key = IdempotencyKey(cid, "lapse", invoice.paid_through)
        yield Action(key, ActionKind.MARK_LAPSED, cid)


def plan_billing_run(state: BillingState, today: date) -> list[Action]:
    """The actions a billing run on ``today`` should carry out; never one whose key is in
    ``state.done``, never two with the same key. Deterministic order: contracts as given,
    invoices oldest first, then dunning steps."""
    actions: list[Action] = []
    seen: set[IdempotencyKey] = set(state.done)

    def add(action: Action) -> None:
        if action.key not in seen:
            seen.add(action.key)
            actions.append(action)

    for due in renewals_due(state.contracts, today, state.done):
        add(
            Action(
                due.key,
                ActionKind.ISSUE_INVOICE,
                due.contract_id,
                period=due.period,
                issue_date=due.issue_date,
            )
        )
    by_id = {contract.contract_id: contract for contract in state.contracts}
    for invoice in state.open_invoices:
        contract = by_id.get(invoice.contract_id)
        if contract is None:
            raise ValueError(f"open invoice for unknown contract {invoice.contract_id!r}")
        for action in _dunning_actions(contract, invoice, today):
            add(action)
    return actions


def apply_actions(state: BillingState, actions: Iterable[Action]) -> BillingState:
    """The state after the actions were carried out: their keys are recorded as done.
    (The service layer does the same with a unique row per key.)"""
    return replace(state, done=state.done | {action.key for action in actions})
