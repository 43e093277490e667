"""Acknowledging on-call runs: signed links, the console/API, SMS replies (O-4)."""

from __future__ import annotations

from datetime import datetime

from django.core import signing
from django.db import transaction

from supportdesk.accounts.models import User
from supportdesk.core.errors import Forbidden, InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.phones import normalize_e164
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.oncall.domain.sms import parse_ack
from supportdesk.oncall.models import (
    ChainRun,
    Page,
    PageStatus,
)
from supportdesk.tickets.events import ticket_event_record
from supportdesk.tickets.models import TicketEventKind

ACK_SALT = "supportdesk.oncall.ack"
ACK_MAX_AGE = 7 * 24 * 3600


def ack_token(*, run: ChainRun, user: User) -> str:
    return signing.dumps({"r": run.pk, "u": user.pk}, salt=ACK_SALT, compress=True)


def ack_token_read(token: str) -> tuple[int, int]:
    try:
        data = signing.loads(token, salt=ACK_SALT, max_age=ACK_MAX_AGE)
        return int(data["r"]), int(data["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvalidInput("this acknowledgement link is invalid or has expired") from None


@transaction.atomic
def run_acknowledge(
    *, run: ChainRun, user: User | None, via: str, now: datetime
) -> tuple[ChainRun, bool]:
    """Acknowledge `run` (locks the run row): nothing further is paged to anybody (O-4).

    Returns (run, True) for the acknowledgement that counted, (run, False) if it already was.
    """
    run = ChainRun.objects.select_for_update().get(pk=run.pk)
    if run.acknowledged_at is not None:
        return run, False
    if user is not None and user.vendor_id != run.vendor_id and not user.is_superuser:
        raise Forbidden("this page belongs to another vendor")
    run.acknowledged_at = now
    run.acknowledged_by = user
    run.acknowledged_via = via
    run.next_step_at = None  # no later step resolves anybody
    run.save(
        update_fields=["acknowledged_at", "acknowledged_by", "acknowledged_via", "next_step_at"]
    )
    cancelled = Page.objects.filter(run=run, status=PageStatus.PLANNED).update(
        status=PageStatus.CANCELLED
    )
    ticket_event_record(
        ticket_id=run.ticket_id,
        kind=TicketEventKind.PAGE_ACKNOWLEDGED,
        at=now,
        actor_id=user.pk if user else None,
        data={
            "run": run.pk,
            "via": via,
            "by": user.name if user else "",
            "cancelled_pages": cancelled,
        },
    )
    return run, True


def run_acknowledge_by_staff(*, run: ChainRun, principal: Principal, now: datetime) -> ChainRun:
    require_staff_of(principal, run.vendor_id)
    user = User.objects.get(pk=principal.user_id)
    return run_acknowledge(run=run, user=user, via="console/api", now=now)[0]


def sms_inbound(*, vendor: Vendor | None, from_number: str, body: str, now: datetime) -> str:
    """An SMS to the provider number: `ACK <code>` acknowledges; returns the reply text."""
    code = parse_ack(body)
    if code is None:
        return "To acknowledge a page, reply ACK followed by its code."
    try:
        number = normalize_e164(from_number)
    except InvalidInput:
        return "This number is not registered for pages."
    users = User.objects.filter(phone=number, is_active=True, is_staff=True)
    if vendor is not None:
        users = users.filter(vendor=vendor)
    user = users.order_by("pk").first()
    if user is None:
        return "This number is not registered for pages."
    runs = ChainRun.objects.filter(vendor_id=user.vendor_id, ack_code=code)
    run = (
        runs.filter(pages__recipient=user).order_by("acknowledged_at", "-started_at").first()
        or runs.order_by("acknowledged_at", "-started_at").first()
    )
    if run is None:
        return f"No page has the code {code}."
    run, counted = run_acknowledge(run=run, user=user, via="sms", now=now)
    if not counted:
        return f"Ticket #{run.ticket_id} was already acknowledged."
    return f"Acknowledged: ticket #{run.ticket_id}. Nobody else will be paged."
