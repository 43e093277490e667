"""What an event does to its alert and who hears of it (N-1, E-3, E-4). Pure: no Django."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from supportdesk.monitoring.domain.alerts import (
    Change,
    Facts,
    NotificationRule,
    Policy,
    Route,
    Transition,
    apply_event,
    decide,
    route_for,
)
from supportdesk.monitoring.domain.payloads import Severity

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
POLICY = Policy()
COVERED = Facts(matched=True, contract_active=True, in_maintenance=False)


def test_first_firing_opens_repeats_update_resolution_resolves_N1() -> None:
    opened = apply_event(None, firing=True, at=T0, policy=POLICY)
    assert opened.change is Change.OPENED
    repeated = apply_event(opened.state, firing=True, at=T0 + timedelta(minutes=1), policy=POLICY)
    assert repeated.change is Change.REPEATED
    resolved = apply_event(
        repeated.state, firing=False, at=T0 + timedelta(minutes=2), policy=POLICY
    )
    assert resolved.change is Change.RESOLVED and not resolved.state.firing
    again = apply_event(resolved.state, firing=False, at=T0 + timedelta(minutes=3), policy=POLICY)
    assert again.change is Change.IGNORED


def test_a_resolution_of_an_unknown_alert_is_ignored_N1() -> None:
    assert apply_event(None, firing=False, at=T0, policy=POLICY).change is Change.IGNORED


def test_reopening_three_times_within_the_window_is_flapping_N1() -> None:
    state = apply_event(None, firing=True, at=T0, policy=POLICY).state
    changes = []
    for minute in range(1, 7):
        firing = minute % 2 == 0
        t = apply_event(state, firing=firing, at=T0 + timedelta(minutes=minute), policy=POLICY)
        changes.append((t.change, t.flapping))
        state = t.state
    assert changes[-1] == (Change.REOPENED, True)  # the third reopening in 30 minutes
    assert changes[1] == (Change.REOPENED, False)
    later = apply_event(state, firing=False, at=T0 + timedelta(hours=2), policy=POLICY)
    assert not later.flapping  # the window has passed


def test_who_hears_E4_maintenance_flapping_and_outage_N1() -> None:
    opened = Transition(Change.OPENED, apply_event(None, firing=True, at=T0, policy=POLICY).state)
    assert decide(opened, severity=Severity.WARNING, facts=COVERED, policy=POLICY).route is (
        Route.MAIL
    )
    critical = decide(opened, severity=Severity.CRITICAL, facts=COVERED, policy=POLICY)
    assert critical.route is Route.MAIL and critical.outage
    assert decide(opened, severity=Severity.INFO, facts=COVERED, policy=POLICY).route is (
        Route.DIGEST
    )
    uncovered = Facts(matched=True, contract_active=False, in_maintenance=False)
    no_contract = decide(opened, severity=Severity.CRITICAL, facts=uncovered, policy=POLICY)
    assert no_contract.route is Route.NONE and not no_contract.outage
    assert "E-4" in no_contract.suppressed
    quiet = Facts(matched=True, contract_active=True, in_maintenance=True)
    held = decide(opened, severity=Severity.CRITICAL, facts=quiet, policy=POLICY)
    assert held.route is Route.NONE and not held.outage and "maintenance" in held.suppressed
    flapping = Transition(Change.REOPENED, opened.state, flapping=True)
    assert (
        "flapping"
        in decide(flapping, severity=Severity.ERROR, facts=COVERED, policy=POLICY).suppressed
    )
    unmatched = Facts(matched=False, contract_active=False, in_maintenance=False)
    assert decide(opened, severity=Severity.CRITICAL, facts=unmatched, policy=POLICY).route is (
        Route.NONE
    )


def test_n_assets_down_is_an_outage_when_the_policy_says_so_N1() -> None:
    opened = Transition(Change.OPENED, apply_event(None, firing=True, at=T0, policy=POLICY).state)
    policy = Policy(outage=frozenset(), outage_assets=3)
    two = Facts(matched=True, contract_active=True, in_maintenance=False, firing_assets=2)
    three = Facts(matched=True, contract_active=True, in_maintenance=False, firing_assets=3)
    assert not decide(opened, severity=Severity.ERROR, facts=two, policy=policy).outage
    assert decide(opened, severity=Severity.ERROR, facts=three, policy=policy).outage


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 600)), max_size=40))
def test_the_alert_state_follows_the_last_event_and_repeats_never_notify_N1(steps) -> None:
    state, at = None, T0
    for firing, gap in steps:
        at += timedelta(seconds=gap)
        transition = apply_event(state, firing=firing, at=at, policy=POLICY)
        if transition.change is Change.REPEATED:
            decision = decide(transition, severity=Severity.CRITICAL, facts=COVERED, policy=POLICY)
            assert decision.route is Route.NONE and not decision.outage
        if state is not None or firing:
            assert transition.state.firing == firing
        if transition.change is Change.REOPENED:
            assert all(at - t < POLICY.flap_window for t in transition.state.reopenings)
        state = transition.state


def _opened() -> Transition:
    return Transition(Change.OPENED, apply_event(None, firing=True, at=T0, policy=POLICY).state)


def test_the_first_notification_rule_that_holds_decides_the_route_N1() -> None:
    policy = Policy(
        rules=(
            NotificationRule(route=Route.NONE, labels=(("env", "lab"),)),
            NotificationRule(
                route=Route.DIGEST,
                severities=frozenset({Severity.WARNING}),
                plans=frozenset({"basic"}),
            ),
            NotificationRule(route=Route.MAIL, severities=frozenset({Severity.INFO})),
        )
    )
    basic = Facts(matched=True, contract_active=True, in_maintenance=False, plan="basic")
    premium = Facts(matched=True, contract_active=True, in_maintenance=False, plan="premium")

    def route(
        severity: Severity, facts: Facts, labels: dict[str, str]
    ) -> tuple[Route, tuple[str, ...]]:
        d = decide(_opened(), severity=severity, facts=facts, policy=policy, labels=labels)
        return d.route, d.reasons

    assert route(Severity.CRITICAL, premium, {"env": "lab"}) == (
        Route.NONE,
        ("notification rule 1",),
    )
    assert route(Severity.WARNING, basic, {"env": "prod"}) == (
        Route.DIGEST,
        ("notification rule 2",),
    )
    # The plan condition fails for premium: the severity sets decide (warning mails at once).
    assert route(Severity.WARNING, premium, {}) == (Route.MAIL, ())
    assert route(Severity.INFO, premium, {}) == (Route.MAIL, ("notification rule 3",))


def test_a_silenced_route_still_opens_an_outage_resolutions_mail_only_where_firing_did_N1() -> None:
    policy = Policy(rules=(NotificationRule(route=Route.NONE),))
    quiet = decide(_opened(), severity=Severity.CRITICAL, facts=COVERED, policy=policy)
    assert quiet.route is Route.NONE and quiet.outage
    state = apply_event(None, firing=True, at=T0, policy=policy).state
    resolved = apply_event(state, firing=False, at=T0 + timedelta(minutes=5), policy=policy)
    assert (
        decide(resolved, severity=Severity.CRITICAL, facts=COVERED, policy=policy).route
        is Route.NONE
    )
    digest = Policy(rules=(NotificationRule(route=Route.DIGEST),))
    assert (
        decide(resolved, severity=Severity.INFO, facts=COVERED, policy=digest).route is Route.NONE
    )


_SEVERITIES = st.sampled_from(list(Severity))
_RULES = st.lists(
    st.builds(
        NotificationRule,
        route=st.sampled_from(list(Route)),
        severities=st.frozensets(_SEVERITIES, max_size=2),
        labels=st.lists(st.tuples(st.sampled_from("ab"), st.sampled_from("xy")), max_size=2).map(
            tuple
        ),
        plans=st.frozensets(st.sampled_from(["basic", "premium"]), max_size=1),
    ),
    max_size=4,
)


@given(
    rules=_RULES,
    severity=_SEVERITIES,
    labels=st.dictionaries(st.sampled_from("ab"), st.sampled_from("xy"), max_size=2),
    plan=st.sampled_from(["", "basic", "premium"]),
)
def test_routing_is_the_first_holding_rule_else_the_severity_sets_N1(
    rules: list[NotificationRule], severity: Severity, labels: dict[str, str], plan: str
) -> None:
    policy = Policy(rules=tuple(rules))
    got, why = route_for(severity=severity, labels=labels, plan=plan, policy=policy)
    holding = [
        n
        for n, r in enumerate(rules, start=1)
        if (not r.severities or severity in r.severities)
        and all(labels.get(k) == v for k, v in r.labels)
        and (not r.plans or plan in r.plans)
    ]
    if holding:
        assert (got, why) == (rules[holding[0] - 1].route, f"notification rule {holding[0]}")
    else:
        assert why == ""
        assert got == route_for(severity=severity, labels=labels, plan=plan, policy=Policy())[0]
    # E-4 and maintenance come before any rule: nothing automatic, whatever the rules say.
    uncovered = Facts(matched=True, contract_active=False, in_maintenance=False, plan=plan)
    assert (
        decide(_opened(), severity=severity, facts=uncovered, policy=policy, labels=labels).route
        is Route.NONE
    )
