"""The billing run's contract part (B-3 … B-6): per batch of chains, plan the renewals,
instalments and dunning steps, claim their keys and carry them out in one transaction.
See the module docstring of ``runs.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import islice
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Min, prefetch_related_objects

from supportdesk.billing import selectors, services
from supportdesk.billing.domain.billing_run import (
    Action,
    ActionKind,
    BillingState,
    ContractSchedule,
    IdempotencyKey,
    OpenInvoice,
    plan_billing_run,
    renewals_due,
)
from supportdesk.billing.domain.dunning import DunningPolicy, past_due_since
from supportdesk.billing.domain.lines import PriceLine
from supportdesk.billing.domain.money import Money
from supportdesk.billing.domain.periods import Term, renewal_term_end
from supportdesk.billing.domain.pricing import Billing
from supportdesk.billing.models import (
    BillingRunKey,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    PlanBilling,
)
from supportdesk.billing.runs_chains import (
    BATCH,
    CHAIN_STATES,
    Chain,
    Progress,
    RunSummary,
    _batched,
    _claim,
    _done,
    _link,
    _load_chains,
    _org_chains,
    dunning_policy,
    fee_basis,
    period_lines,
    with_billing_changes,
)
from supportdesk.billing.services_subscriptions import contract_move
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import (
    Contract,
    ContractState,
    LineKind,
    Plan,
    PlanKind,
)
from supportdesk.contracts.services_create import ContractInput, contracts_create_many
from supportdesk.core.errors import DomainError
from supportdesk.core.models import Vendor

SUSPENSION_STEPS = (ActionKind.SUSPEND, ActionKind.REQUEST_SUSPENSION_APPROVAL)
# organisations screened per light read (``_busy``): the screen holds a few columns per
# contract, key and open invoice, so a bigger batch costs little memory and saves statements
SCREEN = 2000


# --- contracts -------------------------------------------------------------------------------


@dataclass
class _Step:
    chain: Chain
    key: IdempotencyKey
    kind: str  # an ActionKind value, or "past_due"
    what: str
    opened: Invoice | None = None
    action: Action | None = None
    lines: list[PriceLine] = field(default_factory=list)


def _open_invoices(chains: list[Chain], light: bool = False) -> dict[str, Invoice]:
    """Each chain's oldest unpaid invoice for a service period (with ``paid_through``, the
    first day it covers), by chain subject; ``light``: only what the planner reads."""
    by_contract = {cid: chain for chain in chains for cid in chain.terms}
    found: dict[str, Invoice] = {}
    if not by_contract:
        return found
    if light:
        for row in _open_invoice_rows(list(by_contract), LIGHT_FIELDS):
            inv = cast(Invoice, _LightInvoice(*row))
            found.setdefault(by_contract[row[0]].subject, inv)
        return found
    for inv in _open_invoice_rows(list(by_contract), None):
        found.setdefault(by_contract[inv.contract_id].subject, inv)
    return found


LIGHT_FIELDS = ("contract_id", "due_date", "total", "currency")  # + paid_through, see below


def _open_invoice_rows(contract_ids: list[int], fields: Sequence[str] | None) -> Any:
    """The contracts' issued invoices for service periods, oldest due first, with
    ``paid_through``: rows of ``fields`` and it, or (``fields`` None) invoices. On PostgreSQL
    each contract's invoices are read through the contract index by themselves (``LATERAL …
    OFFSET 0``): given a few thousand contracts the planner scanned every invoice instead (a
    re-run over 100,000 contracts: 80 ms a screen of 2,000 customers, now 10 ms)."""
    issued, kind = InvoiceState.ISSUED.value, InvoiceKind.INVOICE.value
    if connection.vendor == "postgresql":
        q = connection.ops.quote_name
        invoice, line = q(Invoice._meta.db_table), q(InvoiceLine._meta.db_table)
        columns = "i.*" if fields is None else ", ".join(f"i.{q(f)}" for f in fields)
        sql = (
            f"SELECT {columns}, p.paid_through FROM unnest(%s::bigint[]) AS c(id) "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT * FROM {invoice} WHERE contract_id = c.id "
            "AND state = %s AND kind = %s OFFSET 0) AS i CROSS JOIN LATERAL (SELECT "
            f"min(period_start) AS paid_through FROM {line} WHERE invoice_id = i.id) AS p "
            "WHERE p.paid_through IS NOT NULL ORDER BY i.due_date, i.number"
        )
        params: list[Any] = [contract_ids, issued, kind]
        if fields is None:
            return Invoice.objects.raw(sql, params)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    rows = (
        Invoice.objects.filter(contract_id__in=contract_ids, state=issued, kind=kind)
        .annotate(paid_through=Min("lines__period_start"))
        .filter(paid_through__isnull=False)
        .order_by("due_date", "number")
    )
    return rows if fields is None else rows.values_list(*fields, "paid_through")


@dataclass(slots=True)
class _LightInvoice:
    """What the light read (``_busy``) plans with of an open invoice: a model instance per
    row cost more than the planning itself on a run over 100,000 contracts."""

    contract_id: int
    due_date: date
    total: Decimal
    currency: str
    paid_through: date


@dataclass(slots=True)
class _LightTerm:
    """What the light read plans with of a contract (see ``_LightInvoice``)."""

    pk: int
    organization_id: int
    plan_id: int
    predecessor_id: int | None
    start: date
    end: date
    state: str
    plan: Plan


def _draft_renewals(chains: list[Chain]) -> dict[int, Contract]:
    """Draft renewals someone prepared, by the term they renew."""
    found = Contract.objects.filter(
        predecessor_id__in=[c.latest.pk for c in chains], state=ContractState.DRAFT
    ).prefetch_related("lines")
    return {d.predecessor_id: d for d in found if d.predecessor_id}


def _plan_steps(
    vendor: Vendor,
    chains: list[Chain],
    today: date,
    summary: RunSummary,
    drafts: dict[int, Contract],
) -> list[_Step]:
    done = _done(vendor, [c.subject for c in chains])
    opened = _open_invoices(chains)
    steps: list[_Step] = []
    for chain in chains:
        inv = opened.get(chain.subject)
        actions, past_due = _chain_actions(chain, inv, done, today)
        for action in actions:
            step = _Step(chain, action.key, action.kind.value, "", inv, action)
            if action.kind is ActionKind.ISSUE_INVOICE:
                assert action.period is not None
                period = action.period
                renewing = period.start >= chain.latest.end
                term = drafts.get(chain.latest.pk, chain.latest) if renewing else chain.latest
                step.lines = period_lines(chain, period, term)
                if all(line.amount.is_zero() for line in step.lines):  # no price configured
                    summary.add("skipped_zero", f"{chain.label}: nothing to invoice {period.start}")
                    continue
                step.what = (
                    f"{chain.label}: {'renewal ' if renewing else ''}invoice for "
                    f"{period.start} – {period.last_day}"
                )
            else:
                step.what = f"{chain.label}: {action.kind.value.replace('_', ' ')} (B-4)"
            steps.append(step)
        if past_due is not None:
            assert inv is not None
            steps.append(
                _Step(chain, past_due, "past_due", f"{chain.label}: past due ({inv.label})", inv)
            )
    return steps


def _chain_actions(
    chain: Chain,
    inv: Invoice | None,
    done: frozenset[IdempotencyKey],
    today: date,
) -> tuple[list[Action], IdempotencyKey | None]:
    """What the planner says for one chain, and the past-due key when a term goes past due."""
    open_invoices: tuple[OpenInvoice, ...] = ()
    if inv is not None and inv.due_date is not None:
        open_invoices = (
            OpenInvoice(
                contract_id=chain.subject,
                due_date=inv.due_date,
                paid_through=inv.paid_through,  # type: ignore[attr-defined]
                fee_basis=fee_basis(chain.latest, inv),
                renewal=chain.is_renewal(inv),
            ),
        )
    schedule = chain.schedule()
    state = BillingState((schedule,), open_invoices, done)
    dunned = _dunned(chain, inv)
    suspended = all(t.state == ContractState.SUSPENDED for t in dunned)
    actions = [
        action
        for action in plan_billing_run(state, today)
        # suspended already (by hand, or for an earlier invoice): nothing more to ask
        if not (suspended and action.kind in SUSPENSION_STEPS)
    ]
    past_due = None
    if (
        inv is not None
        and inv.due_date is not None
        and past_due_since(
            due_date=inv.due_date,
            paid_through=inv.paid_through,  # type: ignore[attr-defined]
            clock=schedule.dunning.past_due_clock,
        )
        < today
        and any(t.state == ContractState.ACTIVE for t in dunned)
    ):
        key = IdempotencyKey(chain.subject, "past_due", inv.due_date)
        past_due = key if key not in done else None
    return actions, past_due


def renewal_lines(term: Contract, users: int) -> list[contract_services.LineInput]:
    """The lines of the term after ``term``: its licences and other charges still running on
    its last day, and one line of the ``users`` it starts with
    (``selectors.users_for_renewal_many``; B-5: users added mid-term carry on into the
    renewal; a lower inventory count deferred to the renewal applies, E-9)."""
    last_day = term.end - timedelta(days=1)
    lines = [
        contract_services.LineInput(
            kind=line.kind,
            quantity=line.quantity,
            unit_price=line.unit_price,
            description=line.description,
            product=line.product,
            reactivation_fee=line.reactivation_fee,
        )
        for line in term.lines.all()
        if line.kind != LineKind.USERS and (line.end is None or line.end > last_day)
    ]
    unit = term.plan.per_user_price or next(
        (line.unit_price for line in term.lines.all() if line.kind == LineKind.USERS), None
    )
    if users and unit is not None:
        lines.append(
            contract_services.LineInput(
                kind=LineKind.USERS,
                quantity=users,
                unit_price=unit,
                description="Counted users (E-9)",
            )
        )
    return lines


def _renew_many(
    renewals: Sequence[tuple[Chain, Term, Contract | None]], now: datetime
) -> list[Contract | DomainError]:
    """Sign, for each (chain, period, prepared draft), the term that starts at the end of the
    chain's latest one (B-3): the prepared draft if there is one, else a copy of the latest
    term's lines with the users it counts on its last day — all the copies with ONE
    ``contracts_create_many``. A renewal that cannot be signed answers its error in its
    place; the signed ones become their chains' latest terms."""
    answers: dict[int, Contract | DomainError] = {}
    copies: list[tuple[int, Chain, Term]] = []
    for i, (chain, period, draft) in enumerate(renewals):
        latest = chain.latest
        if draft is not None and draft.start == latest.end:
            try:
                contract_services.contract_transition(
                    principal=None,
                    contract=draft,
                    to=ContractState.ACTIVE,
                    reason=_renewal_reason(period),
                    now=now,
                )
            except DomainError as exc:
                answers[i] = exc
                continue
            draft.state = ContractState.ACTIVE
            answers[i] = draft
        else:
            copies.append((i, chain, period))
    renewed = [chain.latest for _, chain, _ in copies]
    prefetch_related_objects(renewed, "lines__product")  # the licences carry on: one query
    users = selectors.users_for_renewal_many(renewed)
    made = contracts_create_many(
        principal=None,
        items=[
            _renewal_input(chain, period, users[chain.latest.pk]) for _, chain, period in copies
        ],
        now=now,
        partial=True,
    )
    answers.update((i, signed) for (i, _, _), signed in zip(copies, made, strict=True))
    for i, (chain, _, _) in enumerate(renewals):
        signed = answers[i]
        if isinstance(signed, Contract):
            # the run needs no more of the new term than it passed in (its lines were priced)
            chain.terms[signed.pk] = signed
            chain.latest = signed
    return [answers[i] for i in range(len(renewals))]


def _renewal_reason(period: Term) -> str:
    return f"renewal invoiced by the billing run for {period.start} (B-3)"


def _renewal_input(chain: Chain, period: Term, users: int) -> ContractInput:
    latest = chain.latest
    return ContractInput(
        organization=latest.organization,
        plan=latest.plan,
        start=latest.end,
        end=renewal_term_end(chain.root.start, latest.end, period.start, latest.plan.term_months),
        state=ContractState.ACTIVE,
        lines=renewal_lines(latest, users),
        reference=f"{chain.root.label}/{latest.end:%Y-%m}",
        currency=latest.currency,
        predecessor=latest,
        price_percent_override=latest.price_percent_override,
        price_fixed_override=latest.price_fixed_override,
        reason=_renewal_reason(period),
        addons=latest.addons or (),
    )


def _lapse(chain: Chain, opened: Invoice | None, what: str, now: datetime) -> None:
    """B-6: an unpaid renewal at expiry cancels that term (its unpaid invoices are void) and
    the term before it lapses; anything else lapses the latest term."""
    latest = chain.latest
    if (
        opened is not None
        and chain.is_renewal(opened)
        and opened.contract_id == latest.pk
        and latest.predecessor_id in chain.terms
    ):
        unpaid = Invoice.objects.filter(
            contract=latest, state=InvoiceState.ISSUED, amount_paid=0, amount_credited=0
        )
        for inv in unpaid:
            services.invoice_void(
                invoice=inv, reason="renewal not paid by expiry: the subscription lapsed", now=now
            )
        contract_move(
            contract=latest, to=ContractState.CANCELLED, reason=f"renewal not paid: {what}", now=now
        )
        previous = chain.terms[latest.predecessor_id]
        contract_move(contract=previous, to=ContractState.LAPSED, reason=what, now=now)
        chain.latest = previous
        return
    contract_move(contract=latest, to=ContractState.LAPSED, reason=what, now=now)


def _period(step: _Step) -> Term:
    assert step.action is not None and step.action.period is not None  # an issue step
    return step.action.period


def _signed_terms(
    issuing: list[_Step], drafts: dict[int, Contract], now: datetime, summary: RunSummary
) -> dict[int, Contract | DomainError]:
    """The term each issue step (by its position in ``issuing``, in period order per chain)
    invoices, signing the renewals it needs in rounds: each round signs at most one renewal
    per chain, all of them with one ``_renew_many``; usually one round does it all."""
    terms: dict[int, Contract | DomainError] = {}
    todo = list(enumerate(issuing))
    while todo:
        renewing: list[tuple[int, _Step]] = []
        later: list[tuple[int, _Step]] = []
        waiting: set[int] = set()
        for n, step in todo:
            chain = step.chain
            if id(chain) in waiting:  # after this chain's renewal of this round
                later.append((n, step))
            elif _period(step).start >= chain.latest.end:
                renewing.append((n, step))
                waiting.add(id(chain))
            else:
                terms[n] = chain.latest
        if not renewing:  # then nothing waits for a later round either
            break
        signed = _renew_many(
            [(s.chain, _period(s), drafts.get(s.chain.latest.pk)) for _, s in renewing], now
        )
        for (n, step), term in zip(renewing, signed, strict=True):
            terms[n] = term
            if isinstance(term, DomainError):  # e.g. a term someone else signed overlaps
                summary.add("errors", f"{step.chain.label}: cannot renew: {term.detail}")
            else:
                summary.add("renewals", f"{step.chain.label}: term from {term.start} signed")
        todo = later
    return terms


def _carry_out(
    vendor: Vendor,
    steps: list[_Step],
    drafts: dict[int, Contract],
    today: date,
    now: datetime,
    summary: RunSummary,
) -> None:
    won = _claim(vendor, [(s.key, s.what) for s in steps], today, now)
    links: dict[int, int] = {}
    moves: list[_Step] = []
    issuing: list[_Step] = []
    for step in steps:
        row = won.get(step.key)
        if row is None:
            summary.counts["already_done"] += 1
        elif step.kind == ActionKind.ISSUE_INVOICE:
            issuing.append(step)
        else:
            moves.append(step)
            if step.opened is not None:
                links[row] = step.opened.pk
    terms = _signed_terms(issuing, drafts, now, summary)
    failed = [won[s.key] for n, s in enumerate(issuing) if isinstance(terms[n], DomainError)]
    if failed:
        BillingRunKey.objects.filter(pk__in=failed).delete()
    issue: list[tuple[_Step, services.InvoiceDraft]] = []
    for n, step in enumerate(issuing):
        contract = terms[n]
        if isinstance(contract, DomainError):
            continue
        draft = services.InvoiceDraft(
            organization_id=contract.organization_id,
            currency=contract.currency,
            lines=[services.LineInput(x, contract=contract) for x in step.lines],
            contract_id=contract.pk,
            memo=step.what,
            payment_terms_days=step.chain.pb.payment_terms_days,
        )
        issue.append((step, draft))
    invoices = services.invoices_issue_many(
        vendor=vendor, drafts=[d for _, d in issue], issue_date=today, now=now
    )
    for (step, _), inv in zip(issue, invoices, strict=True):
        links[won[step.key]] = inv.pk
        summary.add(
            SUMMARY_NAMES[step.kind], f"{step.what} → {inv.label} {Money(inv.total, inv.currency)}"
        )
    _link(links)
    for step in moves:
        _move(step, now, summary)


SUMMARY_NAMES = {
    ActionKind.ISSUE_INVOICE.value: "invoices",
    ActionKind.SUSPEND.value: "suspended",
    ActionKind.MARK_LAPSED.value: "lapsed",
    ActionKind.REQUEST_SUSPENSION_APPROVAL.value: "suspension_requests",
}


def _dunned(chain: Chain, opened: Invoice | None) -> list[Contract]:
    """The terms a dunning step moves: the one the unpaid invoice is for and its renewals
    (a renewal signed ahead is no way round an unpaid term); a paid term before it keeps
    its state — dunning is per contract (B-4)."""
    term = chain.terms.get(opened.contract_id or 0) if opened is not None else None
    if term is None:
        return [chain.latest]
    return sorted((t for t in chain.terms.values() if t.start >= term.start), key=lambda t: t.start)


def _move(step: _Step, now: datetime, summary: RunSummary) -> None:
    chain = step.chain
    if step.kind in ("past_due", ActionKind.SUSPEND):
        to = ContractState.PAST_DUE if step.kind == "past_due" else ContractState.SUSPENDED
        for term in _dunned(chain, step.opened):
            contract_move(contract=term, to=to, reason=step.what, now=now)
        summary.add("past_due" if step.kind == "past_due" else "suspended", step.what)
    elif step.kind == ActionKind.MARK_LAPSED:
        _lapse(chain, step.opened, step.what, now)
        summary.add("lapsed", step.what)
    else:  # REQUEST_SUSPENSION_APPROVAL: the key row is the request a person decides on
        if step.opened is not None:
            services._event(step.opened, "suspension_approval_requested", step.what, now)
        summary.add("suspension_requests", step.what)


def _contract_batch(
    vendor: Vendor, chains: list[Chain], today: date, now: datetime, summary: RunSummary
) -> None:
    drafts = _draft_renewals(chains)
    steps = _plan_steps(vendor, chains, today, summary, drafts)
    if summary.dry_run:
        for step in steps:
            summary.add(SUMMARY_NAMES.get(step.kind, step.kind), step.what)
        return
    if steps:
        with transaction.atomic():
            _carry_out(vendor, steps, drafts, today, now, summary)


def _busy(
    base: Any,
    org_ids: list[int],
    plans: dict[int, Plan],
    plan_rows: dict[int, PlanBilling],
    vendor: Vendor,
    today: date,
) -> list[int]:
    """The organisations of the batch with something to do today, decided from a light read
    (a few columns, no lines) by the same planner. Most customers have nothing to do on most
    days, so the full read of contracts, lines and invoices is left to those that have."""
    light = (
        # ``org_ids`` are consecutive in key order: all of base's organisations in that range
        base.filter(organization_id__gte=org_ids[0], organization_id__lte=org_ids[-1])
        .order_by()
        .values_list("pk", "organization_id", "plan_id", "predecessor_id", "start", "end", "state")
    )
    by_org: dict[int, list[Contract]] = defaultdict(list)
    for row in light:
        by_org[row[1]].append(cast(Contract, _LightTerm(*row, plan=plans[row[2]])))
    found = with_billing_changes(
        [chain for org_id in org_ids for chain in _org_chains(by_org[org_id], plan_rows)]
    )
    done = _done(vendor, [c.subject for c in found])
    opened = _open_invoices(found, light=True)
    busy = {
        chain.latest.organization_id
        for chain in found
        if not _settled(chain, opened.get(chain.subject), done, today)
    }
    return sorted(busy)


def _settled(
    chain: Chain, inv: Invoice | None, done: frozenset[IdempotencyKey], today: date
) -> bool:
    """True when the planner has nothing for the chain today (``_chain_actions`` would
    answer no action and no past-due key), decided from the chain's schedule and dunning
    answers for its kind — many chains share them (same start, plan and due date), so each
    is worked out once per run (``_due_starts``, ``_dunning_keys``) and a chain costs a few
    key look-ups: what a re-run over fully billed customers is made of."""
    latest = chain.latest
    pb = chain.pb
    stop = None
    if latest.plan.kind == PlanKind.HOURLY_ONLY or latest.state == ContractState.LAPSED:
        stop = chain.root.start  # as ``Chain.schedule``
    subject = chain.subject
    due = _due_starts(
        chain.root.start,
        latest.plan.term_months,
        pb.billing,
        pb.renewal_lead_months,
        stop,
        chain.changes,
        today,
    )
    if any(IdempotencyKey(subject, "invoice", day) not in done for day in due):
        return False
    if inv is None or inv.due_date is None:
        return True
    paid_through: date = inv.paid_through  # type: ignore[attr-defined]
    policy = dunning_policy(pb)
    dunned = _dunned(chain, inv)
    suspended = all(t.state == ContractState.SUSPENDED for t in dunned)
    steps, overdue = _dunning_keys(
        policy, inv.due_date, paid_through, chain.is_renewal(inv), inv.currency, today
    )
    for kind, purpose, on in steps:
        if suspended and kind in SUSPENSION_STEPS:
            continue
        if IdempotencyKey(subject, purpose, on) not in done:
            return False
    if overdue and any(t.state == ContractState.ACTIVE for t in dunned):
        return IdempotencyKey(subject, "past_due", inv.due_date) in done
    return True


@lru_cache(maxsize=4096)
def _due_starts(
    start: date,
    term_months: int,
    billing: str,
    lead: int,
    stop: date | None,
    changes: tuple[tuple[date, Billing], ...],
    today: date,
) -> tuple[date, ...]:
    """The starts of the periods whose invoices are due by ``today`` for a chain of this
    kind: the planner's own schedule (``renewals_due``), keys set aside."""
    schedule = ContractSchedule(
        contract_id="-",
        start=start,
        term_months=term_months,
        billing=Billing(billing),
        billing_changes=changes,
        renewal_lead_months=lead,
        stop_after=stop,
    )
    return tuple(due.period.start for due in renewals_due((schedule,), today, frozenset()))


@lru_cache(maxsize=4096)
def _dunning_keys(
    policy: DunningPolicy,
    due_date: date,
    paid_through: date,
    renewal: bool,
    currency: str,
    today: date,
) -> tuple[tuple[tuple[ActionKind, str, date], ...], bool]:
    """The planner's dunning steps for an unpaid invoice of this kind — (kind, purpose,
    day) each — and whether its past-due clock started before ``today`` (as
    ``_chain_actions``). The steps do not depend on the fee's basis, only its lines do."""
    schedule = ContractSchedule(
        contract_id="-", start=paid_through, stop_after=paid_through, dunning=policy
    )
    invoice = OpenInvoice(
        contract_id="-",
        due_date=due_date,
        paid_through=paid_through,
        fee_basis=Money.zero(currency),
        renewal=renewal,
    )
    actions = plan_billing_run(BillingState((schedule,), (invoice,), frozenset()), today)
    steps = tuple((a.kind, a.key.purpose, a.key.on) for a in actions)
    since = past_due_since(
        due_date=due_date, paid_through=paid_through, clock=policy.past_due_clock
    )
    return steps, since < today


def contract_run(
    vendor: Vendor, today: date, now: datetime, summary: RunSummary, progress: Progress
) -> None:
    plans = {p.pk: p for p in Plan.objects.filter(vendor=vendor)}
    plan_rows = {pb.plan_id: pb for pb in PlanBilling.objects.filter(plan__vendor=vendor)}
    base = Contract.objects.filter(vendor=vendor, state__in=CHAIN_STATES)
    org_ids = list(
        base.values_list("organization_id", flat=True).distinct().order_by("organization_id")
    )
    customers = iter(progress(org_ids, len(org_ids), f"{vendor.slug} contracts"))
    screen = True
    while ids := list(islice(customers, SCREEN if screen else BATCH)):
        busy = _busy(base, ids, plans, plan_rows, vendor, today) if screen else ids
        for batch in _batched(busy, BATCH):
            found = _load_chains(base, batch, plan_rows, plans)
            _contract_batch(vendor, found, today, now, summary)
        # The light read pays when most customers have nothing to do (a daily run, a
        # re-run); when most of a screen had something (a first run, the 1st of the month)
        # the next batch goes straight to the full read, where the planner skips the idle
        # ones alike.
        screen = len(busy) * 2 < len(ids)
