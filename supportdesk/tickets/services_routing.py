"""Routing a new ticket to the customer's account team (E-2): called by `ticket_create`."""

from __future__ import annotations

from datetime import datetime

from supportdesk.accounts.models import Absence as AbsenceRow
from supportdesk.accounts.models import User
from supportdesk.contracts.selectors import support_preferred
from supportdesk.tickets.domain.assignment import Absence, Candidate, pick_assignee
from supportdesk.tickets.events import ticket_event_record
from supportdesk.tickets.models import AgentNotificationKind, Ticket, TicketEventKind
from supportdesk.tickets.notify import agent_notify


def ticket_route_account_team(*, ticket: Ticket, now: datetime, actor_id: int | None) -> None:
    """Assign a new ticket of a customer with a Dedicated Support Engineer to the DSE, or to
    the backup while the DSE is away (an absence covering `now`). With both away — or no
    account team — the ticket stays with its queue, for the queue's assignment (T-7).

    Runs inside `ticket_create`'s transaction, on the row it just created."""
    preferred = support_preferred(organization_id=ticket.organization_id)
    if not preferred:
        return
    people = {
        u.pk: u
        for u in User.objects.filter(
            pk__in=preferred, vendor_id=ticket.vendor_id, is_staff=True, is_active=True
        )
    }
    absences: dict[int, list[Absence]] = {}
    for row in AbsenceRow.objects.filter(user_id__in=list(people), ends_at__gt=now):
        absences.setdefault(row.user_id, []).append(Absence(row.starts_at, row.ends_at))
    candidates = [Candidate(pk, 0, tuple(absences.get(pk, ()))) for pk in people]
    picked = pick_assignee(candidates, now=now, preferred=preferred)
    if picked is None:
        return
    assignee = people[picked]
    role = "dse" if picked == preferred[0] else "backup"
    Ticket.objects.filter(pk=ticket.pk).update(assignee=assignee)
    ticket.assignee = assignee
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.ASSIGNED,
        at=now,
        actor_id=actor_id,
        data={"old": None, "new": assignee.pk, "name": assignee.name, "routed_to": role},
    )
    who = "Dedicated Support Engineer" if role == "dse" else "backup engineer (DSE away)"
    agent_notify(
        ticket=ticket,
        kind=AgentNotificationKind.ASSIGNED,
        users=[assignee],
        text=f"#{ticket.ref} was routed to you as {who}: {ticket.subject}",
        now=now,
        actor_id=actor_id,
    )
