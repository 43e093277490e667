"""SMS and voice adapters behind the outbox's one channel interface (O-5).

Each adapter is `send(row: OutboxMessage) -> provider message id` and raises on failure; the
outbox retries with backoff and, once a page's row has failed for good, the on-call sweep falls
back to the next channel (`FALLBACK`). Registered in `notifications.channels.SENDERS`.

* `sms`: Twilio's REST API (`POST /2010-04-01/Accounts/{sid}/Messages.json`, Basic auth,
  form fields To/From/Body/StatusCallback). `TWILIO_API_BASE` points it at any
  Twilio-compatible endpoint.
* `voice`: Twilio's `Calls.json`, reading the page out with `<Say>`.
* `sms_email`: an email-to-SMS gateway (`<number>@<gateway domain>`) sent through Django mail.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from supportdesk.notifications.models import OutboxMessage

TIMEOUT_SECONDS = 10
# When a page's channel fails after the outbox's retries, the next channel to try.
FALLBACK: dict[str, str] = {"sms": "sms_email", "voice": "sms"}


class ProviderError(RuntimeError):
    """The provider refused or could not be reached; the message says why."""


def status_callback_url() -> str:
    base = settings.PUBLIC_BASE_URL
    return f"{base}/hooks/sms/status" if base else ""


def _twilio_post(resource: str, fields: dict[str, str]) -> dict[str, object]:
    sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
    if not sid or not token:
        raise ProviderError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set to send")
    url = f"{settings.TWILIO_API_BASE.rstrip('/')}/2010-04-01/Accounts/{sid}/{resource}"
    if not url.startswith(("https://", "http://")):
        raise ProviderError(f"TWILIO_API_BASE must be an http(s) URL, got {url!r}")
    credentials = base64.b64encode(f"{sid}:{token}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=urllib.parse.urlencode({k: v for k, v in fields.items() if v}).encode(),
        headers={
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:500].decode(errors="replace")
        try:
            data = json.loads(detail)
            detail = f"{data.get('code')}: {data.get('message')}"
        except (ValueError, AttributeError):
            pass
        raise ProviderError(f"provider answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ProviderError(f"provider unreachable: {exc}") from None
    try:
        data = json.loads(body)
    except ValueError:
        raise ProviderError("provider answered with something other than JSON") from None
    if not isinstance(data, dict) or not data.get("sid"):
        raise ProviderError("provider answer has no message sid")
    return data


def send_sms(row: OutboxMessage) -> str:
    data = _twilio_post(
        "Messages.json",
        {
            "To": row.recipient,
            "From": row.sender or settings.TWILIO_FROM_NUMBER,
            "Body": row.body,
            "StatusCallback": status_callback_url(),
        },
    )
    return str(data["sid"])


def send_voice(row: OutboxMessage) -> str:
    text = escape(row.body)
    twiml = (
        f'<Response><Say voice="alice">{text}</Say><Pause length="1"/><Say>{text}</Say></Response>'
    )
    data = _twilio_post(
        "Calls.json",
        {
            "To": row.recipient,
            "From": row.sender or settings.TWILIO_FROM_NUMBER,
            "Twiml": twiml,
            "StatusCallback": status_callback_url(),
        },
    )
    return str(data["sid"])


def send_sms_email(row: OutboxMessage) -> str:
    """Email-to-SMS gateway: the recipient is `<digits>@<gateway domain>`, the body the text."""
    message = EmailMessage(
        subject="",
        body=row.body,
        from_email=row.sender or settings.DEFAULT_FROM_EMAIL,
        to=[row.recipient],
        headers={"Auto-Submitted": "auto-generated"},
        connection=get_connection(),
    )
    message.send(fail_silently=False)
    return f"gateway:{row.idempotency_key}"[:200]
