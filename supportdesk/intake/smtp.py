"""`supportdesk smtpd`: receive mail over SMTP (an MTA relays to it). Every message goes
through `email_ingest`; 250 is answered only after the raw message is committed, 451 if it
could not be stored, so the sending MTA keeps it and retries (T-5)."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from django.db import close_old_connections

from supportdesk.core import clock
from supportdesk.intake.selectors import queue_for_addresses, vendor_for_raw
from supportdesk.intake.services import email_ingest

log = logging.getLogger(__name__)

MAX_BYTES = 40 * 1024 * 1024


def deliver(raw: bytes, recipients: list[str]) -> None:
    """Store and apply one message (runs in a worker thread: the ORM is synchronous)."""
    close_old_connections()
    try:
        vendor = vendor_for_raw(raw, envelope=recipients)
        # The envelope names the queue even when the headers do not (Bcc, aliases).
        queue, _why = queue_for_addresses(vendor=vendor, addresses=recipients)
        email_ingest(raw, vendor=vendor, now=clock.now(), source="smtp", queue=queue)
    finally:
        close_old_connections()


class IntakeHandler:
    def __init__(self, workers: int = 4) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smtpd")

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self.executor, deliver, raw, list(envelope.rcpt_tos))
        except Exception:
            log.exception("smtpd: message not stored")
            return "451 4.3.0 Message not stored, try again later"
        return "250 2.0.0 Message accepted"


def make_controller(*, host: str, port: int, workers: int = 4) -> Controller:
    return Controller(
        IntakeHandler(workers=workers),
        hostname=host,
        port=port,
        data_size_limit=MAX_BYTES,
        decode_data=False,
    )
