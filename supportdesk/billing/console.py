"""Console pages (staff): what each customer owes, its invoices, recording a payment (B-1,
B-4), the suspensions waiting for approval (B-4), and reinstating a contract with a preview
of its lines (B-4, B-6). Thin: parse, one service, render."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from supportdesk.billing import (
    selectors,
    services,
    services_choices,
    services_counts,
    services_reinstatement,
    services_subscriptions,
)
from supportdesk.billing.domain.money import Money
from supportdesk.contracts import selectors as contract_selectors
from supportdesk.contracts.selectors import vendor_tz
from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal
from supportdesk.core.web import staff_page


def _today(principal: Principal) -> date:
    vendor = Vendor.objects.filter(pk=principal.vendor_id or 0)
    zone = vendor.values_list("timezone", flat=True).first()
    return clock.now().astimezone(vendor_tz(zone or "UTC")).date()


@staff_page
def overview(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    today = _today(principal)
    rows = selectors.balance_list(principal=principal, today=today)
    return render(
        request,
        "billing/console.html",
        {
            "rows": rows,
            "today": today,
            "requests": selectors.suspension_request_list(principal=principal),
            "count_changes": selectors.user_count_change_list(principal=principal),
            "may_bill": principal.has_role("billing"),
        },
    )


@staff_page
def organization(request: HttpRequest, org_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    today = _today(principal)
    found = selectors.organization_balance(principal=principal, organization_id=org_id, today=today)
    invoices = selectors.invoice_list(principal=principal, organization_id=org_id)[:200]
    return render(
        request,
        "billing/organization.html",
        {
            "org": found.organization,
            "balances": found.balances,
            "invoices": invoices,
            "reinstatable": selectors.reinstatable_contract_list(
                principal=principal, organization_id=org_id
            ),
            "choices": selectors.billing_choice_list(
                principal=principal, organization_id=org_id, today=today
            ),
            "today": today,
            "may_bill": principal.has_role("billing"),
        },
    )


@require_POST
@staff_page
def payment(request: HttpRequest, org_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    org = selectors.billing_organization_get(principal=principal, organization_id=org_id)
    try:
        amount = Decimal(request.POST.get("amount", "").strip())
        received = date.fromisoformat(request.POST.get("received_on", "").strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput("give the amount (e.g. 1200.00) and the date received") from None
    result = services.payment_record(
        organization=org,
        amount=amount,
        currency=request.POST.get("currency", "USD").strip().upper() or "USD",
        received_on=received,
        reference=request.POST.get("reference", ""),
        now=clock.now(),
        principal=principal,
    )
    settled = (
        ", ".join(f"{inv.label} {Money(part, inv.currency)}" for inv, part in result.allocations)
        or "nothing"
    )
    messages.success(request, f"Payment recorded; applied to {settled}.")
    return redirect("console:billing:organization", org_id=org.pk)


@require_POST
@staff_page
def decide(request: HttpRequest, request_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    approve = request.POST.get("decision") == "approve"
    services_subscriptions.suspension_request_decide(
        request_id=request_id,
        approve=approve,
        reason=request.POST.get("reason", ""),
        now=clock.now(),
        principal=principal,
    )
    messages.success(request, "Suspension approved." if approve else "Suspension declined.")
    return redirect("console:billing:overview")


@staff_page
def reinstate(request: HttpRequest, contract_id: int) -> HttpResponse:
    """GET: the preview of a reinstatement on a date (its term and every line); POST: do it
    (billing staff)."""
    principal = request.principal  # type: ignore[attr-defined]
    contract = contract_selectors.contract_get(principal=principal, contract_id=contract_id)
    raw = (request.POST if request.method == "POST" else request.GET).get("on", "").strip()
    try:
        on = date.fromisoformat(raw) if raw else _today(principal)
    except ValueError:
        raise InvalidInput(f"the date must be YYYY-MM-DD, got {raw!r}") from None
    if request.method == "POST":
        done = services_reinstatement.contract_reinstate(
            contract=contract, on=on, now=clock.now(), principal=principal
        )
        invoiced = (
            f"{done.invoice.label} {Money(done.invoice.total, done.invoice.currency)}"
            if done.invoice
            else "nothing to invoice"
        )
        messages.success(
            request,
            f"{done.term.label} reinstated: {done.term.start:%Y-%m-%d} – "
            f"{done.term.end:%Y-%m-%d}; {invoiced}.",
        )
        return redirect("console:billing:organization", org_id=contract.organization_id)
    preview = services_reinstatement.reinstatement_preview(
        contract=contract, on=on, principal=principal
    )
    return render(
        request,
        "billing/reinstate.html",
        {
            "contract": contract,
            "preview": preview,
            "on": on,
            "may_bill": principal.has_role("billing"),
        },
    )


@require_POST
@staff_page
def count_decide(request: HttpRequest, change_id: int) -> HttpResponse:
    """Confirm or decline, in one click, a user count the inventory changed (B-5, E-9)."""
    principal = request.principal  # type: ignore[attr-defined]
    approve = request.POST.get("decision") == "approve"
    change = services_counts.user_count_change_decide(
        change_id=change_id,
        approve=approve,
        reason=request.POST.get("reason", "") or "decided in the console",
        now=clock.now(),
        principal=principal,
    )
    done = f"now billed for {change.users_after} users" if approve else "declined"
    messages.success(request, f"{change.contract.label}: {done}.")
    return redirect("console:billing:overview")


@require_POST
@staff_page
def charge(request: HttpRequest, org_id: int) -> HttpResponse:
    """A one-off charge with its reason (billing staff)."""
    principal = request.principal  # type: ignore[attr-defined]
    org = selectors.billing_organization_get(principal=principal, organization_id=org_id)
    try:
        price = Decimal(request.POST.get("unit_price", "").strip())
        quantity = Decimal(request.POST.get("quantity", "1").strip() or "1")
    except InvalidOperation:
        raise InvalidInput("give the price (e.g. 350.00) and the quantity") from None
    inv = services.one_off_charge_create(
        organization=org,
        description=request.POST.get("description", ""),
        unit_price=price,
        quantity=quantity,
        currency=request.POST.get("currency", "USD").strip().upper() or "USD",
        reason=request.POST.get("reason", ""),
        issue_date=_today(principal),
        now=clock.now(),
        principal=principal,
    )
    messages.success(request, f"{inv.label} issued: {Money(inv.total, inv.currency)}.")
    return redirect("console:billing:organization", org_id=org.pk)


@require_POST
@staff_page
def choose_billing(request: HttpRequest, contract_id: int) -> HttpResponse:
    """Monthly or annual billing of a per-user subscription from its next term (B-5)."""
    principal = request.principal  # type: ignore[attr-defined]
    contract = contract_selectors.contract_get(principal=principal, contract_id=contract_id)
    view = services_choices.billing_choice_set(
        principal=principal,
        contract=contract,
        billing=request.POST.get("billing", ""),
        today=_today(principal),
        now=clock.now(),
    )
    messages.success(
        request,
        f"{view.contract.label} is billed {view.next.value} from {view.next_from:%Y-%m-%d}.",
    )
    return redirect("console:billing:organization", org_id=contract.organization_id)
