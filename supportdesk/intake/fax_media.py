"""Fetching a provider's fax document (T-1) without server-side request forgery: only from
a URL whose scheme, host and port are on FAX_MEDIA_HOSTS (compared as written; nothing else is
resolved or connected to), a redirect only to another allowed origin, at most
FAX_MEDIA_MAX_BYTES read (the body is streamed in bounded chunks), within a deadline."""

from __future__ import annotations

import http.client
import time
from collections.abc import Sequence
from urllib.parse import urljoin, urlsplit

from supportdesk.intake.domain.fax import AllowedOrigin, media_url_refusal

CHUNK = 64 * 1024
MAX_REDIRECTS = 3


class MediaRefused(Exception):
    def __init__(self, status: int, detail: str, code: str) -> None:
        super().__init__(detail)
        self.status, self.detail, self.code = status, detail, code


def media_fetch(
    url: str, *, allowed: Sequence[AllowedOrigin], max_bytes: int, timeout: float
) -> tuple[bytes, str]:
    """(document, content type) or MediaRefused: 400 not allowed, 413 too large, 502 the
    host failed. Checked before any connection is opened, and again for every redirect."""
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        why = media_url_refusal(url, allowed)
        if why:
            raise MediaRefused(400, why, "media_not_allowed")
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        connection: http.client.HTTPConnection = (
            http.client.HTTPSConnection(parts.hostname or "", port, timeout=timeout)
            if parts.scheme == "https"
            else http.client.HTTPConnection(parts.hostname or "", port, timeout=timeout)
        )
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", target, headers={"User-Agent": "supportdesk-fax-intake"})
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                url = urljoin(url, response.getheader("Location") or "")
                continue
            if response.status != 200:
                raise MediaRefused(
                    502, f"the media host answered {response.status}", "media_unavailable"
                )
            length = response.getheader("Content-Length") or ""
            if length.isdigit() and int(length) > max_bytes:
                raise MediaRefused(413, _too_large(max_bytes), "too_large")
            data = _read_bounded(response, max_bytes, deadline)
            return data, (response.getheader("Content-Type") or "").split(";")[0].strip()
        except (OSError, http.client.HTTPException) as exc:
            raise MediaRefused(
                502, f"the media could not be fetched ({type(exc).__name__})", "media_unavailable"
            ) from None
        finally:
            connection.close()
    raise MediaRefused(400, "the media URL redirects too often", "media_not_allowed")


def _read_bounded(response: http.client.HTTPResponse, max_bytes: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        if time.monotonic() > deadline:
            raise MediaRefused(502, "the media took too long to arrive", "media_unavailable")
        chunk = response.read(CHUNK)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise MediaRefused(413, _too_large(max_bytes), "too_large")
        chunks.append(chunk)


def _too_large(max_bytes: int) -> str:
    return f"the fax document is larger than {max_bytes} bytes (FAX_MEDIA_MAX_BYTES)"
