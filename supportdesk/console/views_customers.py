"""Customers in the console (issue 10.6): organisations and contacts, read through the
customers/contracts/billing/sla selectors and written through the customers services (the
same ones the API uses). A service's refusal is shown on the form, which keeps what was typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from supportdesk.assets import selectors as asset_selectors
from supportdesk.billing import selectors as billing_selectors
from supportdesk.console import selectors as console_selectors
from supportdesk.contracts import selectors as contract_selectors
from supportdesk.core import clock
from supportdesk.core.errors import DomainError, InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.web import int_param, staff_page
from supportdesk.customers import selectors, services
from supportdesk.customers.models import ContactRole
from supportdesk.sla.selectors import ReportFilters, sla_report

PAGE_SIZE = 25


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200)
    email_domains = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="One per line."
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    external_id = forms.CharField(required=False, max_length=100)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    role = forms.ChoiceField(choices=ContactRole.choices, initial=ContactRole.CONTACT)
    emails = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line; the first is the primary address.",
    )  # fmt: skip
    phones = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="One per line."
    )


class ContactEditForm(forms.Form):
    name = forms.CharField(max_length=200)
    role = forms.ChoiceField(choices=ContactRole.choices)
    phones_add = forms.CharField(
        required=False, label="Add phones", widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line.",
    )  # fmt: skip


def _submit(form: forms.Form, write: Callable[[dict[str, Any]], Any]) -> Any:
    """Run the service on a valid form; a refusal becomes the form's error (None returned)."""
    if not form.is_valid():
        return None
    try:
        return write(form.cleaned_data)
    except DomainError as exc:
        form.add_error(None, exc.detail)
        return None


def _form_page(request: HttpRequest, form: forms.Form, title: str, back: str) -> HttpResponse:
    return render(
        request, "console/customer_form.html", {"form": form, "title": title, "back": back}
    )


@staff_page
def organization_list_page(request: HttpRequest) -> HttpResponse:
    """The vendor's customers, searchable by name, contact name or address, in pages."""
    principal = request.principal  # type: ignore[attr-defined]
    text = (request.GET.get("q") or "").strip()[:200]
    qs = selectors.organization_search(principal=principal, text=text)
    page = Paginator(qs, PAGE_SIZE).get_page(int_param(request.GET.get("page")) or 1)
    context = {"page": page, "q": text, "organizations": page.object_list}
    return render(request, "console/customers.html", context)


@staff_page
def organization_create_page(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    form = OrganizationForm(request.POST or None)
    if request.method == "POST":
        vendor = Vendor.objects.filter(pk=principal.vendor_id).first()
        if vendor is None:
            raise InvalidInput("create organisations as a vendor's staff member")
        org = _submit(form, lambda d: services.organization_create(vendor=vendor, **d))
        if org is not None:
            return redirect("console:customer", org_id=org.pk)
    return _form_page(request, form, "New organisation", "/console/customers/")


@staff_page
def organization_page(request: HttpRequest, org_id: int) -> HttpResponse:
    """Contracts and their state today, cap usage, contacts, sites, devices with their
    warranty and coverage, open tickets, SLA compliance and invoices of one customer; another
    vendor's is a 404."""
    principal = request.principal  # type: ignore[attr-defined]
    now = clock.now()
    summary = contract_selectors.organization_entitlement(
        principal=principal, organization_id=org_id, now=now
    )
    org = summary["organization"]
    sla = sla_report(principal=principal, filters=ReportFilters(organization_id=org.pk))
    met = sum(row["met"] for row in sla)
    breached = sum(row["breached"] for row in sla)
    open_tickets = console_selectors.organization_open_tickets(organization_id=org.pk)
    context = {
        **summary,
        "contacts": selectors.contact_list(principal=principal, organization_id=org.pk),
        "sites": org.sites.order_by("name"),
        "devices": asset_selectors.organization_devices(
            principal=principal, organization_id=org.pk, today=summary["today"]
        ),
        "open_tickets": open_tickets,
        "sla_met": met,
        "sla_breached": breached,
        "sla_percent": round(100 * met / (met + breached), 1) if met + breached else None,
        "invoices": billing_selectors.invoice_list(principal=principal, organization_id=org.pk)[
            :10
        ],
    }
    return render(request, "console/organization.html", context)


@staff_page
def organization_edit_page(request: HttpRequest, org_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    org = selectors.organization_get(principal=principal, organization_id=org_id)
    initial = {k: getattr(org, k) for k in OrganizationForm.base_fields}
    form = OrganizationForm(request.POST or None, initial=initial)
    if request.method == "POST":
        done = _submit(form, lambda d: services.organization_update(organization=org, **d))
        if done is not None:
            return redirect("console:customer", org_id=org.pk)
    return _form_page(request, form, f"Edit {org.name}", f"/console/customers/{org.pk}/")


@staff_page
def contact_create_page(request: HttpRequest, org_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    org = selectors.organization_get(principal=principal, organization_id=org_id)
    form = ContactForm(request.POST or None)
    if request.method == "POST":
        contact = _submit(
            form,
            lambda d: services.contact_create(
                organization=org, name=d["name"], role=d["role"],
                emails=_lines(d["emails"]), phones=_lines(d["phones"]),
            ),
        )  # fmt: skip
        if contact is not None:
            return redirect("console:contact", contact_id=contact.pk)
    return _form_page(request, form, f"New contact at {org.name}", f"/console/customers/{org.pk}/")


@staff_page
def contact_page(request: HttpRequest, contact_id: int) -> HttpResponse:
    """A contact's addresses, phones and tickets (newest first, in pages)."""
    principal = request.principal  # type: ignore[attr-defined]
    contact = selectors.contact_get(principal=principal, contact_id=contact_id)
    page = Paginator(console_selectors.contact_tickets(contact_id=contact.pk), PAGE_SIZE).get_page(
        int_param(request.GET.get("page")) or 1
    )
    context = {
        "contact": contact,
        "emails": contact.emails.order_by("-is_primary", "pk"),
        "phones": contact.phones.order_by("pk"),
        "page": page,
    }
    return render(request, "console/contact.html", context)


@staff_page
def contact_edit_page(request: HttpRequest, contact_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    contact = selectors.contact_get(principal=principal, contact_id=contact_id)
    form = ContactEditForm(
        request.POST or None, initial={"name": contact.name, "role": contact.role}
    )
    if request.method == "POST":
        done = _submit(
            form,
            lambda d: services.contact_update(
                contact=contact, name=d["name"], role=d["role"], phones_add=_lines(d["phones_add"])
            ),
        )
        if done is not None:
            return redirect("console:contact", contact_id=contact.pk)
    return _form_page(
        request, form, f"Edit {contact.name}", f"/console/customers/contacts/{contact.pk}/"
    )
