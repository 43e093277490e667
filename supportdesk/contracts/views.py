"""Console and portal pages for contracts and entitlements (thin: one selector or service)."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from supportdesk.contracts import selectors, services, services_admins
from supportdesk.contracts.models import ContractState
from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput
from supportdesk.core.web import contact_page, staff_page
from supportdesk.customers import selectors as customer_selectors
from supportdesk.tickets import selectors as ticket_selectors


@staff_page
def contract_list_page(request: HttpRequest) -> HttpResponse:
    """Every contract of the vendor with its state today, filterable by state (E-1)."""
    state = request.GET.get("state") or None
    if state is not None and state not in ContractState.values:
        raise InvalidInput(f"unknown state {state!r}; one of {', '.join(ContractState.values)}")
    rows = selectors.contract_overview(
        principal=request.principal,  # type: ignore[attr-defined]
        now=clock.now(),
        state=state,
    )
    context = {"rows": rows, "states": ContractState.choices, "state": state}
    return render(request, "contracts/console_list.html", context)


@staff_page
def organization_page(request: HttpRequest, org_id: int) -> HttpResponse:
    """One customer's contracts, cap usage, flags, DSE and administrators (E-1..E-5, E-10)."""
    summary = selectors.organization_entitlement(
        principal=request.principal,  # type: ignore[attr-defined]
        organization_id=org_id,
        now=clock.now(),
    )
    return render(request, "contracts/console_organization.html", summary)


@require_POST
@staff_page
def ticket_category(request: HttpRequest, ref: int) -> HttpResponse:
    """Set a ticket's request category and decide its entitlement again (E-8, T-10)."""
    principal = request.principal  # type: ignore[attr-defined]
    ticket = ticket_selectors.ticket_get(principal=principal, ref=ref)
    row = services.ticket_category_set(
        principal=principal,
        ticket=ticket,
        category=request.POST.get("category", ""),
        now=clock.now(),
    )
    verdict = "covered" if row.covered else "billable hourly"
    messages.success(request, f"Category {row.category}: {verdict} ({row.reason}).")
    return redirect("console:ticket", ref=ref)


@require_POST
@staff_page
def status_call_page(request: HttpRequest, org_id: int) -> HttpResponse:
    """Invite the customer's designated administrators to a status call (E-3); the start is
    read in the vendor's time zone."""
    principal = request.principal  # type: ignore[attr-defined]
    org = customer_selectors.organization_get(principal=principal, organization_id=org_id)
    raw = request.POST.get("starts_at", "").strip()
    try:
        starts = datetime.fromisoformat(raw)
        minutes = int(request.POST.get("minutes", "30") or 30)
    except ValueError:
        raise InvalidInput("give the start as a date and time, and the minutes") from None
    if starts.tzinfo is None:
        starts = starts.replace(tzinfo=selectors.vendor_tz(org.vendor.timezone))
    rows = services_admins.status_call_invite(
        principal=principal, organization=org, subject=request.POST.get("subject", ""),
        starts_at=starts, minutes=minutes, details=request.POST.get("details", ""),
        now=clock.now(),
    )  # fmt: skip
    messages.success(request, f"Invitation sent to {', '.join(r.recipient for r in rows)}.")
    return redirect("console:contracts:organization", org_id=org.pk)


@contact_page
def portal_entitlement(request: HttpRequest) -> HttpResponse:
    """The customer's own contracts, cap usage and features (K-1); nobody else's."""
    principal = request.principal  # type: ignore[attr-defined]
    summary = selectors.organization_entitlement(
        principal=principal, organization_id=principal.organization_id, now=clock.now()
    )
    return render(request, "contracts/portal_entitlement.html", summary)
