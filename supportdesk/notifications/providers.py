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

from supportdesk.core.models import Provider, Vendor
from supportdesk.core.selectors import provider_credential_get
from supportdesk.notifications.models import OutboxMessage

TIMEOUT_SECONDS = 10
# When a page's channel fails after the outbox's retries, the next channel to try.
FALLBACK: dict[str, str] = {"sms": "sms_email", "voice": "sms"}


class ProviderError(RuntimeError):
    """The provider refused or could not be reached; the message says why."""


def status_callback_url(row: OutboxMessage | None = None, *, own_account: bool = False) -> str:
    """Where the provider reports delivery; a vendor's own account signs with its own token,
    so the URL names the vendor whose token verifies it."""
    base = settings.PUBLIC_BASE_URL
    if not base:
        return ""
    if own_account and row is not None and row.vendor_id is not None:
        slug = Vendor.objects.filter(pk=row.vendor_id).values_list("slug", flat=True).first()
        return f"{base}/hooks/sms/status?vendor={slug}"
    return f"{base}/hooks/sms/status"


def _account(row: OutboxMessage) -> tuple[str, str, str, bool]:
    """Account SID, auth token, sender number, and whether they are the vendor's own
    (Console -> Settings -> Providers) rather than the TWILIO_* settings."""
    own = provider_credential_get(vendor_id=row.vendor_id, provider=Provider.TWILIO)
    if own is not None:
        return own.account, own.secret, own.sender or settings.TWILIO_FROM_NUMBER, True
    return (
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        settings.TWILIO_FROM_NUMBER,
        False,
    )


def _twilio_post(
    resource: str, fields: dict[str, str], account: tuple[str, str, str, bool]
) -> dict[str, object]:
    sid, token, _, _ = account
    if not sid or not token:
        raise ProviderError(
            "no SMS/voice account: set the vendor's provider credentials or "
            "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
        )
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
    account = _account(row)
    data = _twilio_post(
        "Messages.json",
        {
            "To": row.recipient,
            "From": row.sender or account[2],
            "Body": row.body,
            "StatusCallback": status_callback_url(row, own_account=account[3]),
        },
        account,
    )
    return str(data["sid"])


def send_voice(row: OutboxMessage) -> str:
    text = escape(row.body)
    twiml = (
        f'<Response><Say voice="alice">{text}</Say><Pause length="1"/><Say>{text}</Say></Response>'
    )
    account = _account(row)
    data = _twilio_post(
        "Calls.json",
        {
            "To": row.recipient,
            "From": row.sender or account[2],
            "Twiml": twiml,
            "StatusCallback": status_callback_url(row, own_account=account[3]),
        },
        account,
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
