"""API for configuration backups (H-4), mounted under /api/v1/assets/{asset_id}/backups.

A device pushes its backup with its own device token (``Authorization: Bearer sdd_…``) as the
raw request body (``?filename=``) or a multipart ``file``; an engineer may upload the same way
with a user token. The vendor's staff and the customer's administrators list and download them.
Thin adapters: parse, one service or selector, answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security import HttpBearer
from pydantic import Field

from supportdesk.api.auth import AUTH
from supportdesk.api.common import ERRORS, principal_of
from supportdesk.assets import selectors_backups as selectors
from supportdesk.assets import services_backups as services
from supportdesk.assets.backup_download import backup_download
from supportdesk.assets.models import Asset, DeviceToken
from supportdesk.core import clock
from supportdesk.core.errors import Forbidden, NotFound, TooLarge

router = Router(tags=["assets"])

MULTIPART_ROOM = 64 * 1024  # the multipart envelope around the file


class DeviceBearer(HttpBearer):
    """A device's own token (``sdd_…``): good only for pushing its own asset's backups."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        device = services.device_token_use(raw=token, now=clock.now())
        if device is not None:
            request.device_token = device  # type: ignore[attr-defined]
        return device


class BackupOut(Schema):
    id: int
    asset: int
    filename: str
    size: int
    sha256: str
    source: str
    uploaded_by: str | None
    device_token: str | None
    created_at: datetime
    deleted_at: datetime | None


class BackupList(Schema):
    asset: int
    next_due: str | None = Field(description="Next backup date (ISO), None without a schedule")
    overdue_days: int
    no_schedule_reason: str | None
    eligible_for_deletion_from: str | None = Field(
        description="After a lapse (E-10): the day the backups may be deleted from"
    )
    items: list[BackupOut]


class TokenIn(Schema):
    name: str = Field(default="", max_length=120)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown only now: the device sends it as its bearer token")


class DueOut(Schema):
    asset: int
    serial: str
    model: str
    organization: int
    organization_name: str
    next_due: str
    overdue_days: int
    last_backup_at: datetime | None


def _token_out(token: DeviceToken) -> dict[str, Any]:
    return {
        "id": token.pk, "name": token.name, "prefix": token.prefix,
        "created_at": token.created_at, "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }  # fmt: skip


def _staff_asset(request: HttpRequest, asset_id: int) -> Asset:
    principal = principal_of(request)
    asset = selectors.asset_for_backups(principal=principal, asset_id=asset_id)
    if not principal.is_staff:
        raise Forbidden("device tokens are managed by the vendor's staff", code="staff_only")
    return asset


def _body_chunks(request: HttpRequest) -> Iterator[bytes]:
    while chunk := request.read(services.CHUNK):
        yield chunk


@router.post(
    "/assets/{int:asset_id}/backups",
    response={201: BackupOut, **ERRORS},
    auth=[DeviceBearer(), *AUTH],
)
def push_backup(request: HttpRequest, asset_id: int, filename: str = "") -> Any:
    """Store a configuration backup: the raw body (name it with `filename`) or a multipart
    `file`. A device token pushes only its own asset's backups (any other asset: 404)."""
    device: DeviceToken | None = getattr(request, "device_token", None)
    if device is not None:
        if device.asset_id != asset_id:
            raise NotFound("not found")
        asset = device.asset
        principal = None
    else:
        principal = principal_of(request)
        asset = selectors.asset_for_backups(principal=principal, asset_id=asset_id)
    limit = settings.BACKUP_MAX_BYTES
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > limit + MULTIPART_ROOM:
        raise TooLarge(f"a configuration backup may be at most {limit} bytes")
    if request.content_type == "multipart/form-data":
        upload = request.FILES.get("file")
        chunks: Any = upload.chunks() if upload else iter(())
        name = filename or (upload.name if upload else "")
    else:
        chunks, name = _body_chunks(request), filename
    backup = services.backup_store(
        asset=asset, chunks=chunks, filename=name or "", now=clock.now(),
        principal=principal, device_token=device,
    )  # fmt: skip
    return Status(201, selectors.backup_out(backup))


@router.get("/assets/{int:asset_id}/backups", response={200: BackupList, **ERRORS})
def list_backups(request: HttpRequest, asset_id: int) -> Any:
    """The device's backups (newest first), its schedule and, after a lapse, from when they
    may be deleted. The vendor's staff and the customer's administrators."""
    asset, rows = selectors.backup_list(principal=principal_of(request), asset_id=asset_id)
    schedule, standing = selectors.backup_schedule_for(asset=asset, now=clock.now())
    return {
        "asset": asset.pk,
        "next_due": schedule.due.next_due.isoformat() if schedule.due else None,
        "overdue_days": schedule.due.overdue_days if schedule.due else 0,
        "no_schedule_reason": schedule.reason,
        "eligible_for_deletion_from": (
            standing.retained_until.isoformat() if standing.retained_until else None
        ),
        "items": [selectors.backup_out(b) for b in rows.select_related("device_token")[:500]],
    }


@router.get(
    "/assets/{int:asset_id}/backups/{int:backup_id}/download", response={200: None, **ERRORS}
)
def download_backup(request: HttpRequest, asset_id: int, backup_id: int) -> Any:
    """Restore: the stored file as it was uploaded (its SHA-256 in `X-Checksum-SHA256`)."""
    return backup_download(principal=principal_of(request), asset_id=asset_id, backup_id=backup_id)


@router.get("/assets/{int:asset_id}/device-tokens", response={200: list[TokenOut], **ERRORS})
def list_device_tokens(request: HttpRequest, asset_id: int) -> Any:
    asset = _staff_asset(request, asset_id)
    tokens = selectors.device_token_list(principal=principal_of(request), asset=asset)
    return [_token_out(t) for t in tokens[:200]]


@router.post("/assets/{int:asset_id}/device-tokens", response={201: TokenCreated, **ERRORS})
def create_device_token(request: HttpRequest, asset_id: int, payload: TokenIn) -> Any:
    """A push token for this device; the `token` is shown only in this answer."""
    asset = _staff_asset(request, asset_id)
    token, raw = services.device_token_create(
        principal=principal_of(request), asset=asset, name=payload.name, now=clock.now()
    )
    return Status(201, {**_token_out(token), "token": raw})


@router.post(
    "/assets/{int:asset_id}/device-tokens/{int:token_id}/revoke", response={200: TokenOut, **ERRORS}
)
def revoke_device_token(request: HttpRequest, asset_id: int, token_id: int) -> Any:
    asset = _staff_asset(request, asset_id)
    token = services.device_token_revoke(
        principal=principal_of(request), asset=asset, token_id=token_id, now=clock.now()
    )
    return _token_out(token)


@router.get("/backups/due", response={200: list[DueOut], **ERRORS})
def backups_due(request: HttpRequest) -> Any:
    """The engineers' due list: scheduled devices of the vendor, overdue first."""
    rows = selectors.backup_due_list(principal=principal_of(request), now=clock.now())
    return [
        {
            "asset": r.asset.pk,
            "serial": r.asset.serial,
            "model": str(r.asset.model),
            "organization": r.asset.organization_id,
            "organization_name": r.asset.organization.name,
            "next_due": r.due.next_due.isoformat() if r.due else "",
            "overdue_days": r.due.overdue_days if r.due else 0,
            "last_backup_at": r.last_backup_at,
        }
        for r in rows
    ]
