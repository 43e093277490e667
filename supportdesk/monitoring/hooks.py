"""`POST /hooks/monitoring/{token}`: monitoring events from Alertmanager, Grafana or anything
that posts the generic JSON event (N-1).

The token in the path names the integration (unknown: 404). With a signing key set, the
header ``X-Supportdesk-Signature: sha256=<hex>`` must carry the HMAC-SHA256 of the exact body
(wrong or missing: 401). Bodies over MONITORING_MAX_BODY_BYTES answer 413, bodies that are not
JSON 400, and JSON that is no known shape 422 — none of them stored. An accepted body is only
stored (state "stored") and answered 202; a worker woken for it applies it within about a second
(docs/monitoring.md).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from supportdesk.core import clock
from supportdesk.core.errors import NotFound
from supportdesk.core.web import int_param
from supportdesk.monitoring.domain.payloads import NotJsonError, PayloadError
from supportdesk.monitoring.services import delivery_receive
from supportdesk.monitoring.services_integrations import integration_for_token, signature_valid
from supportdesk.monitoring.tasks import monitoring_apply_soon

SIGNATURE_HEADER = "X-Supportdesk-Signature"


def _error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


@csrf_exempt
@require_POST
def monitoring_inbound(request: HttpRequest, token: str) -> JsonResponse:
    try:
        integration = integration_for_token(token)
    except NotFound as exc:
        return _error(404, exc.detail, exc.code)
    limit = settings.MONITORING_MAX_BODY_BYTES
    declared = int_param(request.headers.get("Content-Length"))
    if declared is not None and declared > limit:
        return _error(413, f"body larger than {limit} bytes", "too_large")
    try:
        body = request.body
    except RequestDataTooBig:
        return _error(413, f"body larger than {limit} bytes", "too_large")
    if len(body) > limit:
        return _error(413, f"body larger than {limit} bytes", "too_large")
    if not signature_valid(integration, body, request.headers.get(SIGNATURE_HEADER, "")):
        return _error(401, "bad or missing signature", "bad_signature")
    try:
        received = delivery_receive(integration=integration, body=body, now=clock.now())
    except NotJsonError as exc:
        return _error(400, str(exc), "invalid_json")
    except PayloadError as exc:
        return _error(422, str(exc), "invalid")
    delivery = received.delivery
    if not received.duplicate:
        monitoring_apply_soon()
    return JsonResponse(
        {
            "delivery": delivery.pk,
            "state": delivery.state,
            "events": delivery.events,
            "duplicate": received.duplicate,
        },
        status=202,
    )
