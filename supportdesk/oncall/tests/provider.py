"""A local Twilio-compatible REST server (http.server in a thread) for tests and the bench.

It implements the documented request and response of `POST /2010-04-01/Accounts/{AccountSid}/
Messages.json` and `Calls.json`: HTTP Basic auth with the account SID and auth token, form
fields To/From/Body (or Twiml) and StatusCallback, a 201 JSON resource with a `sid` on
success, and Twilio's JSON error body (`code`, `message`, `more_info`, `status`) otherwise.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
FROM_NUMBER = "+15005550006"


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

    def messages(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.resource == "Messages.json"]


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def make_handler(state: ProviderState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            prefix = f"/2010-04-01/Accounts/{state.account_sid}/"
            resource = self.path[len(prefix) :] if self.path.startswith(prefix) else ""
            expected = base64.b64encode(f"{state.account_sid}:{state.auth_token}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                self._send(401, _error(20003, "Authenticate", 401))
                return
            if resource not in ("Messages.json", "Calls.json"):
                self._send(404, _error(20404, "The requested resource was not found", 404))
                return
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
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

    return Handler


class ProviderServer:
    def __init__(self, state: ProviderState | None = None) -> None:
        self.state = state or ProviderState()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> ProviderServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
