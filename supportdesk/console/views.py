from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from supportdesk.accounts.models import User
from supportdesk.console import forms as console_forms
from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.forms import attachments_from
from supportdesk.core.models import Vendor
from supportdesk.core.phones import normalize_e164
from supportdesk.core.web import int_param, staff_page
from supportdesk.customers import selectors as customer_selectors
from supportdesk.tickets import selectors, services
from supportdesk.tickets.models import Channel, Priority, Queue, Status


def _form_or_error(form: forms.Form) -> dict[str, Any]:
    if not form.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        raise InvalidInput(problems)
    return form.cleaned_data


@staff_page
def queue(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    status = request.GET.get("status") or None
    filters = selectors.TicketFilters(
        status=status,
        open_only=status is None,
        priority=request.GET.get("priority") or None,
        queue_id=int_param(request.GET.get("queue")),
        q=request.GET.get("q") or None,
    )
    cursor = request.GET.get("cursor")
    rows, next_cursor = selectors.ticket_queue_page(
        principal=principal,
        filters=filters,
        cursor=int_param(cursor),
        limit=50,
    )
    queues = Queue.objects.filter(vendor_id=principal.vendor_id).order_by("name")
    context = {
        "tickets": rows,
        "next_cursor": next_cursor,
        "queues": queues,
        "statuses": Status.choices,
        "priorities": Priority.values,
        "escalations": selectors.escalation_list(principal=principal)[:10],
        "params": request.GET,
    }
    template = "console/_rows.html" if request.htmx else "console/queue.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def _ticket_context(request: HttpRequest, ref: int) -> dict[str, Any]:
    principal = request.principal  # type: ignore[attr-defined]
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    staff = User.objects.filter(vendor_id=ticket.vendor_id, is_staff=True, is_active=True)
    return {
        "ticket": ticket,
        "thread": selectors.message_list(principal=principal, ticket=ticket),
        "events": selectors.event_list(principal=principal, ticket=ticket),
        "outbox": ticket.outbox.order_by("created_at"),
        "reply_form": console_forms.ReplyForm(),
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "staff": staff.order_by("display_name", "email"),
        "scope_form": console_forms.OutOfScopeForm(),
    }


@staff_page
def ticket_page(request: HttpRequest, ref: int) -> HttpResponse:
    return render(request, "console/ticket.html", _ticket_context(request, ref))


def _act(request: HttpRequest, ref: int, action: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    now = clock.now()
    if action == "reply":
        data = _form_or_error(console_forms.ReplyForm(request.POST, request.FILES))
        services.message_add(
            ticket=ticket,
            principal=principal,
            body=data["body"],
            kind=data["kind"],
            channel=Channel.EMAIL,  # staff replies reach the customer by email
            attachments=attachments_from(data["attachments"]),
            now=now,
        )
        messages.success(request, "Note added." if data["kind"] == "internal" else "Reply sent.")
    elif action == "status":
        data = _form_or_error(console_forms.StatusForm(request.POST))
        services.ticket_status_change(
            ticket=ticket, principal=principal, status=data["status"], now=now
        )
    elif action == "priority":
        data = _form_or_error(console_forms.PriorityForm(request.POST))
        services.ticket_priority_change(
            ticket=ticket, principal=principal, priority=data["priority"], now=now
        )
    elif action == "assign":
        data = _form_or_error(console_forms.AssignForm(request.POST))
        value = data["assignee"]
        assignee = None
        if value != "auto":
            assignee = User.objects.filter(pk=int_param(value) or -1).first()
            if assignee is None:
                raise InvalidInput(f"unknown staff user {value}")
        services.ticket_assign(ticket=ticket, principal=principal, assignee=assignee, now=now)
    elif action == "escalate":
        data = _form_or_error(console_forms.EscalateForm(request.POST))
        services.ticket_escalate(ticket=ticket, principal=principal, reason=data["reason"], now=now)
    elif action == "out-of-scope":
        data = _form_or_error(console_forms.OutOfScopeForm(request.POST))
        services.ticket_close_out_of_scope(
            ticket=ticket, principal=principal, scope=data["scope"], note=data["note"], now=now
        )
    else:
        raise NotFound(f"unknown action {action!r}")
    return redirect("console:ticket", ref=ref)


@require_POST
@staff_page
def ticket_action(request: HttpRequest, ref: int, action: str) -> HttpResponse:
    return _act(request, ref, action)


@staff_page
def new_call(request: HttpRequest) -> HttpResponse:
    """Log a phone call as a ticket in one step (T-6): the caller's number finds the contact."""
    principal = request.principal  # type: ignore[attr-defined]
    vendor = Vendor.objects.filter(pk=principal.vendor_id).first()
    if vendor is None:
        raise InvalidInput("log calls as a vendor's staff member; this account has no vendor")
    form = console_forms.CallForm(request.POST or None)
    context: dict[str, Any] = {
        "form": form,
        "organizations": customer_selectors.organization_list(principal=principal),
    }
    if request.method == "POST":
        data = _form_or_error(form)
        number = normalize_e164(
            data["caller_number"], default_country_code=vendor.default_country_code
        )
        contact = customer_selectors.contact_find_by_phone(vendor_id=vendor.pk, number=number)
        if contact is not None:
            organization = contact.organization
        elif data["organization"]:
            organization = customer_selectors.organization_get(
                principal=principal, organization_id=data["organization"]
            )
        else:
            raise InvalidInput(
                f"no contact has the number {number}; choose the caller's organisation"
            )
        ticket = services.ticket_create(
            principal=principal,
            vendor=vendor,
            organization=organization,
            requester=contact,
            subject=data["subject"],
            body=data["notes"],
            priority=data["priority"],
            channel=Channel.PHONE,
            caller_number=number,
            now=clock.now(),
        )
        return redirect("console:ticket", ref=ticket.ref)
    return render(request, "console/new_call.html", context)
