"""Console pages (staff): on call now/next per schedule, emergency runs with pages and acks,
paging from a ticket, and the staff member's calendar subscription link."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput
from supportdesk.core.web import int_param, staff_page
from supportdesk.oncall import feed_tokens, selectors
from supportdesk.oncall.api import feed_url
from supportdesk.oncall.services.acknowledgements import run_acknowledge_by_staff
from supportdesk.oncall.services.emergencies import ticket_page
from supportdesk.tickets import selectors as ticket_selectors


def _overview(request: HttpRequest, *, new_token: str = "") -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    now = clock.now()
    schedules: list[dict[str, Any]] = []
    for s in selectors.schedule_list(principal=principal):
        info = selectors.schedule_now(schedule=s, at=now)
        link = feed_url(request, token=new_token, schedule_id=s.pk) if new_token else ""
        schedules.append({"schedule": s, "now": info.now, "next_at": info.next_at,
                          "next": info.next, "link": link})  # fmt: skip
    context = {
        "schedules": schedules,
        "runs": selectors.run_list(principal=principal)[:50],
        "now": now,
        "feed_token": feed_tokens.feed_token_active(principal=principal),
        "new_token": bool(new_token),
        "caller": selectors.caller_lookup(principal=principal, number=request.GET["caller"])
        if request.GET.get("caller", "").strip()
        else None,
    }
    return render(request, "oncall/console.html", context)


@staff_page
def overview(request: HttpRequest) -> HttpResponse:
    return _overview(request)


@require_POST
@staff_page
def ack(request: HttpRequest, run_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    run = selectors.run_get(principal=principal, run_id=run_id)
    run_acknowledge_by_staff(run=run, principal=principal, now=clock.now())
    messages.success(request, f"Acknowledged ticket #{run.ticket_id}: paging stopped.")
    if request.POST.get("back") == "ticket":
        return redirect("console:ticket", ref=run.ticket_id)
    return redirect("console:oncall:overview")


@require_POST
@staff_page
def page(request: HttpRequest) -> HttpResponse:
    """Escalate a phone ticket from an identified contact into the emergency chain (O-3)."""
    ref = request.POST.get("ticket", "").strip().lstrip("#")
    ticket_ref = int_param(ref)
    if ticket_ref is None:
        raise InvalidInput("give the ticket number")
    _page(request, ticket_ref)
    return redirect("console:oncall:overview")


@require_POST
@staff_page
def page_ticket(request: HttpRequest, ref: int) -> HttpResponse:
    """The "Page on-call" button of a ticket page: the same escalation, back to the ticket."""
    _page(request, ref)
    return redirect("console:ticket", ref=ref)


def _page(request: HttpRequest, ref: int) -> None:
    principal = request.principal  # type: ignore[attr-defined]
    ticket = ticket_selectors.ticket_get(principal=principal, ref=ref)
    ticket_page(
        ticket=ticket,
        principal=principal,
        reason=request.POST.get("reason", ""),
        caller=request.POST.get("caller", ""),
        now=clock.now(),
    )
    messages.success(request, f"Paging the on-call engineer for ticket #{ticket.pk}.")


@require_POST
@staff_page
def feed_link(request: HttpRequest) -> HttpResponse:
    """Create (or replace) or revoke the staff member's calendar subscription link. A new link
    is shown on the page this answers with, once: only its hash is kept."""
    principal = request.principal  # type: ignore[attr-defined]
    action = request.POST.get("action")
    if action == "create":
        token = feed_tokens.feed_token_create(principal=principal, now=clock.now())
        return _overview(request, new_token=token)
    if action == "revoke":
        feed_tokens.feed_token_revoke(principal=principal, now=clock.now())
        messages.success(request, "Calendar link revoked: subscribed calendars stop updating.")
        return redirect("console:oncall:overview")
    raise InvalidInput("action must be create or revoke")
