"""The one recorder of the ticket audit log (rule 13).

Every app writes ticket events through these functions with a `TicketEventKind` member,
never through `TicketEvent.objects.create`; tickets/tests/test_events.py checks the tree.
Callers run inside the transaction of the change they record (rule 8).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from supportdesk.core.queries import bulk_insert
from supportdesk.core.rows import unsaved
from supportdesk.tickets.models import TicketEvent, TicketEventKind


def ticket_event_build(
    *,
    ticket_id: int,
    kind: TicketEventKind,
    at: datetime,
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """An unsaved event, for set-based writers that record many at once."""
    return unsaved(
        TicketEvent,
        ticket_id=ticket_id,
        kind=TicketEventKind(kind),  # an unknown kind raises ValueError here
        at=at,
        actor_id=actor_id,
        data=data or {},
    )


def ticket_event_record(
    *,
    ticket_id: int,
    kind: TicketEventKind,
    at: datetime,
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """Append one event to the ticket's history."""
    event = ticket_event_build(ticket_id=ticket_id, kind=kind, at=at, actor_id=actor_id, data=data)
    event.save()
    return event


def ticket_events_record(*, events: Sequence[TicketEvent]) -> None:
    """Append events built with `ticket_event_build` in one INSERT."""
    if events:
        bulk_insert(events, returning=False)
