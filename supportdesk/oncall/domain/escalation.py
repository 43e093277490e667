"""Escalation chains (O-4) as data, planned into pages with idempotency keys (O-5, N-2).

A chain is an ordered list of steps run ``rounds`` times:

* :class:`NotifyOnCall` — whoever is on call in schedule X when the step is due,
* :class:`NotifyRole` — everybody holding role R (e.g. all system architects),
* :class:`NotifyPersons` — named people,
* :class:`NotifyAccountTeam` — the customer's Dedicated Support Engineer, or its backup (E-2),
* :class:`Wait` — wait N minutes for an acknowledgement before the next step.

Consecutive notify steps with no ``Wait`` between them fire at the same instant ("at once").
A round lasts as long as the sum of its waits; round ``r`` (1-based) starts at
``started_at + (r - 1) × round length``. An acknowledgement stops everything still to come.

The module is pure: :func:`plan_chain` asks a ``resolve`` callback who a step means at the time
the step is due (so on-call look-ups and role membership stay outside), and
:func:`pages_due` tells a sweep what to send now. Every planned page carries an idempotency key
``(run id, step, round, recipient, channel)`` — the outbox uses it so a page is never sent twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple
from urllib.parse import quote

from ._time import ensure_aware

__all__ = [
    "SYSTEM_ARCHITECT_ROLE",
    "Channel",
    "EscalationChain",
    "EscalationError",
    "NotifyAccountTeam",
    "NotifyOnCall",
    "NotifyPersons",
    "NotifyRole",
    "PlannedPage",
    "Resolved",
    "Resolver",
    "Step",
    "Wait",
    "chain_end",
    "chain_instants",
    "describe_chain",
    "emergency_chain",
    "enterprise_chain",
    "idempotency_key",
    "next_due_at",
    "pages_due",
    "plan_chain",
]

SYSTEM_ARCHITECT_ROLE = "system_architect"
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+\-]{0,127}$")
MAX_WAIT_MINUTES = 24 * 60
MAX_ROUNDS = 20
ACCOUNT_MEMBERS = ("dse", "backup")


class EscalationError(ValueError):
    """An escalation chain (or a request against one) is invalid."""


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    VOICE = "voice"


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise EscalationError(
            f"{what} must be 1-128 characters of letters, digits and _.:@+- "
            f"(starting with a letter or digit), got {value!r}"
        )
    return value


def _channels(value: object, what: str) -> tuple[Channel, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise EscalationError(f"{what}: channels must be a list of sms/email/voice")
    out: list[Channel] = []
    for item in value:
        try:
            channel = Channel(item)
        except ValueError:
            raise EscalationError(
                f"{what}: unknown channel {item!r} (expected sms, email or voice)"
            ) from None
        if channel in out:
            raise EscalationError(f"{what}: channel {channel.value!r} listed twice")
        out.append(channel)
    if not out:
        raise EscalationError(f"{what}: at least one channel is required")
    return tuple(out)


@dataclass(frozen=True)
class NotifyOnCall:
    """Page whoever is on call in ``schedule`` when the step is due."""

    schedule: str
    channels: tuple[Channel, ...] = (Channel.SMS, Channel.EMAIL)

    def __post_init__(self) -> None:
        _check_id(self.schedule, "schedule id")
        object.__setattr__(self, "channels", _channels(self.channels, "notify on-call"))


@dataclass(frozen=True)
class NotifyRole:
    """Page everybody holding ``role`` (e.g. every system architect)."""

    role: str
    channels: tuple[Channel, ...] = (Channel.SMS, Channel.EMAIL)

    def __post_init__(self) -> None:
        _check_id(self.role, "role")
        object.__setattr__(self, "channels", _channels(self.channels, "notify role"))


@dataclass(frozen=True)
class NotifyPersons:
    """Page the named people."""

    persons: tuple[str, ...]
    channels: tuple[Channel, ...] = (Channel.SMS, Channel.EMAIL)

    def __post_init__(self) -> None:
        if isinstance(self.persons, str):
            raise EscalationError("notify persons: persons must be a list of ids, not one string")
        persons = tuple(self.persons)
        if not persons:
            raise EscalationError("notify persons: at least one person id is required")
        for p in persons:
            _check_id(p, "person id")
        object.__setattr__(self, "persons", persons)
        object.__setattr__(self, "channels", _channels(self.channels, "notify persons"))


@dataclass(frozen=True)
class NotifyAccountTeam:
    """Page the Dedicated Support Engineer (``member="dse"``) or the backup engineer
    (``"backup"``) of the customer whose ticket the escalation is for (E-2)."""

    member: str
    channels: tuple[Channel, ...] = (Channel.SMS, Channel.EMAIL)

    def __post_init__(self) -> None:
        if self.member not in ACCOUNT_MEMBERS:
            raise EscalationError(
                f"notify account: member must be one of {', '.join(ACCOUNT_MEMBERS)}, "
                f"got {self.member!r}"
            )
        object.__setattr__(self, "channels", _channels(self.channels, "notify account"))


@dataclass(frozen=True)
class Wait:
    """Wait ``minutes`` for an acknowledgement before going on."""

    minutes: int

    def __post_init__(self) -> None:
        m = self.minutes
        if not isinstance(m, int) or isinstance(m, bool) or not 1 <= m <= MAX_WAIT_MINUTES:
            raise EscalationError(
                f"wait must be a whole number of minutes from 1 to {MAX_WAIT_MINUTES}, got {m!r}"
            )


NotifyStep = NotifyOnCall | NotifyRole | NotifyPersons | NotifyAccountTeam
Step = NotifyOnCall | NotifyRole | NotifyPersons | NotifyAccountTeam | Wait
Resolved = NotifyOnCall | NotifyRole | NotifyAccountTeam
Resolver = Callable[[Resolved, datetime], Iterable[str]]


@dataclass(frozen=True)
class EscalationChain:
    """Ordered steps, run up to ``rounds`` times in total until someone acknowledges."""

    id: str
    steps: tuple[Step, ...]
    rounds: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        _check_id(self.id, "chain id")
        steps = tuple(self.steps)
        if not all(isinstance(s, NotifyStep | Wait) for s in steps):
            raise EscalationError(f"chain {self.id!r}: steps must be notify or wait steps")
        if not any(not isinstance(s, Wait) for s in steps):
            raise EscalationError(f"chain {self.id!r}: needs at least one notify step")
        r = self.rounds
        if not isinstance(r, int) or isinstance(r, bool) or not 1 <= r <= MAX_ROUNDS:
            raise EscalationError(f"chain {self.id!r}: rounds must be 1..{MAX_ROUNDS}, got {r!r}")
        object.__setattr__(self, "steps", steps)
        if r > 1 and self.round_length == timedelta(0):
            raise EscalationError(
                f"chain {self.id!r}: repeating needs a wait step, or every round would fire at once"
            )

    @property
    def round_length(self) -> timedelta:
        return timedelta(minutes=sum(s.minutes for s in self.steps if isinstance(s, Wait)))

    def to_spec(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "rounds": self.rounds,
            "steps": [_step_to_spec(s) for s in self.steps],
        }

    @classmethod
    def from_spec(cls, data: Mapping[str, Any]) -> EscalationChain:
        if not isinstance(data, Mapping):
            raise EscalationError("chain must be an object")
        unknown = sorted(set(data) - {"id", "name", "rounds", "steps"})
        if unknown:
            raise EscalationError(f"chain: unknown field(s) {', '.join(map(str, unknown))}")
        steps = data.get("steps")
        if not isinstance(steps, list | tuple):
            raise EscalationError("chain.steps must be a list")
        return cls(
            id=data.get("id"),  # type: ignore[arg-type]  # validated in __post_init__
            steps=tuple(_step_from_spec(s, f"steps[{i}]") for i, s in enumerate(steps)),
            rounds=data.get("rounds", 1),
            name=str(data.get("name", "")),
        )


def _step_to_spec(step: Step) -> dict[str, Any]:
    if isinstance(step, Wait):
        return {"wait_minutes": step.minutes}
    channels = [c.value for c in step.channels]
    if isinstance(step, NotifyOnCall):
        return {"notify_on_call": step.schedule, "channels": channels}
    if isinstance(step, NotifyRole):
        return {"notify_role": step.role, "channels": channels}
    if isinstance(step, NotifyAccountTeam):
        return {"notify_account": step.member, "channels": channels}
    return {"notify_persons": list(step.persons), "channels": channels}


STEP_KINDS = ("wait_minutes", "notify_on_call", "notify_role", "notify_persons", "notify_account")


def _step_from_spec(data: object, where: str) -> Step:
    if not isinstance(data, Mapping):
        raise EscalationError(f"{where} must be an object")
    kinds = [k for k in STEP_KINDS if k in data]
    if len(kinds) != 1:
        raise EscalationError(f"{where} must have exactly one of {', '.join(STEP_KINDS)}")
    kind = kinds[0]
    allowed = {kind} if kind == "wait_minutes" else {kind, "channels"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise EscalationError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
    try:
        if kind == "wait_minutes":
            return Wait(data[kind])
        channels = data.get("channels", ["sms", "email"])
        if kind == "notify_on_call":
            return NotifyOnCall(data[kind], channels)
        if kind == "notify_role":
            return NotifyRole(data[kind], channels)
        if kind == "notify_account":
            return NotifyAccountTeam(data[kind], channels)
        persons = data[kind]
        if not isinstance(persons, list | tuple):
            raise EscalationError("notify_persons must be a list of person ids")
        return NotifyPersons(tuple(persons), channels)
    except EscalationError as exc:
        raise EscalationError(f"{where}: {exc}") from None


class PlannedPage(NamedTuple):
    """One message to one recipient on one channel. ``round`` is 1-based, ``step_index`` is the
    0-based index into ``chain.steps``."""

    step_index: int
    round: int
    due_at: datetime
    recipient: str
    channel: Channel
    idempotency_key: str


def idempotency_key(run_id: str, step_index: int, round_: int, recipient: str, channel: str) -> str:
    """``page:<run>:<step>:<round>:<recipient>:<channel>`` with each part percent-encoded, so
    distinct tuples always give distinct keys."""
    parts = (run_id, str(step_index), str(round_), recipient, str(channel))
    return "page:" + ":".join(quote(p, safe="") for p in parts)


def plan_chain(
    chain: EscalationChain,
    *,
    run_id: str,
    started_at: datetime,
    resolve: Resolver,
    only_at: datetime | None = None,
) -> list[PlannedPage]:
    """Every page the chain would send if nobody acknowledged, in send order.

    With ``only_at``, only the pages of the steps due at that instant (one of
    :func:`chain_instants`): what a sweep asks when the instant falls due, so each step pages
    whoever is on call then (an override made during the escalation is honoured).

    ``resolve(step, due_at)`` returns the recipient ids a :class:`NotifyOnCall`,
    :class:`NotifyRole` or :class:`NotifyAccountTeam` step means at ``due_at``;
    :class:`NotifyPersons` needs no resolving.
    A step that resolves to nobody sends nothing (callers should log that). Within one instant
    of one round a recipient gets each channel once even if several steps name them (the
    on-call engineer who is also an architect gets one SMS, not two); the first step keeps it.
    Store the result with the run: it is the snapshot of the policy (house rule 9).
    """
    _check_id(run_id, "run id")
    started_at = ensure_aware(started_at, "started_at")
    pages: list[PlannedPage] = []
    for round_ in range(1, chain.rounds + 1):
        due = started_at + (round_ - 1) * chain.round_length
        sent_at_instant: set[tuple[str, Channel]] = set()
        for index, step in enumerate(chain.steps):
            if isinstance(step, Wait):
                due += timedelta(minutes=step.minutes)
                sent_at_instant = set()
                continue
            if only_at is not None and due != only_at:
                continue
            if isinstance(step, NotifyPersons):
                recipients: Iterable[str] = step.persons
            else:
                recipients = resolve(step, due)
                if isinstance(recipients, str):
                    raise EscalationError("resolve must return a list of recipient ids, not a str")
            for recipient in dict.fromkeys(recipients):
                _check_id(recipient, "recipient id")
                for channel in step.channels:
                    if (recipient, channel) in sent_at_instant:
                        continue
                    sent_at_instant.add((recipient, channel))
                    key = idempotency_key(run_id, index, round_, recipient, channel.value)
                    pages.append(PlannedPage(index, round_, due, recipient, channel, key))
    return pages


def chain_instants(chain: EscalationChain, started_at: datetime) -> list[datetime]:
    """The instants at which notify steps fall due, in order (each round's steps with no
    ``Wait`` between them share one)."""
    started_at = ensure_aware(started_at, "started_at")
    instants: list[datetime] = []
    for round_ in range(1, chain.rounds + 1):
        due = started_at + (round_ - 1) * chain.round_length
        for step in chain.steps:
            if isinstance(step, Wait):
                due += timedelta(minutes=step.minutes)
            elif not instants or instants[-1] != due:
                instants.append(due)
    return instants


def _acknowledged(acknowledged_at: datetime | None, now: datetime) -> bool:
    if acknowledged_at is None:
        return False
    return ensure_aware(acknowledged_at, "acknowledged_at") <= now


def pages_due(
    plan: Iterable[PlannedPage],
    *,
    acknowledged_at: datetime | None,
    now: datetime,
    sent: Collection[str] = frozenset(),
) -> list[PlannedPage]:
    """Pages to send at ``now``: due, not yet sent (by idempotency key), and nothing at all once
    the run has been acknowledged."""
    now = ensure_aware(now, "now")
    if _acknowledged(acknowledged_at, now):
        return []
    return [p for p in plan if p.due_at <= now and p.idempotency_key not in sent]


def next_due_at(
    plan: Iterable[PlannedPage],
    *,
    acknowledged_at: datetime | None,
    now: datetime,
    sent: Collection[str] = frozenset(),
) -> datetime | None:
    """When the sweep should next look at this run (``None``: nothing left to send)."""
    now = ensure_aware(now, "now")
    if _acknowledged(acknowledged_at, now):
        return None
    pending = [p.due_at for p in plan if p.idempotency_key not in sent]
    return min(pending) if pending else None


def chain_end(chain: EscalationChain, started_at: datetime) -> datetime:
    """When an unacknowledged run is exhausted (after the last round's waits)."""
    return ensure_aware(started_at, "started_at") + chain.rounds * chain.round_length


def _describe_step(step: Step) -> str:
    if isinstance(step, Wait):
        return f"wait {step.minutes} min for an acknowledgement"
    how = " + ".join(c.value.upper() if c != Channel.EMAIL else "email" for c in step.channels)
    if isinstance(step, NotifyOnCall):
        return f"{how} to whoever is on call in {step.schedule}"
    if isinstance(step, NotifyRole):
        return f"{how} to every {step.role.replace('_', ' ')}"
    if isinstance(step, NotifyAccountTeam):
        who = "Dedicated Support Engineer" if step.member == "dse" else "backup engineer"
        return f"{how} to the customer's {who}"
    return f"{how} to {', '.join(step.persons)}"


def describe_chain(chain: EscalationChain) -> list[str]:
    """The chain in words, one line per step, then the rounds: what a console shows of the
    snapshot an escalation runs on."""
    lines = [_describe_step(s) for s in chain.steps]
    if chain.rounds > 1:
        lines.append(f"repeat: {chain.rounds} rounds in all, until someone acknowledges")
    return lines


# ---------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------


def emergency_chain(
    *,
    schedule: str,
    role: str = SYSTEM_ARCHITECT_ROLE,
    wait_minutes: int = 10,
    rounds: int = 3,
    channels: Iterable[Channel | str] = (Channel.SMS, Channel.EMAIL),
    chain_id: str = "emergency",
) -> EscalationChain:
    """O-2 / seed 001: page the on-call engineer **and** every system architect at once by SMS
    and email, wait 10 minutes for an acknowledgement, and page them all again — 3 rounds in
    all (pages at +0, +10 and +20 minutes; exhausted at +30)."""
    chans = _channels(channels, "emergency chain")
    return EscalationChain(
        id=chain_id,
        name="Emergency (after-hours voicemail)",
        rounds=rounds,
        steps=(NotifyOnCall(schedule, chans), NotifyRole(role, chans), Wait(wait_minutes)),
    )


def enterprise_chain(
    *,
    dse: str | None = None,
    backup: str | None = None,
    backup_after_minutes: int = 15,
    channels: Iterable[Channel | str] = (Channel.SMS, Channel.EMAIL, Channel.VOICE),
    chain_id: str = "enterprise-dse",
) -> EscalationChain:
    """E-2 / seed 000: the customer's Dedicated Support Engineer first (pager, e-mail and direct
    phone), then the backup engineer if nobody acknowledged within ``backup_after_minutes``.
    The run counts as exhausted ``backup_after_minutes`` after the backup was paged.

    Without ``dse``/``backup`` the steps name the account team of whichever customer the
    ticket belongs to (:class:`NotifyAccountTeam`); with them, those two people for everyone.
    """
    chans = _channels(channels, "enterprise chain")
    first: NotifyStep
    then: NotifyStep
    if dse is None and backup is None:
        first, then = NotifyAccountTeam("dse", chans), NotifyAccountTeam("backup", chans)
    elif dse is None or backup is None:
        raise EscalationError("name both the Dedicated Support Engineer and the backup, or neither")
    elif dse == backup:
        raise EscalationError("the backup engineer must differ from the Dedicated Support Engineer")
    else:
        first, then = NotifyPersons((dse,), chans), NotifyPersons((backup,), chans)
    return EscalationChain(
        id=chain_id,
        name="Dedicated Support Engineer, then backup",
        steps=(first, Wait(backup_after_minutes), then, Wait(backup_after_minutes)),
    )
