"""Console pages (staff) under /console/assets/: devices (list, detail, create, edit), RMAs
(list, detail, workflow steps) and the ticket page's device actions (name the device, start an
RMA). Thin: parse, one service, render; refusals become the error page with their message."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from supportdesk.assets import selectors, services, services_rma
from supportdesk.assets.domain.rma import Kind, State, allowed_actions
from supportdesk.assets.models import AssetStatus, RmaKind
from supportdesk.contracts import selectors as contract_selectors
from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.web import int_param, staff_page
from supportdesk.customers import selectors as customer_selectors
from supportdesk.customers.models import Site
from supportdesk.tickets import selectors as ticket_selectors


def _day(value: str | None, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{what} is not a date (YYYY-MM-DD): {value!r}") from None


def _form_refs(request: HttpRequest, org_id: int) -> dict[str, Any]:
    """The organisation-bound choices of the device form, each checked against the asker."""
    principal = request.principal  # type: ignore[attr-defined]
    org = customer_selectors.organization_get(principal=principal, organization_id=org_id)
    site_id, contract_id = (
        int_param(request.POST.get("site")),
        int_param(request.POST.get("contract")),
    )
    site = Site.objects.filter(pk=site_id, organization=org).first() if site_id else None
    contract = (
        contract_selectors.contract_get(principal=principal, contract_id=contract_id)
        if contract_id
        else None
    )
    return {"organization": org, "site": site, "contract": contract}


def _form_context(request: HttpRequest, asset: Any = None) -> dict[str, Any]:
    principal = request.principal  # type: ignore[attr-defined]
    orgs = customer_selectors.organization_list(principal=principal).order_by("name")
    org_id = asset.organization_id if asset is not None else None
    return {
        "asset": asset,
        "organizations": orgs,
        "models": selectors.hardware_model_list(principal=principal),
        "contracts": contract_selectors.contract_list(principal=principal, organization_id=org_id)
        .select_related("organization", "plan")
        .order_by("organization__name", "start")[:500],
        "sites": Site.objects.filter(organization__in=orgs).order_by("name")[:500],
        "statuses": AssetStatus.choices,
    }


@staff_page
def asset_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    q = (request.GET.get("q") or "").strip()[:100]
    rows = selectors.asset_list(principal=principal, q=q or None)[:500]
    now = clock.now()
    return render(
        request,
        "assets/list.html",
        {
            "rows": [(a, services_rma.asset_standing(asset=a, now=now)) for a in rows],
            "q": q,
            "open_rmas": selectors.rma_list(principal=principal)
            .exclude(state__in=["returned", "unit_billed", "shipped_back", "cancelled"])
            .select_related("asset__model")[:200],
        },
    )


@staff_page
def asset_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    if request.method != "POST":
        return render(request, "assets/form.html", _form_context(request))
    refs = _form_refs(request, int_param(request.POST.get("organization")) or -1)
    model = selectors.hardware_model_get(
        principal=principal, model_id=int_param(request.POST.get("model")) or -1
    )
    asset = services.asset_create(
        principal=principal, model=model, serial=request.POST.get("serial", ""),
        purchased_on=_day(request.POST.get("purchased_on"), "the purchase date"),
        status=request.POST.get("status") or AssetStatus.IN_SERVICE, now=clock.now(), **refs,
    )  # fmt: skip
    messages.success(request, f"{asset} added.")
    return redirect("console:assets:detail", asset_id=asset.pk)


@staff_page
def asset_detail(request: HttpRequest, asset_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    asset = selectors.asset_get(principal=principal, asset_id=asset_id)
    context = _form_context(request, asset)
    context.update(
        standing=services_rma.asset_standing(asset=asset, now=clock.now()),
        rmas=selectors.rma_list(principal=principal, asset_id=asset.pk),
    )
    return render(request, "assets/detail.html", context)


@require_POST
@staff_page
def asset_edit(request: HttpRequest, asset_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    asset = selectors.asset_get(principal=principal, asset_id=asset_id)
    refs = _form_refs(request, asset.organization_id)
    fields: dict[str, Any] = {"site": refs["site"], "contract": refs["contract"]}
    if "serial" in request.POST:
        fields["serial"] = request.POST["serial"]
    if "purchased_on" in request.POST:
        fields["purchased_on"] = _day(request.POST["purchased_on"], "the purchase date")
    if request.POST.get("status"):
        fields["status"] = request.POST["status"]
    changed = services.asset_update(principal=principal, asset=asset, **fields)
    messages.success(request, "Saved." if changed else "Nothing changed.")
    return redirect("console:assets:detail", asset_id=asset.pk)


@staff_page
def rma_detail(request: HttpRequest, rma_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    rma = selectors.rma_get(principal=principal, rma_id=rma_id)
    return render(
        request,
        "assets/rma.html",
        {
            "rma": rma,
            "events": selectors.rma_events(rma=rma),
            "actions": [
                (a.value, a.value.replace("_", " ").capitalize())
                for a in allowed_actions(Kind(rma.kind), State(rma.state))
            ],
        },
    )


@require_POST
@staff_page
def rma_step(request: HttpRequest, rma_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    rma = selectors.rma_get(principal=principal, rma_id=rma_id)
    post = request.POST
    step = services_rma.StepInput(
        carrier=post.get("carrier", ""), tracking_number=post.get("tracking_number", ""),
        replacement_serial=post.get("replacement_serial", ""),
        quote_amount=post.get("quote_amount") or None,
        quote_document=request.FILES.get("quote_document"), note=post.get("note", ""),
    )  # fmt: skip
    action = post.get("action", "")
    if not action:
        raise InvalidInput("choose a step")
    done = services_rma.rma_advance(
        principal=principal, rma=rma, action=action, now=clock.now(), step=step
    )
    messages.success(request, f"{done.label}: {done.get_state_display()}.")
    return redirect("console:assets:rma", rma_id=rma.pk)


@require_POST
@staff_page
def ticket_device(request: HttpRequest, ref: int) -> HttpResponse:
    """Name the ticket's device (or none) from the ticket page."""
    principal = request.principal  # type: ignore[attr-defined]
    ticket = ticket_selectors.ticket_get(principal=principal, ref=ref)
    asset_id = int_param(request.POST.get("asset"))
    asset = selectors.asset_get(principal=principal, asset_id=asset_id) if asset_id else None
    services.ticket_asset_link(principal=principal, ticket=ticket, asset=asset, now=clock.now())
    return redirect("console:ticket", ref=ref)


@require_POST
@staff_page
def ticket_rma(request: HttpRequest, ref: int) -> HttpResponse:
    """Start an RMA from the ticket page for the device it names."""
    principal = request.principal  # type: ignore[attr-defined]
    ticket = ticket_selectors.ticket_get(principal=principal, ref=ref)
    asset = selectors.ticket_asset(ticket=ticket)
    if asset is None:
        raise InvalidInput("name the ticket's device first")
    kind = request.POST.get("kind", "")
    if kind not in RmaKind.values:
        raise InvalidInput(f"kind must be one of {', '.join(RmaKind.values)}")
    rma = services_rma.rma_start(
        principal=principal, ticket=ticket, asset=asset, kind=kind, now=clock.now()
    )
    messages.success(request, f"{rma.label} started.")
    return redirect("console:assets:rma", rma_id=rma.pk)


@staff_page
def model_new(request: HttpRequest) -> HttpResponse:
    """Add a hardware model (manufacturer, warranty months, end of life, lead time, price)."""
    principal = request.principal  # type: ignore[attr-defined]
    if request.method != "POST":
        return render(
            request, "assets/model_form.html",
            {"models": selectors.hardware_model_list(principal=principal)},
        )  # fmt: skip
    post = request.POST
    model = services.hardware_model_create(
        principal=principal, vendor=Vendor.objects.get(pk=principal.vendor_id),
        manufacturer=post.get("manufacturer", ""), name=post.get("name", ""),
        warranty_months=int_param(post.get("warranty_months")) or 12,
        end_of_life_on=_day(post.get("end_of_life_on"), "the end-of-life date"),
        repair_lead_days=int_param(post.get("repair_lead_days")) or 14,
        unit_price=post.get("unit_price") or None, currency=post.get("currency") or "USD",
    )  # fmt: skip
    messages.success(request, f"{model} added.")
    return redirect("console:assets:model-new")
