"""Pages and the file-serving link for release downloads (K-1, K-3): thin adapters."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST, require_safe

from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput
from supportdesk.core.web import contact_page, int_param, staff_page
from supportdesk.kb import selectors_downloads as selectors
from supportdesk.kb import services_downloads as services
from supportdesk.kb.domain.downloads import ByteRange, Unsatisfiable, parse_range
from supportdesk.kb.models import DownloadLink

CHUNK = 256 * 1024


# --- portal -------------------------------------------------------------------------------


@contact_page
def portal_downloads(request: HttpRequest) -> HttpResponse:
    """Every release of the organisation's products: a download button or the reason not."""
    page = selectors.downloads_page(principal=request.principal, now=clock.now())  # type: ignore[attr-defined]
    return render(request, "kb/downloads/portal.html", page)


@require_POST
@contact_page
def portal_download(request: HttpRequest, release_id: int) -> HttpResponse:
    """Make a link for the contact's organisation and follow it (refusals show the reason)."""
    principal = request.principal  # type: ignore[attr-defined]
    release = selectors.release_get(principal=principal, release_id=release_id)
    org = selectors.organization_for(principal=principal, organization_id=None)
    path, _ = services.download_link_create(
        principal=principal, release=release, organization=org,
        file_id=int_param(request.POST.get("file")), now=clock.now(),
    )  # fmt: skip
    return redirect(path)


# --- console ------------------------------------------------------------------------------


@staff_page
def console_releases(request: HttpRequest) -> HttpResponse:
    releases = selectors.release_scope(principal=request.principal).prefetch_related("files")  # type: ignore[attr-defined]
    return render(request, "kb/downloads/console_releases.html", {"releases": releases})


@staff_page
def console_release(request: HttpRequest, release_id: int) -> HttpResponse:
    """A release's files; POST uploads one (streamed to storage, SHA-256 recorded)."""
    principal = request.principal  # type: ignore[attr-defined]
    release = selectors.release_get(principal=principal, release_id=release_id)
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput("choose a file to upload")
        stored = services.release_file_upload(
            principal=principal, release=release, upload=upload,
            filename=upload.name or "", now=clock.now(),
        )  # fmt: skip
        messages.success(request, f"Uploaded {stored.filename} ({stored.size} bytes).")
        return redirect("console:downloads:release", release_id=release.pk)
    files = release.files.select_related("uploaded_by").order_by("-uploaded_at", "-pk")
    return render(
        request, "kb/downloads/console_release.html", {"release": release, "files": files}
    )


@staff_page
def console_download_log(request: HttpRequest) -> HttpResponse:
    rows = selectors.download_log_list(principal=request.principal)  # type: ignore[attr-defined]
    return render(request, "kb/downloads/console_log.html", {"rows": rows})


# --- the link -----------------------------------------------------------------------------


def _refused(request: HttpRequest) -> HttpResponse:
    detail = "This download link is not valid or has expired. Ask for a new one."
    return render(request, "error.html", {"status": 403, "detail": detail}, status=403)


def _stream(link: DownloadLink, wanted: ByteRange, log_id: int) -> Iterator[bytes]:
    """The range's bytes from storage, chunk by chunk; the log row learns how many went out
    (also when the client hangs up, which closes the generator)."""
    sent = 0
    try:
        with default_storage.open(link.release_file.file.name, "rb") as stored:
            stored.seek(wanted.start)
            left = wanted.length
            while left > 0:
                chunk = stored.read(min(CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                sent += len(chunk)
                yield chunk
    finally:
        services.download_log_progress(log_id=log_id, sent=sent, finished=sent == wanted.length)


@require_safe
def serve_download(request: HttpRequest, token: str) -> HttpResponse | StreamingHttpResponse:
    """The file behind a signed, unexpired link: as an attachment, whole or one byte range
    (206; 416 past the end; If-Range with the ETag resumes only an unchanged file). Every
    download is logged; a refused link logs nothing."""
    now = clock.now()
    link = selectors.download_link_resolve(token=token, now=now)
    if link is None:
        return _refused(request)
    release_file = link.release_file
    size, etag = release_file.size, f'"{release_file.sha256}"'
    if_range = request.headers.get("If-Range")
    header = request.headers.get("Range") if if_range in (None, etag) else None
    try:
        wanted = parse_range(header, size)
    except Unsatisfiable:
        unsatisfiable = HttpResponse(status=416)
        unsatisfiable["Content-Range"] = f"bytes */{size}"
        return unsatisfiable
    status = 200 if wanted is None else 206
    wanted = wanted or ByteRange(0, size - 1)
    response: HttpResponse | StreamingHttpResponse
    if request.method == "HEAD":  # download managers ask for the size first: nothing is sent
        response = HttpResponse(status=status, content_type="application/octet-stream")
    else:
        log = services.download_log_start(
            link=link, start=wanted.start, end=wanted.end, status=status,
            remote_addr=request.META.get("REMOTE_ADDR", ""), now=now,
        )  # fmt: skip
        response = StreamingHttpResponse(
            _stream(link, wanted, log.pk), status=status, content_type="application/octet-stream"
        )
    response["Content-Length"] = str(wanted.length)
    response["Content-Disposition"] = (
        content_disposition_header(True, release_file.filename) or "attachment"
    )
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    if status == 206:
        response["Content-Range"] = f"bytes {wanted.start}-{wanted.end}/{size}"
    return response
