"""API routes for releases, release files and download links (K-3, E-6, E-7): thin."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from supportdesk.api.common import ERRORS, principal_of
from supportdesk.api.schemas import Id
from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput
from supportdesk.core.links import absolute_url
from supportdesk.kb import selectors_downloads as selectors
from supportdesk.kb import services_downloads as services

router = Router(tags=["releases"])


class FileOut(Schema):
    id: int
    filename: str
    size: int
    sha256: str


class DownloadOut(Schema):
    allowed: bool
    code: str = Field(
        description="eligible, or why not: no_contract, contract_suspended, contract_lapsed, "
        "upgrade_sold_separately, version_unsupported, not_covered"
    )
    reason: str


class ReleaseOut(Schema):
    id: int
    product: str
    version: str
    name: str
    kind: str = Field(description="major, maintenance or patch")
    shipped_on: date
    upgrade_sold_separately: bool
    files: list[FileOut]
    download: DownloadOut | None = Field(
        description="For a contact (or staff naming an organisation): may it download this "
        "release, and if not, why; the portal's Downloads page shows the same answer"
    )


class ReleaseQuery(Schema):
    organization: Id | None = None


@router.get("/releases", response={200: list[ReleaseOut], **ERRORS})
def list_releases(request: HttpRequest, query: Query[ReleaseQuery]) -> Any:
    return selectors.release_list(
        principal=principal_of(request), organization_id=query.organization, now=clock.now()
    )


@router.post(
    "/releases/{int:release_id}/files", response={201: FileOut, **ERRORS}, summary="Upload a file"
)
def upload_release_file(
    request: HttpRequest, release_id: int, file: File[UploadedFile | None] = None
) -> Any:
    """Vendor staff: multipart field `file`; streamed to storage with its SHA-256 recorded.
    Larger than RELEASE_FILE_MAX_BYTES is a 413."""
    principal = principal_of(request)
    release = selectors.release_get(principal=principal, release_id=release_id)
    if file is None:
        raise InvalidInput("send the file as the multipart field 'file'")
    stored = services.release_file_upload(
        principal=principal, release=release, upload=file, filename=file.name or "",
        now=clock.now(),
    )  # fmt: skip
    return Status(201, stored)


class LinkIn(Schema):
    organization: Id | None = Field(
        default=None, description="Staff: the organisation the link is for (contacts: their own)"
    )
    file: Id | None = Field(default=None, description="A file of the release; default the newest")


class LinkOut(Schema):
    url: str
    expires_at: datetime


@router.post("/releases/{int:release_id}/download-link", response={200: LinkOut, **ERRORS})
def create_download_link(request: HttpRequest, release_id: int, payload: LinkIn) -> Any:
    """A signed link, valid for DOWNLOAD_LINK_TTL seconds, to the file for one organisation;
    403 with the reason when it may not download the release."""
    principal = principal_of(request)
    release = selectors.release_get(principal=principal, release_id=release_id)
    org = selectors.organization_for(principal=principal, organization_id=payload.organization)
    path, expires_at = services.download_link_create(
        principal=principal, release=release, organization=org, file_id=payload.file,
        now=clock.now(),
    )  # fmt: skip
    return {"url": absolute_url(path, request=request), "expires_at": expires_at}
