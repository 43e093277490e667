"""`/hooks/fax/inbound`: Telnyx posts a received fax (``fax.received``, docs/fax.md).

Thin: verify the Ed25519 signature (401), read the event (400), find the gateway by the number
called (404), fetch the document from its media URL only when allowed (4xx, see fax_media),
write it as a mail and hand it to the one intake entry point (stored raw first, idempotent by
the fax's id, T-5). Other event types are acknowledged and ignored.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput
from supportdesk.core.phones import normalize_e164
from supportdesk.intake.domain.fax import (
    parse_allowed,
    parse_telnyx_event,
    provider_fax_message,
    provider_message_id,
)
from supportdesk.intake.fax_media import MediaRefused, media_fetch
from supportdesk.intake.fax_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    telnyx_signature_valid,
)
from supportdesk.intake.models import FaxGatewayKind
from supportdesk.intake.selectors import fax_gateway_for_number, inbound_exists
from supportdesk.intake.services import email_ingest
from supportdesk.intake.services_fax import WEBHOOK_SOURCE

log = logging.getLogger(__name__)
PROVIDER = "telnyx"


def _error(detail: str, code: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


@csrf_exempt
@require_POST
def fax_inbound(request: HttpRequest) -> JsonResponse:
    try:
        body = request.body
    except RequestDataTooBig:
        return _error("event larger than DATA_UPLOAD_MAX_MEMORY_SIZE", "too_large", 413)
    if not telnyx_signature_valid(
        public_key=settings.FAX_TELNYX_PUBLIC_KEY,
        signature=request.headers.get(SIGNATURE_HEADER),
        timestamp=request.headers.get(TIMESTAMP_HEADER),
        body=body,
        now=time.time(),
        tolerance=settings.FAX_WEBHOOK_TOLERANCE_SECONDS,
    ):
        return _error("bad, stale or missing Telnyx signature", "unauthorized", 401)
    try:
        fax = parse_telnyx_event(body)
    except ValueError as exc:
        return _error(str(exc), "invalid", 400)
    if fax is None:
        return JsonResponse({"state": "ignored"}, status=200)
    try:
        called = normalize_e164(fax.called)
    except InvalidInput as exc:
        return _error(exc.detail, exc.code, 400)
    gateway = fax_gateway_for_number(kind=FaxGatewayKind.TELNYX, number=called)
    if gateway is None:
        return _error(f"no fax gateway receives {called}", "not_found", 404)
    message_id = provider_message_id(PROVIDER, fax.fax_id)
    if inbound_exists(vendor_id=gateway.vendor_id, message_id=message_id):
        return JsonResponse({"state": "duplicate"}, status=200)  # nothing fetched again
    try:
        document, content_type = media_fetch(
            fax.media_url,
            allowed=parse_allowed(settings.FAX_MEDIA_HOSTS),
            max_bytes=settings.FAX_MEDIA_MAX_BYTES,
            timeout=settings.FAX_MEDIA_TIMEOUT_SECONDS,
        )
    except MediaRefused as exc:
        return _error(exc.detail, exc.code, exc.status)
    now = clock.now()
    raw = provider_fax_message(
        provider=PROVIDER,
        fax=fax,
        gateway_id=gateway.pk,
        document=document,
        content_type=content_type,
        received_at=now,
    )
    try:
        result = email_ingest(
            raw, vendor=gateway.vendor, queue=gateway.queue, source=WEBHOOK_SOURCE, now=now
        )
    except Exception:
        log.exception("fax webhook: could not store the fax")
        return _error("not stored; retry", "unavailable", 503)
    return JsonResponse(
        {"id": result.inbound_id, "state": result.state, "ticket": result.ticket_id}, status=200
    )
