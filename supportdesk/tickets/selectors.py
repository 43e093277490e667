from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from supportdesk.contracts.models import Product
from supportdesk.contracts.selectors import ENTITLEMENT_ROW_FIELDS
from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.models import Vendor
from supportdesk.core.queries import prepared_query, prepared_statement
from supportdesk.core.tenancy import Principal, scope
from supportdesk.customers.models import ContactEmail
from supportdesk.tickets.models import (
    OPEN_STATUSES,
    AgentProfile,
    Attachment,
    Message,
    MessageKind,
    Priority,
    Rating,
    SatisfactionRating,
    Status,
    Ticket,
    TicketEvent,
)
from supportdesk.tickets.search import ticket_search

PAGE_MAX = 200


@dataclass(frozen=True)
class TicketFilters:
    status: str | None = None
    open_only: bool = False
    priority: str | None = None
    channel: str | None = None
    queue_id: int | None = None
    assignee_id: int | None = None
    organization_id: int | None = None
    escalated: bool | None = None
    q: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def _visible_tickets(
    principal: Principal, base: QuerySet[Ticket] | None = None
) -> QuerySet[Ticket]:
    return scope(
        Ticket.objects.all() if base is None else base,
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    )


def _with_list_relations(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Everything `ticket_out` reads, in a fixed number of queries whatever the page size.

    Only the always-present relations are joined: each further join multiplies PostgreSQL's
    planning time (9 ms for the page query with product and entitlement joined, 0.5 ms without,
    on PostgreSQL 15), while a prefetch is one cheap query per page.
    """
    return qs.select_related("organization", "requester", "queue", "assignee").prefetch_related(
        "requester__emails", "product", "entitlement__contract"
    )


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput(f"limit must be between 1 and {PAGE_MAX}")


# Django builds an enum's ``values`` anew on each access; a page checks its filters on each.
_STATUSES = frozenset(Status.values)
_PRIORITIES = frozenset(Priority.values)


def _check_filters(filters: TicketFilters) -> None:
    if filters.status and filters.status not in _STATUSES:
        raise InvalidInput(f"unknown status {filters.status!r}")
    if filters.priority and filters.priority not in _PRIORITIES:
        raise InvalidInput(f"unknown priority {filters.priority!r}")


def _narrowed(
    qs: QuerySet[Ticket], principal: Principal, filters: TicketFilters, cursor: int | None
) -> QuerySet[Ticket]:
    """``qs`` cut to the visible tickets matching ``filters`` (checked) before ``cursor``,
    newest first. It passes every value straight into a lookup and reads no value but to
    see whether it is given: :func:`ticket_page_rows` compiles it once per shape."""
    qs = _visible_tickets(principal, qs)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    for field in _ID_FILTERS:
        value = getattr(filters, field)
        if value is not None:
            qs = qs.filter(**{field: value})
    if filters.escalated is not None:
        qs = qs.filter(escalated_at__isnull=not filters.escalated)
    if filters.created_after:
        qs = qs.filter(created_at__gte=filters.created_after)
    if filters.created_before:
        qs = qs.filter(created_at__lt=filters.created_before)
    if cursor is not None:
        qs = qs.filter(pk__lt=cursor)
    return qs.order_by("-pk")


_ID_FILTERS = ("channel", "queue_id", "assignee_id", "organization_id")


def ticket_list_query(
    *,
    principal: Principal,
    filters: TicketFilters,
    cursor: int | None = None,
    base: QuerySet[Ticket] | None = None,
) -> QuerySet[Ticket]:
    """The visible tickets matching ``filters`` (all but `q`) before ``cursor``, newest first,
    from ``base`` (all tickets unless given, e.g. :func:`ticket_rows_query`).

    Keyset pagination on the id keeps every page as cheap as the first."""
    _check_filters(filters)
    return _narrowed(Ticket.objects.all() if base is None else base, principal, filters, cursor)


def _searching(filters: TicketFilters) -> bool:
    return bool(filters.q and filters.q.strip())


def ticket_queue_page(
    *, principal: Principal, filters: TicketFilters, cursor: int | None = None, limit: int = 50
) -> tuple[list[Ticket], int | None]:
    """One page of tickets (model instances), newest first, and the cursor of the next page
    (None at the end), for the console and the portal's list, which show only the ticket's
    own columns, organisation, queue and assignee: one query (joined). With `q` the page is
    ranked by relevance instead (tickets.search) and the cursor counts matches shown."""
    _check_limit(limit)
    if _searching(filters):
        qs = ticket_list_query(principal=principal, filters=filters)
        return _ranked_page(principal, filters, qs, offset=cursor or 0, limit=limit)
    qs = ticket_list_query(principal=principal, filters=filters, cursor=cursor)
    rows = list(qs.select_related("organization", "queue", "assignee")[: limit + 1])
    next_cursor = rows[limit - 1].pk if len(rows) > limit else None
    return rows[:limit], next_cursor


# The columns a ticket's API representation needs, read with values(): no model instance per
# row. The always-present relations are joined (as in _with_list_relations), and so is the
# entitlement with its contract (one-to-one, left joins: its statement is prepared, so the
# joins no longer cost planning on each page, issue 16.1); the requester's primary address is
# a subquery; product names are one query per page that has any.
TICKET_ROW_FIELDS = (
    "id", "subject", "status", "priority", "channel", "organization_id", "organization__name",
    "requester_id", "requester__name", "queue__name", "assignee_id", "assignee__display_name",
    "assignee__first_name", "assignee__last_name", "assignee__email", "product_id", "version",
    "caller_number", "created_at", "updated_at", "first_response_at", "closed_at",
    "escalated_at", "escalation_reason", "out_of_scope",
    *(f"entitlement__{name}" for name in ENTITLEMENT_ROW_FIELDS),
)  # fmt: skip


@prepared_query
def ticket_rows_query() -> QuerySet[Ticket, dict[str, Any]]:
    """All tickets as ``TICKET_ROW_FIELDS`` rows plus ``requester_email`` (the primary address,
    as ``Contact.primary_email``), to narrow into the statements below; set up once."""
    primary = ContactEmail.objects.filter(contact_id=OuterRef("requester_id")).order_by(
        "-is_primary", "pk"
    )
    return Ticket.objects.values(
        *TICKET_ROW_FIELDS, requester_email=Subquery(primary.values("address")[:1])
    )


def _with_product_names(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    product_ids = sorted({r["product_id"] for r in rows if r["product_id"] is not None})
    products = dict(_product_names(product_ids)) if product_ids else {}
    for r in rows:
        r["requester_email"] = r["requester_email"] or ""
        r["product_name"] = products.get(r["product_id"])
    return rows


@prepared_statement
def _product_names(product_ids: list[int]) -> QuerySet[Product, tuple[int, str]]:
    return Product.objects.filter(pk__in=product_ids).values_list("pk", "name")


_CREATED_AT = Ticket._meta.get_field("created_at")


def _page_values(
    principal: Principal, filters: TicketFilters, cursor: int | None
) -> dict[str, Any]:
    """The values :func:`_narrowed` puts into lookups for these arguments, by name; which
    names are present is the statement's shape."""
    values: dict[str, Any] = {}
    for name in ("status", "priority"):
        if getattr(filters, name):
            values[name] = getattr(filters, name)
    for name in _ID_FILTERS:
        if getattr(filters, name) is not None:
            values[name] = getattr(filters, name)
    for name in ("created_after", "created_before"):
        if getattr(filters, name):  # made aware as the lookup would (Django's naive warning)
            values[name] = _CREATED_AT.get_prep_value(getattr(filters, name))
    if cursor is not None:
        values["cursor"] = cursor
    return values | _scope_values(principal)


def _scope_values(principal: Principal) -> dict[str, int]:
    """What core.tenancy.scope filters on: a contact's organisation, else staff's vendor."""
    if principal.is_contact:
        if principal.organization_id is not None:
            return {"principal_organization_id": principal.organization_id}
    elif principal.vendor_id is not None:
        return {"principal_vendor_id": principal.vendor_id}
    return {}


def _scoped(given: dict[str, Any], is_contact: bool, is_superuser: bool) -> Principal:
    """A principal that :func:`core.tenancy.scope` treats as the one :func:`_scope_values`
    read: only which kind it is and its organisation or vendor, so no one's other details
    enter a statement compiled for all."""
    return Principal(
        user_id=0,
        vendor_id=given.get("principal_vendor_id"),
        organization_id=given.get("principal_organization_id"),
        contact_id=0 if is_contact else None,
        roles=frozenset(),
        is_superuser=is_superuser,
    )


def ticket_page_rows(
    *, principal: Principal, filters: TicketFilters, cursor: int | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of tickets as plain rows (:func:`ticket_rows_query`) for the API's lean read path,
    and the cursor of the next page (None at the end).

    The page's statement is compiled once per shape (core.queries.prepared_statement):
    which filters are given, the flags, the kind of principal and the page size."""
    _check_limit(limit)
    if _searching(filters):
        tickets, next_offset = ticket_queue_page(
            principal=principal, filters=filters, cursor=cursor, limit=limit
        )
        by_id = {r["id"]: r for r in _with_product_names(_rows_of([t.pk for t in tickets]))}
        return [by_id[t.pk] for t in tickets if t.pk in by_id], next_offset
    _check_filters(filters)
    values = _page_values(principal, filters, cursor)
    rows = _with_product_names(
        _page_statement(
            *values.values(),
            names=tuple(values),
            open_only=filters.open_only,
            escalated=filters.escalated,
            is_contact=principal.is_contact,
            is_superuser=principal.is_superuser,
            limit=limit,
        )
    )
    next_cursor = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], next_cursor


_FILTER_NAMES = frozenset(f.name for f in fields(TicketFilters))


@prepared_statement
def _page_statement(
    *values: Any,
    names: tuple[str, ...],
    open_only: bool,
    escalated: bool | None,
    is_contact: bool,
    is_superuser: bool,
    limit: int,
) -> QuerySet[Ticket, dict[str, Any]]:
    """The rows of a page for the values :func:`_page_values` named ``names``."""
    given = dict(zip(names, values, strict=True))
    scoped = _scoped(given, is_contact, is_superuser)
    filters = TicketFilters(
        open_only=open_only,
        escalated=escalated,
        **{k: v for k, v in given.items() if k in _FILTER_NAMES},
    )
    return _narrowed(ticket_rows_query(), scoped, filters, given.get("cursor"))[: limit + 1]


def ticket_get_row(*, principal: Principal, ref: int) -> dict[str, Any]:
    """One visible ticket as a plain row (as :func:`ticket_page_rows`'); NotFound otherwise.
    Compiled once per kind of principal, like a page."""
    scope_values = _scope_values(principal)
    rows = _with_product_names(
        _get_statement(
            ref,
            *scope_values.values(),
            names=tuple(scope_values),
            is_contact=principal.is_contact,
            is_superuser=principal.is_superuser,
        )
    )
    if not rows:
        raise NotFound(f"ticket {ref} not found")
    return rows[0]


@prepared_statement
def _get_statement(
    ref: int, *values: Any, names: tuple[str, ...], is_contact: bool, is_superuser: bool
) -> QuerySet[Ticket, dict[str, Any]]:
    scoped = _scoped(dict(zip(names, values, strict=True)), is_contact, is_superuser)
    return _visible_tickets(scoped, ticket_rows_query()).filter(pk=ref)


@prepared_statement
def _rows_of(ticket_ids: list[int]) -> QuerySet[Ticket, dict[str, Any]]:
    """The rows of these tickets (found visible already), in no order."""
    return ticket_rows_query().filter(pk__in=ticket_ids)


def _ranked_page(
    principal: Principal, filters: TicketFilters, qs: QuerySet[Ticket], *, offset: int, limit: int
) -> tuple[list[Ticket], int | None]:
    """`q=`: best match first (tickets.search); the cursor is then the offset of the next page."""
    narrowed = replace(filters, q=None) != TicketFilters()
    hits, more = ticket_search(
        principal=principal,
        text=filters.q or "",
        within=qs if narrowed else None,
        limit=limit,
        offset=offset,
    )
    by_id = _with_list_relations(qs).in_bulk([h.ticket.pk for h in hits])
    rows = [by_id[h.ticket.pk] for h in hits if h.ticket.pk in by_id]
    return rows, offset + limit if more else None


def escalation_list(*, principal: Principal) -> QuerySet[Ticket]:
    """Escalated open tickets, P1 first (T-9), then oldest escalation first."""
    return (
        _visible_tickets(principal)
        .filter(escalated_at__isnull=False, status__in=OPEN_STATUSES)
        .select_related("organization")
        .order_by("priority", "escalated_at")
    )


def ticket_get(*, principal: Principal, ref: int) -> Ticket:
    ticket = (
        _with_list_relations(_visible_tickets(principal))
        .select_related("vendor")
        .filter(pk=ref)
        .first()
    )
    if ticket is None:
        raise NotFound(f"ticket {ref} not found")
    return ticket


def message_list(*, principal: Principal, ticket: Ticket) -> QuerySet[Message]:
    """The thread; customers never see internal notes."""
    qs = ticket.messages.select_related("author_user", "author_contact").prefetch_related(
        "attachments"
    )
    if principal.is_contact:
        qs = qs.filter(kind=MessageKind.PUBLIC)
    return qs.order_by("created_at", "pk")


def event_list(*, principal: Principal, ticket: Ticket) -> QuerySet[TicketEvent]:
    if principal.is_contact:
        return TicketEvent.objects.none()
    return ticket.events.select_related("actor").order_by("at", "pk")


def attachment_get(*, principal: Principal, attachment_id: int) -> Attachment:
    qs = scope(
        Attachment.objects.select_related("message__ticket"),
        principal,
        vendor_field="message__ticket__vendor_id",
        organization_field="message__ticket__organization_id",
    )
    if principal.is_contact:
        qs = qs.filter(message__kind=MessageKind.PUBLIC)
    attachment = qs.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(f"attachment {attachment_id} not found")
    return attachment


@dataclass(frozen=True)
class SatisfactionRow:
    label: str
    good: int
    bad: int

    @property
    def total(self) -> int:
        return self.good + self.bad

    @property
    def percent_good(self) -> int:
        return round(100 * self.good / self.total) if self.total else 0


def satisfaction_report(
    *, principal: Principal, since: datetime | None = None
) -> dict[str, list[SatisfactionRow]]:
    """Good/bad ratings per agent (who solved it) and per customer organisation, staff only."""
    if principal.is_contact:
        return {"agents": [], "customers": []}
    qs = scope(
        SatisfactionRating.objects.all(),
        principal,
        vendor_field="ticket__vendor_id",
        organization_field=None,
    )
    if since is not None:
        qs = qs.filter(rated_at__gte=since)
    counts = {
        "good": Count("pk", filter=Q(rating=Rating.GOOD)),
        "bad": Count("pk", filter=Q(rating=Rating.BAD)),
    }
    agents = [
        SatisfactionRow(
            r["assignee__display_name"] or r["assignee__email"] or "(unassigned)",
            r["good"],
            r["bad"],
        )
        for r in qs.values("assignee_id", "assignee__display_name", "assignee__email")
        .annotate(**counts)
        .order_by("assignee__email")
    ]
    customers = [
        SatisfactionRow(r["organization__name"], r["good"], r["bad"])
        for r in qs.values("organization_id", "organization__name")
        .annotate(**counts)
        .order_by("organization__name")
    ]
    return {"agents": agents, "customers": customers}


def ticket_follow_merges(ticket: Ticket | None) -> Ticket | None:
    """The ticket a merged ticket's thread now lives in (T-3: mail to it follows the merge)."""
    for _ in range(20):  # merges form a chain; a bound keeps a corrupt cycle from hanging
        if ticket is None or ticket.merged_into_id is None:
            return ticket
        ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first()
    return ticket


def agent_time_zone(*, user_id: int, vendor_id: int) -> str:
    """The zone the console shows an agent's times in (10.9): its own choice, else the
    vendor's zone; one statement."""
    row = (
        Vendor.objects.filter(pk=vendor_id)
        .annotate(
            agent_zone=Subquery(
                AgentProfile.objects.filter(user_id=user_id).values("time_zone")[:1]
            )
        )
        .values_list("agent_zone", "timezone")
        .first()
    )
    if row is None:
        return "UTC"
    return row[0] or row[1] or "UTC"


def agent_time_zone_choice(*, user_id: int) -> str:
    """The zone an agent chose for the console, blank when it follows the vendor's zone."""
    return (
        AgentProfile.objects.filter(user_id=user_id).values_list("time_zone", flat=True).first()
        or ""
    )
