"""Console and portal pages for contracts and entitlements (thin: one selector or service)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from supportdesk.contracts import selectors, services
from supportdesk.contracts.models import ContractState
from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput
from supportdesk.core.web import contact_page, staff_page
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


@contact_page
def portal_entitlement(request: HttpRequest) -> HttpResponse:
    """The customer's own contracts, cap usage and features (K-1); nobody else's."""
    principal = request.principal  # type: ignore[attr-defined]
    summary = selectors.organization_entitlement(
        principal=principal, organization_id=principal.organization_id, now=clock.now()
    )
    return render(request, "contracts/portal_entitlement.html", summary)
