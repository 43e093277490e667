"""Gunicorn settings for `supportdesk serve`/`web`; `serve` also runs the background threads."""

from __future__ import annotations

import os
import threading
from typing import Any

_stop = threading.Event()


def post_worker_init(worker: Any) -> None:
    if os.environ.get("SUPPORTDESK_EMBEDDED_BACKGROUND") == "1":
        from supportdesk.core.runtime import start_background

        start_background(_stop)


def worker_exit(server: Any, worker: Any) -> None:
    _stop.set()
