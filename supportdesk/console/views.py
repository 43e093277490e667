from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from zoneinfo import available_timezones

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.timezone import localtime
from django.views.decorators.http import require_POST

from supportdesk.accounts.models import User, user_name
from supportdesk.billing.selectors_time import ticket_time_summary
from supportdesk.console import forms as console_forms
from supportdesk.console.views_time import time_form_initial
from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.models import Vendor
from supportdesk.core.phones import normalize_e164
from supportdesk.core.web import int_param, staff_page
from supportdesk.customers import selectors as customer_selectors
from supportdesk.tickets import listviews, macros, notify, selectors, services, services_console
from supportdesk.tickets.bulk import ACTIONS as BULK_ACTIONS
from supportdesk.tickets.bulk import ticket_bulk_apply
from supportdesk.tickets.forms import attachments_from
from supportdesk.tickets.models import AgentNotificationKind, Channel, Priority, Queue, Status
from supportdesk.tickets.search import ticket_search


def _form_or_error(form: forms.Form) -> dict[str, Any]:
    if not form.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        raise InvalidInput(problems)
    return form.cleaned_data


@staff_page
def queue(request: HttpRequest) -> HttpResponse:
    """Ticket lists: built-in views with counts, filters, saved views, sorts, pages (10.2)."""
    principal = request.principal  # type: ignore[attr-defined]
    params = request.GET
    saved_id = int_param(params.get("saved"))
    if saved_id is not None:
        saved = listviews.saved_view_get(principal=principal, view_id=saved_id)
        return redirect(f"{request.path}?{urlencode(saved.query)}")
    try:
        filters = listviews.ListFilters.parse(params)
    except InvalidInput as exc:
        messages.error(request, f"Filter ignored: {exc.detail}")
        filters = listviews.ListFilters()
    view = params.get("view") or ("" if filters.as_query() else listviews.DEFAULT_VIEW)
    sort = params.get("sort") or None
    if view not in listviews.VIEWS:
        view = "" if view else listviews.DEFAULT_VIEW
    if sort not in listviews.SORTS:
        sort = None
    now = clock.now()
    counts = listviews.ticket_view_counts(principal=principal, now=now)
    page = listviews.ticket_view_page(
        principal=principal,
        view=view or None,
        filters=filters,
        sort=sort,
        page=int_param(params.get("page")) or 1,
        now=now,
        # A built-in view as it stands was just counted.
        total=counts[view] if view and not filters.as_query() else None,
    )
    for row in page.rows:
        # What the row's template would otherwise compute per row with {% url %} and two
        # date filters (the same strings: the ISO form and minutes, in the page's zone).
        local = localtime(row["updated_at"])
        row["url"] = reverse("console:ticket", args=[row["ref"]])
        row["updated_iso"] = local.isoformat()
        row["updated_text"] = f"{local:%Y-%m-%d %H:%M}"
    current = {**filters.as_query(), **({"view": view} if view else {}), "sort": page.sort}
    context = {"page": page, "tickets": page.rows, "current_query": urlencode(current)}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "console/_list.html", context)
    context |= {
        "view": view,
        "filters": filters,
        "current": current,
        "views": [(v, counts[v.slug]) for v in listviews.BUILTIN_VIEWS],
        "saved_views": listviews.saved_view_list(principal=principal),
        "sorts": listviews.SORTS.items(),
        # The choices of the filter and bulk forms: plain rows, no model instances.
        "queues": list(
            Queue.objects.filter(vendor_id=principal.vendor_id)
            .order_by("name")
            .values("pk", "name")
        ),
        "organizations": list(
            customer_selectors.organization_list(principal=principal).values("pk", "name")
        ),
        "staff": [
            {"pk": pk, "name": user_name(*columns)}
            for pk, *columns in User.objects.filter(
                vendor_id=principal.vendor_id, is_staff=True, is_active=True
            )
            .order_by("display_name", "email")
            .values_list("pk", "display_name", "first_name", "last_name", "email")
        ],
        "statuses": Status.choices,
        "priorities": Priority.values,
        "channels": Channel.choices,
        "escalations": selectors.escalation_list(principal=principal)[:10],
        "bulk_actions": BULK_ACTIONS,
        "here": request.get_full_path(),
    }
    return render(request, "console/queue.html", context)


@require_POST
@staff_page
def view_save(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    query = {k: v for k, v in request.POST.items() if k in (*listviews.ListFilters.KEYS, "sort")}
    filters = listviews.ListFilters.parse(query)  # refuse what the list would not accept
    if query.get("sort") not in (None, "", *listviews.SORTS):
        raise InvalidInput("unknown sort")
    saved = services_console.saved_view_create(
        principal=principal,
        name=request.POST.get("name", ""),
        query={**filters.as_query(), **({"sort": query["sort"]} if query.get("sort") else {})},
        now=clock.now(),
    )
    messages.success(request, f"Saved view “{saved.name}”.")
    return redirect(f"{reverse('console:queue')}?saved={saved.pk}")


@require_POST
@staff_page
def bulk(request: HttpRequest) -> HttpResponse:
    """Bulk actions on the selected rows (10.3): a summary of what changed and was refused."""
    action = request.POST.get("action", "")
    fields = {"assign": "assignee", "status": "status", "priority": "priority",
              "queue": "queue", "tag": "tag", "merge": "merge_into"}  # fmt: skip
    refs = [r for r in (int_param(v) for v in request.POST.getlist("ticket")) if r is not None]
    result = ticket_bulk_apply(
        principal=request.principal,  # type: ignore[attr-defined]
        refs=refs,
        action=action,
        value=request.POST.get(fields.get(action, ""), ""),
        now=clock.now(),
    )
    (messages.warning if result.refused else messages.success)(request, result.summary())
    back = request.POST.get("next", "")
    if not back.startswith("/console/") or "//" in back:
        back = reverse("console:queue")
    return redirect(back)


@require_POST
@staff_page
def view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    saved = listviews.saved_view_get(principal=principal, view_id=view_id)
    services_console.saved_view_delete(principal=principal, view=saved)
    messages.success(request, f"Deleted view “{saved.name}”.")
    return redirect("console:queue")


SEARCH_PAGE = 25
NOTE_KINDS = AgentNotificationKind.values


@staff_page
def search(request: HttpRequest) -> HttpResponse:
    """Ranked ticket search with highlighted snippets (T-12, issue 10.1)."""
    text = (request.GET.get("q") or "").strip()[:200]
    offset = min(int_param(request.GET.get("offset")) or 0, 10_000)
    hits, more = ticket_search(
        principal=request.principal,  # type: ignore[attr-defined]
        text=text,
        limit=SEARCH_PAGE,
        offset=offset,
    )
    context = {
        "search_text": text,
        "hits": hits,
        "more": more,
        "offset": offset,
        "previous_offset": max(0, offset - SEARCH_PAGE),
        "next_offset": offset + SEARCH_PAGE,
    }
    return render(request, "console/search.html", context)


def _ticket_context(request: HttpRequest, ref: int) -> dict[str, Any]:
    principal = request.principal  # type: ignore[attr-defined]
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    thread = list(selectors.message_list(principal=principal, ticket=ticket))
    staff = User.objects.filter(vendor_id=ticket.vendor_id, is_staff=True, is_active=True)
    return {
        "ticket": ticket,
        "thread": thread,
        "last_message_id": max((m.pk for m in thread), default=0),
        "events": selectors.event_list(principal=principal, ticket=ticket),
        "outbox": ticket.outbox.order_by("created_at"),
        "reply_form": console_forms.ReplyForm(),
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "staff": staff.order_by("display_name", "email"),
        "scope_form": console_forms.OutOfScopeForm(),
        "macros": macros.macro_list(principal=principal),
        "signature": macros.signature_get(user_id=principal.user_id),
        "time": ticket_time_summary(principal=principal, ticket=ticket, now=clock.now()),
        "time_form": time_form_initial(ticket),
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
        body = data["body"]
        if data["kind"] == "public":
            body = macros.with_signature(body, user_id=principal.user_id)
        services.message_add(
            ticket=ticket,
            principal=principal,
            body=body,
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
    elif action == "macro":
        macro = macros.macro_get(
            principal=principal, macro_id=int_param(request.POST.get("macro")) or -1
        )
        done = macros.macro_apply(macro=macro, ticket=ticket, principal=principal, now=now)
        messages.success(request, f"{macro.name}: {', '.join(done) or 'nothing to change'}.")
    else:
        raise NotFound(f"unknown action {action!r}")
    return redirect("console:ticket", ref=ref)


@require_POST
@staff_page
def ticket_action(request: HttpRequest, ref: int, action: str) -> HttpResponse:
    return _act(request, ref, action)


@staff_page
def macro_text(request: HttpRequest, ref: int, macro_id: int) -> HttpResponse:
    """A macro's text filled in for this ticket, for the reply box's insert menu (10.4)."""
    principal = request.principal  # type: ignore[attr-defined]
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    macro = macros.macro_get(principal=principal, macro_id=macro_id)
    text = macros.macro_render(macro=macro, ticket=ticket, agent=request.user)  # type: ignore[arg-type]
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


@staff_page
def macro_page(request: HttpRequest) -> HttpResponse:
    """Macros and the agent's signature: list, create, edit the signature (10.4)."""
    principal = request.principal  # type: ignore[attr-defined]
    form_data: dict[str, Any] = {}
    if request.method == "POST":
        form_data = request.POST.dict()
        try:
            if request.POST.get("form") == "preferences":
                services_console.agent_preferences_save(
                    principal=principal,
                    muted=[k for k in NOTE_KINDS if not request.POST.get(f"show_{k}")],
                    emailed=[k for k in NOTE_KINDS if request.POST.get(f"email_{k}")],
                )
                messages.success(request, "Notification preferences saved.")
            elif request.POST.get("form") == "time_zone":
                services_console.agent_time_zone_save(
                    principal=principal, time_zone=form_data.get("time_zone", "")
                )
                messages.success(request, "Time zone saved.")
            elif request.POST.get("form") == "signature":
                services_console.signature_save(
                    principal=principal, signature=form_data.get("signature", "")
                )
                messages.success(request, "Signature saved.")
            else:
                macro = services_console.macro_create(
                    principal=principal,
                    data=form_data,
                    vendor_wide=bool(request.POST.get("vendor_wide")),
                    now=clock.now(),
                )
                messages.success(request, f"Macro “{macro.name}” saved.")
            return redirect("console:macros")
        except InvalidInput as exc:
            messages.error(request, exc.detail)
    context = {
        "macros": macros.macro_list(principal=principal),
        "signature": macros.signature_get(user_id=principal.user_id),
        "preferences": notify.preferences_get(user_id=principal.user_id),
        "time_zone": selectors.agent_time_zone_choice(user_id=principal.user_id),
        "vendor_time_zone": Vendor.objects.filter(pk=principal.vendor_id)
        .values_list("timezone", flat=True)
        .first(),
        "zones": sorted(available_timezones()),
        "placeholders": macros.PLACEHOLDERS,
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "data": form_data,
    }
    return render(request, "console/macros.html", context)


@staff_page
def notifications(request: HttpRequest) -> HttpResponse:
    """The agent's notifications, newest first; POST marks them all read (10.5)."""
    principal = request.principal  # type: ignore[attr-defined]
    if request.method == "POST":
        notify.notifications_mark_read(user_id=principal.user_id, now=clock.now())
        return redirect("console:notifications")
    rows = notify.notification_list(user_id=principal.user_id)[:100]
    return render(request, "console/notifications.html", {"notifications": rows})


@staff_page
def notifications_badge(request: HttpRequest) -> HttpResponse:
    """The nav link's unread count, polled by htmx on every console page."""
    count = notify.notification_unread_count(user_id=request.principal.user_id)  # type: ignore[attr-defined]
    return render(request, "console/_badge.html", {"unread": count})


@require_POST
@staff_page
def ticket_fresh(request: HttpRequest, ref: int) -> HttpResponse:
    """Polled by the ticket page: a "new reply" notice when messages arrived since it loaded,
    and who else has the ticket open (the poll is a POST: it records this agent's presence)."""
    principal = request.principal  # type: ignore[attr-defined]
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    after = int_param(request.GET.get("after")) or 0
    fresh = [m for m in selectors.message_list(principal=principal, ticket=ticket) if m.pk > after]
    others = notify.ticket_presence_touch(ticket=ticket, user_id=principal.user_id, now=clock.now())
    context = {"fresh": fresh, "ticket": ticket, "others": others}
    return render(request, "console/_fresh.html", context)


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
        number = normalize_e164(data["caller_number"], region=vendor.country)
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
