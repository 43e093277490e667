"""Helpers shared by the on-call services: ticket events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from supportdesk.tickets.models import TicketEvent


def _event(
    ticket_id: int, kind: str, now: datetime, actor_id: int | None = None, **data: Any
) -> None:
    TicketEvent.objects.create(ticket_id=ticket_id, kind=kind, at=now, actor_id=actor_id, data=data)
