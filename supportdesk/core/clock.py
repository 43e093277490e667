"""The single place the application reads the wall clock.

Domain code never calls this: services read it once and pass `now` down.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(tz=UTC)
