"""Demo release files: a small generated archive for each release of a preset (K-3).

Called by `demo.load._load_vendor` after the contracts demo made the releases; releases that
already have a file are left alone, so loading twice adds nothing.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from django.core.files.base import ContentFile

from supportdesk.contracts.models import Release
from supportdesk.core.models import Vendor
from supportdesk.kb import services_downloads


def release_archive(release: Release) -> bytes:
    """A real zip: release notes and a placeholder installer, a few kilobytes."""
    product = release.version.product.name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # A fixed timestamp keeps the bytes (and so the SHA-256) the same on every load.
        notes = zipfile.ZipInfo("RELEASE-NOTES.txt", date_time=(2026, 1, 1, 0, 0, 0))
        archive.writestr(
            notes,
            f"{product} {release.name} ({release.get_kind_display().lower()} release)\n"
            f"Shipped {release.shipped_on.isoformat()}.\n",
        )
        installer = zipfile.ZipInfo("setup.bin", date_time=(2026, 1, 1, 0, 0, 0))
        archive.writestr(installer, f"{product} {release.name} demo installer\n".encode() * 64)
    return buffer.getvalue()


def demo_extend(*, vendor: Vendor, now: datetime) -> None:
    releases = Release.objects.filter(
        version__product__vendor=vendor, files__isnull=True
    ).select_related("version__product")
    for release in releases:
        product = release.version.product.name.lower().replace(" ", "-")
        label = "-".join(release.name.replace("(", "").replace(")", "").lower().split())
        name = f"{product}-{label}.zip"
        services_downloads.release_file_upload(
            principal=None, release=release, upload=ContentFile(release_archive(release)),
            filename=name, now=now,
        )  # fmt: skip
