"""iCalendar feed of an on-call schedule (O-1): one VEVENT per final shift, RFC 5545.

Pure: the caller passes the window and the DTSTAMP; nothing reads a clock. Times are written in
UTC (``DTSTART:20250309T140000Z``) unless ``tzid`` names an IANA zone, in which case they are
written as local times with ``TZID=`` and the calendar carries a matching ``VTIMEZONE`` built
from the zone's transitions over the exported period.

UIDs are stable: they depend on the schedule id, the shift's source, participant and real start
instant — not on the export window, the DTSTAMP, the calendar name or the order of events — so a
subscribed client updates events in place instead of duplicating them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vDuration,
)

from ._time import UTC, ensure_aware, iso_utc, zone
from .schedule import OVERRIDE_SOURCE, Schedule, Shift, shifts

__all__ = ["PRODID", "schedule_to_ics", "shift_uid"]

PRODID = "-//supportdesk//on-call schedule//EN"
PARTICIPANT_PROPERTY = "X-SUPPORTDESK-PARTICIPANT"
SOURCE_PROPERTY = "X-SUPPORTDESK-SOURCE"
REFRESH = timedelta(hours=1)
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def shift_uid(schedule: Schedule, shift: Shift, uid_domain: str) -> str:
    """Stable UID for ``shift``: ``<hash of schedule id, source, participant, start>@domain``."""
    basis = "|".join((schedule.id, shift.source, shift.participant, iso_utc(shift.start)))
    return f"{hashlib.sha256(basis.encode()).hexdigest()[:32]}@{uid_domain}"


def schedule_to_ics(
    schedule: Schedule,
    *,
    name: str,
    start: datetime,
    end: datetime,
    uid_domain: str,
    dtstamp: datetime,
    tzid: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> bytes:
    """An RFC 5545 ``VCALENDAR`` with one ``VEVENT`` per final shift overlapping the window.

    Shifts that cross the window edges are exported whole (their real start and end), so the
    events do not change as the window slides. ``labels`` maps participant ids to display
    names for ``SUMMARY``; the raw id is always in ``X-SUPPORTDESK-PARTICIPANT``.
    """
    start = ensure_aware(start, "start")
    end = ensure_aware(end, "end")
    stamp = ensure_aware(dtstamp, "dtstamp")
    if not isinstance(uid_domain, str) or not _DOMAIN_RE.match(uid_domain):
        raise ValueError(f"uid_domain must be a host name like 'example.com', got {uid_domain!r}")
    clean_name = _clean(name)
    if not clean_name:
        raise ValueError("name must be a non-empty calendar name")
    tz: ZoneInfo | None = zone(tzid) if tzid is not None else None
    labels = labels or {}
    timeline = shifts(schedule, start, end, clip=False)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", clean_name)
    cal.add("x-wr-calname", clean_name)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    if tz is not None:
        cal.add("x-wr-timezone", tz.key)
        first = min([start, *(s.start for s in timeline)])
        last = max([end, *(s.end for s in timeline)])
        cal.add_component(_vtimezone(tz, first, last))

    for shift in timeline:
        label = _clean(labels.get(shift.participant, shift.participant)) or shift.participant
        event = Event()
        event.add("uid", shift_uid(schedule, shift, uid_domain))
        event.add("dtstamp", stamp)
        event.add("dtstart", _as(shift.start, tz))
        event.add("dtend", _as(shift.end, tz))
        event.add("summary", f"On call: {label}")
        kind = "override" if shift.source == OVERRIDE_SOURCE else f"rotation {shift.source}"
        event.add("description", f"{clean_name}: {label} is on call ({kind}).")
        event.add("transp", "TRANSPARENT")
        event.add(PARTICIPANT_PROPERTY, shift.participant)
        event.add(SOURCE_PROPERTY, shift.source)
        cal.add_component(event)
    return bytes(cal.to_ical())


def _clean(text: str) -> str:
    return _CONTROL_RE.sub(" ", str(text)).strip()


def _as(value: datetime, tz: ZoneInfo | None) -> datetime:
    return value.astimezone(tz if tz is not None else UTC)


# ---------------------------------------------------------------------------------------------
# VTIMEZONE: written from the zone's real transitions over the exported period
# ---------------------------------------------------------------------------------------------


def _state(tz: tzinfo, at: datetime) -> tuple[timedelta, timedelta, str]:
    local = at.astimezone(tz)
    return (local.utcoffset() or timedelta(0), local.dst() or timedelta(0), local.tzname() or "")


def _transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """UTC instants in ``(start, end]`` at which ``tz`` changes offset, DST flag or name."""
    found: list[datetime] = []
    step = timedelta(hours=6)
    lo = start
    while lo < end:
        hi = min(lo + step, end)
        if _state(tz, lo) != _state(tz, hi):
            a, b = lo, hi  # state(a) != state(b); narrow to the second
            while b - a > timedelta(seconds=1):
                mid = a + (b - a) / 2
                if _state(tz, mid) == _state(tz, a):
                    a = mid
                else:
                    b = mid
            found.append(b.replace(microsecond=0) if b.microsecond else b)
        lo = hi
    return found


def _vtimezone(tz: ZoneInfo, start: datetime, end: datetime) -> Timezone:
    """A VTIMEZONE for ``tz`` valid over ``[start, end]`` (RFC 5545 §3.6.5).

    Each observance's DTSTART is the local wall time of its onset read with TZOFFSETFROM, as the
    RFC requires (e.g. 2025-03-09 02:00 for Chicago's spring-forward at 08:00 UTC).
    """
    first = (start - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    last = end + timedelta(days=1)
    vtz = Timezone()
    vtz.add("tzid", tz.key)
    offset, dst, tzname = _state(tz, first)
    initial = (first + offset).replace(tzinfo=None)
    vtz.add_component(_observance(dst, initial, offset, offset, tzname))
    for instant in _transitions(tz, first, last):
        before, _, _ = _state(tz, instant - timedelta(seconds=1))
        after, dst, tzname = _state(tz, instant)
        onset = (instant + before).replace(tzinfo=None)
        vtz.add_component(_observance(dst, onset, before, after, tzname))
    return vtz


def _observance(
    dst: timedelta, onset: datetime, offset_from: timedelta, offset_to: timedelta, tzname: str
) -> TimezoneStandard | TimezoneDaylight:
    sub: TimezoneStandard | TimezoneDaylight = TimezoneDaylight() if dst else TimezoneStandard()
    sub.add("dtstart", onset)
    sub.add("tzoffsetfrom", offset_from)
    sub.add("tzoffsetto", offset_to)
    if tzname:
        sub.add("tzname", tzname)
    return sub
