"""Console page /console/sla/: the compliance report as a table and SVG bars (S-5)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from supportdesk.core.web import int_param, staff_page
from supportdesk.sla import selectors
from supportdesk.sla.models import TargetKind
from supportdesk.tickets.models import Priority

BAR_WIDTH = 360


@staff_page
def report_page(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    params = request.GET
    org = params.get("organization", "")
    filters = selectors.ReportFilters(
        organization_id=int_param(org),
        priority=params.get("priority") or None,
        month=params.get("month") or None,
        target=params.get("target") or TargetKind.FIRST_RESPONSE,
    )
    groups = selectors.sla_report(principal=principal, filters=filters)
    top = max((g["met"] + g["breached"] + g["running"] for g in groups), default=0) or 1
    bars: list[dict[str, Any]] = []
    for i, g in enumerate(groups):
        scale = BAR_WIDTH / top
        met, breached, running = (round(g[k] * scale, 1) for k in ("met", "breached", "running"))
        bars.append(
            {"y": i * 26, "met": met, "breached": breached, "running": running,
             "breached_x": met, "running_x": met + breached, "group": g}
        )  # fmt: skip
    context = {
        "groups": groups,
        "bars": bars,
        "chart_height": max(len(bars) * 26, 26),
        "bar_width": BAR_WIDTH,
        "params": params,
        "priorities": Priority.values,
        "targets": TargetKind.choices,
    }
    return render(request, "sla/report.html", context)
