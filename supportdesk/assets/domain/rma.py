"""The RMA workflow (H-2, H-3) as a pure state machine: which action moves an RMA from which
state to which, and why an action is refused. The services apply the result; every refusal
carries the message the API and the console show (a 4xx, never a 500).

Advance exchange (H-2)::

    open ─ship_replacement→ replacement_shipped ─receive_defective→ returned
      │                        └─bill_unreturned (overdue, per plan)→ unit_billed
      └─cancel→ cancelled

Return to factory (H-3)::

    awaiting_unit ─receive→ received ─send_to_manufacturer→ at_manufacturer ─quote→ quoted
    quoted ─approve→ approved ─mark_repaired→ repaired ─ship_back (paid)→ shipped_back
    quoted ─decline→ declined ─ship_back→ shipped_back          awaiting_unit ─cancel→ cancelled

Lead-time (H-3) and return (H-2) deadlines are in :func:`deadline_due`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class RmaRefused(Exception):
    """An action the workflow does not allow now; ``str()`` is the message for people."""


class Kind(enum.StrEnum):
    ADVANCE_EXCHANGE = "advance_exchange"
    RETURN_TO_FACTORY = "return_to_factory"


class State(enum.StrEnum):
    # advance exchange
    OPEN = "open"
    REPLACEMENT_SHIPPED = "replacement_shipped"
    RETURNED = "returned"
    UNIT_BILLED = "unit_billed"
    # return to factory
    AWAITING_UNIT = "awaiting_unit"
    RECEIVED = "received"
    AT_MANUFACTURER = "at_manufacturer"
    QUOTED = "quoted"
    APPROVED = "approved"
    DECLINED = "declined"
    REPAIRED = "repaired"
    SHIPPED_BACK = "shipped_back"
    # both
    CANCELLED = "cancelled"


class Action(enum.StrEnum):
    SHIP_REPLACEMENT = "ship_replacement"
    RECEIVE_DEFECTIVE = "receive_defective"
    BILL_UNRETURNED = "bill_unreturned"
    RECEIVE = "receive"
    SEND_TO_MANUFACTURER = "send_to_manufacturer"
    QUOTE = "quote"
    APPROVE = "approve"
    DECLINE = "decline"
    MARK_REPAIRED = "mark_repaired"
    SHIP_BACK = "ship_back"
    CANCEL = "cancel"


INITIAL: dict[Kind, State] = {
    Kind.ADVANCE_EXCHANGE: State.OPEN,
    Kind.RETURN_TO_FACTORY: State.AWAITING_UNIT,
}

TRANSITIONS: dict[Kind, dict[tuple[State, Action], State]] = {
    Kind.ADVANCE_EXCHANGE: {
        (State.OPEN, Action.SHIP_REPLACEMENT): State.REPLACEMENT_SHIPPED,
        (State.OPEN, Action.CANCEL): State.CANCELLED,
        (State.REPLACEMENT_SHIPPED, Action.RECEIVE_DEFECTIVE): State.RETURNED,
        (State.REPLACEMENT_SHIPPED, Action.BILL_UNRETURNED): State.UNIT_BILLED,
    },
    Kind.RETURN_TO_FACTORY: {
        (State.AWAITING_UNIT, Action.RECEIVE): State.RECEIVED,
        (State.AWAITING_UNIT, Action.CANCEL): State.CANCELLED,
        (State.RECEIVED, Action.SEND_TO_MANUFACTURER): State.AT_MANUFACTURER,
        (State.AT_MANUFACTURER, Action.QUOTE): State.QUOTED,
        (State.QUOTED, Action.APPROVE): State.APPROVED,
        (State.QUOTED, Action.DECLINE): State.DECLINED,
        (State.APPROVED, Action.MARK_REPAIRED): State.REPAIRED,
        (State.REPAIRED, Action.SHIP_BACK): State.SHIPPED_BACK,
        (State.DECLINED, Action.SHIP_BACK): State.SHIPPED_BACK,
    },
}

FINAL = frozenset({State.RETURNED, State.UNIT_BILLED, State.SHIPPED_BACK, State.CANCELLED})


@dataclass(frozen=True)
class Facts:
    """What the guards need besides the state: the repair invoice (H-3) and its payment."""

    invoice_label: str | None = None
    invoice_paid: bool = False


def allowed_actions(kind: Kind, state: State) -> list[Action]:
    return [action for (src, action) in TRANSITIONS[Kind(kind)] if src == state]


def next_state(kind: Kind, state: State, action: Action | str, facts: Facts = Facts()) -> State:
    """The state after ``action``, or :class:`RmaRefused` saying why not."""
    kind, state = Kind(kind), State(state)
    try:
        act = Action(action)
    except ValueError:
        raise RmaRefused(
            f"unknown action {action!r}; one of {', '.join(a.value for a in Action)}"
        ) from None
    target = TRANSITIONS[kind].get((state, act))
    if target is None:
        label = kind.value.replace("_", " ")
        can = ", ".join(a.value for a in allowed_actions(kind, state)) or "nothing (it is closed)"
        raise RmaRefused(
            f"a {label} RMA in state {state.value!r} cannot {act.value}; it can: {can}"
        )
    if act is Action.SHIP_BACK and facts.invoice_label and not facts.invoice_paid:
        raise RmaRefused(
            f"payment of invoice {facts.invoice_label} is required before shipping back"
        )
    return target


# --- deadlines (tracked like SLA targets: a warning, then a breach) ---------------------------


class Deadline(enum.StrEnum):
    LEAD_WARNING = "lead_warning"
    LEAD_BREACH = "lead_breach"
    RETURN_OVERDUE = "return_overdue"
    RETURN_BILL = "return_bill"


LEAD_WARN_PERCENT = 75


@dataclass(frozen=True)
class Clock:
    """The deadlines of one RMA and which of them have fired."""

    kind: Kind
    state: State
    started_at: datetime | None  # received (H-3) or replacement shipped (H-2)
    due_at: datetime | None
    warned: bool = False
    breached: bool = False
    bill_after: timedelta | None = None  # H-2: None when the plan does not bill unreturned units


def warn_at(started_at: datetime, due_at: datetime) -> datetime:
    return started_at + (due_at - started_at) * LEAD_WARN_PERCENT / 100


def deadline_due(clock: Clock, now: datetime) -> list[Deadline]:
    """What the sweep must do now, in order. Idempotent through ``warned``/``breached``:
    a deadline that has fired is never reported again."""
    if clock.started_at is None or clock.due_at is None or clock.state in FINAL:
        return []
    out: list[Deadline] = []
    if clock.kind is Kind.RETURN_TO_FACTORY:
        if not clock.warned and now >= warn_at(clock.started_at, clock.due_at):
            out.append(Deadline.LEAD_WARNING)
        if not clock.breached and now >= clock.due_at:
            out.append(Deadline.LEAD_BREACH)
        return out
    if clock.state is not State.REPLACEMENT_SHIPPED:
        return []
    if not clock.warned and now >= clock.due_at:
        out.append(Deadline.RETURN_OVERDUE)
    if clock.bill_after is not None and now >= clock.due_at + clock.bill_after:
        out.append(Deadline.RETURN_BILL)
    return out


def next_deadline(clock: Clock) -> datetime | None:
    """The next instant the sweep must look at this RMA (the indexed column), or None."""
    if clock.started_at is None or clock.due_at is None or clock.state in FINAL:
        return None
    if clock.kind is Kind.RETURN_TO_FACTORY:
        if not clock.warned:
            return warn_at(clock.started_at, clock.due_at)
        return None if clock.breached else clock.due_at
    if clock.state is not State.REPLACEMENT_SHIPPED:
        return None
    if not clock.warned:
        return clock.due_at
    return None if clock.bill_after is None else clock.due_at + clock.bill_after
