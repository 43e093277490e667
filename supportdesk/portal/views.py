from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from supportdesk.billing.selectors import billing_choice_list, invoice_list
from supportdesk.billing.services_choices import billing_choice_set
from supportdesk.contracts.selectors import contract_get, vendor_tz
from supportdesk.core import clock
from supportdesk.core.errors import DomainError, Forbidden, NotFound
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal
from supportdesk.core.web import contact_page, int_param
from supportdesk.customers import selectors as customer_selectors
from supportdesk.customers import services as customer_services
from supportdesk.customers.models import Contact, ContactRole
from supportdesk.kb import services as kb_services
from supportdesk.portal.forms import NewTicketForm, ReplyForm
from supportdesk.tickets import selectors, services
from supportdesk.tickets import services_portal as portal_services
from supportdesk.tickets.forms import attachments_from
from supportdesk.tickets.models import Channel, SatisfactionRating, Status
from supportdesk.tickets.services_portal import DONE_STATUSES


@contact_page
def home(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    cursor = request.GET.get("cursor")
    status = request.GET.get("status") or ""
    filters = selectors.TicketFilters(
        q=request.GET.get("q") or None,
        open_only=status == "open",
        status=status if status in (Status.RESOLVED, Status.CLOSED) else None,
    )
    rows, next_cursor = selectors.ticket_queue_page(
        principal=principal, filters=filters, cursor=int_param(cursor), limit=50
    )
    context = {
        "tickets": rows,
        "next_cursor": next_cursor,
        "q": request.GET.get("q", ""),
        "status": status,
    }
    return render(request, "portal/home.html", context)


@contact_page
def new_ticket(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    form = NewTicketForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        contact = Contact.objects.select_related("organization__vendor").get(
            pk=principal.contact_id
        )
        ticket = services.ticket_create(
            principal=principal,
            vendor=contact.organization.vendor,
            organization=contact.organization,
            requester=contact,
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            priority=form.cleaned_data["priority"],
            channel=Channel.PORTAL,
            attachments=attachments_from(form.cleaned_data["attachments"]),
            now=clock.now(),
        )
        kb_services.suggestion_visit_submit(
            token=request.POST.get("kb_visit", ""), contact=contact, ticket=ticket, now=clock.now()
        )
        return redirect("portal:ticket", ref=ticket.ref)
    status = 400 if request.method == "POST" else 200
    # The form carries a random token so that suggestions shown while the subject is typed
    # and the ticket that may follow are told apart from other forms (deflection, K-2).
    kb_visit = request.POST.get("kb_visit") or kb_services.suggestion_token()
    return render(request, "portal/new.html", {"form": form, "kb_visit": kb_visit}, status=status)


@contact_page
def ticket_page(request: HttpRequest, ref: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        services.message_add(
            ticket=ticket,
            principal=principal,
            body=form.cleaned_data["body"],
            channel=Channel.PORTAL,
            attachments=attachments_from(form.cleaned_data["attachments"]),
            now=clock.now(),
        )
        return redirect("portal:ticket", ref=ref)
    cc_ids = set(ticket.ccs.values_list("contact_id", flat=True))
    colleagues = customer_selectors.contact_list(
        principal=principal, organization_id=ticket.organization_id
    )
    context = {
        "ticket": ticket,
        "thread": selectors.message_list(principal=principal, ticket=ticket),
        "form": form,
        "ccs": [c for c in colleagues if c.pk in cc_ids],
        "cc_choices": [c for c in colleagues if c.pk not in cc_ids and c.pk != ticket.requester_id],
        "done": ticket.status in DONE_STATUSES,
        "rating": SatisfactionRating.objects.filter(ticket=ticket).first(),
    }
    return render(request, "portal/ticket.html", context)


@require_POST
@contact_page
def ticket_action(request: HttpRequest, ref: int, action: str) -> HttpResponse:
    """Close, reopen, CC a colleague, rate (issue 11.5)."""
    principal = request.principal  # type: ignore[attr-defined]
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    now = clock.now()
    if action == "close":
        portal_services.ticket_customer_close(ticket=ticket, principal=principal, now=now)
    elif action == "reopen":
        portal_services.ticket_customer_reopen(ticket=ticket, principal=principal, now=now)
    elif action in ("cc-add", "cc-remove"):
        contact = customer_selectors.contact_get(
            principal=principal, contact_id=int_param(request.POST.get("contact")) or 0
        )
        change = (
            portal_services.ticket_cc_add
            if action == "cc-add"
            else portal_services.ticket_cc_remove
        )
        change(ticket=ticket, principal=principal, contact=contact, now=now)
    elif action == "rate":
        portal_services.satisfaction_rate(
            ticket=ticket,
            contact=Contact.objects.get(pk=principal.contact_id),
            rating=request.POST.get("rating", ""),
            comment=request.POST.get("comment", ""),
            now=now,
        )
        messages.success(request, "Thank you for your rating.")
    else:
        raise NotFound(f"unknown action {action!r}")
    return redirect("portal:ticket", ref=ref)


@require_http_methods(["GET", "POST"])
def rate_by_link(request: HttpRequest, token: str) -> HttpResponse:
    """The good/bad links of the "solved" mail: no sign-in, the signed link names the ticket
    and the contact it was sent to."""
    try:
        ticket, contact = portal_services.rating_token_read(token=token)
        rating = request.POST.get("rating") or request.GET.get("rating") or ""
        saved = None
        if request.method == "POST":
            saved = portal_services.satisfaction_rate(
                ticket=ticket, contact=contact, rating=rating,
                comment=request.POST.get("comment", ""), now=clock.now(),
            )  # fmt: skip
    except DomainError as exc:
        return render(
            request, "error.html", {"status": exc.status, "detail": exc.detail}, status=exc.status
        )
    context = {"ticket": ticket, "contact": contact, "rating": rating, "saved": saved}
    return render(request, "portal/rate.html", context)


@contact_page
def colleagues(request: HttpRequest) -> HttpResponse:
    """The organisation's contacts; its designated administrator invites them (issue 11.5)."""
    principal = request.principal  # type: ignore[attr-defined]
    me = Contact.objects.get(pk=principal.contact_id)
    if request.method == "POST":
        if me.role != ContactRole.ADMINISTRATOR:
            raise Forbidden("only the organisation's administrator may invite colleagues")
        contact = customer_selectors.contact_get(
            principal=principal, contact_id=int_param(request.POST.get("contact")) or 0
        )
        user = customer_services.contact_invite(
            contact=contact, principal=principal, now=clock.now()
        )
        messages.success(request, f"Invitation mailed to {user.email}.")
        return redirect("portal:colleagues")
    people = customer_selectors.contact_list(
        principal=principal, organization_id=principal.organization_id
    ).select_related("user")
    context = {"people": people, "is_admin": me.role == ContactRole.ADMINISTRATOR}
    return render(request, "portal/colleagues.html", context)


def _administrator(principal: Principal) -> Contact:
    me = Contact.objects.get(pk=principal.contact_id)
    if me.role != ContactRole.ADMINISTRATOR:
        raise Forbidden("this page is for the organisation's designated administrator")
    return me


@contact_page
def invoices(request: HttpRequest) -> HttpResponse:
    """The organisation's issued invoices with their PDFs, for its administrator (11.5)."""
    principal = request.principal  # type: ignore[attr-defined]
    _administrator(principal)
    rows = invoice_list(principal=principal)
    choices = billing_choice_list(
        principal=principal, organization_id=principal.organization_id, today=_today(principal)
    )
    return render(request, "portal/invoices.html", {"invoices": rows, "choices": choices})


def _today(principal: Principal) -> date:
    """Today in the vendor's zone (a choice applies from the next term from then)."""
    vendor = Vendor.objects.filter(pk=principal.vendor_id or 0)
    return (
        clock.now()
        .astimezone(vendor_tz(vendor.values_list("timezone", flat=True).first() or "UTC"))
        .date()
    )


@require_POST
@contact_page
def choose_billing(request: HttpRequest, contract_id: int) -> HttpResponse:
    """The administrator's choice of monthly or annual billing from the next term (B-5)."""
    principal = request.principal  # type: ignore[attr-defined]
    contract = contract_get(principal=principal, contract_id=contract_id)
    view = billing_choice_set(
        principal=principal,
        contract=contract,
        billing=request.POST.get("billing", ""),
        today=_today(principal),
        now=clock.now(),
    )
    messages.success(
        request,
        f"{view.contract.label} will be billed {view.next.value} from {view.next_from:%Y-%m-%d}.",
    )
    return redirect("portal:invoices")
