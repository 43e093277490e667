"""Escalation chains (O-4), the emergency preset (O-2, seed 001) and page idempotency (O-5, N-2).
Expected pages are worked out by hand from the chain definitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.oncall.domain.escalation import (
    SYSTEM_ARCHITECT_ROLE,
    Channel,
    EscalationChain,
    EscalationError,
    NotifyAccountTeam,
    NotifyOnCall,
    NotifyPersons,
    NotifyRole,
    PlannedPage,
    Resolved,
    Wait,
    chain_end,
    chain_instants,
    describe_chain,
    emergency_chain,
    enterprise_chain,
    idempotency_key,
    next_due_at,
    pages_due,
    plan_chain,
)

from .strategies import scaled

T0 = datetime(2025, 3, 10, 3, 12, tzinfo=UTC)  # a voicemail at 22:12 CDT on a Sunday night
SMS, EMAIL, VOICE = Channel.SMS, Channel.EMAIL, Channel.VOICE


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def msp_resolver(step: Resolved, at: datetime) -> list[str]:
    """On-call engineer is 'eve' (who is also an architect); architects are arch1, arch2, eve."""
    if isinstance(step, NotifyOnCall):
        assert step.schedule == "msp-primary"
        return ["eve"]
    assert isinstance(step, NotifyRole) and step.role == SYSTEM_ARCHITECT_ROLE
    return ["arch1", "arch2", "eve"]


def brief(pages: list[PlannedPage]) -> list[tuple[int, int, int, str, str]]:
    """(step, round, minutes after start, recipient, channel) for readable assertions."""
    return [
        (p.step_index, p.round, int((p.due_at - T0).total_seconds() // 60), p.recipient, p.channel)
        for p in pages
    ]


def test_emergency_preset_pages_on_call_and_all_architects_by_sms_and_email_O2() -> None:
    chain = emergency_chain(schedule="msp-primary")
    plan = plan_chain(chain, run_id="vm-1042", started_at=T0, resolve=msp_resolver)
    one_round = [
        (0, "eve", "sms"),
        (0, "eve", "email"),
        (1, "arch1", "sms"),
        (1, "arch1", "email"),
        (1, "arch2", "sms"),
        (1, "arch2", "email"),
        # eve is an architect too, but already paged at this instant: not paged twice.
    ]
    expected = [
        (step, rnd, offset, who, chan)
        for rnd, offset in ((1, 0), (2, 10), (3, 20))
        for step, who, chan in one_round
    ]
    assert brief(plan) == expected
    assert chain_end(chain, T0) == minutes(30)
    assert len({p.idempotency_key for p in plan}) == 18


def test_acknowledgement_stops_the_chain_O4() -> None:
    plan = plan_chain(
        emergency_chain(schedule="msp-primary"),
        run_id="vm-1042",
        started_at=T0,
        resolve=msp_resolver,
    )
    first = pages_due(plan, acknowledged_at=None, now=T0)
    assert brief(first) == brief(plan[:6])
    sent = {p.idempotency_key for p in first}
    assert pages_due(plan, acknowledged_at=None, now=minutes(9), sent=sent) == []
    assert next_due_at(plan, acknowledged_at=None, now=minutes(9), sent=sent) == minutes(10)
    second = pages_due(plan, acknowledged_at=None, now=minutes(10), sent=sent)
    assert [p.round for p in second] == [2] * 6
    sent |= {p.idempotency_key for p in second}
    # arch2 replies ACK at +14: nothing more, ever.
    for now in (minutes(14), minutes(20), minutes(25), minutes(60)):
        assert pages_due(plan, acknowledged_at=minutes(14), now=now, sent=sent) == []
        assert next_due_at(plan, acknowledged_at=minutes(14), now=now, sent=sent) is None
    # A lagging sweep that only runs after the acknowledgement sends nothing either.
    assert pages_due(plan, acknowledged_at=minutes(3), now=minutes(5)) == []


def test_unacknowledged_chain_is_exhausted_after_the_last_round_O4() -> None:
    plan = plan_chain(
        emergency_chain(schedule="msp-primary"),
        run_id="vm-1",
        started_at=T0,
        resolve=msp_resolver,
    )
    everything = {p.idempotency_key for p in plan}
    assert pages_due(plan, acknowledged_at=None, now=minutes(45), sent=everything) == []
    assert next_due_at(plan, acknowledged_at=None, now=minutes(45), sent=everything) is None


def test_resolve_is_asked_at_the_time_each_step_is_due_O4() -> None:
    """The on-call hand-off at +15 min means round 3 (at +20) pages the new engineer."""
    asked: list[tuple[str, datetime]] = []

    def resolve(step: NotifyOnCall | NotifyRole, at: datetime) -> list[str]:
        asked.append((type(step).__name__, at))
        if isinstance(step, NotifyOnCall):
            return ["eve"] if at < minutes(15) else ["fred"]
        return []  # no architects configured: the step pages nobody

    plan = plan_chain(
        emergency_chain(schedule="msp-primary"), run_id="r", started_at=T0, resolve=resolve
    )
    assert [(p.round, p.recipient) for p in plan if p.channel == SMS] == [
        (1, "eve"),
        (2, "eve"),
        (3, "fred"),
    ]
    assert ("NotifyRole", minutes(20)) in asked


def test_enterprise_preset_dse_first_then_backup_O4() -> None:
    chain = enterprise_chain(dse="dse-mary", backup="dse-raj", backup_after_minutes=30)
    plan = plan_chain(chain, run_id="t-77", started_at=T0, resolve=msp_resolver)
    assert brief(plan) == [
        (0, 1, 0, "dse-mary", "sms"),
        (0, 1, 0, "dse-mary", "email"),
        (0, 1, 0, "dse-mary", "voice"),
        (2, 1, 30, "dse-raj", "sms"),
        (2, 1, 30, "dse-raj", "email"),
        (2, 1, 30, "dse-raj", "voice"),
    ]
    assert chain_end(chain, T0) == minutes(60)
    # Mary acknowledges at +5: Raj is never paged.
    sent = {p.idempotency_key for p in plan[:3]}
    assert pages_due(plan, acknowledged_at=minutes(5), now=minutes(31), sent=sent) == []
    with pytest.raises(EscalationError, match="backup"):
        enterprise_chain(dse="dse-mary", backup="dse-mary")
    with pytest.raises(EscalationError, match="or neither"):
        enterprise_chain(dse="dse-mary")


def test_enterprise_preset_names_the_tickets_own_account_team_by_default_E2_O4() -> None:
    """Without names the steps ask `resolve` for the customer's DSE, then its backup."""
    chain = enterprise_chain()
    asked: list[str] = []

    def account_team(step: Resolved, at: datetime) -> list[str]:
        assert isinstance(step, NotifyAccountTeam)
        asked.append(step.member)
        return {"dse": ["acme-dse"], "backup": ["acme-backup"]}[step.member]

    plan = plan_chain(chain, run_id="t-78", started_at=T0, resolve=account_team)
    assert asked == ["dse", "backup"]
    assert [(p.recipient, p.due_at) for p in plan if p.channel == VOICE] == [
        ("acme-dse", T0),
        ("acme-backup", minutes(15)),
    ]
    spec = json.loads(json.dumps(chain.to_spec()))
    assert spec["steps"][0] == {"notify_account": "dse", "channels": ["sms", "email", "voice"]}
    assert EscalationChain.from_spec(spec) == chain
    with pytest.raises(EscalationError, match=r"steps\[0\]: notify account: member must be"):
        EscalationChain.from_spec({"id": "x", "steps": [{"notify_account": "cto"}]})


def test_describe_chain_says_what_the_snapshot_does_O4() -> None:
    assert describe_chain(emergency_chain(schedule="msp-primary", role="architect")) == [
        "SMS + email to whoever is on call in msp-primary",
        "SMS + email to every architect",
        "wait 10 min for an acknowledgement",
        "repeat: 3 rounds in all, until someone acknowledges",
    ]
    assert describe_chain(enterprise_chain()) == [
        "SMS + email + VOICE to the customer's Dedicated Support Engineer",
        "wait 15 min for an acknowledgement",
        "SMS + email + VOICE to the customer's backup engineer",
        "wait 15 min for an acknowledgement",
    ]


def test_idempotency_key_is_run_step_round_recipient_channel_O5() -> None:
    chain = emergency_chain(schedule="msp-primary")
    a = plan_chain(chain, run_id="vm-1", started_at=T0, resolve=msp_resolver)
    again = plan_chain(chain, run_id="vm-1", started_at=T0, resolve=msp_resolver)
    other = plan_chain(chain, run_id="vm-2", started_at=T0, resolve=msp_resolver)
    assert [p.idempotency_key for p in a] == [p.idempotency_key for p in again]
    assert not {p.idempotency_key for p in a} & {p.idempotency_key for p in other}
    assert a[0].idempotency_key == "page:vm-1:0:1:eve:sms"
    # Separators inside parts cannot make two different tuples collide.
    assert idempotency_key("a:1", 0, 1, "b", "sms") != idempotency_key("a", 1, 0, "1:b", "sms")


def test_a_sweep_every_minute_sends_every_page_exactly_once_N2() -> None:
    plan = plan_chain(
        emergency_chain(schedule="msp-primary"), run_id="vm", started_at=T0, resolve=msp_resolver
    )
    sent: list[str] = []
    for m in range(0, 61):
        for page in pages_due(plan, acknowledged_at=None, now=minutes(m), sent=set(sent)):
            sent.append(page.idempotency_key)
    assert sorted(sent) == sorted(p.idempotency_key for p in plan)
    assert len(sent) == len(set(sent))


def test_chain_validation_O4() -> None:
    with pytest.raises(EscalationError, match="wait step"):
        EscalationChain("c", (NotifyPersons(("ann",)),), rounds=2)
    with pytest.raises(EscalationError, match="notify step"):
        EscalationChain("c", (Wait(5),))
    with pytest.raises(EscalationError, match="unknown channel"):
        NotifyPersons(("ann",), ("pigeon",))  # type: ignore[arg-type]
    with pytest.raises(EscalationError, match="not one string"):
        NotifyPersons("ann")  # type: ignore[arg-type]
    with pytest.raises(EscalationError, match="minutes"):
        Wait(0)
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_chain(
            emergency_chain(schedule="s"),
            run_id="r",
            started_at=datetime(2025, 3, 10, 3, 12),
            resolve=msp_resolver,
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        pages_due([], acknowledged_at=None, now=datetime(2025, 3, 10))


def test_chain_spec_round_trip_O4() -> None:
    chain = EscalationChain(
        "mixed",
        (
            NotifyOnCall("primary", (SMS,)),
            NotifyRole("system_architect", (SMS, EMAIL)),
            Wait(5),
            NotifyPersons(("boss", "cto"), (VOICE,)),
            Wait(15),
        ),
        rounds=2,
        name="Mixed",
    )
    spec = json.loads(json.dumps(chain.to_spec()))
    assert spec["steps"][0] == {"notify_on_call": "primary", "channels": ["sms"]}
    assert spec["steps"][2] == {"wait_minutes": 5}
    assert EscalationChain.from_spec(spec) == chain
    with pytest.raises(EscalationError, match=r"steps\[0\]"):
        EscalationChain.from_spec({"id": "x", "steps": [{"wait_minutes": 5, "notify_role": "r"}]})


steps = st.one_of(
    st.builds(Wait, st.integers(1, 30)),
    st.builds(
        NotifyPersons,
        st.lists(st.sampled_from(("ann", "ben", "cat")), min_size=1, max_size=3).map(tuple),
        st.lists(st.sampled_from(list(Channel)), min_size=1, max_size=3, unique=True).map(tuple),
    ),
    st.builds(NotifyOnCall, st.just("primary")),
    st.builds(NotifyRole, st.just("system_architect")),
    st.builds(NotifyAccountTeam, st.sampled_from(("dse", "backup"))),
)


@st.composite
def chains(draw: st.DrawFn) -> EscalationChain:
    body = draw(st.lists(steps, min_size=1, max_size=6))
    if all(isinstance(s, Wait) for s in body):
        body.append(NotifyPersons(("ann",)))
    body.append(Wait(draw(st.integers(1, 20))))
    return EscalationChain("c", tuple(body), rounds=draw(st.integers(1, 4)))


def any_resolver(step: Resolved, at: datetime) -> list[str]:
    return ["ann"] if isinstance(step, NotifyOnCall) else ["ann", "dora"]


@settings(max_examples=scaled(150))
@given(
    chains(),
    st.lists(st.integers(0, 200), min_size=1, max_size=30),
    st.none() | st.integers(0, 200),
)
def test_no_page_is_ever_sent_twice_or_after_acknowledgement_O4_N2(
    chain: EscalationChain, sweep_minutes: list[int], ack_minute: int | None
) -> None:
    plan = plan_chain(chain, run_id="run", started_at=T0, resolve=any_resolver)
    ack = None if ack_minute is None else minutes(ack_minute)
    log: list[tuple[datetime, PlannedPage]] = []  # (sweep time, page sent)
    for m in sorted(sweep_minutes):
        sent = {p.idempotency_key for _, p in log}
        log += [
            (minutes(m), p) for p in pages_due(plan, acknowledged_at=ack, now=minutes(m), sent=sent)
        ]
    keys = [p.idempotency_key for _, p in log]
    assert len(keys) == len(set(keys))  # never twice
    for sweep_at, page in log:
        assert page.due_at <= sweep_at  # never early
        assert ack is None or sweep_at < ack  # never after the acknowledgement
    if ack is None:  # without an acknowledgement the last sweep catches up on everything due
        last = minutes(max(sweep_minutes))
        assert sorted(keys) == sorted(p.idempotency_key for p in plan if p.due_at <= last)
    # All rounds fit within the chain's length, and one recipient never gets the same channel
    # twice at the same instant.
    assert all(T0 <= p.due_at < chain_end(chain, T0) for p in plan)
    slots = [(p.due_at, p.recipient, p.channel) for p in plan]
    assert len(slots) == len(set(slots))


def test_chain_instants_are_when_notify_steps_fall_due_O4() -> None:
    chain = emergency_chain(schedule="msp-primary")
    assert chain_instants(chain, T0) == [minutes(0), minutes(10), minutes(20)]
    dse = enterprise_chain(dse="dse", backup="bk", backup_after_minutes=15)
    assert chain_instants(dse, T0) == [minutes(0), minutes(15)]


@settings(max_examples=scaled(100))
@given(chains())
def test_planning_instant_by_instant_is_the_whole_plan_O4(chain: EscalationChain) -> None:
    """Issue 17.5: a sweep plans each instant when it falls due (`only_at`); together the
    instants give exactly the plan made at the start, and ask `resolve` only for their own."""
    whole = plan_chain(chain, run_id="run", started_at=T0, resolve=any_resolver)
    by_instant: list[PlannedPage] = []
    for at in chain_instants(chain, T0):
        asked: list[datetime] = []

        def resolve(step: Resolved, when: datetime, asked: list[datetime] = asked) -> list[str]:
            asked.append(when)
            return any_resolver(step, when)

        part = plan_chain(chain, run_id="run", started_at=T0, resolve=resolve, only_at=at)
        assert {p.due_at for p in part} <= {at} and set(asked) <= {at}
        by_instant += part
    assert by_instant == whole
