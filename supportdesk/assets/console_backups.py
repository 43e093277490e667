"""Console pages for configuration backups (H-4): the engineers' due list (overdue first) and
one device's backups with upload, download and its device tokens. Thin: parse, one service or
selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from supportdesk.assets import selectors_backups as selectors
from supportdesk.assets import services_backups as services
from supportdesk.assets.backup_download import backup_download
from supportdesk.assets.models import Asset
from supportdesk.core import clock
from supportdesk.core.tenancy import Principal
from supportdesk.core.web import staff_page


def _asset_page(
    request: HttpRequest, asset: Asset, principal: Principal, *, token: str = ""
) -> HttpResponse:
    schedule, standing = selectors.backup_schedule_for(asset=asset, now=clock.now())
    _, backups = selectors.backup_list(principal=principal, asset_id=asset.pk)
    return render(
        request,
        "assets/backups/asset.html",
        {
            "asset": asset,
            "schedule": schedule,
            "standing": standing,
            "backups": backups.select_related("uploaded_by", "device_token")[:200],
            "tokens": selectors.device_token_list(principal=principal, asset=asset)[:50],
            "events": selectors.backup_events(asset=asset),
            "new_token": token,
            "may_upload": principal.has_role("engineer"),
        },
    )


@staff_page
def due_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    rows = selectors.backup_due_list(principal=principal, now=clock.now())
    return render(request, "assets/backups/due.html", {"rows": rows})


@staff_page
def asset_backups(request: HttpRequest, asset_id: int) -> HttpResponse:
    """GET: the device's schedule, backups and tokens; POST: an engineer uploads a backup."""
    principal = request.principal  # type: ignore[attr-defined]
    asset = selectors.asset_for_backups(principal=principal, asset_id=asset_id)
    if request.method == "POST":
        upload = request.FILES.get("file")
        backup = services.backup_store(
            asset=asset, chunks=upload.chunks() if upload else [],
            filename=upload.name if upload else "", now=clock.now(), principal=principal,
        )  # fmt: skip
        messages.success(request, f"Backup {backup.filename} stored (SHA-256 {backup.sha256}).")
        return redirect("console:backups:asset", asset_id=asset.pk)
    return _asset_page(request, asset, principal)


@staff_page
def download(request: HttpRequest, asset_id: int, backup_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    return backup_download(principal=principal, asset_id=asset_id, backup_id=backup_id)


@require_POST
@staff_page
def token_create(request: HttpRequest, asset_id: int) -> HttpResponse:
    """The new token is shown on this one page and never again."""
    principal = request.principal  # type: ignore[attr-defined]
    asset = selectors.asset_for_backups(principal=principal, asset_id=asset_id)
    _, raw = services.device_token_create(
        principal=principal, asset=asset, name=request.POST.get("name", ""), now=clock.now()
    )
    return _asset_page(request, asset, principal, token=raw)


@require_POST
@staff_page
def token_revoke(request: HttpRequest, asset_id: int, token_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    asset = selectors.asset_for_backups(principal=principal, asset_id=asset_id)
    token = services.device_token_revoke(
        principal=principal, asset=asset, token_id=token_id, now=clock.now()
    )
    messages.success(request, f"Device token {token.prefix}… revoked.")
    return redirect("console:backups:asset", asset_id=asset.pk)


app_name = "backups"
urlpatterns = [
    path("", due_list, name="due"),
    path("assets/<int:asset_id>/", asset_backups, name="asset"),
    path("assets/<int:asset_id>/<int:backup_id>/download/", download, name="download"),
    path("assets/<int:asset_id>/tokens/", token_create, name="token_create"),
    path("assets/<int:asset_id>/tokens/<int:token_id>/revoke/", token_revoke, name="token_revoke"),
]
