"""Form helpers shared by the console and the portal."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from supportdesk.core.errors import TooLarge
from supportdesk.tickets.services import AttachmentInput


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: object, initial: object = None) -> list[UploadedFile]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


def attachments_from(files: list[UploadedFile]) -> list[AttachmentInput]:
    limit = settings.ATTACHMENT_MAX_BYTES
    result = []
    for upload in files:
        if upload.size and upload.size > limit:
            raise TooLarge(f"attachment {upload.name!r} is {upload.size} bytes; limit {limit}")
        result.append(AttachmentInput(filename=upload.name or "attachment", data=upload.read()))
    return result
