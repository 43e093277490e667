"""`/hooks/mail/inbound`: a raw RFC 5322 message POSTed by an MTA or mail provider.

Signed: header ``X-Supportdesk-Signature: sha256=<hex>``, the HMAC-SHA256 keyed with
MAIL_WEBHOOK_SECRET of the exact request body — prefixed with ``vendor=<slug>\n`` when the
optional ``?vendor=<slug>`` is given, so that a signed message cannot be replayed into another
vendor (issue 17.3). With ``?vendor=``, the vendor's own key (Console -> Settings -> Webhooks,
stored encrypted) signs as well, so a vendor's mail provider never needs the server's key.
Missing or wrong signature, or no key configured: 403. Without
``?vendor=`` the vendor is found from the recipients. Answers 200
with JSON only after the raw message is committed; a failure to store answers 503 (retry); a
body over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from supportdesk.core import clock
from supportdesk.core.errors import DomainError, InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.services_credentials import mail_webhook_key
from supportdesk.intake.selectors import vendor_for_raw
from supportdesk.intake.services import email_ingest

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Supportdesk-Signature"


def signature_for(body: bytes, secret: str, vendor: str = "") -> str:
    signed = f"vendor={vendor}\n".encode() + body if vendor else body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str, secret: str, vendor: str = "") -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(signature_for(body, secret, vendor), header.strip())


def _keys(slug: str) -> list[str]:
    """The keys that may sign a delivery: the server's, and with ?vendor= that vendor's own."""
    keys = [settings.MAIL_WEBHOOK_SECRET]
    vendor = Vendor.objects.filter(slug=slug).first() if slug else None
    if vendor is not None and vendor.mail_webhook_secret:
        try:
            keys.append(mail_webhook_key(vendor))
        except InvalidInput:
            log.error("intake webhook: vendor %s's stored key cannot be decrypted", slug)
    return keys


@csrf_exempt
@require_POST
def mail_inbound(request: HttpRequest) -> JsonResponse:
    try:
        body = request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return JsonResponse(
            {"detail": f"message larger than {limit} bytes", "code": "too_large"}, status=413
        )
    slug = request.GET.get("vendor", "")
    header = request.headers.get(SIGNATURE_HEADER, "")
    if not any(signature_valid(body, header, key, slug) for key in _keys(slug)):
        return JsonResponse({"detail": "bad or missing signature", "code": "forbidden"}, status=403)
    if not body.strip():
        return JsonResponse({"detail": "empty message", "code": "invalid"}, status=400)
    try:
        vendor = vendor_for_raw(body, slug=slug or None)
    except DomainError as exc:
        return JsonResponse({"detail": exc.detail, "code": exc.code}, status=exc.status)
    try:
        result = email_ingest(body, vendor=vendor, now=clock.now(), source="webhook")
    except Exception:
        log.exception("intake webhook: could not store the message")
        return JsonResponse({"detail": "not stored; retry", "code": "unavailable"}, status=503)
    return JsonResponse(
        {"id": result.inbound_id, "state": result.state, "ticket": result.ticket_id}, status=200
    )
