"""Reads of the on-call app. Staff only: a customer's contact sees no schedule or run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from supportdesk.accounts.models import User
from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.models import Vendor
from supportdesk.core.phones import normalize_e164
from supportdesk.core.tenancy import Principal, scope
from supportdesk.customers.models import Contact, ContactPhone
from supportdesk.customers.selectors import contact_find_by_phone
from supportdesk.oncall.domain.schedule import Schedule as DomainSchedule
from supportdesk.oncall.domain.schedule import next_change, on_call
from supportdesk.oncall.models import ChainRun, Page, Schedule
from supportdesk.tickets.models import OPEN_STATUSES, Channel, Priority, Ticket


def schedule_list(*, principal: Principal) -> QuerySet[Schedule]:
    return scope(
        Schedule.objects.order_by("name", "pk"), principal, vendor_field="vendor_id",
        organization_field=None,
    )  # fmt: skip


def schedule_get(*, principal: Principal, schedule_id: int) -> Schedule:
    row = schedule_list(principal=principal).filter(pk=schedule_id).first()
    if row is None:
        raise NotFound(f"schedule {schedule_id} not found")
    return row


def domain_schedule(schedule: Schedule) -> DomainSchedule:
    return DomainSchedule.from_spec(schedule.spec)


def staff_labels(vendor_id: int) -> dict[str, str]:
    """Participant id (email) → display name, for feeds and pages."""
    return {
        u.email.lower(): u.name for u in User.objects.filter(vendor_id=vendor_id, is_staff=True)
    }


@dataclass(frozen=True)
class OnCallNow:
    schedule: Schedule
    now: list[str]
    next_at: datetime | None
    next: list[str]


def schedule_now(*, schedule: Schedule, at: datetime) -> OnCallNow:
    """Who is on call at `at` and who takes over next (display names)."""
    spec = domain_schedule(schedule)
    labels = staff_labels(schedule.vendor_id)
    change = next_change(spec, at)
    return OnCallNow(
        schedule=schedule,
        now=[labels.get(p.lower(), p) for p in on_call(spec, at)],
        next_at=change.at if change else None,
        next=[labels.get(p.lower(), p) for p in change.on_call] if change else [],
    )


def run_list(*, principal: Principal, ticket_id: int | None = None) -> QuerySet[ChainRun]:
    qs = scope(
        ChainRun.objects.select_related("ticket", "acknowledged_by"), principal,
        vendor_field="vendor_id", organization_field=None,
    )  # fmt: skip
    if ticket_id is not None:
        qs = qs.filter(ticket_id=ticket_id)
    pages = Page.objects.select_related("recipient", "outbox").order_by("due_at", "pk")
    return qs.prefetch_related(Prefetch("pages", queryset=pages)).order_by("-started_at", "-pk")


def run_get(*, principal: Principal, run_id: int) -> ChainRun:
    run = run_list(principal=principal).filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"on-call run {run_id} not found")
    return run


@dataclass(frozen=True)
class Refusal:
    code: str
    detail: str


def page_refusal(ticket: Ticket) -> Refusal | None:
    """Why an agent may not page the on-call engineer for `ticket` (O-3), or None if they
    may: only a phone request (or a voicemail) from an identified contact pages."""
    if ticket.channel not in (Channel.PHONE, Channel.VOICEMAIL):
        return Refusal(
            "not_a_phone_request",
            f"only a phone request can page the on-call engineer (this ticket came by "
            f"{ticket.channel}): log the customer's escalation call (the number they are "
            "calling from) to page from this ticket; see O-3",
        )
    if ticket.requester_id is None:
        return Refusal(
            "unidentified_caller",
            "the caller is not an identified contact: link the ticket to a contact first",
        )
    return None


@dataclass(frozen=True)
class TicketPaging:
    """The on-call box of a ticket page: its runs, who is on call, and whether to offer the
    "Page on-call" button (O-3, O-4)."""

    runs: list[ChainRun]
    on_call: list[OnCallNow]
    paging: bool  # a run is still open
    refusal: Refusal | None
    show: bool
    callers: list[str]  # the requester's numbers, offered for logging an escalation call


def ticket_paging(*, principal: Principal, ticket: Ticket, at: datetime) -> TicketPaging:
    runs = list(run_list(principal=principal, ticket_id=ticket.pk))
    paging = any(r.acknowledged_at is None and r.ends_at > at for r in runs)
    show = bool(runs) or ticket.priority == Priority.P1 or ticket.channel in (
        Channel.PHONE, Channel.VOICEMAIL,
    )  # fmt: skip
    on_call = (
        [schedule_now(schedule=s, at=at) for s in schedule_list(principal=principal)]
        if show
        else []
    )
    refusal = page_refusal(ticket)
    callers: list[str] = []
    if refusal is not None and refusal.code == "not_a_phone_request" and ticket.requester_id:
        callers = list(
            ContactPhone.objects.filter(contact_id=ticket.requester_id)
            .order_by("pk")
            .values_list("number", flat=True)
        )
    return TicketPaging(runs, on_call, paging, refusal, show, callers)


@dataclass(frozen=True)
class Caller:
    """Who is phoning (O-3): the identified contact behind a number and their open tickets,
    so the agent pages from the ticket the call is about (seed 001)."""

    number: str
    contact: Contact | None
    tickets: list[Ticket]
    problem: str


def caller_lookup(*, principal: Principal, number: str) -> Caller:
    vendor = Vendor.objects.get(pk=principal.vendor_id or 0)
    try:
        number = normalize_e164(number, region=vendor.country)
    except InvalidInput as exc:
        return Caller(number, None, [], exc.detail)
    contact = contact_find_by_phone(vendor_id=vendor.pk, number=number)
    if contact is None:
        return Caller(number, None, [], f"{number} is not the number of an identified contact")
    tickets = list(
        Ticket.objects.filter(
            vendor_id=vendor.pk, requester=contact, status__in=OPEN_STATUSES
        ).order_by("-created_at", "-pk")[:20]
    )
    return Caller(number, contact, tickets, "")
