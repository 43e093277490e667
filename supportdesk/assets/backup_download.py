"""The one answer of a configuration-backup restore (H-4), for the API, the console and the
portal alike: the stored file as it was uploaded, its SHA-256 in `X-Checksum-SHA256`."""

from __future__ import annotations

from django.http import FileResponse

from supportdesk.assets import services_backups as services
from supportdesk.core import clock
from supportdesk.core.tenancy import Principal


def backup_download(*, principal: Principal, asset_id: int, backup_id: int) -> FileResponse:
    backup = services.backup_restore(
        principal=principal, asset_id=asset_id, backup_id=backup_id, now=clock.now()
    )
    response = FileResponse(
        backup.file.open("rb"), as_attachment=True, filename=backup.filename,
        content_type="application/octet-stream",
    )  # fmt: skip
    response["X-Checksum-SHA256"] = backup.sha256
    return response
