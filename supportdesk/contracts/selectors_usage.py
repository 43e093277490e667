"""Cap usage for entitlements (E-5, E-6): the usage events a contract's caps count, read
narrowed to its contract years and to what its caps count, and their figures for pages and
the API. Split from selectors.py (house rule 12)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, cast

from django.db.models import Q, QuerySet

from supportdesk.contracts.domain.caps import (
    Cap,
    CapUsage,
    CountingRule,
    UsageEvent,
    UsageKind,
    cap_usage,
    contract_year,
)
from supportdesk.contracts.domain.states import (
    ContractTerm,
)
from supportdesk.contracts.domain.vocabulary import Category, Channel, coerce_enum
from supportdesk.contracts.models import (
    TicketEntitlement,
    TimeEntry,
)
from supportdesk.core.queries import prepared_statement
from supportdesk.tickets.create_read import (
    USAGE_TICKETS,
    USAGE_TIME,
    Branch,
    Row,
    branch,
    read_instant,
)

# Time entries carry a kind of work, not an intake channel. Phone, email and monitoring work
# count against caps limited to that channel; remote and on-site work only against caps that
# are not limited to channels.
WORK_CHANNEL = {"phone": Channel.PHONE, "email": Channel.EMAIL, "monitoring": Channel.MONITORING}


# (events with an intake channel, remote/on-site work without one) of one contract
UsageEvents = tuple[list[UsageEvent], list[UsageEvent]]


@dataclass(frozen=True)
class UsageReads:
    """The statements `usage_events_for` makes for some terms and window: the arguments of
    each (none: not made). Equal reads read the same rows, so a creation can read them with
    its create read when they are the ones the last creation for its customers made
    (`services_entitlement.usage_guess`, issue 16.2)."""

    incidents: tuple[int | datetime, ...] = ()  # contract, from, until a term; the excluded last
    incident_rules: tuple[tuple[CountingRule, ...], ...] = ()
    excluding: bool = False
    hours: tuple[int | datetime, ...] = ()  # organisation, from, until a term
    hour_rules: tuple[tuple[CountingRule, ...], ...] = ()


# What they read: covered tickets (contract, ticket, received, channel, category) and time
# entries (organisation, entry, started, kind of work, category, minutes).
UsageRows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def usage_events_for(
    *,
    terms: Sequence[ContractTerm],
    between: tuple[datetime, datetime],
    tz: tzinfo,
    exclude_ticket_id: int | None = None,
) -> dict[str, UsageEvents]:
    """The usage events that may count against the caps of these contracts (of any
    organisations) for requests received `between` the two instants: incidents are the
    tickets a contract covered (not those opened by unverified mail, T-11), hours the time
    entries on its organisation's tickets. At most two statements, narrowed to the contract
    years of `between` and to what the caps count (the domain still decides what counts), so
    the cost follows the caps, not the customer's history."""
    reads = usage_reads(terms=terms, between=between, tz=tz, exclude_ticket_id=exclude_ticket_id)
    return usage_events_from(terms, usage_rows(reads))


def usage_reads(
    *,
    terms: Sequence[ContractTerm],
    between: tuple[datetime, datetime],
    tz: tzinfo,
    exclude_ticket_id: int | None = None,
) -> UsageReads:
    """What `usage_events_for` reads for these arguments."""
    incident_bounds: list[int | datetime] = []  # contract, from, until: per term counting any
    incident_rules: list[tuple[CountingRule, ...]] = []
    hour_bounds: list[int | datetime] = []  # organisation, from, until
    hour_rules: list[tuple[CountingRule, ...]] = []
    for term in terms:
        low, high = _years_around(term, between, tz)
        counts = [cap.counts for cap in term.plan.caps]
        incidents = tuple(c for c in counts if c.source is UsageKind.TICKET_CREATED)
        if incidents:
            incident_bounds += [int(term.contract_id), low, high]
            incident_rules.append(incidents)
        hours = tuple(c for c in counts if c.source is UsageKind.TIME_ENTRY)
        if hours:
            hour_bounds += [int(term.organisation_id), low, high]
            hour_rules.append(hours)
    excluding = bool(incident_rules) and exclude_ticket_id is not None
    if excluding:
        incident_bounds.append(cast(int, exclude_ticket_id))
    return UsageReads(
        tuple(incident_bounds), tuple(incident_rules), excluding,
        tuple(hour_bounds), tuple(hour_rules),
    )  # fmt: skip


def usage_rows(reads: UsageReads) -> UsageRows:
    """The rows of `reads`, read now."""
    covered = (
        _covered_rows(*reads.incidents, rules=reads.incident_rules, excluding=reads.excluding)
        if reads.incident_rules
        else []
    )
    times = _time_rows(*reads.hours, rules=reads.hour_rules) if reads.hour_rules else []
    return covered, times


# the slots of each read's columns (c0, c1, …) in the create read: see `usage_rows_of`
_COVERED_SLOTS = {"o1": "s.c1", "i1": "s.c0", "i2": "s.c1", "t1": "s.c2::text", "t2": "s.c3",
                  "t3": "s.c4"}  # fmt: skip
_TIME_SLOTS = {**_COVERED_SLOTS, "i3": "s.c5"}


def usage_branches(reads: UsageReads) -> list[Branch]:
    """PostgreSQL: the statements of `reads` as branches of the create read
    (`tickets.create_read`), their rows read back by `usage_rows_of`."""
    texts = []
    if reads.incident_rules:
        covered = _covered_rows.text(  # type: ignore[attr-defined]
            *reads.incidents, rules=reads.incident_rules, excluding=reads.excluding
        )
        texts.append((USAGE_TICKETS, _COVERED_SLOTS, covered, 5))
    if reads.hour_rules:
        times = _time_rows.text(*reads.hours, rules=reads.hour_rules)  # type: ignore[attr-defined]
        texts.append((USAGE_TIME, _TIME_SLOTS, times, 6))
    return [
        branch(kind, slots, f"FROM ({text[0]}) s ({', '.join(f'c{i}' for i in range(n))})", text[1])
        for kind, slots, text, n in texts
        if text is not None
    ]


def usage_rows_of(rows: Mapping[int, Sequence[Row]]) -> UsageRows:
    """The rows of `usage_branches` as `usage_rows` reads them."""
    covered = [(r.i1, r.i2, read_instant(r.t1), r.t2, r.t3) for r in rows.get(USAGE_TICKETS, ())]
    times = [(r.i1, r.i2, read_instant(r.t1), r.t2, r.t3, r.i3) for r in rows.get(USAGE_TIME, ())]
    return covered, times


def usage_events_from(terms: Sequence[ContractTerm], rows: UsageRows) -> dict[str, UsageEvents]:
    """The usage events of these terms from the rows their `usage_reads` read."""
    covered, times = rows
    found: dict[str, UsageEvents] = {t.contract_id: ([], []) for t in terms}
    for contract_id, pk, at, channel, category in covered:
        found[str(contract_id)][0].append(ticket_usage_event(pk, at, channel, category))
    if times:
        by_org: dict[int, list[str]] = {}
        for term in terms:
            by_org.setdefault(int(term.organisation_id), []).append(term.contract_id)
        for org_id, pk, at, kind, category, minutes in times:
            work_channel = WORK_CHANNEL.get(kind)
            event = UsageEvent(
                f"time:{pk}",
                UsageKind.TIME_ENTRY,
                at,
                work_channel or Channel.PORTAL,
                coerce_enum(Category, category, field="time entry category"),
                Decimal(minutes) / 60,
            )
            for key in by_org[org_id]:
                found[key][0 if work_channel else 1].append(event)
    return found


@prepared_statement
def _covered_rows(
    *bounds: int | datetime, rules: tuple[tuple[CountingRule, ...], ...], excluding: bool
) -> QuerySet[TicketEntitlement, tuple[Any, ...]]:
    """Covered tickets as usage events count them, of each contract (with its counting
    `rules`) received in its bounds (contract, from, until), but the ticket last in `bounds`
    when `excluding`; T-11: unproven mail uses no entitlement. Compiled once per plan shape
    (issue 16.2)."""
    conditions = [
        Q(contract_id=contract_id, ticket__created_at__gte=low)
        & Q(ticket__created_at__lt=high)
        & _counted(counted, channel="ticket__channel", category="category")
        for (contract_id, low, high), counted in zip(_triples(bounds), rules, strict=True)
    ]
    covered = TicketEntitlement.objects.filter(covered=True).exclude(ticket__unverified=True)
    if excluding:
        covered = covered.exclude(ticket_id=cast(int, bounds[-1]))
    return covered.filter(_any(conditions)).values_list(
        "contract_id", "ticket_id", "ticket__created_at", "ticket__channel", "category"
    )


@prepared_statement
def _time_rows(
    *bounds: int | datetime, rules: tuple[tuple[CountingRule, ...], ...]
) -> QuerySet[TimeEntry, tuple[Any, ...]]:
    """The time entries on the tickets of each organisation (with its counting `rules`)
    started within its bounds (organisation, from, until)."""
    conditions = [
        Q(ticket__organization_id=org_id, started_at__gte=low)
        & Q(started_at__lt=high)
        & _counted(counted, channel="work_kind", category="category")
        for (org_id, low, high), counted in zip(_triples(bounds), rules, strict=True)
    ]
    return TimeEntry.objects.filter(_any(conditions)).values_list(
        "ticket__organization_id", "pk", "started_at", "work_kind", "category", "minutes"
    )


def _triples(values: Sequence[Any]) -> list[tuple[Any, Any, Any]]:
    return [tuple(values[i : i + 3]) for i in range(0, len(values) - 2, 3)]


def _years_around(
    term: ContractTerm, between: tuple[datetime, datetime], tz: tzinfo
) -> tuple[datetime, datetime]:
    """The contract years of `term` holding both instants, a day wider on each side (the
    domain compares local dates; a local date is within a day of the UTC one)."""
    start, _ = contract_year(term.start, max(term.start, between[0].astimezone(tz).date()))
    _, end = contract_year(term.start, max(term.start, between[1].astimezone(tz).date()))
    day = timedelta(days=1)
    return datetime.combine(start, time.min, UTC) - day, datetime.combine(end, time.min, UTC) + day


def _counted(rules: Sequence[CountingRule], *, channel: str, category: str) -> Q:
    """The rows any of `rules` (one at least) may count. For time entries (`channel` =
    "work_kind") a channel is the kind of work that carries it."""
    conditions = []
    for rule in rules:
        condition = Q()
        if rule.channels is not None:
            values = [c.value for c in rule.channels]
            if channel == "work_kind":
                values = [kind for kind, ch in WORK_CHANNEL.items() if ch in rule.channels]
            condition &= Q(**{f"{channel}__in": values})
        if rule.categories is not None:
            condition &= Q(**{f"{category}__in": [c.value for c in rule.categories]})
        if not condition:
            return Q()  # this rule counts every row
        conditions.append(condition)
    return _any(conditions)


def _any(conditions: Sequence[Q]) -> Q:
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


def ticket_usage_event(pk: int, at: datetime, channel: str, category: str) -> UsageEvent:
    """A covered ticket as the caps count it."""
    return UsageEvent(
        f"ticket:{pk}",
        UsageKind.TICKET_CREATED,
        at,
        coerce_enum(Channel, channel, field="ticket channel"),
        coerce_enum(Category, category, field="ticket category"),
    )


def capped_terms(terms: Sequence[ContractTerm], *, at: datetime, tz: tzinfo) -> list[ContractTerm]:
    """The terms in force at ``at`` whose plan has caps: those whose usage matters."""
    day = at.astimezone(tz).date()
    return [t for t in terms if t.in_force(day) and t.plan.caps]


def cap_usage_from(
    *, terms: Sequence[ContractTerm], events: Mapping[str, UsageEvents], at: datetime, tz: tzinfo
) -> dict[str, tuple[CapUsage, ...]]:
    """Usage of every cap of every capped term in force at ``at``, from its usage events."""
    result: dict[str, tuple[CapUsage, ...]] = {}
    for term in capped_terms(terms, at=at, tz=tz):
        channelled, unchannelled = events[term.contract_id]
        result[term.contract_id] = tuple(
            cap_usage(
                cap,
                events=channelled if cap.counts.channels is not None else channelled + unchannelled,
                contract_start=term.start,
                at=at,
                tz=tz,
            )
            for cap in term.plan.caps
        )
    return result


def cap_usage_for(
    *,
    terms: Sequence[ContractTerm],
    organization_id: int,
    at: datetime,
    tz: tzinfo,
    exclude_ticket_id: int | None = None,
) -> dict[str, tuple[CapUsage, ...]]:
    """Usage of every cap of every term in force at ``at`` (the domain's ``cap_usage``)."""
    capped = [
        t for t in capped_terms(terms, at=at, tz=tz) if int(t.organisation_id) == organization_id
    ]
    events = usage_events_for(
        terms=capped, between=(at, at), tz=tz, exclude_ticket_id=exclude_ticket_id
    )
    return cap_usage_from(terms=capped, events=events, at=at, tz=tz)


def cap_usage_rows(
    terms: Sequence[ContractTerm], usage: Mapping[str, Sequence[CapUsage]]
) -> dict[str, list[dict[str, Any]]]:
    """``cap_usage_for``'s result as JSON-safe rows per contract, labelled by the plan's caps."""
    caps = {term.contract_id: term.plan.caps for term in terms}
    return {
        contract_id: [
            cap_usage_out(used, cap) for cap, used in zip(caps[contract_id], usages, strict=True)
        ]
        for contract_id, usages in usage.items()
    }


def cap_usage_out(usage: CapUsage, cap: Cap) -> dict[str, Any]:
    return {
        "cap": usage.cap_name,
        "label": cap.label,
        "unit": usage.unit.value,
        "used": str(usage.used),
        "limit": str(usage.limit),
        "remaining": str(usage.remaining),
        "period_start": usage.period_start.isoformat(),
        "period_end": usage.period_end.isoformat(),
        "exhausted": usage.exhausted,
        "summary": (
            f"{cap.label}: {usage.summary()} used this contract year "
            f"({usage.period_start.isoformat()} to {usage.period_end.isoformat()})"
        ),
    }
