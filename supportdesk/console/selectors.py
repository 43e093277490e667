"""The dashboard's numbers (issue 10.8), each a grouped count in one statement: the
dashboard costs the same few statements with 10 tickets or 100,000."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Case, Count, DateField, Q, Value, When
from django.db.models.functions import TruncDate

from supportdesk.console.domain.backlog import Span, backlog_per_day, day_end, window
from supportdesk.contracts.selectors import vendor_tz
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal, scope
from supportdesk.kb.selectors import kb_deflection_summary
from supportdesk.sla.models import SlaTarget, TargetKind, TargetState
from supportdesk.tickets import listviews
from supportdesk.tickets.models import OPEN_STATUSES, Channel, Priority, Status, Ticket

DAYS = 14  # created vs solved, and volume by channel
SLA_DAYS = 30  # SLA compliance: clocks started in the last 30 days
BREACHING_ROWS = 10


@dataclass
class Bar:
    label: str
    value: int
    percent: float  # of the largest value in its chart, for the bar's length


def bars(pairs: list[tuple[str, int]]) -> list[Bar]:
    top = max((v for _, v in pairs), default=0) or 1
    return [Bar(label, value, round(100 * value / top, 1)) for label, value in pairs]


def _percent(met: int, breached: int) -> float | None:
    return round(100 * met / (met + breached), 1) if met + breached else None


def _tickets(principal: Principal) -> Any:
    return scope(
        Ticket.objects.filter(merged_into__isnull=True),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    )


def backlog_history(
    tickets: Any, *, tz: Any, today: date, priorities: list[str]
) -> list[dict[str, Any]]:
    """Open tickets at the end of each of the last DAYS days (vendor's zone), per priority and
    in total, in one grouped statement; the rule (current state, reopened tickets count from
    their creation) is in ``console.domain.backlog``."""
    days = window(today, DAYS)
    first_end, last_end = day_end(days[0], tz), day_end(days[-1], tz)
    rows = (
        tickets.filter(created_at__lt=last_end)
        .filter(Q(status__in=OPEN_STATUSES) | Q(closed_at__gte=first_end))
        .annotate(
            opened=Case(
                When(created_at__lt=first_end, then=Value(days[0])),
                default=TruncDate("created_at", tzinfo=tz),
                output_field=DateField(),
            ),
            closed=Case(
                When(status__in=OPEN_STATUSES, then=Value(None)),
                default=TruncDate("closed_at", tzinfo=tz),
                output_field=DateField(),
            ),
        )
        .values_list("priority", "opened", "closed")
        .annotate(n=Count("pk"))
        .order_by()
    )
    history = backlog_per_day(
        (Span(p, opened, closed, n) for p, opened, closed, n in rows),
        days=days,
        priorities=priorities,
    )
    top = max([1, *(h.total for h in history)])
    return [
        {
            "day": h.day,
            "values": [h.by_priority[p] for p in priorities],
            "total": h.total,
            "x": 10 * i + 5,
            # polyline points, one string per line: each priority, then the total
            "y": [round(97 - 94 * h.by_priority[p] / top, 1) for p in priorities]
            + [round(97 - 94 * h.total / top, 1)],
        }
        for i, h in enumerate(history)
    ]


def _lines(history: list[dict[str, Any]], priorities: list[str]) -> list[tuple[str, str]]:
    """SVG polyline points per series (each priority, then "total")."""
    series = [*priorities, "total"]
    return [
        (name, " ".join(f"{row['x']},{row['y'][i]}" for row in history))
        for i, name in enumerate(series)
    ]


def dashboard(*, principal: Principal, now: datetime) -> dict[str, Any]:
    """Backlog by queue and priority (now, and per priority at the end of each of the last
    DAYS days), the built-in views' counts (my work, breaching soon,
    breached), the tickets breaching soonest, agent load, created vs solved per day, volume
    by channel, and first-response/resolution compliance per priority, plan and customer."""
    vendor = Vendor.objects.filter(pk=principal.vendor_id).first()
    tz = vendor_tz(vendor.timezone if vendor else "UTC")
    today = now.astimezone(tz).date()
    since = now - timedelta(days=DAYS)
    tickets = _tickets(principal)
    open_tickets = tickets.filter(status__in=OPEN_STATUSES)

    backlog_rows = list(
        open_tickets.values_list("queue__name", "priority").annotate(n=Count("pk")).order_by()
    )
    priorities = list(Priority.values)
    backlog: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(priorities, 0))
    for queue, priority, n in backlog_rows:
        backlog[queue][priority] = n
    backlog_table = [
        (queue, [row[p] for p in priorities], sum(row.values()))
        for queue, row in sorted(backlog.items())
    ]

    history = backlog_history(tickets, tz=tz, today=today, priorities=priorities)

    load = list(
        open_tickets.values_list("assignee__display_name", "assignee__email")
        .annotate(n=Count("pk"))
        .order_by("-n", "assignee__display_name")
    )
    agent_load = bars([(name or email or "Unassigned", n) for name, email, n in load])

    created = dict(
        tickets.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values_list("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
        .order_by()
    )
    solved = dict(
        tickets.filter(closed_at__gte=since, status__in=(Status.RESOLVED, Status.CLOSED))
        .annotate(day=TruncDate("closed_at", tzinfo=tz))
        .values_list("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
        .order_by()
    )
    days = window(today, DAYS)
    per_day = [(d, created.get(d, 0), solved.get(d, 0)) for d in days]
    day_top = max([1, *(c for _, c, _ in per_day), *(s for _, _, s in per_day)])

    channels = dict(
        tickets.filter(created_at__gte=since)
        .values_list("channel")
        .annotate(n=Count("pk"))
        .values_list("channel", "n")
        .order_by()
    )
    by_channel = bars(
        [(label, channels[value]) for value, label in Channel.choices if channels.get(value)]
    )

    targets = scope(
        SlaTarget.objects.filter(
            started_at__gte=now - timedelta(days=SLA_DAYS),
            kind__in=(TargetKind.FIRST_RESPONSE, TargetKind.RESOLUTION),
            state__in=(TargetState.MET, TargetState.BREACHED),
        ),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    )
    sla_rows = (
        targets.values_list("kind", "priority", "plan", "organization__name")
        .annotate(
            met=Count("pk", filter=Q(state=TargetState.MET)),
            breached=Count("pk", filter=Q(state=TargetState.BREACHED)),
        )
        .order_by()
    )
    sla: dict[str, dict[tuple[str, str], list[int]]] = {
        "priority": defaultdict(lambda: [0, 0, 0, 0]),
        "plan": defaultdict(lambda: [0, 0, 0, 0]),
        "customer": defaultdict(lambda: [0, 0, 0, 0]),
    }
    for kind, priority, plan, org, met, breached in sla_rows:
        at = 0 if kind == TargetKind.FIRST_RESPONSE else 2
        for axis, key in (("priority", priority), ("plan", plan or "no contract"),
                          ("customer", org)):  # fmt: skip
            sla[axis][key][at] += met
            sla[axis][key][at + 1] += breached
    compliance = {
        axis: [
            (key, _percent(v[0], v[1]), v[0] + v[1], _percent(v[2], v[3]), v[2] + v[3])
            for key, v in sorted(groups.items())
        ]
        for axis, groups in sla.items()
    }
    counts = listviews.ticket_view_counts(principal=principal, now=now)
    soon = listviews.ticket_view_page(
        principal=principal, view="breaching-soon", filters=listviews.ListFilters(),
        sort="sla", page=1, now=now, per_page=BREACHING_ROWS, total=counts["breaching-soon"],
    )  # fmt: skip
    return {
        "now": now,
        "today": today,
        "counts": counts,
        "views": [(v, counts[v.slug]) for v in listviews.BUILTIN_VIEWS],
        "priorities": priorities,
        "backlog": backlog_table,
        "backlog_total": sum(total for _, _, total in backlog_table),
        "backlog_history": history,
        "backlog_lines": _lines(history, priorities),
        "breaching": soon.rows,
        "agent_load": agent_load,
        "per_day": [
            {
                "day": d,
                "created": c,
                "solved": s,
                "x": 10 * i,
                "created_y": round(100 - 100 * c / day_top, 1),
                "solved_y": round(100 - 100 * s / day_top, 1),
            }
            for i, (d, c, s) in enumerate(per_day)
        ],
        "by_channel": by_channel,
        "compliance": compliance,
        "sla_days": SLA_DAYS,
        "days": DAYS,
        # K-2: portal visitors shown article suggestions who gave up instead of filing a ticket.
        "deflection": kb_deflection_summary(vendor=vendor, since=since, now=now)
        if vendor
        else None,
    }


def dashboard_csv_rows(data: dict[str, Any]) -> list[list[Any]]:
    """The dashboard's numbers as CSV rows: section, key, sub-key, value."""
    rows: list[list[Any]] = [["section", "key", "detail", "value"]]
    for view, n in data["views"]:
        rows.append(["view", view.label, "", n])
    for queue, values, _ in data["backlog"]:
        for priority, n in zip(data["priorities"], values, strict=True):
            rows.append(["backlog", queue, priority, n])
    for row in data["backlog_history"]:
        day = row["day"].isoformat()
        for priority, n in zip(data["priorities"], row["values"], strict=True):
            rows.append(["backlog_day", day, priority, n])
        rows.append(["backlog_day", day, "total", row["total"]])
    for bar in data["agent_load"]:
        rows.append(["agent_load", bar.label, "open", bar.value])
    for row in data["per_day"]:
        rows.append(["per_day", row["day"].isoformat(), "created", row["created"]])
        rows.append(["per_day", row["day"].isoformat(), "solved", row["solved"]])
    for bar in data["by_channel"]:
        rows.append(["channel", bar.label, f"last {data['days']} days", bar.value])
    for axis, groups in data["compliance"].items():
        for key, first, first_n, resolution, resolution_n in groups:
            rows.append([f"sla_{axis}", key, f"first_response % of {first_n}", first])
            rows.append([f"sla_{axis}", key, f"resolution % of {resolution_n}", resolution])
    if deflection := data["deflection"]:
        for name in ("visits", "opened", "submitted", "abandoned"):
            rows.append(
                ["kb_deflection", name, f"last {data['days']} days", getattr(deflection, name)]
            )
    return rows


def organization_open_tickets(*, organization_id: int, limit: int = 50) -> Any:
    """An organisation's open tickets, most urgent first (the caller read the organisation
    through the tenancy-scoped customers selector)."""
    return (
        Ticket.objects.filter(organization_id=organization_id, status__in=OPEN_STATUSES)
        .select_related("assignee")
        .order_by("priority", "-updated_at")[:limit]
    )


def contact_tickets(*, contact_id: int) -> Any:
    """A contact's tickets, newest first (the caller read the contact through the tenancy-
    scoped customers selector)."""
    return (
        Ticket.objects.filter(requester_id=contact_id)
        .select_related("assignee")
        .order_by("-created_at", "-pk")
    )
