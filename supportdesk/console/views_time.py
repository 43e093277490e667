"""Time tracking on the ticket page (issue 10.7): log, edit and remove time entries through
the contracts services; the ticket page shows them split by rate period and priced as the
billing run prices them (``billing.selectors_time``)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from supportdesk.contracts import selectors as contract_selectors
from supportdesk.contracts import services as contract_services
from supportdesk.contracts import services_time
from supportdesk.contracts.models import TimeEntry, WorkCategory, WorkKind
from supportdesk.core import clock
from supportdesk.core.errors import DomainError
from supportdesk.core.web import staff_page
from supportdesk.tickets import selectors
from supportdesk.tickets.models import Ticket


class TimeForm(forms.Form):
    """Times are read in the vendor's time zone (the zone the console shows them in)."""

    started_at = forms.DateTimeField(
        label="Start", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ended_at = forms.DateTimeField(
        label="End", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )  # fmt: skip
    minutes = forms.IntegerField(label="or minutes", required=False, min_value=1, max_value=1440)
    work_kind = forms.ChoiceField(label="Work", choices=WorkKind.choices, initial=WorkKind.REMOTE)
    category = forms.ChoiceField(choices=WorkCategory.choices, initial=WorkCategory.PROBLEM)
    billable = forms.BooleanField(required=False, initial=True)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if (data.get("ended_at") is None) == (data.get("minutes") is None):
            raise forms.ValidationError("Give an end time or a number of minutes (not both).")
        return data


def _local(value: datetime, ticket: Ticket) -> str:
    return value.astimezone(contract_selectors.vendor_tz(ticket.vendor.timezone)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def time_form_initial(ticket: Ticket) -> TimeForm:
    now = clock.now()
    start = datetime.combine(now.date(), time(now.hour), tzinfo=now.tzinfo)
    return TimeForm(initial={"started_at": _local(start, ticket)})


def _values(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "started_at": data["started_at"],
        "ended_at": data["ended_at"],
        "minutes": data["minutes"],
        "work_kind": data["work_kind"],
        "category": data["category"],
        "billable": data["billable"],
        "note": data["note"],
    }


def _form_page(
    request: HttpRequest, form: TimeForm, ticket: Ticket, entry: TimeEntry | None
) -> HttpResponse:
    context = {"form": form, "ticket": ticket, "entry": entry}
    return render(request, "console/time_form.html", context)


def _save(form: TimeForm, write: Any, ticket: Ticket) -> bool:
    # A typed time without a zone is the vendor's local time.
    with timezone.override(contract_selectors.vendor_tz(ticket.vendor.timezone)):
        if not form.is_valid():
            return False
    try:
        write(form.cleaned_data)
    except DomainError as exc:
        form.add_error(None, exc.detail)
        return False
    return True


@require_POST
@staff_page
def time_add(request: HttpRequest, ref: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    form = TimeForm(request.POST)
    if _save(
        form,
        lambda d: contract_services.time_entry_add(
            principal=principal, ticket=ticket, engineer=request.user, now=clock.now(),
            **_values(d),
        ),
        ticket,
    ):  # fmt: skip
        messages.success(request, "Time logged.")
        return redirect("console:ticket", ref=ref)
    return _form_page(request, form, ticket, None)


@staff_page
def time_edit(request: HttpRequest, ref: int, entry_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    entry = contract_selectors.time_entry_get(principal=principal, ticket=ticket, entry_id=entry_id)
    if request.method != "POST":
        form = TimeForm(
            initial={
                "started_at": _local(entry.started_at, ticket),
                "ended_at": _local(entry.ended_at, ticket),
                "work_kind": entry.work_kind,
                "category": entry.category,
                "billable": entry.billable,
                "note": entry.note,
            }
        )
        return _form_page(request, form, ticket, entry)
    form = TimeForm(request.POST)
    if _save(
        form,
        lambda d: services_time.time_entry_update(
            principal=principal, entry=entry, now=clock.now(), **_values(d)
        ),
        ticket,
    ):
        messages.success(request, "Time entry changed.")
        return redirect("console:ticket", ref=ref)
    return _form_page(request, form, ticket, entry)


@require_POST
@staff_page
def time_delete(request: HttpRequest, ref: int, entry_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    entry = contract_selectors.time_entry_get(principal=principal, ticket=ticket, entry_id=entry_id)
    services_time.time_entry_delete(principal=principal, entry=entry)
    messages.success(request, "Time entry removed.")
    return redirect("console:ticket", ref=ref)
