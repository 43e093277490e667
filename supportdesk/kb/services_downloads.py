"""Writes for release files, download links and the download log (K-3)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F

from supportdesk.contracts.models import Release
from supportdesk.core.errors import Forbidden, InvalidInput, TooLarge
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.customers.models import Organization
from supportdesk.kb import selectors_downloads as selectors
from supportdesk.kb.models import DownloadLink, DownloadLog, ReleaseFile

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_name(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip("._")[:150]
    if not cleaned:
        raise InvalidInput("the file needs a name such as faxroute-10.1.1.zip")
    return cleaned


def release_file_upload(
    *, principal: Principal | None, release: Release, upload: File, filename: str, now: datetime
) -> ReleaseFile:
    """Store a release file (vendor staff): streamed chunk by chunk to the default storage
    with its SHA-256; larger than RELEASE_FILE_MAX_BYTES is refused (413)."""
    if principal is not None:
        require_staff_of(principal, release.version.product.vendor_id)
    name = _safe_name(filename)
    limit = settings.RELEASE_FILE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise TooLarge(f"{name} is {upload.size} bytes; release files may be at most {limit}")
    digest, size = hashlib.sha256(), 0
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"{name} is larger than {limit} bytes, the limit for release files")
    if size == 0:
        raise InvalidInput(f"{name} is empty")
    upload.seek(0)
    # A random folder per upload: two uploads of the same name never collide or overwrite.
    stored = default_storage.save(f"releases/{release.pk}/{secrets.token_hex(8)}/{name}", upload)
    try:
        with transaction.atomic():
            return ReleaseFile.objects.create(
                release=release,
                file=stored,
                filename=name,
                size=size,
                sha256=digest.hexdigest(),
                uploaded_at=now,
                uploaded_by_id=principal.user_id if principal is not None else None,
            )
    except Exception:
        default_storage.delete(stored)
        raise


@transaction.atomic
def download_link_create(
    *,
    principal: Principal,
    release: Release,
    organization: Organization,
    file_id: int | None,
    now: datetime,
) -> tuple[str, datetime]:
    """The path of an expiring link to a release file for one organisation, if it may
    download the release today; otherwise Forbidden with the reason (the same one the
    Downloads page shows).

    The link carries a random token, signed with SECRET_KEY so a tampered link is refused
    without a lookup; only the token's SHA-256 is stored (house rule 14)."""
    status = selectors.release_statuses(org=organization, releases=[release], now=now)[release.pk]
    if not status.ok:
        raise Forbidden(status.reason, code=status.code)
    release_file = selectors.release_file_for(release=release, file_id=file_id)
    raw = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=settings.DOWNLOAD_LINK_TTL)
    DownloadLink.objects.create(
        vendor_id=organization.vendor_id,
        token_hash=selectors.token_hash(raw),
        release_file=release_file,
        organization=organization,
        created_by_id=principal.user_id,
        created_at=now,
        expires_at=expires_at,
    )
    token = signing.Signer(salt=selectors.LINK_SALT).sign(raw)
    return f"/downloads/{token}/", expires_at


def download_log_start(
    *, link: DownloadLink, start: int, end: int, status: int, remote_addr: str, now: datetime
) -> DownloadLog:
    """Record a download as it starts; ``download_log_progress`` counts the bytes sent."""
    return DownloadLog.objects.create(
        vendor_id=link.vendor_id,
        link=link,
        release_file_id=link.release_file_id,
        organization_id=link.organization_id,
        user_id=link.created_by_id,
        at=now,
        status=status,
        range_start=start,
        range_end=end,
        remote_addr=remote_addr[:64],
    )


def download_log_progress(*, log_id: int, sent: int, finished: bool) -> None:
    """Add bytes sent to a download's row (the stream reports as it goes and when it ends)."""
    DownloadLog.objects.filter(pk=log_id).update(
        bytes_sent=F("bytes_sent") + sent, finished=finished
    )
