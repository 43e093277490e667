"""The time logged on one ticket as hourly billing sees it (issue 10.7, B-7, E-5).

One source of billable time: ``contracts.TimeEntry``, the rows the billing run invoices.
Each entry is split by rate period with the calendar of the card that prices the customer's
work, and priced with the same cards and pricer as ``runs_hourly``: an entry already invoiced
shows its invoice lines, one the next run will invoice shows what it will charge, and one the
contract covers counts toward its caps instead."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from supportdesk.billing.domain.hourly import PeriodKind, price_time_entries, split_time_entry
from supportdesk.billing.domain.hourly import TimeEntry as DomainEntry
from supportdesk.billing.domain.money import Money
from supportdesk.billing.models import InvoiceLine
from supportdesk.billing.runs_hourly import hourly_entries, hourly_plans, hourly_setup
from supportdesk.contracts.models import TimeEntry
from supportdesk.contracts.selectors import vendor_tz
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.tickets.models import Ticket

PERIOD_LABELS = {
    PeriodKind.BUSINESS: "Business hours",
    PeriodKind.AFTER_HOURS: "After hours",
    PeriodKind.WEEKEND: "Weekend",
    PeriodKind.HOLIDAY: "Holiday",
}


@dataclass
class EntryRow:
    entry: TimeEntry
    minutes_by_period: dict[str, int]  # period label → minutes worked in it
    billing: str  # "invoiced" | "hourly" (the next run invoices it) | "covered" | "not billable"
    amount: Money | None  # invoiced or to be invoiced
    invoice_labels: list[str] = field(default_factory=list)


@dataclass
class TimeSummary:
    rows: list[EntryRow]
    minutes: int
    billable_minutes: int
    minutes_by_period: dict[str, int]
    amounts: list[Money]  # per currency: invoiced plus to be invoiced
    calendar_zone: str


def _minutes(delta: timedelta) -> int:
    return round(delta.total_seconds() / 60)


def ticket_time_summary(*, principal: Principal, ticket: Ticket, now: datetime) -> TimeSummary:
    """The ticket's time entries with their period split and what they are billed."""
    require_staff_of(principal, ticket.vendor_id)
    entries = list(
        TimeEntry.objects.filter(ticket=ticket).select_related("engineer").order_by("started_at")
    )
    tz = vendor_tz(ticket.vendor.timezone)
    setup = hourly_setup(ticket.vendor, now.astimezone(tz).date())
    lines: dict[int, list[Any]] = defaultdict(list)
    for line in InvoiceLine.objects.filter(time_entry__ticket=ticket).select_related("invoice"):
        lines[line.time_entry_id or 0].append(line)
    # What the next run would invoice: billable, hourly, not invoiced (its rule, its query).
    pending = set(
        hourly_entries(ticket.vendor, now + timedelta(days=3660))
        .filter(ticket=ticket)
        .values_list("pk", flat=True)
    )
    priced: dict[int, list[Any]] = defaultdict(list)
    calendar = None
    currency = ""
    if setup is not None:
        key, cards = setup.cards_for(
            ticket.organization_id,
            hourly_plans([ticket.organization_id]).get(ticket.organization_id),
        )
        calendar = setup.calendar_for(key)
        currency = cards[-1].currency
        todo = [
            DomainEntry(str(e.pk), e.started_at, e.ended_at) for e in entries if e.pk in pending
        ]
        for line in price_time_entries(todo, cards, calendar):
            priced[int(line.reference or 0)].append(line)
    rows: list[EntryRow] = []
    by_period: dict[str, int] = defaultdict(int)
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for e in entries:
        split: dict[str, int] = defaultdict(int)
        if calendar is not None:
            for seg in split_time_entry(e.started_at, e.ended_at, calendar):
                split[PERIOD_LABELS[seg.kind]] += _minutes(seg.duration)
        for label, minutes in split.items():
            by_period[label] += minutes
        if lines.get(e.pk):
            own = lines[e.pk]
            amount = Money(sum((line.amount for line in own), Decimal(0)), own[0].invoice.currency)
            labels = sorted({line.invoice.label for line in own})
            row = EntryRow(e, dict(split), "invoiced", amount, labels)
        elif e.pk in pending and setup is not None:
            amount = Money(sum((ln.amount.amount for ln in priced[e.pk]), Decimal(0)), currency)
            row = EntryRow(e, dict(split), "hourly", amount)
        elif not e.billable:
            row = EntryRow(e, dict(split), "not billable", None)
        else:
            row = EntryRow(e, dict(split), "covered", None)
        if row.amount is not None:
            amounts[row.amount.currency] += row.amount.amount
        rows.append(row)
    return TimeSummary(
        rows=rows,
        minutes=sum(e.minutes for e in entries),
        billable_minutes=sum(e.minutes for e in entries if e.billable),
        minutes_by_period=dict(by_period),
        amounts=[Money(v, c) for c, v in sorted(amounts.items())],
        calendar_zone=str(calendar.zone) if calendar is not None else "",
    )
