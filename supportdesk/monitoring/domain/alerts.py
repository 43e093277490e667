"""What an event does to its alert, and who hears of it (N-1, E-3, E-4). Pure: `at` is passed in.

One alert per fingerprint: a repeat while firing only updates it; `resolved` resolves it; firing
again after a resolution reopens it. An alert that reopens `flap_threshold` times within
`flap_window` is flapping, and its notifications are held back (recorded, not dropped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from supportdesk.monitoring.domain.payloads import Severity


class Change(StrEnum):
    OPENED = "opened"
    REPEATED = "repeated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    IGNORED = "ignored"  # a resolution of an alert that is not firing


@dataclass(frozen=True)
class AlertState:
    firing: bool
    reopenings: tuple[datetime, ...] = ()


class Route(StrEnum):
    MAIL = "mail"  # the administrators are mailed (grouped per customer)
    DIGEST = "digest"  # collected into the customer's periodic digest
    NONE = "none"


@dataclass(frozen=True)
class NotificationRule:
    """One line of an integration's routing table. The first rule whose conditions all hold
    decides how the administrators hear of an alert; a condition left empty holds for any alert.
    `plan` is the slug of the plan of the customer's contract in force."""

    route: Route
    severities: frozenset[Severity] = frozenset()
    labels: tuple[tuple[str, str], ...] = ()
    plans: frozenset[str] = frozenset()

    def holds(self, *, severity: Severity, labels: Mapping[str, str], plan: str) -> bool:
        return (
            (not self.severities or severity in self.severities)
            and all(labels.get(name) == value for name, value in self.labels)
            and (not self.plans or plan in self.plans)
        )


@dataclass(frozen=True)
class Policy:
    """An integration's rules: which severities mail the administrators at once, which go in
    the digest, what counts as a total outage, and when an alert is flapping."""

    notify: frozenset[Severity] = frozenset({Severity.CRITICAL, Severity.ERROR, Severity.WARNING})
    digest: frozenset[Severity] = frozenset({Severity.INFO})
    outage: frozenset[Severity] = frozenset({Severity.CRITICAL})
    outage_assets: int = 0  # this many distinct assets of one customer firing = outage (0: off)
    rules: tuple[NotificationRule, ...] = ()  # tried first; the severity sets are the fallback
    flap_window: timedelta = timedelta(minutes=30)
    flap_threshold: int = 3


@dataclass(frozen=True)
class Transition:
    change: Change
    state: AlertState
    flapping: bool = False


def apply_event(
    state: AlertState | None, *, firing: bool, at: datetime, policy: Policy
) -> Transition:
    if state is None:
        if not firing:
            return Transition(Change.IGNORED, AlertState(firing=False))
        return Transition(Change.OPENED, AlertState(firing=True))
    if firing and state.firing:
        return Transition(Change.REPEATED, state, flapping=_flapping(state.reopenings, at, policy))
    if not firing:
        if not state.firing:
            return Transition(Change.IGNORED, state)
        return Transition(
            Change.RESOLVED,
            replace(state, firing=False),
            flapping=_flapping(state.reopenings, at, policy),
        )
    recent = (*(t for t in state.reopenings if at - t < policy.flap_window), at)
    return Transition(
        Change.REOPENED,
        AlertState(firing=True, reopenings=recent),
        flapping=_flapping(recent, at, policy),
    )


def _flapping(reopenings: Sequence[datetime], at: datetime, policy: Policy) -> bool:
    return sum(1 for t in reopenings if at - t < policy.flap_window) >= policy.flap_threshold


@dataclass(frozen=True)
class Facts:
    """What the service knows about the alert's customer when the event arrives."""

    matched: bool
    contract_active: bool
    in_maintenance: bool
    firing_assets: int = 0
    plan: str = ""


@dataclass(frozen=True)
class Decision:
    route: Route
    outage: bool = False
    suppressed: str = ""  # why nothing automatic happened, for the console
    reasons: tuple[str, ...] = field(default=())


def route_for(
    *, severity: Severity, labels: Mapping[str, str], plan: str, policy: Policy
) -> tuple[Route, str]:
    """How the administrators hear of an alert, and which rule said so ("" for the fallback)."""
    for number, rule in enumerate(policy.rules, start=1):
        if rule.holds(severity=severity, labels=labels, plan=plan):
            return rule.route, f"notification rule {number}"
    if severity in policy.notify:
        return Route.MAIL, ""
    if severity in policy.digest:
        return Route.DIGEST, ""
    return Route.NONE, ""


def decide(
    transition: Transition,
    *,
    severity: Severity,
    facts: Facts,
    policy: Policy,
    labels: Mapping[str, str] | None = None,
) -> Decision:
    """Who hears of this change. Unmatched alerts wait for an agent; a customer without an
    active contract gets nothing automatic (E-4); a maintenance window or flapping holds
    notifications back. The integration's rules (severity, labels, customer plan) choose mail,
    digest or nothing; a resolution is mailed only where the firing was. A total outage is an
    outage-severity alert, or `outage_assets` assets down, whatever the rules say of mail."""
    if transition.change in (Change.IGNORED, Change.REPEATED):
        return Decision(Route.NONE)
    if not facts.matched:
        return Decision(Route.NONE, suppressed="not matched to a customer yet")
    if not facts.contract_active:
        return Decision(Route.NONE, suppressed="the customer has no active contract (E-4)")
    if facts.in_maintenance:
        return Decision(Route.NONE, suppressed="a maintenance window is in effect")
    if transition.flapping:
        return Decision(Route.NONE, suppressed="the alert is flapping")
    route, rule = route_for(severity=severity, labels=labels or {}, plan=facts.plan, policy=policy)
    reasons = (rule,) if rule else ()
    if transition.change is Change.RESOLVED:
        return Decision(Route.MAIL if route is Route.MAIL else Route.NONE, reasons=reasons)
    outage = severity in policy.outage or (
        policy.outage_assets > 0 and facts.firing_assets >= policy.outage_assets
    )
    return Decision(route, outage=outage, reasons=reasons)


def group_due(first_event_at: datetime, *, group_wait: timedelta) -> datetime:
    """When the customer's grouped mail goes out: alerts firing within `group_wait` of the
    first share one message (Alertmanager's group_wait)."""
    return first_event_at + group_wait
