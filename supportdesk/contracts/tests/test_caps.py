"""Caps per contract year (E-5, seeds 000 and 002)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.contracts.domain.caps import (
    INSTALLATION_PHONE_HOURS,
    PHONE_INCIDENTS_PER_YEAR,
    Cap,
    CapUnit,
    CountingRule,
    UsageEvent,
    UsageKind,
    add_years,
    cap_usage,
    contract_year,
)
from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.domain.vocabulary import Category, Channel

from .domain_builders import at


def ticket(
    event_id: str, when: datetime, channel: str = "phone", category: str = "problem"
) -> UsageEvent:
    kind = UsageKind.TICKET_CREATED
    return UsageEvent(event_id, kind, when, Channel(channel), Category(category))


def entry(event_id: str, when: datetime, hours: str, channel="phone", category="installation"):
    return UsageEvent(
        event_id, UsageKind.TIME_ENTRY, when, Channel(channel), Category(category), Decimal(hours)
    )


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2024, 3, 15), (date(2024, 3, 15), date(2025, 3, 15))),
        (date(2025, 3, 14), (date(2024, 3, 15), date(2025, 3, 15))),
        (date(2025, 3, 15), (date(2025, 3, 15), date(2026, 3, 15))),
        (date(2031, 1, 1), (date(2030, 3, 15), date(2031, 3, 15))),
    ],
)
def test_contract_year_is_anniversary_to_anniversary_E5(on: date, expected) -> None:
    assert contract_year(date(2024, 3, 15), on) == expected


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2025, 2, 27), (date(2024, 2, 29), date(2025, 2, 28))),
        (date(2025, 2, 28), (date(2025, 2, 28), date(2026, 2, 28))),
        (date(2026, 3, 1), (date(2026, 2, 28), date(2027, 2, 28))),
        (date(2028, 2, 28), (date(2027, 2, 28), date(2028, 2, 29))),
        (date(2028, 2, 29), (date(2028, 2, 29), date(2029, 2, 28))),
    ],
)
def test_feb_29_start_falls_on_feb_28_in_non_leap_years_E5(on: date, expected) -> None:
    assert contract_year(date(2024, 2, 29), on) == expected


def test_day_before_contract_start_has_no_contract_year_E5() -> None:
    with pytest.raises(EntitlementInputError, match="before the contract start 2025-01-01"):
        contract_year(date(2025, 1, 1), date(2024, 12, 31))


def test_phone_incidents_count_phone_tickets_in_this_contract_year_E5() -> None:
    events = [
        ticket("t1", at(2025, 1, 10)),
        ticket("t2", at(2025, 5, 2), category="how_to"),
        ticket("t3", at(2025, 12, 31, 23, 59)),
        ticket("t4", at(2025, 2, 1), channel="email"),  # not a phone ticket
        ticket("t5", at(2024, 12, 31)),  # previous contract year
        ticket("t6", at(2026, 1, 1, 0, 0)),  # next contract year
        entry("e1", at(2025, 3, 1), "1.0", category="problem"),  # time, not an incident
    ]
    usage = cap_usage(
        PHONE_INCIDENTS_PER_YEAR, events=events, contract_start=date(2024, 1, 1), at=at(2025, 6, 1)
    )
    assert usage.used == 3
    assert usage.limit == 5
    assert usage.remaining == 2
    assert not usage.exhausted
    assert (usage.period_start, usage.period_end) == (date(2025, 1, 1), date(2026, 1, 1))
    assert usage.summary() == "3 of 5 incidents"


def test_fifth_phone_incident_exhausts_the_cap_seed002_E5() -> None:
    events = [ticket(f"t{i}", at(2025, 1, 1 + i)) for i in range(5)]
    usage = cap_usage(
        PHONE_INCIDENTS_PER_YEAR, events=events, contract_start=date(2025, 1, 1), at=at(2025, 2, 1)
    )
    assert (usage.used, usage.remaining, usage.exhausted) == (5, 0, True)


def test_remaining_never_goes_negative_E5() -> None:
    events = [ticket(f"t{i}", at(2025, 1, 1 + i)) for i in range(7)]
    usage = cap_usage(
        PHONE_INCIDENTS_PER_YEAR, events=events, contract_start=date(2025, 1, 1), at=at(2025, 2, 1)
    )
    assert (usage.used, usage.remaining, usage.exhausted) == (7, 0, True)


def test_installation_hours_count_phone_time_in_installation_category_E5() -> None:
    events = [
        entry("e1", at(2025, 2, 1), "1.5"),
        entry("e2", at(2025, 2, 3), "2.5"),
        entry("e3", at(2025, 2, 4), "1.0", channel="email"),  # installation help by email
        entry("e4", at(2025, 2, 5), "3.0", category="problem"),  # phone, not installation
        ticket("t1", at(2025, 2, 6), category="installation"),  # an incident, not hours
    ]
    usage = cap_usage(
        INSTALLATION_PHONE_HOURS, events=events, contract_start=date(2025, 1, 1), at=at(2025, 3, 1)
    )
    assert usage.used == Decimal("4.0")
    assert usage.remaining == 0
    assert usage.exhausted
    assert usage.summary() == "4.0 of 4.0 h"


def test_hours_summary_keeps_quarter_hours_E5() -> None:
    usage = cap_usage(
        INSTALLATION_PHONE_HOURS,
        events=[entry("e1", at(2025, 2, 1), "1.25")],
        contract_start=date(2025, 1, 1),
        at=at(2025, 3, 1),
    )
    assert usage.summary() == "1.25 of 4.0 h"
    assert usage.remaining == Decimal("2.75")


def test_replayed_event_counts_once_E5() -> None:
    events = [ticket("t1", at(2025, 1, 2)), ticket("t1", at(2025, 1, 2))]
    usage = cap_usage(
        PHONE_INCIDENTS_PER_YEAR, events=events, contract_start=date(2025, 1, 1), at=at(2025, 2, 1)
    )
    assert usage.used == 1


def test_contract_year_dates_are_read_in_the_given_zone_E5() -> None:
    # 02:00 UTC on 15 March is still 14 March in New York: the previous contract year.
    event = ticket("t1", datetime(2025, 3, 15, 2, 0, tzinfo=UTC))
    new_york = ZoneInfo("America/New_York")
    usage = cap_usage(
        PHONE_INCIDENTS_PER_YEAR,
        events=[event],
        contract_start=date(2024, 3, 15),
        at=datetime(2025, 3, 14, 12, 0, tzinfo=new_york),
        tz=new_york,
    )
    assert usage.used == 1
    assert usage.period_end == date(2025, 3, 15)
    in_utc = cap_usage(
        PHONE_INCIDENTS_PER_YEAR,
        events=[event],
        contract_start=date(2024, 3, 15),
        at=at(2025, 3, 14),
    )
    assert in_utc.used == 0


def test_naive_datetimes_are_rejected_E5() -> None:
    with pytest.raises(EntitlementInputError, match="aware datetime"):
        ticket("t1", datetime(2025, 1, 1))
    with pytest.raises(EntitlementInputError, match="aware datetime"):
        cap_usage(
            PHONE_INCIDENTS_PER_YEAR,
            events=[],
            contract_start=date(2025, 1, 1),
            at=datetime(2025, 2, 1),
        )


def test_negative_or_float_hours_are_rejected_E5() -> None:
    with pytest.raises(EntitlementInputError, match="must not be negative"):
        entry("e1", at(2025, 1, 1), "-1")
    with pytest.raises(EntitlementInputError, match="never a float"):
        UsageEvent("e2", "time_entry", at(2025, 1, 1), "phone", "installation", 1.5)  # type: ignore[arg-type]


def test_cap_unit_and_counted_event_kind_must_agree_E5() -> None:
    with pytest.raises(EntitlementInputError, match="must count time_entry events"):
        Cap(
            name="hours",
            label="Hours",
            unit=CapUnit.HOURS,
            limit=Decimal(4),
            counts=CountingRule(source=UsageKind.TICKET_CREATED),
        )
    with pytest.raises(EntitlementInputError, match="must be whole"):
        Cap(
            name="calls",
            label="Calls",
            unit=CapUnit.INCIDENTS,
            limit=Decimal("2.5"),
            counts=CountingRule(source=UsageKind.TICKET_CREATED),
        )


def test_unknown_channel_in_rule_is_a_clear_error_E5() -> None:
    with pytest.raises(EntitlementInputError, match="unknown value 'telex'"):
        CountingRule(source="ticket_created", channels=frozenset({"telex"}))  # type: ignore[arg-type]


starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@given(start=starts, offset=st.integers(min_value=0, max_value=365 * 30))
def test_contract_year_contains_the_day_and_is_one_year_long_E5(start: date, offset: int) -> None:
    on = start + timedelta(days=offset)
    period_start, period_end = contract_year(start, on)
    assert period_start <= on < period_end
    assert (period_end - period_start).days in (365, 366)
    years = period_start.year - start.year
    assert period_start == add_years(start, years)
    assert period_end == add_years(start, years + 1)


@given(
    start=starts,
    offsets=st.lists(st.integers(min_value=0, max_value=800), max_size=20),
    extra=st.integers(min_value=0, max_value=800),
)
def test_one_more_phone_ticket_never_lowers_usage_E5(start: date, offsets, extra) -> None:
    def tickets(days):
        return [
            ticket(f"t{i}", datetime.combine(start + timedelta(days=d), datetime.min.time(), UTC))
            for i, d in enumerate(days)
        ]

    when = datetime.combine(start + timedelta(days=400), datetime.min.time(), UTC)
    before = cap_usage(
        PHONE_INCIDENTS_PER_YEAR, events=tickets(offsets), contract_start=start, at=when
    )
    after = cap_usage(
        PHONE_INCIDENTS_PER_YEAR, events=tickets([*offsets, extra]), contract_start=start, at=when
    )
    assert before.used <= after.used <= before.used + 1
    assert after.remaining == max(Decimal(5) - after.used, 0)
    assert after.exhausted == (after.used >= 5)
