"""The dashboard `/console/dashboard/` (issue 10.8): charts drawn as SVG on the server, the
same numbers in tables and as CSV."""

from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from supportdesk.console import selectors
from supportdesk.core import clock
from supportdesk.core.web import staff_page


@staff_page
def dashboard(request: HttpRequest) -> HttpResponse:
    data = selectors.dashboard(principal=request.principal, now=clock.now())  # type: ignore[attr-defined]
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="dashboard-{data["today"]}.csv"'
        csv.writer(response).writerows(selectors.dashboard_csv_rows(data))
        return response
    return render(request, "console/dashboard.html", data)
