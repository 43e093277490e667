"""A local fake of Telnyx Programmable Fax for tests (http.server in a thread on 127.0.0.1).

It speaks the documented inbound side: the `fax.received` webhook event (``{"data":
{"event_type", "id", "occurred_at", "record_type": "event", "payload": {"fax_id",
"connection_id", "direction": "inbound", "from", "to", "media_url", "page_count", "status":
"received"}}, "meta": {...}}``) signed with Ed25519 over ``<telnyx-timestamp>|<body>`` in
``telnyx-signature-ed25519``, and serves the media URLs the events point at, logging every
request it receives (so a test proves what was, or was not, fetched).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass
class Media:
    body: bytes
    content_type: str = "application/pdf"
    chunked: bool = False  # no Content-Length: the reader must bound the stream itself
    redirect: str = ""


@dataclass
class FakeTelnyx:
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    media: dict[str, Media] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def public_key(self) -> str:
        raw = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode()

    def serve(self, path: str, media: Media) -> str:
        self.media[path] = media
        return self.origin + path

    def fetched(self) -> list[str]:
        with self.lock:
            return list(self.requests)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def event(
        self, *, media_url: str, caller: str, called: str, fax_id: str = "", pages: int = 2,
        event_type: str = "fax.received",
    ) -> bytes:  # fmt: skip
        fax_id = fax_id or str(uuid.uuid4())
        return json.dumps(
            {
                "data": {
                    "event_type": event_type,
                    "id": str(uuid.uuid4()),
                    "occurred_at": "2026-01-05T15:00:00.000000Z",
                    "record_type": "event",
                    "payload": {
                        "call_duration_secs": 42,
                        "connection_id": "1771549847930963325",
                        "direction": "inbound",
                        "fax_id": fax_id,
                        "from": caller,
                        "to": called,
                        "media_url": media_url,
                        "page_count": pages,
                        "partial_content": False,
                        "status": "received",
                        "user_id": str(uuid.uuid4()),
                    },
                },
                "meta": {"attempt": 1, "delivered_to": "https://support.example/hooks/fax/inbound"},
            }
        ).encode()

    def headers(self, body: bytes, *, at: float | None = None) -> dict[str, str]:
        """The signature headers (as Django test client extra keys)."""
        stamp = str(int(at if at is not None else time.time()))
        signature = base64.b64encode(self.key.sign(stamp.encode() + b"|" + body)).decode()
        return {"HTTP_TELNYX_SIGNATURE_ED25519": signature, "HTTP_TELNYX_TIMESTAMP": stamp}


def _handler(state: FakeTelnyx) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            with state.lock:
                state.requests.append(self.path)
            media = state.media.get(self.path)
            if media is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if media.redirect:
                self.send_response(302)
                self.send_header("Location", media.redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", media.content_type)
            if media.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(media.body), 8192):
                    piece = media.body[start : start + 8192]
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
                return
            self.send_header("Content-Length", str(len(media.body)))
            self.end_headers()
            self.wfile.write(media.body)

    return Handler
