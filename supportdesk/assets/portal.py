"""Portal page for the organisation's designated administrator: its devices with their
warranty and contract standing, its RMAs, and the repair quotes waiting for its decision
(H-1, H-3). Scoped by the contact's organisation through the selectors (rule 11)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from supportdesk.assets import selectors, services_rma
from supportdesk.core import clock
from supportdesk.core.errors import Forbidden, InvalidInput
from supportdesk.core.tenancy import Principal
from supportdesk.core.web import contact_page
from supportdesk.customers.models import Contact, ContactRole


def _administrator(principal: Principal) -> None:
    if not Contact.objects.filter(
        pk=principal.contact_id or 0, role=ContactRole.ADMINISTRATOR
    ).exists():
        raise Forbidden("this page is for the organisation's designated administrator")


@contact_page
def devices(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    _administrator(principal)
    now = clock.now()
    rows = selectors.asset_list(principal=principal)[:500]
    return render(
        request,
        "assets/portal.html",
        {
            "rows": [(a, services_rma.asset_standing(asset=a, now=now)) for a in rows],
            "rmas": selectors.rma_list(principal=principal).select_related("invoice")[:200],
        },
    )


@require_POST
@contact_page
def rma_decide(request: HttpRequest, rma_id: int) -> HttpResponse:
    """Approve or decline a repair quote (H-3): approving issues the repair invoice."""
    principal = request.principal  # type: ignore[attr-defined]
    _administrator(principal)
    rma = selectors.rma_get(principal=principal, rma_id=rma_id)
    action = request.POST.get("action", "")
    if action not in ("approve", "decline"):
        raise InvalidInput("approve or decline the quote")
    done = services_rma.rma_advance(principal=principal, rma=rma, action=action, now=clock.now())
    messages.success(request, f"{done.label}: {done.get_state_display()}.")
    return redirect("portal:devices")
