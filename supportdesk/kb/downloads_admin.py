"""Admin for release files and downloads: read-only (uploads go through the service, house
rule 15; links and the download log are append-only records)."""

from django.contrib import admin

from supportdesk.core.admin import ReadOnlyAdmin
from supportdesk.kb.models import DownloadLink, DownloadLog, ReleaseFile


@admin.register(ReleaseFile)
class ReleaseFileAdmin(ReadOnlyAdmin):
    list_display = ["filename", "release", "size", "sha256", "uploaded_at"]


@admin.register(DownloadLink)
class DownloadLinkAdmin(ReadOnlyAdmin):
    list_display = ["release_file", "organization", "created_at", "expires_at"]
    exclude = ["token_hash"]


@admin.register(DownloadLog)
class DownloadLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "organization", "user", "release_file", "status", "bytes_sent"]
