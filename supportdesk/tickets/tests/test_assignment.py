from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from supportdesk.tickets.domain.assignment import Absence, Candidate, is_absent, pick_assignee

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
AWAY = (Absence(NOW - timedelta(hours=1), NOW + timedelta(hours=1)),)

candidates = st.lists(
    st.builds(
        Candidate,
        user_id=st.integers(1, 50),
        open_tickets=st.integers(0, 20),
        absences=st.sampled_from([(), AWAY]),
    ),
    max_size=8,
    unique_by=lambda c: c.user_id,
)


def test_absence_is_half_open():
    c = Candidate(1, 0, AWAY)
    assert is_absent(c, NOW) and is_absent(c, NOW - timedelta(hours=1))
    assert not is_absent(c, NOW + timedelta(hours=1))


def test_preferred_person_first_then_backup_when_absent_T7():
    dse, backup, other = Candidate(1, 9, AWAY), Candidate(2, 5), Candidate(3, 0)
    assert pick_assignee([dse, backup, other], now=NOW, preferred=[1, 2]) == 2
    assert pick_assignee([dse, backup, other], now=NOW) == 3


@given(candidates)
def test_never_picks_an_absent_person_and_picks_least_loaded_T7(people):
    picked = pick_assignee(people, now=NOW)
    present = [c for c in people if not c.absences]
    if not present:
        assert picked is None
        return
    chosen = next(c for c in people if c.user_id == picked)
    assert not chosen.absences
    assert chosen.open_tickets == min(c.open_tickets for c in present)
