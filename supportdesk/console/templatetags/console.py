"""Ticket history in sentences (T-12, issue 10.9): "Dana Reyes changed priority P2 → P1".

Written from the event kind's string value, so it reads the same whether kinds are plain
strings or members of a TextChoices enum. Unknown kinds fall back to the kind in words.
"""

from __future__ import annotations

from typing import Any

from django import template

from supportdesk.tickets.models import Status

register = template.Library()
_STATUS = dict(Status.choices)


def _status(value: Any) -> str:
    return _STATUS.get(str(value), str(value).replace("_", " "))


def _sentence(kind: str, data: dict[str, Any], who: str) -> str:
    d = data
    sentences = {
        "created": lambda: (
            f"{who} opened the ticket by {d.get('channel', '?')} "
            f"as {d.get('priority', '?')} in {d.get('queue', '?')}"
        ),
        "status_changed": lambda: (
            f"{who} changed status {_status(d.get('old'))} → {_status(d.get('new'))}"
        ),
        "priority_changed": lambda: f"{who} changed priority {d.get('old')} → {d.get('new')}",
        "assigned": lambda: f"{who} assigned the ticket to {d.get('name', 'someone')}",
        "queue_changed": lambda: f"{who} moved the ticket from {d.get('old')} to {d.get('new')}",
        "subject_changed": lambda: f"{who} renamed the ticket “{d.get('new')}”",
        "escalated": lambda: f"{who} escalated to engineering: {d.get('reason', '')}",
        "closed_out_of_scope": lambda: (
            f"{who} closed the ticket as out of scope ({str(d.get('scope', '')).replace('_', ' ')})"
        ),
        "customer_replied": lambda: f"{who} replied",
        "agent_replied": lambda: f"{who} replied to the customer",
        "note_added": lambda: f"{who} added an internal note",
        "tag_added": lambda: f"{who} tagged the ticket “{d.get('tag')}”",
        "merged_into": lambda: f"{who} merged this ticket into #{d.get('into')}",
        "merged_from": lambda: (
            f"{who} merged #{d.get('source')} into this ticket "
            f"({d.get('messages', 0)} messages moved)"
        ),
        "asset_linked": lambda: (
            f"{who} named the device {d.get('model')} #{d.get('serial')}"
            if d.get("asset")
            else f"{who} removed the device"
        ),
        "rma_started": lambda: (
            f"{who} started {d.get('number')} ({str(d.get('kind', '')).replace('_', ' ')}) "
            f"for serial {d.get('serial')}"
        ),
        "rma_step": lambda: (
            f"{who}: {d.get('number')} {str(d.get('action', '')).replace('_', ' ')} → "
            f"{str(d.get('to', '')).replace('_', ' ')}"
        ),
        "rma_deadline_warning": lambda: str(d.get("text", "RMA deadline warning")),
        "rma_deadline_breached": lambda: str(d.get("text", "RMA deadline breached")),
    }
    make = sentences.get(kind)
    if make is not None:
        return make()
    return f"{who}: {kind.replace('_', ' ')}"


@register.filter
def event_sentence(event: Any) -> str:
    """One readable line for a TicketEvent (autoescaped by the template like any string)."""
    who = event.actor.name if event.actor_id and event.actor else "The system"
    if event.actor_id is None and str(event.kind) in ("created", "customer_replied"):
        who = "The customer"
    return _sentence(str(event.kind), event.data or {}, who)
