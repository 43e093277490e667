"""The billing run's hourly part (B-7, B-8): one invoice per organisation and month for its
billable time entries, a batch of organisations per transaction. See ``runs.py``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from supportdesk.billing import services
from supportdesk.billing.domain.billing_run import (
    IdempotencyKey,
)
from supportdesk.billing.domain.hourly import IncrementRounding, PeriodKind, price_time_entries
from supportdesk.billing.domain.hourly import RateCard as DomainRateCard
from supportdesk.billing.domain.hourly import TimeEntry as DomainEntry
from supportdesk.billing.domain.lines import PriceLine
from supportdesk.billing.domain.money import Money
from supportdesk.billing.models import (
    InvoiceLine,
    RateCard,
)
from supportdesk.billing.runs_chains import (
    Progress,
    RunSummary,
    _batched,
    _claim,
    _done,
    _link,
)
from supportdesk.contracts.models import (
    Contract,
    ContractState,
    Plan,
    PlanKind,
    TimeEntry,
    WorkKind,
)
from supportdesk.core.models import Vendor
from supportdesk.customers.models import Organization
from supportdesk.sla.domain.calendar import BusinessCalendar
from supportdesk.tickets.models import Ticket

HOURLY_BATCH = 200  # organisations with hourly work per transaction
WORK_KINDS = dict(WorkKind.choices)  # value → label, looked up once per entry


# --- hourly work (B-7, B-8) ------------------------------------------------------------------


def domain_rate_card(card: RateCard) -> DomainRateCard:
    def m(value: Decimal) -> Money:
        return Money(value, card.currency)

    return DomainRateCard(
        currency=card.currency,
        rates={
            PeriodKind.BUSINESS: m(card.business_rate),
            PeriodKind.AFTER_HOURS: m(card.after_hours_rate),
            PeriodKind.WEEKEND: m(card.weekend_rate),
            PeriodKind.HOLIDAY: m(card.holiday_rate),
        },
        increment_minutes=card.increment_minutes,
        rounding=IncrementRounding(card.rounding),
        minimum_charge=None if card.minimum_charge is None else m(card.minimum_charge),
        name=card.name,
        effective_from=card.effective_from,
    )


def card_calendar(card: RateCard) -> BusinessCalendar:
    spec = card.calendar_spec or {"timezone": "UTC", "always_open": True}
    return BusinessCalendar.from_spec(spec)


def hourly_entries(vendor: Vendor, before: datetime) -> Any:
    """Billable, not yet invoiced time entries ended before ``before`` on tickets billed
    hourly: the entitlement decision said so (E-4, B-8), or none was taken and the
    organisation had no contract in force (active or past due) on the day the work started."""
    decided, undecided = _hourly_cases(vendor, before)
    return _not_invoiced(vendor, before).filter(decided | undecided)


def _not_invoiced(vendor: Vendor, before: datetime) -> Any:
    return TimeEntry.objects.filter(vendor=vendor, billable=True, ended_at__lte=before).filter(
        ~Exists(InvoiceLine.objects.filter(time_entry=OuterRef("pk")))
    )


def _hourly_cases(vendor: Vendor, before: datetime) -> tuple[Q, Q]:
    """The two ways an entry is billed by the hour (see ``hourly_entries``)."""
    in_force = Contract.objects.filter(
        organization_id=OuterRef("ticket__organization_id"),
        state__in=(ContractState.ACTIVE, ContractState.PAST_DUE),
        # date vs timestamp: midnight UTC of the date (SQLite compares the ISO text alike)
        start__lte=OuterRef("started_at"),
        end__gt=OuterRef("started_at"),
    )
    return Q(ticket__entitlement__billing="hourly"), (
        Q(ticket__entitlement__isnull=True) & ~Exists(in_force)
    )


def _hourly_org_ids(vendor: Vendor, before: datetime) -> list[int]:
    """The organisations of ``hourly_entries``, ascending: the UNION of its two cases, each
    an AND of conditions, so that PostgreSQL anti-joins the invoiced entries before it looks
    for a contract in force (under the OR it probed the contracts for every entry ever
    logged first: a re-run over 1,000,000 invoiced entries took 7.4 s, now 2.5 s)."""
    org = "ticket__organization_id"
    decided, undecided = (
        _not_invoiced(vendor, before).filter(case).order_by().values_list(org, flat=True)
        for case in _hourly_cases(vendor, before)
    )
    return list(decided.union(undecided).order_by(org))


@dataclass
class _Hourly:
    """What one hourly run prices with: the vendor's default cards (non-subscribers, B-8),
    each plan's card and each customer's own cards (overrides), see ``models.RateCard``."""

    cards: list[DomainRateCard]
    calendar: BusinessCalendar
    month: date  # the billing month (its first day): one invoice per organisation per month
    before: datetime
    plan_cards: dict[int, RateCard]  # plan id → its card
    org_cards: dict[int, list[RateCard]]  # organisation id → its own cards

    def cards_for(self, org: int, plan: int | None) -> tuple[Any, list[DomainRateCard]]:
        """(a key shared by customers priced alike, the cards) for one customer."""
        if org in self.org_cards:
            own = self.org_cards[org]
            return ("org", org), [domain_rate_card(c) for c in own]
        if plan is not None and plan in self.plan_cards:
            return ("plan", plan), [domain_rate_card(self.plan_cards[plan])]
        return ("vendor",), self.cards

    def calendar_for(self, key: Any) -> BusinessCalendar:
        if key[0] == "org":
            return card_calendar(self.org_cards[key[1]][-1])
        if key[0] == "plan":
            return card_calendar(self.plan_cards[key[1]])
        return self.calendar


def _hourly_batch(
    vendor: Vendor,
    setup: _Hourly,
    org_ids: list[int],
    today: date,
    now: datetime,
    summary: RunSummary,
) -> None:
    rows = list(
        hourly_entries(vendor, setup.before)
        .filter(
            ticket__organization_id__in=org_ids,
            # the batch's tickets once more, as a subquery: with it PostgreSQL reads their
            # entries by ticket instead of scanning every entry logged for each batch (a
            # batch of 200 customers among 1,000,000 entries: 390 ms before, 105 ms after)
            ticket__in=Ticket.objects.filter(organization_id__in=org_ids),
        )
        .values_list(
            "pk", "ticket_id", "ticket__organization_id", "started_at", "ended_at", "work_kind"
        )
        .order_by("ticket__organization_id", "started_at", "pk")
    )
    by_org: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_org[row[2]].append(row)
    names = dict(Organization.objects.filter(pk__in=list(by_org)).values_list("pk", "name"))
    keys = {o: IdempotencyKey(f"org-{o}", "hourly", setup.month) for o in by_org}
    notes = {
        o: f"{names[o]}: hourly work before {setup.month} ({len(by_org[o])} entries)"
        for o in by_org
    }
    if summary.dry_run:
        done = _done(vendor, [k.contract_id for k in keys.values()])
        for org, key in keys.items():
            if key not in done:
                summary.add("hourly_invoices", notes[org])
        return
    with transaction.atomic():
        won = _claim(vendor, [(keys[o], notes[o]) for o in by_org], today, now)
        orgs = [o for o in by_org if keys[o] in won]
        if len(orgs) < len(by_org):
            summary.counts["already_done"] += len(by_org) - len(orgs)
        if not orgs:
            return
        agreement_rows = (
            Contract.objects.filter(
                organization_id__in=orgs,
                plan__kind=PlanKind.HOURLY_ONLY,
                state__in=(ContractState.ACTIVE, ContractState.PAST_DUE, ContractState.SUSPENDED),
            )
            .order_by("start")
            .values_list("organization_id", "pk", "plan_id")
        )
        agreements = {o: pk for o, pk, _ in agreement_rows}
        plans = {o: plan for o, _, plan in agreement_rows}
        groups: dict[Any, tuple[list[DomainRateCard], list[DomainEntry]]] = {}
        currency: dict[int, str] = {}
        for o in orgs:
            key, cards = setup.cards_for(o, plans.get(o))
            currency[o] = cards[-1].currency
            group = groups.setdefault(key, (cards, []))
            group[1].extend(
                DomainEntry(
                    str(pk),
                    started,
                    ended,
                    f"Ticket #{ticket} {WORK_KINDS.get(kind, kind)}",
                )
                for pk, ticket, _, started, ended, kind in by_org[o]
            )
        per_entry: dict[int, list[PriceLine]] = defaultdict(list)
        for key, (cards, entries) in groups.items():
            for line in price_time_entries(entries, cards, setup.calendar_for(key)):
                per_entry[int(line.reference or 0)].append(line)
        drafts = []
        invoiced = []
        for o in orgs:
            items = [
                services.LineInput(line, time_entry_id=row[0])
                for row in by_org[o]
                for line in per_entry[row[0]]
            ]
            if not items:  # rounded to nothing (e.g. a few seconds to the nearest increment)
                continue
            invoiced.append(o)
            drafts.append(
                services.InvoiceDraft(
                    organization_id=o,
                    currency=currency[o],
                    lines=items,
                    contract_id=agreements.get(o),
                    memo=notes[o],
                )
            )
        invoices = services.invoices_issue_many(
            vendor=vendor, drafts=drafts, issue_date=today, now=now
        )
        _link({won[keys[o]]: inv.pk for o, inv in zip(invoiced, invoices, strict=True)})
    for o, inv in zip(invoiced, invoices, strict=True):
        summary.add("hourly_invoices", f"{notes[o]} → {inv.label} {Money(inv.total, inv.currency)}")


def hourly_setup(vendor: Vendor, today: date) -> _Hourly | None:
    """The rate cards and calendars a run on ``today`` prices with; None without cards.
    The ticket page's time panel prices with the same (issue 10.7)."""
    all_cards = list(RateCard.objects.filter(vendor=vendor))
    by_pk = {c.pk: c for c in all_cards}
    plan_cards = {
        plan: by_pk[card]
        for plan, card in Plan.objects.filter(
            vendor=vendor, rate_card_id__isnull=False
        ).values_list("pk", "rate_card_id")
        if card in by_pk
    }
    org_cards: dict[int, list[RateCard]] = defaultdict(list)
    for c in all_cards:
        if c.organization_id is not None:
            org_cards[c.organization_id].append(c)
    used = {c.pk for c in plan_cards.values()}
    cards = [c for c in all_cards if c.organization_id is None and c.pk not in used]
    cards = cards or [c for c in all_cards if c.organization_id is None]
    if not cards:
        return None
    calendar = card_calendar(cards[-1])
    month = today.replace(day=1)
    before = datetime.combine(month, time(0), tzinfo=calendar.zone).astimezone(UTC)
    return _Hourly(
        [domain_rate_card(c) for c in cards], calendar, month, before, plan_cards, dict(org_cards)
    )


def hourly_plans(org_ids: list[int]) -> dict[int, int]:
    """Organisation → plan of its hourly agreement (whose card prices its work)."""
    rows = (
        Contract.objects.filter(
            organization_id__in=org_ids,
            plan__kind=PlanKind.HOURLY_ONLY,
            state__in=(ContractState.ACTIVE, ContractState.PAST_DUE, ContractState.SUSPENDED),
        )
        .order_by("start")
        .values_list("organization_id", "plan_id")
    )
    return dict(rows)


def hourly_run(
    vendor: Vendor, today: date, now: datetime, summary: RunSummary, progress: Progress
) -> None:
    """One invoice per organisation for its hourly work before this billing month (B-7, B-8);
    entries logged late for an earlier month go on the next month's invoice."""
    setup = hourly_setup(vendor, today)
    if setup is None:
        return
    batches = list(_batched(_hourly_org_ids(vendor, setup.before), HOURLY_BATCH))
    for org_ids in progress(batches, len(batches), f"{vendor.slug} hourly"):
        _hourly_batch(vendor, setup, org_ids, today, now, summary)
