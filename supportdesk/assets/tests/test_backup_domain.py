"""H-4 schedule rules, without a database (hypothesis for the properties)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.assets.domain.backups import (
    BackupRuleError,
    backup_due,
    due_order_key,
    no_schedule_reason,
)

TODAY = date(2026, 1, 5)
days = st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31))
intervals = st.integers(min_value=1, max_value=120)


def test_yearly_schedule_from_the_last_backup_H4():
    due = backup_due(
        today=TODAY, interval_months=12, scheduled_from=date(2024, 1, 1),
        last_backup_on=date(2025, 2, 1), end_of_life_on=None,
    )  # fmt: skip
    assert due is not None and due.next_due == date(2026, 2, 1) and not due.overdue


def test_never_backed_up_is_due_from_the_schedule_start_H4():
    due = backup_due(
        today=TODAY, interval_months=12, scheduled_from=date(2025, 12, 1),
        last_backup_on=None, end_of_life_on=None,
    )  # fmt: skip
    assert due is not None and due.next_due == date(2025, 12, 1) and due.overdue_days == 35


def test_end_of_life_model_gets_no_schedule_seed002():
    eol = backup_due(
        today=TODAY, interval_months=12, scheduled_from=TODAY, last_backup_on=None,
        end_of_life_on=TODAY,
    )  # fmt: skip
    assert eol is None
    reason = no_schedule_reason(
        today=TODAY, end_of_life_on=date(2025, 6, 30), in_service=True, covered=True
    )
    assert reason == "end of life since 2025-06-30"
    # an end-of-life date still ahead: scheduled until then
    assert backup_due(
        today=TODAY, interval_months=12, scheduled_from=TODAY, last_backup_on=None,
        end_of_life_on=TODAY + timedelta(days=1),
    ) is not None  # fmt: skip


@pytest.mark.parametrize("interval", [0, 121, True, 1.5])
def test_bad_interval_is_refused_with_the_value(interval):
    with pytest.raises(BackupRuleError, match="interval_months"):
        backup_due(
            today=TODAY, interval_months=interval, scheduled_from=TODAY, last_backup_on=None,
            end_of_life_on=None,
        )  # fmt: skip


@given(today=days, eol=days, last=st.none() | days, interval=intervals)
def test_no_device_of_an_end_of_life_model_is_ever_scheduled(today, eol, last, interval):
    due = backup_due(
        today=today, interval_months=interval, scheduled_from=today, last_backup_on=last,
        end_of_life_on=eol,
    )  # fmt: skip
    assert (due is None) == (eol <= today)


@given(today=days, last=days, interval=intervals, covered=st.booleans(), active=st.booleans())
def test_scheduled_only_when_covered_and_in_service(today, last, interval, covered, active):
    due = backup_due(
        today=today, interval_months=interval, scheduled_from=today, last_backup_on=last,
        end_of_life_on=None, in_service=active, covered=covered,
    )  # fmt: skip
    assert (due is not None) == (covered and active)


@given(today=days, last=days, interval=intervals)
def test_next_due_is_after_the_last_backup_by_the_interval(today, last, interval):
    due = backup_due(
        today=today, interval_months=interval, scheduled_from=today, last_backup_on=last,
        end_of_life_on=None,
    )  # fmt: skip
    assert due is not None
    assert last + timedelta(days=28 * interval - 1) <= due.next_due
    assert due.next_due <= last + timedelta(days=31 * interval + 1)
    assert due.overdue_days == max(0, (today - due.next_due).days)


@given(today=days, a=days, b=days, interval=intervals)
def test_a_later_backup_never_makes_the_next_one_earlier(today, a, b, interval):
    first, second = sorted((a, b))
    kw = {"today": today, "interval_months": interval, "scheduled_from": today}
    early = backup_due(last_backup_on=first, end_of_life_on=None, **kw)
    late = backup_due(last_backup_on=second, end_of_life_on=None, **kw)
    assert early is not None and late is not None
    assert early.next_due <= late.next_due and early.overdue_days >= late.overdue_days


@given(st.lists(st.tuples(days, st.text(max_size=5)), min_size=1, max_size=20), days)
def test_due_list_puts_every_overdue_device_before_the_others(items, today):
    dues = [
        (backup_due(today=today, interval_months=12, scheduled_from=d, last_backup_on=None,
                    end_of_life_on=None), name)
        for d, name in items
    ]  # fmt: skip
    ordered = sorted(dues, key=lambda pair: due_order_key(pair[0], pair[1]))  # type: ignore[arg-type]
    flags = [due.overdue for due, _ in ordered if due is not None]
    assert flags == sorted(flags, reverse=True)
    overdue = [due.overdue_days for due, _ in ordered if due is not None and due.overdue]
    assert overdue == sorted(overdue, reverse=True)
