"""Console pages (staff): on call now/next per schedule, emergency runs with pages and acks."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput
from supportdesk.core.web import staff_page
from supportdesk.oncall import selectors, services
from supportdesk.tickets import selectors as ticket_selectors


@staff_page
def overview(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    now = clock.now()
    schedules = [
        selectors.schedule_now(schedule=s, at=now)
        for s in selectors.schedule_list(principal=principal)
    ]
    runs = selectors.run_list(principal=principal)[:50]
    return render(
        request, "oncall/console.html", {"schedules": schedules, "runs": runs, "now": now}
    )


@require_POST
@staff_page
def ack(request: HttpRequest, run_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    run = selectors.run_get(principal=principal, run_id=run_id)
    services.run_acknowledge_by_staff(run=run, principal=principal, now=clock.now())
    messages.success(request, f"Acknowledged ticket #{run.ticket_id}: paging stopped.")
    return redirect("console:oncall:overview")


@require_POST
@staff_page
def page(request: HttpRequest) -> HttpResponse:
    """Escalate a phone ticket from an identified contact into the emergency chain (O-3)."""
    principal = request.principal  # type: ignore[attr-defined]
    ref = request.POST.get("ticket", "").strip().lstrip("#")
    if not ref.isdigit():
        raise InvalidInput("give the ticket number")
    ticket = ticket_selectors.ticket_get(principal=principal, ref=int(ref))
    services.ticket_page(
        ticket=ticket, principal=principal, reason=request.POST.get("reason", ""), now=clock.now()
    )
    messages.success(request, f"Paging the on-call engineer for ticket #{ticket.pk}.")
    return redirect("console:oncall:overview")
