"""Console → Settings → Fax (vendor admins): the vendor's fax gateways (T-1, docs/fax.md)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from supportdesk.core import clock
from supportdesk.core.web import int_param
from supportdesk.intake.fax_document import ocr_available
from supportdesk.intake.models import FaxGatewayKind, FaxNumberSource
from supportdesk.intake.selectors import fax_gateway_get, fax_gateway_list
from supportdesk.intake.services_fax import fax_gateway_save
from supportdesk.onboarding.console import vendor_admin_page
from supportdesk.tickets.models import Queue


@vendor_admin_page
def fax_gateways(request: HttpRequest) -> HttpResponse:
    """Every gateway with its form, and one for a new gateway; POST saves one."""
    vendor = request.vendor  # type: ignore[attr-defined]
    principal = request.principal  # type: ignore[attr-defined]
    if request.method == "POST":
        gateway_id = int_param(request.POST.get("gateway"))
        gateway = (
            fax_gateway_get(principal=principal, gateway_id=gateway_id) if gateway_id else None
        )
        saved = fax_gateway_save(
            principal=principal, vendor=vendor, now=clock.now(), gateway=gateway,
            name=request.POST.get("name", ""),
            kind=request.POST.get("kind", FaxGatewayKind.MAIL),
            from_address=request.POST.get("from_address", ""),
            number_source=request.POST.get("number_source", FaxNumberSource.SUBJECT),
            subject_pattern=request.POST.get("subject_pattern", ""),
            header_name=request.POST.get("header_name", ""),
            fax_number=request.POST.get("fax_number", ""),
            queue_id=int_param(request.POST.get("queue")),
            active=request.POST.get("active") == "on",
        )  # fmt: skip
        messages.success(request, f"Fax gateway {saved.name} saved.")
        return redirect("console:fax:gateways")
    context = {
        "gateways": fax_gateway_list(principal=principal).order_by("name", "pk"),
        "queues": Queue.objects.filter(vendor=vendor).order_by("name"),
        "kinds": FaxGatewayKind.choices,
        "sources": FaxNumberSource.choices,
        "ocr": ocr_available(),
        "tab": "fax",
    }
    return render(request, "intake/fax_gateways.html", context)
