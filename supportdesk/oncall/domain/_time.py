"""Small time helpers shared by the on-call domain modules (pure, no clock reads)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "UTC",
    "ensure_aware",
    "iso_utc",
    "local_to_utc",
    "naive_to_utc",
    "parse_aware",
    "zone",
]


def ensure_aware(value: object, name: str = "datetime") -> datetime:
    """Return ``value`` converted to UTC; a naive or non-datetime value is a ``ValueError``."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware (got naive {value.isoformat()}); "
            "attach a zone, e.g. datetime(..., tzinfo=ZoneInfo('UTC'))"
        )
    return value.astimezone(UTC)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """Load an IANA zone by name; an unknown or malformed name is a ``ValueError``."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"time zone must be a non-empty IANA name, got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (expected an IANA name)") from exc


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``tz``.

    Follows RFC 5545 §3.3.5: a wall time repeated by a fall-back change means its first
    occurrence; a wall time skipped by a spring-forward change is read with the offset in force
    before the change (02:30 on a night that jumps 02:00→03:00 is 03:30 new time).
    """
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


def naive_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """Like :func:`local_to_utc` for a naive local datetime."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def parse_aware(text: object, name: str) -> datetime:
    """Parse an ISO 8601 string that carries an offset (``Z`` or ``+hh:mm``)."""
    if not isinstance(text, str):
        raise ValueError(f"{name} must be an ISO 8601 string with an offset, got {text!r}")
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{name}: {text!r} is not an ISO 8601 datetime") from exc
    return ensure_aware(value, name)


def iso_utc(value: datetime) -> str:
    """``2025-03-09T15:00:00Z`` style text for an aware datetime."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{value.microsecond:06d}Z" if value.microsecond else "Z"
    )


ONE_MICROSECOND = timedelta(microseconds=1)
