"""Uploads from the console's and the portal's forms, as the ticket services take them."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from supportdesk.core.errors import TooLarge
from supportdesk.tickets.services import AttachmentInput


def attachments_from(files: list[UploadedFile]) -> list[AttachmentInput]:
    limit = settings.ATTACHMENT_MAX_BYTES
    result = []
    for upload in files:
        if upload.size and upload.size > limit:
            raise TooLarge(f"attachment {upload.name!r} is {upload.size} bytes; limit {limit}")
        result.append(AttachmentInput(filename=upload.name or "attachment", data=upload.read()))
    return result
