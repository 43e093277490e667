"""Ticket list views for the console (T-12, issue 10.2): built-in views, filters, sorts, pages.

Built-in views are fixed filters (My open, Unassigned, Breaching soon, ...); a saved view is a
user's own filter combination (`SavedView.query`). Every list is scoped to the principal, sorted
by one of `SORTS` and paged by number with a total.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet
from django.utils.dateparse import parse_date

from supportdesk.accounts.models import user_name
from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.tenancy import Principal, scope
from supportdesk.core.web import int_param
from supportdesk.sla.models import SlaTarget, TargetState
from supportdesk.tickets.models import (
    OPEN_STATUSES,
    Channel,
    Priority,
    SavedView,
    Status,
    Ticket,
    TicketTag,
)
from supportdesk.tickets.selectors import _visible_tickets

BREACHING_SOON_HOURS = 4
RECENTLY_CLOSED_DAYS = 7
PER_PAGE = 50


@dataclass(frozen=True)
class BuiltinView:
    slug: str
    label: str
    where: Callable[[Principal, datetime], Q]
    sort: str


def _targets(principal: Principal) -> QuerySet[SlaTarget]:
    # The principal's own targets only, so the subqueries below grow with its tickets, not
    # with every vendor's.
    return scope(
        SlaTarget.objects.all(),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    )


def _sla_due_soon(principal: Principal, now: datetime) -> Q:
    # `pk IN (uncorrelated subquery)` rather than a per-row Exists (issue 16.1): the database
    # reads the few matching targets once (PostgreSQL: a hashed SubPlan) and probes it per
    # ticket, instead of one index lookup per ticket of the vendor.
    running = _targets(principal).filter(
        state=TargetState.RUNNING,
        due_at__gt=now,
        due_at__lte=now + timedelta(hours=BREACHING_SOON_HOURS),
    )
    return Q(pk__in=running.values("ticket_id"))


def _sla_breached(principal: Principal, now: datetime) -> Q:
    late = _targets(principal).filter(
        Q(state=TargetState.BREACHED, stopped_at__isnull=True)
        | Q(state=TargetState.RUNNING, due_at__lte=now)
    )
    return Q(pk__in=late.values("ticket_id"))


def _recently_closed(now: datetime) -> Q:
    return Q(
        status__in=(Status.RESOLVED, Status.CLOSED),
        closed_at__gte=now - timedelta(days=RECENTLY_CLOSED_DAYS),
    )


OPEN = Q(status__in=OPEN_STATUSES)
BUILTIN_VIEWS: tuple[BuiltinView, ...] = (
    BuiltinView("mine", "My open", lambda p, now: OPEN & Q(assignee_id=p.user_id), "sla"),
    BuiltinView("unassigned", "Unassigned", lambda p, now: OPEN & Q(assignee__isnull=True), "sla"),
    BuiltinView(
        "breaching-soon",
        f"Breaching soon ({BREACHING_SOON_HOURS} h)",
        lambda p, now: OPEN & _sla_due_soon(p, now),
        "sla",
    ),
    BuiltinView("breached", "Breached", lambda p, now: OPEN & _sla_breached(p, now), "sla"),
    BuiltinView(
        "waiting", "Waiting on customer", lambda p, now: Q(status=Status.WAITING_CUSTOMER), "sla"
    ),
    BuiltinView("open", "All open", lambda p, now: OPEN, "sla"),
    BuiltinView(
        "closed",
        f"Recently closed ({RECENTLY_CLOSED_DAYS} days)",
        lambda p, now: _recently_closed(now),
        "activity",
    ),
)
VIEWS = {v.slug: v for v in BUILTIN_VIEWS}
DEFAULT_VIEW = "open"
SORTS = {
    "sla": "SLA due",
    "priority": "Priority",
    "activity": "Last activity",
    "created": "Created",
}


@dataclass(frozen=True)
class ListFilters:
    """Filters typed into the console (or stored in a saved view), validated."""

    queue: int | None = None
    status: str | None = None
    priority: str | None = None
    assignee: str | None = None  # a user id, "me" or "none"
    organization: int | None = None
    channel: str | None = None
    tag: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    updated_from: date | None = None
    updated_to: date | None = None

    KEYS = (
        "queue", "status", "priority", "assignee", "organization", "channel", "tag",
        "created_from", "created_to", "updated_from", "updated_to",
    )  # fmt: skip

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> ListFilters:
        def text(key: str) -> str:
            value = params.get(key)
            return str(value).strip() if value is not None else ""

        def day(key: str) -> date | None:
            raw = text(key)
            if not raw:
                return None
            try:
                value = parse_date(raw)
            except ValueError:
                value = None
            if value is None:
                raise InvalidInput(f"{key.replace('_', ' ')} must be a date like 2026-03-31")
            return value

        def number(key: str) -> int | None:
            raw = text(key)
            if raw and int_param(raw) is None:
                raise InvalidInput(f"{key} must be a number")
            return int_param(raw)

        def choice(key: str, allowed: list[str]) -> str | None:
            raw = text(key)
            if raw and raw not in allowed:
                raise InvalidInput(f"{key} must be one of {', '.join(allowed)}")
            return raw or None

        assignee = text("assignee") or None
        if assignee not in (None, "me", "none") and int_param(assignee) is None:
            raise InvalidInput('assignee must be a staff user id, "me" or "none"')
        return cls(
            queue=number("queue"),
            status=choice("status", [*Status.values, "open"]),
            priority=choice("priority", list(Priority.values)),
            assignee=assignee,
            organization=number("organization"),
            channel=choice("channel", list(Channel.values)),
            tag="-".join(text("tag").lower().split())[:40] or None,
            created_from=day("created_from"),
            created_to=day("created_to"),
            updated_from=day("updated_from"),
            updated_to=day("updated_to"),
        )

    def as_query(self) -> dict[str, str]:
        out = {}
        for key in self.KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    def q(self, principal: Principal) -> Q:
        cond = Q()
        if self.queue is not None:
            cond &= Q(queue_id=self.queue)
        if self.status == "open":
            cond &= OPEN
        elif self.status:
            cond &= Q(status=self.status)
        if self.priority:
            cond &= Q(priority=self.priority)
        if self.assignee == "me":
            cond &= Q(assignee_id=principal.user_id)
        elif self.assignee == "none":
            cond &= Q(assignee__isnull=True)
        elif self.assignee:
            cond &= Q(assignee_id=int(self.assignee))
        if self.organization is not None:
            cond &= Q(organization_id=self.organization)
        if self.channel:
            cond &= Q(channel=self.channel)
        if self.tag:
            cond &= Q(Exists(TicketTag.objects.filter(ticket_id=OuterRef("pk"), name=self.tag)))
        for name, column in (("created", "created_at"), ("updated", "updated_at")):
            low, high = getattr(self, f"{name}_from"), getattr(self, f"{name}_to")
            if low:
                cond &= Q(**{f"{column}__gte": datetime.combine(low, time(), tzinfo=UTC)})
            if high:
                after = datetime.combine(high + timedelta(days=1), time(), tzinfo=UTC)
                cond &= Q(**{f"{column}__lt": after})
        return cond


@dataclass
class ViewPage:
    rows: list[dict[str, Any]]  # see ticket_view_page
    total: int
    page: int
    pages: int
    sort: str

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# The columns a list row shows, read with values() (issue 16.1): no model instance per row.
ROW_FIELDS = (
    "id", "subject", "priority", "status", "updated_at", "organization__name", "queue__name",
    "assignee_id", "assignee__display_name", "assignee__first_name", "assignee__last_name",
    "assignee__email",
)  # fmt: skip
STATUS_LABELS = dict(Status.choices)


def _list_rows(qs: QuerySet[Ticket]) -> list[dict[str, Any]]:
    """The page's tickets as the rows the console shows, their tags in one more statement."""
    found = list(qs.values(*ROW_FIELDS))
    tags: dict[int, list[str]] = {r["id"]: [] for r in found}
    if found:
        for ticket_id, name in TicketTag.objects.filter(ticket_id__in=tags).values_list(
            "ticket_id", "name"
        ):
            tags[ticket_id].append(name)
    return [
        {
            "ref": r["id"],
            "subject": r["subject"],
            "priority": r["priority"],
            "status": r["status"],
            "status_label": STATUS_LABELS.get(r["status"], r["status"]),
            "organization": r["organization__name"],
            "queue": r["queue__name"],
            "assignee": user_name(
                r["assignee__display_name"],
                r["assignee__first_name"],
                r["assignee__last_name"],
                r["assignee__email"],
            )
            if r["assignee_id"] is not None
            else "",
            "updated_at": r["updated_at"],
            "tags": tags[r["id"]],
        }
        for r in found
    ]


def _sorted(qs: QuerySet[Ticket], sort: str) -> QuerySet[Ticket]:
    if sort == "activity":
        return qs.order_by("-updated_at", "-pk")
    if sort == "created":
        return qs.order_by("-created_at", "-pk")
    # The earliest due instant of the ticket's running targets, as one grouped join (issue
    # 16.1) rather than a correlated subquery evaluated for every listed ticket before the
    # sort. MIN skips paused targets' null due_at; tickets without one sort last.
    qs = qs.annotate(
        next_due=Min("sla__targets__due_at", filter=Q(sla__targets__state=TargetState.RUNNING))
    )
    due = F("next_due").asc(nulls_last=True)
    if sort == "sla":
        return qs.order_by(due, "priority", "-pk")
    return qs.order_by("priority", due, "-pk")


def _page(qs: QuerySet[Ticket], sort: str, start: int, count: int) -> QuerySet[Ticket]:
    page = _sorted(qs, sort)[start : start + count]
    if "next_due" not in page.query.annotations:
        return page
    # The grouped sort picks the page's ids alone; the row columns (three joins) are then read
    # for those rows only, instead of being joined and grouped for every listed ticket (16.1).
    return _sorted(Ticket.objects.filter(pk__in=page.values("pk")), sort)


def ticket_view_page(
    *,
    principal: Principal,
    view: str | None,
    filters: ListFilters,
    sort: str | None,
    page: int,
    now: datetime,
    per_page: int = PER_PAGE,
    total: int | None = None,
) -> ViewPage:
    """One page of a built-in view (or none) narrowed by `filters`, with the total (counted
    unless the caller knows it: a built-in view's count from :func:`ticket_view_counts` at the
    same `now`, when no filter narrows it).

    Rows are dicts (`_list_rows`): ref, subject, priority, status and its label, organisation,
    queue and assignee names ("" when unassigned), updated_at and the tag names."""
    builtin = VIEWS.get(view or "")
    if view and builtin is None:
        raise InvalidInput(f"unknown view {view!r}")
    sort = sort or (builtin.sort if builtin else "sla")
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
    qs = _visible_tickets(principal).filter(filters.q(principal))
    if builtin is not None:
        qs = qs.filter(builtin.where(principal, now))
    if total is None:
        total = qs.count()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    rows = _list_rows(_page(qs, sort, start, per_page))
    return ViewPage(rows=rows, total=total, page=page, pages=pages, sort=sort)


def ticket_view_counts(*, principal: Principal, now: datetime) -> dict[str, int]:
    """How many tickets each built-in view holds right now (shown beside it)."""
    # Every built-in view lies within the open and the recently closed tickets: the count
    # skips the rest of the closed history (most of a vendor's tickets) before the per-view
    # filters run (issue 16.1).
    qs = _visible_tickets(principal).filter(OPEN | _recently_closed(now))
    # One statement: a filtered count per view.
    counts = qs.aggregate(
        **{v.slug: Count("pk", filter=v.where(principal, now)) for v in BUILTIN_VIEWS}
    )
    return {v.slug: counts[v.slug] for v in BUILTIN_VIEWS}


def saved_view_list(*, principal: Principal) -> QuerySet[SavedView]:
    return SavedView.objects.filter(user_id=principal.user_id).order_by("name")


def saved_view_get(*, principal: Principal, view_id: int) -> SavedView:
    view = saved_view_list(principal=principal).filter(pk=view_id).first()
    if view is None:
        raise NotFound(f"saved view {view_id} not found")
    return view
