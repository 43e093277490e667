"""What an event does to its alert, and who hears of it (N-1, E-3, E-4). Pure: `at` is passed in.

One alert per fingerprint: a repeat while firing only updates it; `resolved` resolves it; firing
again after a resolution reopens it. An alert that reopens `flap_threshold` times within
`flap_window` is flapping, and its notifications are held back (recorded, not dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
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


@dataclass(frozen=True)
class Policy:
    """An integration's rules: which severities mail the administrators at once, which go in
    the digest, what counts as a total outage, and when an alert is flapping."""

    notify: frozenset[Severity] = frozenset({Severity.CRITICAL, Severity.ERROR, Severity.WARNING})
    digest: frozenset[Severity] = frozenset({Severity.INFO})
    outage: frozenset[Severity] = frozenset({Severity.CRITICAL})
    outage_assets: int = 0  # this many distinct assets of one customer firing = outage (0: off)
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


class Route(StrEnum):
    MAIL = "mail"  # the administrators are mailed (grouped per customer)
    DIGEST = "digest"  # collected into the customer's periodic digest
    NONE = "none"


@dataclass(frozen=True)
class Facts:
    """What the service knows about the alert's customer when the event arrives."""

    matched: bool
    contract_active: bool
    in_maintenance: bool
    firing_assets: int = 0


@dataclass(frozen=True)
class Decision:
    route: Route
    outage: bool = False
    suppressed: str = ""  # why nothing automatic happened, for the console
    reasons: tuple[str, ...] = field(default=())


def decide(transition: Transition, *, severity: Severity, facts: Facts, policy: Policy) -> Decision:
    """Who hears of this change. Unmatched alerts wait for an agent; a customer without an
    active contract gets nothing automatic (E-4); a maintenance window or flapping holds
    notifications back. A total outage is a critical alert, or `outage_assets` assets down."""
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
    if transition.change is Change.RESOLVED:
        route = Route.MAIL if severity in policy.notify else Route.NONE
        return Decision(route)
    outage = severity in policy.outage or (
        policy.outage_assets > 0 and facts.firing_assets >= policy.outage_assets
    )
    if severity in policy.notify:
        return Decision(Route.MAIL, outage=outage)
    if severity in policy.digest:
        return Decision(Route.DIGEST, outage=outage)
    return Decision(Route.NONE, outage=outage)


def group_due(first_event_at: datetime, *, group_wait: timedelta) -> datetime:
    """When the customer's grouped mail goes out: alerts firing within `group_wait` of the
    first share one message (Alertmanager's group_wait)."""
    return first_event_at + group_wait
