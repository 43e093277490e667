"""Routing new tickets to the customer's account team (E-2): called by the create path
before it inserts the tickets, so each is inserted with its assignee."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from supportdesk.accounts.models import Absence as AbsenceRow
from supportdesk.accounts.models import User
from supportdesk.contracts.selectors import support_preferred_many
from supportdesk.tickets.domain.assignment import Absence, Candidate, pick_assignee
from supportdesk.tickets.events import ticket_event_build
from supportdesk.tickets.models import AgentNotificationKind, Ticket, TicketEvent, TicketEventKind
from supportdesk.tickets.notify import AgentNotice


@dataclass(frozen=True)
class Route:
    assignee: User
    role: str  # "dse", or "backup" while the DSE is away


def account_team_routes(*, vendor_of: Mapping[int, int], now: datetime) -> dict[int, Route]:
    """For each organisation of `vendor_of` (organisation id -> vendor id) with a Dedicated
    Support Engineer, whom its new tickets go to: the DSE, or the backup while the DSE is away
    (an absence covering `now`). With both away — or no account team — none: the ticket stays
    with its queue, for the queue's assignment (T-7). One read, three with an account team."""
    preferred = support_preferred_many(organization_ids=list(vendor_of))
    if not preferred:
        return {}
    wanted = {pk for people in preferred.values() for pk in people}
    staff = User.objects.filter(pk__in=wanted, is_staff=True, is_active=True)
    # with the engineers' notification preferences, for the routed one's notification
    people = {u.pk: u for u in staff.select_related("agent_profile")}
    absences: dict[int, list[Absence]] = {}
    for row in AbsenceRow.objects.filter(user_id__in=list(people), ends_at__gt=now):
        absences.setdefault(row.user_id, []).append(Absence(row.starts_at, row.ends_at))
    routes = {}
    for org_id, order in preferred.items():
        candidates = [
            Candidate(pk, 0, tuple(absences.get(pk, ())))
            for pk in order
            if pk in people and people[pk].vendor_id == vendor_of[org_id]
        ]
        picked = pick_assignee(candidates, now=now, preferred=order)
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
