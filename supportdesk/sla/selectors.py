"""Reads of the SLA app: the compliance report (S-5) and the countdown badges."""

from __future__ import annotations

import logging
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Q

from supportdesk.core.errors import Forbidden, InvalidInput, NotFound
from supportdesk.core.tenancy import Principal, scope
from supportdesk.customers.models import Organization
from supportdesk.sla.models import ACTIVE_STATES, SlaTarget, TargetKind, TargetState, TicketSla
from supportdesk.tickets.models import Priority

log = logging.getLogger(__name__)
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class ReportFilters:
    organization_id: int | None = None
    plan: str | None = None  # plan name, as snapshotted when the clock started
    priority: str | None = None
    month: str | None = None  # YYYY-MM: the month the clock started, in the vendor's zone
    month_from: str | None = None
    month_to: str | None = None
    target: str = TargetKind.FIRST_RESPONSE


# Local months start at most this far from the UTC month (UTC-12 .. UTC+14): the database
# pre-filter widens the range by it, the exact cut is made per row in the vendor's zone.
_ZONE_SLACK = timedelta(days=1)


def _month_start(value: str, what: str) -> datetime:
    m = _MONTH_RE.match(value or "")
    # Up to 9998 so the month after the last one still has a year.
    if m is None or not 1 <= int(m[2]) <= 12 or not 1970 <= int(m[1]) <= 9998:
        raise InvalidInput(f"{what} must be a month written YYYY-MM, got {value!r}")
    return datetime(int(m[1]), int(m[2]), 1, tzinfo=UTC)


def _next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    """The vendor's zone; a name that is not an IANA zone reports in UTC rather than fail."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("vendor time zone %r is unknown; reporting its months in UTC", name)
        return ZoneInfo("UTC")


def percentile(values: list[float], pct: int) -> float | None:
    """Nearest-rank percentile: the smallest value with at least pct % of values <= it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(pct / 100 * len(ordered)), 1) - 1]


def sla_report(*, principal: Principal, filters: ReportFilters) -> list[dict[str, Any]]:
    """Compliance per organisation, plan, priority and month (S-5), staff only.

    A clock counts in the month it started in, in its vendor's time zone (`Vendor.timezone`):
    a request at 21:00 New York time on 31 January is January's, though it is February in UTC.
    Its plan is the one of the contract that covered the request (null: none did).

    Counts clocks of the chosen target kind by state: met (on time), breached (due passed,
    met late or not), running (running or paused, not breached yet). Response times are the
    wall-clock seconds from the clock's start to the first public staff reply (met_at) of the
    first-response clocks in the group (median and nearest-rank p90), on time or late.
    """
    if principal.is_contact:
        raise Forbidden("the SLA report is for staff")
    if filters.target not in TargetKind.values:
        raise InvalidInput(f"target must be one of {', '.join(TargetKind.values)}")
    qs = scope(
        SlaTarget.objects.all(), principal, vendor_field="vendor_id", organization_field=None
    )
    qs = qs.filter(kind=filters.target)
    if filters.organization_id is not None:
        orgs = scope(
            Organization.objects.all(), principal, vendor_field="vendor_id", organization_field="id"
        )
        if not orgs.filter(pk=filters.organization_id).exists():
            raise NotFound(f"organisation {filters.organization_id} not found")
        qs = qs.filter(organization_id=filters.organization_id)
    if filters.plan:
        qs = qs.filter(plan=filters.plan)
    if filters.priority:
        if filters.priority not in Priority.values:
            raise InvalidInput(f"priority must be one of {', '.join(Priority.values)}")
        qs = qs.filter(priority=filters.priority)
    if filters.month and (filters.month_from or filters.month_to):
        raise InvalidInput("give either month or month_from/month_to, not both")
    first = filters.month_from or filters.month
    lo = _month_start(first, "month_from" if filters.month_from else "month") if first else None
    hi = None
    if filters.month:
        hi = _next_month(_month_start(filters.month, "month"))
    elif filters.month_to:
        hi = _next_month(_month_start(filters.month_to, "month_to"))
    if lo is not None and hi is not None and hi <= lo:
        raise InvalidInput("month_to is before month_from")
    if lo is not None:
        qs = qs.filter(started_at__gte=lo - _ZONE_SLACK)
    if hi is not None:
        qs = qs.filter(started_at__lt=hi + _ZONE_SLACK)
    first_month = f"{lo:%Y-%m}" if lo is not None else None
    last_month = f"{hi - timedelta(days=1):%Y-%m}" if hi is not None else None
    rows = qs.values_list(
        "organization_id", "organization__name", "plan", "priority", "started_at", "state",
        "met_at", "vendor__timezone",
    )  # fmt: skip
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    times: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for org_id, org_name, plan, priority, started, state, met_at, tz in rows.iterator():
        month = f"{started.astimezone(_zone(tz)):%Y-%m}"
        if (first_month and month < first_month) or (last_month and month > last_month):
            continue
        key = (org_id, plan, priority, month)
        g = groups.get(key)
        if g is None:
            g = groups[key] = {
                "organization": {"id": org_id, "name": org_name},
                "plan": plan or None,
                "priority": priority,
                "month": month,
                "target": filters.target,
                "met": 0,
                "breached": 0,
                "running": 0,
                "cancelled": 0,
            }
        if state == TargetState.MET:
            g["met"] += 1
        elif state == TargetState.BREACHED:
            g["breached"] += 1
        elif state in ACTIVE_STATES:
            g["running"] += 1
        else:
            g["cancelled"] += 1
        if met_at is not None:
            times[key].append((met_at - started).total_seconds())
    out = []
    for key in sorted(groups, key=lambda k: (groups[k]["organization"]["name"], *k[1:])):
        g = groups[key]
        values = times.get(key, [])
        closed = g["met"] + g["breached"]
        g["compliance_percent"] = round(100 * g["met"] / closed, 1) if closed else None
        g["median_response_seconds"] = statistics.median(values) if values else None
        g["p90_response_seconds"] = percentile(values, 90)
        out.append(g)
    return out


@dataclass(frozen=True)
class Badge:
    """What the countdown badge of a ticket shows at `now`."""

    kind: str
    state: str  # running | warned | breached | paused
    due_at: datetime | None
    seconds: int  # remaining (running) or overdue (breached)


def _pending_q(ticket_ids: Iterable[int]) -> Q:
    return Q(ticket_id__in=list(ticket_ids)) & (
        Q(state__in=ACTIVE_STATES) | Q(state=TargetState.BREACHED, stopped_at__isnull=True)
    )


def sla_badges(*, ticket_ids: Iterable[int], now: datetime) -> dict[int, Badge]:
    """The most urgent pending clock of each ticket, for the console list and ticket page.

    Callers have already scoped the tickets to the principal.
    """
    by_ticket: dict[int, list[SlaTarget]] = defaultdict(list)
    for t in SlaTarget.objects.filter(_pending_q(ticket_ids)).only(
        "ticket_id", "kind", "state", "due_at", "warned_at", "breached_at"
    ):
        by_ticket[t.ticket_id].append(t)
    out: dict[int, Badge] = {}
    for ticket_id, targets in by_ticket.items():
        breached = [t for t in targets if t.state == TargetState.BREACHED and t.breached_at]
        running = [t for t in targets if t.state == TargetState.RUNNING and t.due_at is not None]
        if breached:
            t = min(breached, key=lambda x: x.breached_at or now)
            assert t.breached_at is not None
            out[ticket_id] = Badge(
                t.kind, "breached", t.breached_at, int((now - t.breached_at).total_seconds())
            )
        elif running:
            t = min(running, key=lambda x: x.due_at or now)
            assert t.due_at is not None
            seconds = int((t.due_at - now).total_seconds())
            state = "breached" if seconds <= 0 else "warned" if t.warned_at else "running"
            out[ticket_id] = Badge(t.kind, state, t.due_at, abs(seconds))
        else:
            out[ticket_id] = Badge(targets[0].kind, "paused", None, 0)
    return out


def sla_ticket_get(*, principal: Principal, ticket_id: int) -> TicketSla | None:
    """The ticket's match and clocks (staff only; contacts see nothing)."""
    if principal.is_contact:
        return None
    qs = scope(
        TicketSla.objects.all(),
        principal,
        vendor_field="ticket__vendor_id",
        organization_field=None,
    )
    return qs.filter(ticket_id=ticket_id).prefetch_related("targets").first()
