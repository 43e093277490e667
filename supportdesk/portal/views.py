from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from supportdesk.core import clock
from supportdesk.core.web import contact_page, int_param
from supportdesk.customers.models import Contact
from supportdesk.portal.forms import NewTicketForm, ReplyForm
from supportdesk.tickets import selectors, services
from supportdesk.tickets.forms import attachments_from
from supportdesk.tickets.models import Channel


@contact_page
def home(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    cursor = request.GET.get("cursor")
    rows, next_cursor = selectors.ticket_queue_page(
        principal=principal,
        filters=selectors.TicketFilters(q=request.GET.get("q") or None),
        cursor=int_param(cursor),
        limit=50,
    )
    return render(request, "portal/home.html", {"tickets": rows, "next_cursor": next_cursor})


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
        return redirect("portal:ticket", ref=ticket.ref)
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/new.html", {"form": form}, status=status)


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
    context = {
        "ticket": ticket,
        "thread": selectors.message_list(principal=principal, ticket=ticket),
        "form": form,
    }
    return render(request, "portal/ticket.html", context)
