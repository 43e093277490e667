"""Writes for configuration backups (H-4): storing a backup an engineer uploads or a device
pushes (streamed to Django storage with its SHA-256 and size), restoring one (audited), device
tokens, and the retention run after a subscription lapses (E-10).

Retention: while a subscription with configuration backups is in force the backups are kept.
Once it has lapsed, ``backup_retention_sweep`` opens a ``BackupRetention`` (eligible for
deletion from the lapse date + the plan's ``backup_retention_days``) and mails the customer's
administrators through the outbox; when that day comes it deletes the files. Each run re-reads
the organisation's contracts under a lock, so a subscription reinstated (or renewed) within
the grace keeps its backups: the retention is closed as kept instead. Idempotent; every step
writes a ``BackupEvent``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import tempfile
from collections.abc import Iterable
from datetime import datetime
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.text import get_valid_filename

from supportdesk.assets import selectors_backups as selectors
from supportdesk.assets.models import (
    Asset,
    BackupEvent,
    BackupEventKind,
    BackupRetention,
    BackupSource,
    ConfigBackup,
    DeviceToken,
)
from supportdesk.contracts.selectors import vendor_tz
from supportdesk.core.errors import Forbidden, InvalidInput, NotFound, TooLarge
from supportdesk.core.links import absolute_url
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.customers.models import ContactRole, Organization
from supportdesk.notifications.services import outbox_enqueue

log = logging.getLogger(__name__)

DEVICE_TOKEN_PREFIX = "sdd_"  # noqa: S105 - tells a device token from a user's API token at a glance
CHUNK = 64 * 1024
SPOOL_BYTES = 1024 * 1024


def _event(
    *,
    organization_id: int,
    kind: str,
    now: datetime,
    asset_id: int | None = None,
    backup_id: int | None = None,
    actor_id: int | None = None,
    **data: object,
) -> BackupEvent:
    return BackupEvent.objects.create(
        organization_id=organization_id, asset_id=asset_id, backup_id=backup_id, at=now,
        actor_id=actor_id, kind=kind, data=data,
    )  # fmt: skip


def _require_engineer(principal: Principal | None, vendor_id: int) -> Principal:
    if principal is None:
        raise Forbidden("sign in to upload a configuration backup")
    require_staff_of(principal, vendor_id)
    if not principal.has_role("engineer"):
        raise Forbidden("configuration backups are uploaded by engineers", code="engineers_only")
    return principal


# --- device tokens (house rule 14) -------------------------------------------------------------


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def device_token_create(
    *, principal: Principal, asset: Asset, name: str, now: datetime
) -> tuple[DeviceToken, str]:
    """A new push token for one device; the raw token is returned once and never stored."""
    require_staff_of(principal, asset.vendor_id)
    raw = DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = DeviceToken.objects.create(
        asset=asset, name=" ".join((name or "").split())[:120], token_hash=token_digest(raw),
        prefix=raw[:10], created_by_id=principal.user_id, created_at=now,
    )  # fmt: skip
    _event(
        organization_id=asset.organization_id, asset_id=asset.pk, actor_id=principal.user_id,
        kind=BackupEventKind.TOKEN_CREATED, now=now, token=token.prefix,
    )  # fmt: skip
    return token, raw


@transaction.atomic
def device_token_revoke(
    *, principal: Principal, asset: Asset, token_id: int, now: datetime
) -> DeviceToken:
    require_staff_of(principal, asset.vendor_id)
    token = DeviceToken.objects.select_for_update().filter(pk=token_id, asset=asset).first()
    if token is None:
        raise NotFound("not found")
    if token.revoked_at is None:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        _event(
            organization_id=asset.organization_id, asset_id=asset.pk,
            actor_id=principal.user_id, kind=BackupEventKind.TOKEN_REVOKED, now=now,
            token=token.prefix,
        )  # fmt: skip
    return token


def device_token_use(*, raw: str, now: datetime) -> DeviceToken | None:
    """The live token ``raw`` names, or None (unknown, revoked, or not a device token)."""
    if not raw.startswith(DEVICE_TOKEN_PREFIX):
        return None
    token = (
        DeviceToken.objects.select_related("asset")
        .filter(token_hash=token_digest(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    # A minute's precision is enough; writing on every push would serialise SQLite.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        DeviceToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


# --- storing and restoring ----------------------------------------------------------------------


def _clean_filename(name: str) -> str:
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    try:
        cleaned = get_valid_filename(base)[:120]
    except Exception:  # Django refuses names like ".." with SuspiciousFileOperation
        cleaned = ""
    return cleaned or "config.bak"


def _spool(chunks: Iterable[bytes], limit: int) -> tuple[IO[bytes], int, str]:
    """Copy the stream into a spooled temporary file (memory bounded), hashing and counting as
    it goes; over ``limit`` bytes it stops reading and refuses with a 413."""
    digest = hashlib.sha256()
    size = 0
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned open
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"a configuration backup may be at most {limit} bytes")
            digest.update(chunk)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, size, digest.hexdigest()


def backup_store(
    *,
    asset: Asset,
    chunks: Iterable[bytes],
    filename: str,
    now: datetime,
    principal: Principal | None = None,
    device_token: DeviceToken | None = None,
) -> ConfigBackup:
    """Store one configuration backup of ``asset``: pushed by the device (``device_token``,
    which must be that asset's own) or uploaded by an engineer of the vendor (``principal``).
    Streams ``chunks`` to storage with its SHA-256 and size; over ``BACKUP_MAX_BYTES`` it is a
    413, an empty file a 400."""
    if device_token is not None:
        if device_token.asset_id != asset.pk or device_token.revoked_at is not None:
            raise NotFound("not found")  # another device's token: as if the asset were missing
        source, actor_id = BackupSource.DEVICE, None
    else:
        actor_id = _require_engineer(principal, asset.vendor_id).user_id
        source = BackupSource.ENGINEER
    spool, size, sha = _spool(chunks, settings.BACKUP_MAX_BYTES)
    try:
        if size == 0:
            raise InvalidInput("the configuration backup is empty", code="empty")
        name = _clean_filename(filename)
        path = f"backups/{asset.vendor_id}/{asset.pk}/{secrets.token_hex(8)}-{name}"
        stored = default_storage.save(path, File(spool, name=name))
    finally:
        spool.close()
    try:
        with transaction.atomic():
            backup = ConfigBackup.objects.create(
                asset=asset, file=stored, filename=name, size=size, sha256=sha, source=source,
                uploaded_by_id=actor_id, device_token=device_token, created_at=now,
            )  # fmt: skip
            _event(
                organization_id=asset.organization_id, asset_id=asset.pk, backup_id=backup.pk,
                actor_id=actor_id, kind=BackupEventKind.UPLOADED, now=now, source=source,
                size=size, sha256=sha,
                token=device_token.prefix if device_token else None,
            )  # fmt: skip
    except BaseException:
        default_storage.delete(stored)  # no row, no file
        raise
    return backup


@transaction.atomic
def backup_restore(
    *, principal: Principal, asset_id: int, backup_id: int, now: datetime
) -> ConfigBackup:
    """The backup to download, for the vendor's staff or the customer's administrators; the
    download is recorded. A deleted backup is a 404 that says so."""
    asset = selectors.asset_for_backups(principal=principal, asset_id=asset_id)
    selectors.require_backup_reader(principal)
    backup = ConfigBackup.objects.filter(pk=backup_id, asset=asset).first()
    if backup is None:
        raise NotFound("not found")
    if backup.deleted_at is not None:
        raise NotFound(
            f"this backup was deleted on {backup.deleted_at.date().isoformat()} after the "
            "subscription lapsed",
            code="deleted",
        )
    _event(
        organization_id=asset.organization_id, asset_id=asset.pk, backup_id=backup.pk,
        actor_id=principal.user_id, kind=BackupEventKind.DOWNLOADED, now=now,
    )  # fmt: skip
    return backup


# --- retention after lapse (E-10) ----------------------------------------------------------------


def _administrators(organization: Organization) -> list[str]:
    contacts = organization.contacts.filter(role=ContactRole.ADMINISTRATOR).prefetch_related(
        "emails"
    )
    return sorted({c.primary_email for c in contacts if c.primary_email})


def _warn(org: Organization, retention: BackupRetention, count: int, now: datetime) -> list[str]:
    recipients = _administrators(org)
    vendor = org.vendor
    subject = f"Your configuration backups will be deleted from {retention.delete_on.isoformat()}"
    body = (
        f"Your support subscription with {vendor.name} lapsed on "
        f"{retention.lapsed_on.isoformat()}. The configuration backups we keep of your "
        f"{count} device(s) are now eligible for deletion and will be permanently deleted "
        f"from our archive on or after {retention.delete_on.isoformat()}.\n\n"
        "Renew (reinstate) your subscription before that date to keep them, or download them "
        f"from the portal: {absolute_url('/portal/')}\n\n— {vendor.name}"
    )
    for address in recipients:
        outbox_enqueue(
            key=f"backup-retention:{retention.pk}:{address}",
            channel="email", recipient=address, sender=vendor.support_email, subject=subject,
            body=body, headers={"Auto-Submitted": "auto-generated"}, vendor_id=vendor.pk,
            now=now,
        )  # fmt: skip
    return recipients


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # logged; the row already says deleted, a leftover file is harmless
            log.exception("could not delete backup file %s", name)


def backup_retention_run(*, organization_id: int, now: datetime) -> str:
    """One organisation's retention step; returns what it did ("" when nothing): "eligible"
    (opened, administrators warned), "kept" (back in force), "deleted" (grace over).
    Locks the organisation's open retention and re-reads its contracts, so concurrent runs
    act once."""
    with transaction.atomic():
        org = (
            Organization.objects.select_for_update().select_related("vendor")
            .filter(pk=organization_id).first()
        )  # fmt: skip
        if org is None:
            return ""
        today = now.astimezone(vendor_tz(org.vendor.timezone)).date()
        standing = selectors.backup_standing(organization_id=org.pk, today=today)
        retention = selectors.open_retention(organization_id=org.pk)
        live = ConfigBackup.objects.filter(asset__organization=org, deleted_at__isnull=True)
        if standing.retained_until is None:
            if retention is None:
                return ""
            retention.kept_at = now
            retention.save(update_fields=["kept_at"])
            _event(
                organization_id=org.pk, kind=BackupEventKind.KEPT, now=now,
                retention=retention.pk, delete_on=retention.delete_on.isoformat(),
            )  # fmt: skip
            log.info("backups of organisation %s kept: subscription back in force", org.pk)
            return "kept"
        if retention is None:
            count = live.count()
            if count == 0:
                return ""
            retention = BackupRetention.objects.create(
                organization=org, lapsed_on=standing.lapsed_on or today,
                delete_on=standing.retained_until, eligible_at=now, warned_at=now,
            )  # fmt: skip
            recipients = _warn(org, retention, count, now)
            _event(
                organization_id=org.pk, kind=BackupEventKind.ELIGIBLE, now=now,
                retention=retention.pk, delete_on=retention.delete_on.isoformat(),
                backups=count, warned=recipients,
            )  # fmt: skip
            log.info(
                "backups of organisation %s eligible for deletion from %s; warned %s",
                org.pk, retention.delete_on, recipients or "nobody (no administrator)",
            )  # fmt: skip
            return "eligible"
        if today < retention.delete_on:
            return ""
        doomed = list(live.select_for_update().order_by("pk"))
        names = [b.file.name for b in doomed if b.file]
        for backup in doomed:
            _event(
                organization_id=org.pk, asset_id=backup.asset_id, backup_id=backup.pk,
                kind=BackupEventKind.DELETED, now=now, retention=retention.pk,
                sha256=backup.sha256, file=backup.file.name,
            )  # fmt: skip
        live.filter(pk__in=[b.pk for b in doomed]).update(deleted_at=now, file="")
        retention.deleted_at = now
        retention.save(update_fields=["deleted_at"])
        transaction.on_commit(lambda: _delete_files(names))
        log.info(
            "deleted %d configuration backups of organisation %s (grace ended %s)",
            len(doomed), org.pk, retention.delete_on,
        )  # fmt: skip
        return "deleted"


def backup_retention_sweep(*, now: datetime) -> dict[str, int]:
    """The periodic deletion run (core.runtime.PERIODIC): every organisation with stored
    backups or an open retention takes its retention step. Idempotent; returns counts."""
    with_backups = ConfigBackup.objects.filter(deleted_at__isnull=True).values_list(
        "asset__organization_id", flat=True
    )
    with_retention = BackupRetention.objects.filter(
        kept_at__isnull=True, deleted_at__isnull=True
    ).values_list("organization_id", flat=True)
    counts = {"eligible": 0, "kept": 0, "deleted": 0}
    for org_id in sorted(set(with_backups) | set(with_retention)):
        done = backup_retention_run(organization_id=org_id, now=now)
        if done:
            counts[done] += 1
    return counts
