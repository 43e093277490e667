"""Portal pages for configuration backups (H-4): the organisation's administrators see and
download their devices' backups, and from when they may be deleted after a lapse (E-10).
Other contacts get a 403 page; another organisation's backups are a 404."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from supportdesk.assets import selectors_backups as selectors
from supportdesk.assets.backup_download import backup_download
from supportdesk.contracts.selectors import vendor_today
from supportdesk.core import clock
from supportdesk.core.web import contact_page


@contact_page
def backups(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    rows = selectors.organization_backups(principal=principal)[:500]
    today = vendor_today(principal.vendor_id or 0, clock.now())
    standing = selectors.backup_standing(organization_id=principal.organization_id, today=today)
    return render(request, "assets/backups/portal.html", {"backups": rows, "standing": standing})


@contact_page
def download(request: HttpRequest, asset_id: int, backup_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    return backup_download(principal=principal, asset_id=asset_id, backup_id=backup_id)


app_name = "backups"
urlpatterns = [
    path("", backups, name="list"),
    path("<int:asset_id>/<int:backup_id>/download/", download, name="download"),
]
