"""Routing new tickets to the customer's account team (E-2): called by the create path
before it inserts the tickets, so each is inserted with its assignee. Plain SQL, a branch of
the create path's one read (`create_read`): it needs a few columns of a handful of people,
not a model walk per request."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from supportdesk.accounts.models import Absence as AbsenceRow
from supportdesk.accounts.models import User
from supportdesk.contracts.models import SupportAssignment
from supportdesk.core.queries import in_placeholders
from supportdesk.tickets.create_read import ACCOUNT_TEAM, Branch, Row, branch
from supportdesk.tickets.domain.assignment import Candidate, pick_assignee
from supportdesk.tickets.events import ticket_event_build
from supportdesk.tickets.models import (
    AgentNotificationKind,
    AgentProfile,
    Ticket,
    TicketEvent,
    TicketEventKind,
)
from supportdesk.tickets.notify import Agent, AgentNotice


@dataclass(frozen=True)
class Route:
    assignee: User
    role: str  # "dse", or "backup" while the DSE is away


def agent_with_preferences(
    fields: Mapping[str, object], profile: tuple[object, object, object]
) -> User:
    """A staff user from the columns a create-path read took (`fields`, by attname; the
    others deferred) with its notification preferences (`profile`: the AgentProfile's id,
    muted, emailed; id None without one), as `agent_notify_many` reads them."""
    alias = connection.alias
    # from_db takes the values in the model's field order, whatever the names' order
    names = [f.attname for f in User._meta.concrete_fields if f.attname in fields]
    user = User.from_db(alias, names, [fields[name] for name in names])
    profile_id, muted, emailed = profile
    user._state.fields_cache["agent_profile"] = (
        None
        if profile_id is None
        else AgentProfile.from_db(
            alias,
            ["id", "user_id", "muted", "emailed"],
            [profile_id, user.pk, _json(muted), _json(emailed)],
        )
    )
    return user


def agent_of_queue(
    user_id: int, email: str, active: bool, profile: tuple[object, object, object]
) -> Agent:
    """A queue's member from the columns a create-path read took, with its notification
    preferences (`profile` as for `agent_with_preferences`)."""
    profile_id, muted, emailed = profile
    return Agent(
        user_id,
        email,
        active,
        None if profile_id is None else (_kinds(muted), _kinds(emailed)),
    )


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str | bytes) else value  # SQLite: text


@functools.lru_cache(maxsize=256)
def _kinds_of_text(text: str | bytes) -> tuple[str, ...]:
    return tuple(json.loads(text))


def _kinds(value: object) -> tuple[str, ...]:
    """A list of notification kinds as stored: the few distinct ones are parsed once."""
    if isinstance(value, str | bytes):
        return _kinds_of_text(value)
    return tuple(value)  # type: ignore[arg-type]


def account_team_branch(*, organisations: Sequence[int], now: datetime) -> Branch:
    """The create read's branch (`create_read`) of the account teams of `organisations`:
    their active staff, with their notification preferences (for the routed one's
    notification) and whether an absence covers `now`."""
    at = connection.ops.adapt_datetimefield_value(now)
    # only table names from the models and placeholders go into the text
    absent = (
        f"EXISTS (SELECT 1 FROM {AbsenceRow._meta.db_table} b WHERE b.user_id = u.id "  # noqa: S608
        "AND b.starts_at <= %s AND b.ends_at > %s)"
    )
    columns = {
        "o1": "a.organization_id", "o2": "u.id", "i1": "a.dse_id", "i2": "a.backup_id",
        "i3": "u.vendor_id", "i4": "p.id", "t1": "u.email", "t2": "u.display_name",
        "t3": "u.first_name", "t4": "u.last_name", "j1": "p.muted", "j2": "p.emailed",
        "b1": absent,
    }  # fmt: skip
    rest = (
        f"FROM {SupportAssignment._meta.db_table} a JOIN {User._meta.db_table} u "
        "ON (u.id = a.dse_id OR u.id = a.backup_id) AND u.is_staff AND u.is_active "
        f"LEFT JOIN {AgentProfile._meta.db_table} p ON p.user_id = u.id "
        f"WHERE a.organization_id IN ({in_placeholders(organisations)})"
    )
    return branch(ACCOUNT_TEAM, columns, rest, [at, at, *organisations])


def account_team_routes(
    rows: Sequence[Row], *, vendor_of: Mapping[int, int], now: datetime
) -> dict[int, Route]:
    """For each organisation of `vendor_of` (organisation id -> vendor id) with a Dedicated
    Support Engineer, whom its new tickets go to: the DSE, or the backup while the DSE is away
    (an absence covering `now`). With both away — or no account team — none: the ticket stays
    with its queue, for the queue's assignment (T-7). `rows`: those of
    `account_team_branch`."""
    preferred: dict[int, list[int]] = {}
    present: dict[int, dict[int, User]] = {}
    for org_id, pk, dse_id, backup_id, vendor_id, profile_id, email, *more in rows:
        display, first, last, _, away, _, muted, emailed = more
        preferred[org_id] = [dse_id] + ([backup_id] if backup_id else [])
        present.setdefault(org_id, {})
        if vendor_id != vendor_of[org_id] or away:
            continue
        fields = {"id": pk, "vendor_id": vendor_id, "email": email, "is_staff": True,
                  "is_active": True, "display_name": display, "first_name": first,
                  "last_name": last}  # fmt: skip
        present[org_id][pk] = agent_with_preferences(fields, (profile_id, muted, emailed))
    routes = {}
    for org_id, order in preferred.items():
        people = present[org_id]
        picked = pick_assignee([Candidate(pk, 0) for pk in order if pk in people], now=now,
                               preferred=order)  # fmt: skip
        if picked is not None:
            routes[org_id] = Route(people[picked], "dse" if picked == order[0] else "backup")
    return routes


def route_recorded(
    *, ticket: Ticket, route: Route, now: datetime, actor_id: int | None
) -> tuple[TicketEvent, AgentNotice]:
    """The "assigned" event (unsaved) and the engineer's notification of a routed ticket."""
    assignee = route.assignee
    event = ticket_event_build(
        ticket_id=ticket.pk,
        kind=TicketEventKind.ASSIGNED,
        at=now,
        actor_id=actor_id,
        data={"old": None, "new": assignee.pk, "name": assignee.name, "routed_to": route.role},
    )
    who = "Dedicated Support Engineer" if route.role == "dse" else "backup engineer (DSE away)"
    notice = AgentNotice(
        ticket=ticket,
        kind=AgentNotificationKind.ASSIGNED,
        users=[assignee],
        text=f"#{ticket.ref} was routed to you as {who}: {ticket.subject}",
        actor_id=actor_id,
    )
    return event, notice
