"""Console page of satisfaction ratings per agent and per customer (issue 11.5)."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from supportdesk.core import clock
from supportdesk.core.web import int_param, staff_page
from supportdesk.tickets.selectors import satisfaction_report


@staff_page
def satisfaction(request: HttpRequest) -> HttpResponse:
    days = int_param(request.GET.get("days")) or 90
    report = satisfaction_report(
        principal=request.principal,  # type: ignore[attr-defined]
        since=clock.now() - timedelta(days=min(days, 3650)),
    )
    return render(request, "tickets/satisfaction.html", {**report, "days": days})
