"""Console pages (staff): stored mail by state — the quarantine of unidentified senders with
the details request sent to them, linking it to an existing or new contact (T-2), retrying
failed mail (T-5), bounces and ignored automatic mail (T-4)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.web import int_param, staff_page
from supportdesk.customers.models import Contact, Organization
from supportdesk.customers.selectors import contact_find_by_email, organization_get
from supportdesk.intake import selectors, services, services_quarantine
from supportdesk.intake.domain.parse import ParsedEmail, parse_message
from supportdesk.intake.domain.threading import split_quoted
from supportdesk.intake.models import InboundState
from supportdesk.intake.services_trust import staff_reply_token_rotate

PAGE = 100
TABS = [
    (InboundState.QUARANTINED, "Quarantine"),
    (InboundState.FAILED, "Failed"),
    (InboundState.BOUNCE, "Bounces"),
    (InboundState.AUTO_REPLY_IGNORED, "Automatic"),
    (InboundState.DUPLICATE, "Duplicates"),
    (InboundState.TICKET_CREATED, "New tickets"),
    (InboundState.THREADED, "Threaded"),
    (InboundState.RECEIVED, "Not applied yet"),
    (InboundState.DISCARDED, "Discarded"),
]


@staff_page
def mail_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    state = request.GET.get("state", InboundState.QUARANTINED)
    if state not in InboundState.values and state != "all":
        raise InvalidInput(f"unknown state {state!r}")
    rows = selectors.inbound_list(
        principal=principal, state=None if state == "all" else state
    ).select_related("ticket", "contact")[:PAGE]
    counts = selectors.inbound_counts(principal=principal)
    tabs = [(value, label, counts.get(value, 0)) for value, label in TABS]
    mine = selectors.inbound_awaiting_confirmation(principal=principal).select_related("ticket")
    return render(
        request,
        "intake/mail_list.html",
        {
            "rows": rows,
            "state": state,
            "tabs": tabs,
            "total": sum(counts.values()),
            "mine": mine[:PAGE],
        },
    )


@require_POST
@staff_page
def mail_confirm(request: HttpRequest, inbound_id: int) -> HttpResponse:
    """T-11: "this mail is mine": apply it as the staff member's reply."""
    principal = request.principal  # type: ignore[attr-defined]
    row = selectors.inbound_get(principal=principal, inbound_id=inbound_id)
    services_quarantine.staff_reply_confirm(inbound=row, principal=principal, now=clock.now())
    messages.success(request, "Confirmed: the mail was applied as your reply.")
    return redirect("console:mail:detail", inbound_id=row.pk)


@require_POST
@staff_page
def mail_reply_address(request: HttpRequest) -> HttpResponse:
    """T-11: revoke my tokenised reply address (it was shown to someone) and issue a new one."""
    principal = request.principal  # type: ignore[attr-defined]
    staff_reply_token_rotate(principal=principal, now=clock.now())
    messages.success(request, "Your old reply address no longer works; new mail carries a new one.")
    return redirect("console:mail:list")


@require_POST
@staff_page
def mail_discard(request: HttpRequest, inbound_id: int) -> HttpResponse:
    """T-11: "this mail is not mine": keep it as discarded, never applied."""
    principal = request.principal  # type: ignore[attr-defined]
    row = selectors.inbound_get(principal=principal, inbound_id=inbound_id)
    services_quarantine.staff_reply_discard(inbound=row, principal=principal, now=clock.now())
    messages.success(request, "Discarded: the mail was not applied.")
    return redirect("console:mail:list")


@staff_page
def mail_detail(request: HttpRequest, inbound_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    row = selectors.inbound_get(principal=principal, inbound_id=inbound_id)
    parsed = parse_message(selectors.inbound_raw(inbound=row))
    text, quoted = split_quoted(parsed.text) if isinstance(parsed, ParsedEmail) else ("", "")
    contacts = Contact.objects.filter(organization__vendor_id=row.vendor_id).select_related(
        "organization"
    )
    return render(
        request,
        "intake/mail_detail.html",
        {
            "row": row,
            "parsed": parsed if isinstance(parsed, ParsedEmail) else None,
            "failure": None if isinstance(parsed, ParsedEmail) else parsed.reason,
            "new_text": text,
            "quoted": quoted,
            "requests": selectors.details_requests_for(inbound=row),
            "contacts": contacts.prefetch_related("emails").order_by("name")[:500],
            "organizations": Organization.objects.filter(vendor_id=row.vendor_id).order_by("name"),
        },
    )


@require_POST
@staff_page
def mail_link(request: HttpRequest, inbound_id: int) -> HttpResponse:
    """Link quarantined mail to the contact with the given address, or to a new contact."""
    principal = request.principal  # type: ignore[attr-defined]
    row = selectors.inbound_get(principal=principal, inbound_id=inbound_id)
    now = clock.now()
    organization_id = int_param(request.POST.get("organization"))
    if organization_id is not None:
        org = organization_get(principal=principal, organization_id=organization_id)
        phone = request.POST.get("phone", "").strip()
        ticket = services_quarantine.quarantine_link_new_contact(
            inbound=row,
            organization=org,
            name=request.POST.get("name", ""),
            phones=[phone] if phone else [],
            principal=principal,
            now=now,
        )
    else:
        address = request.POST.get("contact", "").strip()
        contact = contact_find_by_email(vendor_id=row.vendor_id, address=address)
        if contact is None:
            raise NotFound(f"no contact with the address {address!r}")
        ticket = services_quarantine.quarantine_link(
            inbound=row, contact=contact, principal=principal, now=now
        )
    messages.success(request, f"Linked: the mail is now on ticket #{ticket.ref}.")
    return redirect("console:ticket", ref=ticket.ref)


@require_POST
@staff_page
def mail_retry(request: HttpRequest, inbound_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    row = selectors.inbound_get(principal=principal, inbound_id=inbound_id)
    result = services.email_retry(inbound=row, now=clock.now())
    messages.info(request, f"Applied again: {result.state} {result.reason}".strip())
    return redirect("console:mail:detail", inbound_id=row.pk)
