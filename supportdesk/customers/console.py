"""Console actions on contacts, under /console/contacts/ (console/urls.py includes this)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from supportdesk.core import clock
from supportdesk.core.web import staff_page
from supportdesk.customers import selectors, services


@require_POST
@staff_page
def contact_invite(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The "Invite to the portal" button (A-2): mail the contact a set-password link."""
    principal = request.principal  # type: ignore[attr-defined]
    contact = selectors.contact_get(principal=principal, contact_id=contact_id)
    user = services.contact_invite(contact=contact, principal=principal, now=clock.now())
    messages.success(request, f"Invitation mailed to {user.email}.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/console/"
    return redirect(back)
