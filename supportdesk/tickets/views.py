"""The attachment download shared by the console, the portal and the API's links."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.shortcuts import render

from supportdesk.core.errors import DomainError
from supportdesk.core.tenancy import principal_for
from supportdesk.tickets.domain.content import INLINE_SAFE_TYPES
from supportdesk.tickets.selectors import attachment_get


@login_required
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    try:
        attachment = attachment_get(
            principal=principal_for(request.user), attachment_id=attachment_id
        )
    except DomainError as exc:
        return render(
            request, "error.html", {"status": exc.status, "detail": exc.detail}, status=exc.status
        )
    try:
        stored = attachment.file.open("rb")
    except OSError:
        return render(
            request,
            "error.html",
            {"status": 410, "detail": "The file of this attachment is no longer stored."},
            status=410,
        )
    inline = attachment.content_type in INLINE_SAFE_TYPES
    response = FileResponse(
        stored,
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
