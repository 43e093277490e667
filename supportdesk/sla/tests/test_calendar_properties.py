"""Business calendars (S-1): properties checked with hypothesis.

Calendars come from a fixed set (US Eastern business hours, lunch break, overnight window,
Berlin with "24:00", partial holidays) and from random weekly windows with random holidays.
Instants are drawn from 2025-2028 with extra weight around the 2026 DST changes in New York
and Berlin. One property compares against a minute-by-minute oracle written independently from
the wall-clock rules.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportdesk.sla.domain.calendar import DAY_KEYS, BusinessCalendar

from .helpers import et_working_hours

US = timedelta(microseconds=1)
SETTINGS = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

FIXED = [
    et_working_hours(),
    et_working_hours(holidays=[{"date": "2026-12-24", "closed_from": "13:00"}, "2026-03-09"]),
    BusinessCalendar.from_spec(
        {
            "timezone": "America/New_York",
            "weekly": {
                "mon": [["08:00", "12:00"], ["13:00", "20:00"]],
                "wed": [["01:30", "02:30"], ["22:00", "06:00"]],
                "fri": [["20:00", "08:00"]],
                "sun": [["00:00", "24:00"]],
            },
            "holidays": [{"date": "2026-11-06", "closed_from": "21:00"}],
        }
    ),
    BusinessCalendar.from_spec(
        {
            "timezone": "Europe/Berlin",
            "weekly": {
                "sat": [["18:00", "24:00"]],
                "sun": [["00:00", "01:00"], ["02:30", "03:30"], ["22:00", "03:00"]],
                "tue": [["09:00", "17:00"]],
            },
            "holiday_sets": [{"country": "DE", "subdiv": "BE"}],
        }
    ),
    BusinessCalendar.always("America/New_York"),
]


@st.composite
def windows(draw: st.DrawFn) -> list[list[str]]:
    """0-3 non-overlapping minute windows for one day; the last may run past midnight."""
    points = sorted(draw(st.sets(st.integers(0, 1440), min_size=0, max_size=6)))
    if len(points) % 2:
        points = points[:-1]
    pairs = [[points[i], points[i + 1]] for i in range(0, len(points), 2)]
    if pairs and pairs[-1][0] > 0 and pairs[-1][0] < 1440 and draw(st.booleans()):
        pairs[-1][1] = draw(st.integers(0, pairs[-1][0] - 1))  # overnight
    pairs = [p for p in pairs if p[0] < 1440]

    def hhmm(m: int) -> str:
        return f"{m // 60:02d}:{m % 60:02d}"

    return [[hhmm(a), hhmm(b)] for a, b in pairs]


@st.composite
def random_calendars(draw: st.DrawFn, tz: str | None = None) -> BusinessCalendar:
    weekly = {k: draw(windows()) for k in DAY_KEYS}
    if not any(weekly.values()):
        weekly["wed"] = [["09:00", "17:00"]]
    days = draw(st.sets(st.dates(date(2026, 2, 20), date(2026, 4, 10)), max_size=6))
    days |= draw(st.sets(st.dates(date(2026, 10, 15), date(2026, 11, 15)), max_size=4))
    hols: list[object] = []
    for d in sorted(days):
        if draw(st.booleans()):
            hols.append(d.isoformat())
        else:
            m = draw(st.integers(1, 1439))
            hols.append({"date": d.isoformat(), "closed_from": f"{m // 60:02d}:{m % 60:02d}"})
    zone = tz or draw(st.sampled_from(["America/New_York", "Europe/Berlin", "Asia/Kolkata"]))
    return BusinessCalendar.from_spec({"timezone": zone, "weekly": weekly, "holidays": hols})


calendars = st.one_of(st.sampled_from(FIXED), random_calendars())

_DST_DAYS = [datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)]
_DST_DAYS += [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)]
instants = st.one_of(
    st.datetimes(datetime(2025, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC)),
    st.builds(
        lambda base, s: base + timedelta(seconds=s),
        st.sampled_from(_DST_DAYS),
        st.integers(-4 * 86_400, 4 * 86_400),
    ),
)
durations = st.one_of(
    st.integers(0, 200 * 3600).map(lambda s: timedelta(seconds=s)),
    st.integers(0, 30 * 86_400 * 10**6).map(lambda u: timedelta(microseconds=u)),
)


@SETTINGS
@given(calendars, instants, durations)
def test_between_inverts_add_S1(cal: BusinessCalendar, s: datetime, d: timedelta):
    r = cal.add(s, d)
    assert r >= s
    assert r.tzinfo is UTC
    assert cal.between(s, r) == d


@SETTINGS
@given(calendars, instants, durations, durations)
def test_add_is_additive_and_monotonic_S1(
    cal: BusinessCalendar, s: datetime, a: timedelta, b: timedelta
):
    assert cal.add(cal.add(s, a), b) == cal.add(s, a + b)
    lo, hi = sorted((a, b))
    assert cal.add(s, lo) <= cal.add(s, hi)


@SETTINGS
@given(calendars, instants, instants, durations)
def test_add_is_monotonic_in_start_S1(
    cal: BusinessCalendar, s1: datetime, s2: datetime, d: timedelta
):
    lo, hi = sorted((s1, s2))
    assert cal.add(lo, d) <= cal.add(hi, d)


@SETTINGS
@given(calendars, instants, durations)
def test_due_never_falls_in_closed_time_except_a_window_end_S1(
    cal: BusinessCalendar, s: datetime, d: timedelta
):
    if d <= timedelta(0):
        return
    r = cal.add(s, d)
    # time was being consumed right up to r: r is open or is the end of an open stretch
    assert cal.is_open(r - US)
    assert cal.is_open(r) or cal.between(r, r + timedelta(seconds=1)) < timedelta(seconds=1)


@SETTINGS
@given(calendars, instants, durations, durations)
def test_counting_back_inverts_between_and_ends_in_open_time_S1(
    cal: BusinessCalendar, s: datetime, a: timedelta, b: timedelta
):
    r = cal.add(s, -a)
    assert r <= s
    assert cal.between(s, r) == -a
    if a > timedelta(0):
        assert cal.is_open(r)  # the latest such instant: open time starts right there
    assert cal.add(r, -b) == cal.add(s, -(a + b))


@SETTINGS
@given(calendars, instants, instants, instants)
def test_between_is_additive_and_antisymmetric_S1(
    cal: BusinessCalendar, a: datetime, b: datetime, c: datetime
):
    assert cal.between(a, b) + cal.between(b, c) == cal.between(a, c)
    assert cal.between(a, b) == -cal.between(b, a)


@SETTINGS
@given(calendars, instants, st.integers(0, 20 * 86_400))
def test_open_intervals_are_maximal_and_sum_to_between_S1(
    cal: BusinessCalendar, s: datetime, span: int
):
    e = s + timedelta(seconds=span)
    ivs = cal.open_intervals(s, e)
    assert sum((b - a for a, b in ivs), timedelta(0)) == cal.between(s, e)
    for i, (a, b) in enumerate(ivs):
        assert s <= a < b <= e
        assert a.tzinfo is UTC and b.tzinfo is UTC
        assert cal.is_open(a) and cal.is_open(b - US)
        if b < e:
            assert not cal.is_open(b)  # maximal: closed right after
        if a > s:
            assert not cal.is_open(a - US)
        if i:
            assert ivs[i - 1][1] < a  # disjoint and not touching


@SETTINGS
@given(calendars, instants)
def test_next_open_is_open_and_nothing_open_before_it_S1(cal: BusinessCalendar, t: datetime):
    n = cal.next_open(t)
    assert n >= t
    assert cal.is_open(n)
    assert cal.between(t, n) == timedelta(0)
    assert (n == t) == cal.is_open(t)


@SETTINGS
@given(calendars)
def test_spec_round_trip_property_S1(cal: BusinessCalendar):
    assert BusinessCalendar.from_spec(cal.to_spec()) == cal


# --------------------------------------------------------------------------- oracle
def oracle_is_open(spec: dict, t: datetime) -> bool:
    """Open at ``t``? Straight from the documented rules, by local wall clock.

    Only for zones without DST (the wall clock is then a plain shift of UTC).
    """
    local = t.astimezone(ZoneInfo(spec["timezone"]))
    secs = local.hour * 3600 + local.minute * 60 + local.second
    holidays: dict[date, int] = {}
    for h in spec["holidays"]:
        if isinstance(h, str):
            holidays[date.fromisoformat(h)] = 0
        else:
            hh, mm = h["closed_from"].split(":")
            holidays[date.fromisoformat(h["date"])] = int(hh) * 3600 + int(mm) * 60

    def to_s(v: str) -> int:
        hh, mm = v.split(":")[:2]
        return int(hh) * 3600 + int(mm) * 60

    for owner, offset in ((local.date(), 0), (local.date() - timedelta(days=1), 86_400)):
        at = secs + offset  # seconds since the owner's midnight
        for a_s, b_s in spec["weekly"].get(DAY_KEYS[owner.weekday()], []):
            a, b = to_s(a_s), to_s(b_s)
            if b <= a:
                b += 86_400  # overnight window (or one ending at 24:00 given as 00:00)
            if not a <= at < b:
                continue
            cut = holidays.get(owner)
            if cut is None or (cut > 0 and at < cut):
                return True
    return False


@settings(
    max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    random_calendars(tz="Asia/Kolkata"),
    st.datetimes(datetime(2026, 2, 20), datetime(2026, 4, 5)),
)
def test_matches_minute_by_minute_oracle_S1(cal: BusinessCalendar, start: datetime):
    spec = cal.to_spec()
    start = start.replace(second=0, microsecond=0, tzinfo=UTC)
    minutes = 3 * 1440
    open_minutes = 0
    for m in range(minutes):
        t = start + timedelta(minutes=m)
        expected = oracle_is_open(spec, t)
        assert cal.is_open(t) == expected, t
        open_minutes += expected
    assert cal.between(start, start + timedelta(minutes=minutes)) == timedelta(minutes=open_minutes)


def oracle_windows(spec: dict, owner: date) -> list[tuple[datetime, datetime]]:
    """The instants of the windows ``owner`` owns, built with Python's own wall-clock
    reading (``fold=0``: first occurrence of a repeated time, the offset before the change
    for a skipped one), the rule the calendar documents for DST days."""
    zone = ZoneInfo(spec["timezone"])
    holidays: dict[date, int] = {}
    for h in spec["holidays"]:
        if isinstance(h, str):
            holidays[date.fromisoformat(h)] = 0
        else:
            hh, mm = h["closed_from"].split(":")
            holidays[date.fromisoformat(h["date"])] = int(hh) * 60 + int(mm)
    for hs in spec["holiday_sets"]:
        found = holidays_lib.country_holidays(
            hs["country"], subdiv=hs["subdiv"], years=owner.year, observed=hs["observed"]
        )
        if owner in found:
            holidays[owner] = 0

    def wall(minutes: int) -> datetime:
        day = owner + timedelta(days=minutes // 1440)
        m = minutes % 1440
        local = datetime(day.year, day.month, day.day, m // 60, m % 60, tzinfo=zone)
        return local.astimezone(UTC)

    out = []
    for a_s, b_s in spec["weekly"].get(DAY_KEYS[owner.weekday()], []):
        a, b = (int(v[:2]) * 60 + int(v[3:5]) for v in (a_s, b_s))
        if b <= a:
            b += 1440
        cut = holidays.get(owner)
        if cut == 0 or (cut is not None and a >= cut):
            continue
        if cut is not None:
            b = min(b, cut)
        if wall(a) < wall(b):
            out.append((wall(a), wall(b)))
    return out


@settings(
    max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.one_of(
        random_calendars(tz="America/New_York"),
        random_calendars(tz="Europe/Berlin"),
        st.sampled_from(FIXED[:4]),
    ),
    st.sampled_from(_DST_DAYS),
    st.integers(-2 * 1440, 1440),
)
def test_dst_days_match_an_oracle_of_aware_datetimes_S1(
    cal: BusinessCalendar, day: datetime, offset: int
):
    spec = cal.to_spec()
    start = day.replace(minute=0) + timedelta(minutes=offset)
    minutes = 2 * 1440
    local_day = start.astimezone(ZoneInfo(spec["timezone"])).date()
    windows = [w for k in range(-2, 4) for w in oracle_windows(spec, local_day + timedelta(days=k))]
    open_minutes = 0
    for m in range(minutes):
        t = start + timedelta(minutes=m)
        expected = any(a <= t < b for a, b in windows)
        assert cal.is_open(t) == expected, t
        open_minutes += expected
    assert cal.between(start, start + timedelta(minutes=minutes)) == timedelta(minutes=open_minutes)
