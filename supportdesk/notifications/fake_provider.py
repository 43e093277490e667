"""A local Twilio-compatible SMS/voice provider (http.server in a thread): the tests, the bench
and `supportdesk demo` send to it, so paging works offline (O-5, issue 15.6).

It implements the documented request and response of `POST /2010-04-01/Accounts/{AccountSid}/
Messages.json` and `Calls.json`: HTTP Basic auth with the account SID and auth token, form
fields To/From/Body (or Twiml) and StatusCallback, a 201 JSON resource with a `sid` on
success, and Twilio's JSON error body (`code`, `message`, `more_info`, `status`) otherwise.

Like the real provider it can also call supportdesk back, signing each request with the auth
token (`X-Twilio-Signature`) — only when `webhook_base` is set (the demo):

* `status_callbacks`: each accepted message or call is reported `delivered` (or `completed`)
  to its StatusCallback URL, so the console shows pages as delivered;
* `GET /` is a phone's-eye page of everything sent, with a reply box per SMS (`ACK 1234`
  posts an inbound SMS to `/hooks/sms/inbound`) and a form that leaves an emergency voicemail
  (`/hooks/voice/voicemail`), so the whole emergency path can be played in a browser;
* `GET /messages.json` lists what was received (tests, scripts).

Standard library only: the demo starts it before Django is set up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789abcdef"  # noqa: S105 - the fake's, for tests
FROM_NUMBER = "+15005550006"
CALLBACK_TIMEOUT_SECONDS = 10


@dataclass
class Received:
    resource: str
    form: dict[str, str]
    sid: str
    at: float


@dataclass
class ProviderState:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    failing_numbers: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    webhook_base: str = ""  # where supportdesk's /hooks/... are (no trailing slash)
    status_callbacks: bool = False
    callbacks: list[tuple[str, int]] = field(default_factory=list)  # (url, HTTP status)

    def messages(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.resource == "Messages.json"]

    def all(self) -> list[Received]:
        with self.lock:
            return list(self.received)


def signature(*, token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's documented webhook signature: base64(HMAC-SHA1(token, URL + sorted k+v))."""
    payload = url + "".join(k + v for k, v in sorted(params.items()))
    return base64.b64encode(
        hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    ).decode()


def callback(state: ProviderState, url: str, params: dict[str, str]) -> tuple[int, str]:
    """POST a signed webhook to supportdesk, as the provider does; (status, answer text)."""
    data = urllib.parse.urlencode(params).encode()
    sig = signature(token=state.auth_token, url=url, params=params)
    request = urllib.request.Request(  # noqa: S310 - our own configured base URL
        url, data=data, headers={"X-Twilio-Signature": sig}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=CALLBACK_TIMEOUT_SECONDS) as answer:  # noqa: S310
            status, text = answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        status, text = 0, f"unreachable: {exc}"
    with state.lock:
        state.callbacks.append((url, status))
    return status, text


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _page(state: ProviderState, notice: str = "") -> str:
    rows = []
    for r in reversed(state.all()):
        kind = "SMS" if r.resource == "Messages.json" else "Call"
        text = r.form.get("Body") or r.form.get("Twiml", "")
        reply = ""
        if kind == "SMS" and state.webhook_base:
            reply = (
                '<form method="post" action="/reply">'
                f'<input type="hidden" name="From" value="{html.escape(r.form.get("To", ""))}">'
                f'<input type="hidden" name="To" value="{html.escape(r.form.get("From", ""))}">'
                '<input name="Body" size="14" placeholder="ACK 1234"> <button>Reply</button></form>'
            )
        rows.append(
            f"<tr><td>{kind}</td><td>{html.escape(r.form.get('To', ''))}</td>"
            f"<td>{html.escape(text)}</td><td>{reply}</td></tr>"
        )
    voicemail = ""
    if state.webhook_base:
        voicemail = (
            "<h2>Leave an emergency voicemail</h2>"
            '<form method="post" action="/voicemail">'
            '<label>Caller <input name="From" value="+17135550301"></label> '
            '<label>Number dialled <input name="To" value="+12817684800"></label> '
            '<label>Message <input name="TranscriptionText" size="40" '
            'value="Our server is down, nobody can log in. Call me back."></label> '
            '<label><input type="checkbox" name="no_recording" value="1"> no recording</label> '
            "<button>Leave voicemail</button></form>"
        )
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Fake SMS/voice provider</title>'
        "</head><body><h1>Fake SMS/voice provider (Twilio wire format)</h1>"
        f"<p>{html.escape(notice)}</p>{voicemail}"
        "<h2>Sent by supportdesk (newest first)</h2><table><tr><th>what</th><th>to</th>"
        f"<th>text</th><th></th></tr>{''.join(rows)}</table></body></html>"
    )


def make_handler(state: ProviderState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: dict[str, Any] | list[Any]) -> None:
            self._raw(status, json.dumps(payload).encode(), "application/json")

        def _raw(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _html(self, notice: str = "") -> None:
            self._raw(200, _page(state, notice).encode(), "text/html; charset=utf-8")

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length", 0))
            return {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}

        def do_GET(self) -> None:
            if self.path == "/messages.json":
                self._send(
                    200, [{"resource": r.resource, "sid": r.sid, **r.form} for r in state.all()]
                )
            elif self.path == "/":
                self._html()
            else:
                self._send(404, _error(20404, "The requested resource was not found", 404))

        def do_POST(self) -> None:
            if self.path in ("/reply", "/voicemail"):
                self._simulate(self.path)
                return
            prefix = f"/2010-04-01/Accounts/{state.account_sid}/"
            resource = self.path[len(prefix) :] if self.path.startswith(prefix) else ""
            expected = base64.b64encode(f"{state.account_sid}:{state.auth_token}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                self._send(401, _error(20003, "Authenticate", 401))
                return
            if resource not in ("Messages.json", "Calls.json"):
                self._send(404, _error(20404, "The requested resource was not found", 404))
                return
            form = self._form()
            to, from_ = form.get("To", ""), form.get("From", "")
            if not to:
                self._send(400, _error(21604, "A 'To' phone number is required.", 400))
                return
            if not from_:
                self._send(400, _error(21603, "A 'From' phone number is required.", 400))
                return
            if resource == "Messages.json" and not form.get("Body"):
                self._send(400, _error(21602, "Message body is required.", 400))
                return
            if to in state.failing_numbers:
                self._send(
                    400, _error(21211, f"The 'To' number {to} is not a valid phone number.", 400)
                )
                return
            sid = ("SM" if resource == "Messages.json" else "CA") + secrets.token_hex(16)
            with state.lock:
                state.received.append(Received(resource, form, sid, time.monotonic()))
            self._send(
                201,
                {
                    "sid": sid,
                    "account_sid": state.account_sid,
                    "to": to,
                    "from": from_,
                    "body": form.get("Body", ""),
                    "status": "queued",
                    "num_segments": "1",
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                    "date_created": formatdate(usegmt=True),
                    "uri": f"{prefix}{resource[:-5]}/{sid}.json",
                },
            )
            url = form.get("StatusCallback", "")
            if state.status_callbacks and url.startswith(("http://", "https://")):
                params = (
                    {"MessageSid": sid, "MessageStatus": "delivered", "To": to, "From": from_}
                    if resource == "Messages.json"
                    else {"CallSid": sid, "CallStatus": "completed", "To": to, "From": from_}
                )
                # after the answer, as the real provider does: the sender has stored the sid
                timer = threading.Timer(2.0, callback, args=(state, url, params))
                timer.daemon = True
                timer.start()

        def _simulate(self, path: str) -> None:
            """The demo's phone: an inbound SMS reply or an emergency voicemail, signed."""
            if not state.webhook_base:
                self._send(404, _error(20404, "no webhook base configured", 404))
                return
            form = self._form()
            if path == "/reply":
                params = {
                    "MessageSid": "SM" + secrets.token_hex(16),
                    "From": form.get("From", ""),
                    "To": form.get("To", ""),
                    "Body": form.get("Body", ""),
                }
                status, text = callback(state, f"{state.webhook_base}/hooks/sms/inbound", params)
            else:
                params = {
                    "CallSid": "CA" + secrets.token_hex(16),
                    "From": form.get("From", ""),
                    "To": form.get("To", ""),
                    "RecordingDuration": "0" if form.get("no_recording") else "20",
                    "TranscriptionText": form.get("TranscriptionText", ""),
                }
                if not form.get("no_recording"):
                    host, port = self.server.server_address[:2]
                    params["RecordingUrl"] = (
                        f"http://{host!s}:{port}/recordings/{params['CallSid']}"
                    )
                status, text = callback(
                    state, f"{state.webhook_base}/hooks/voice/voicemail", params
                )
            self._html(f"supportdesk answered {status}: {text[:300]}")

    return Handler


class ProviderServer:
    """`with ProviderServer() as p:` (tests), or `start()` for the life of the process (demo)."""

    def __init__(
        self, state: ProviderState | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.state = state or ProviderState()
        self.httpd = ThreadingHTTPServer((host, port), make_handler(self.state))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ProviderServer:
        self.thread.start()
        return self

    def __enter__(self) -> ProviderServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
