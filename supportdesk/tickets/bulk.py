"""Bulk actions on selected tickets (T-12, issue 10.3).

Each ticket goes through the same single-ticket service as the ticket page, in a transaction of
its own: one refusal (another vendor's ticket, a merge across organisations) changes nothing
on that ticket and does not undo the others. The result says what changed and what was refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from supportdesk.accounts.models import User
from supportdesk.core.errors import DomainError, InvalidInput
from supportdesk.core.tenancy import Principal
from supportdesk.core.web import int_param
from supportdesk.tickets import selectors, services, services_console
from supportdesk.tickets.models import Queue, Ticket

ACTIONS = {
    "assign": "Assign",
    "status": "Set status",
    "priority": "Set priority",
    "queue": "Move to queue",
    "tag": "Add tag",
    "merge": "Merge into",
}
MAX_SELECTED = 200


@dataclass
class BulkResult:
    action: str
    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{ACTIONS[self.action]}: {len(self.changed)} changed"]
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} already so")
        if self.refused:
            reasons = "; ".join(f"#{ref}: {why}" for ref, why in self.refused)
            parts.append(f"{len(self.refused)} refused ({reasons})")
        return ", ".join(parts) + "."


def _one(principal: Principal, ticket: Ticket, action: str, value: str, now: datetime) -> bool:
    """Apply `action` to one ticket through its service; True when something changed."""
    if action == "assign":
        assignee = None
        if value != "auto":
            assignee = User.objects.filter(pk=int_param(value) or -1, is_staff=True).first()
            if assignee is None:
                raise InvalidInput(f"unknown staff user {value!r}")
        services.ticket_assign(ticket=ticket, principal=principal, assignee=assignee, now=now)
        return True
    if action == "status":
        before = ticket.status
        after = services.ticket_status_change(
            ticket=ticket, principal=principal, status=value, now=now
        )
        return after.status != before
    if action == "priority":
        before = ticket.priority
        after = services.ticket_priority_change(
            ticket=ticket, principal=principal, priority=value, now=now
        )
        return after.priority != before
    if action == "queue":
        queue = Queue.objects.filter(pk=int_param(value) or -1, vendor_id=ticket.vendor_id).first()
        if queue is None:
            raise InvalidInput(f"unknown queue {value!r}")
        if queue.pk == ticket.queue_id:
            return False
        services.ticket_queue_change(ticket=ticket, principal=principal, queue=queue, now=now)
        return True
    if action == "tag":
        return services_console.ticket_tag_add(
            ticket=ticket, principal=principal, tag=value, now=now
        )
    raise InvalidInput(f"unknown bulk action {action!r}")


def ticket_bulk_apply(
    *, principal: Principal, refs: list[int], action: str, value: str, now: datetime
) -> BulkResult:
    """Apply one action to every selected ticket, each in its own transaction."""
    if action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}")
    refs = list(dict.fromkeys(refs))
    if not refs:
        raise InvalidInput("select at least one ticket")
    if len(refs) > MAX_SELECTED:
        raise InvalidInput(f"select at most {MAX_SELECTED} tickets at a time")
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"choose what to {ACTIONS[action].lower()}")
    result = BulkResult(action=action)
    target = None
    if action == "merge":
        target_ref = int_param(value.lstrip("#"))
        if target_ref is None:
            raise InvalidInput("merge into which ticket? give its number")
        target = selectors.ticket_get(principal=principal, ref=target_ref)
    for ref in refs:
        if target is not None and ref == target.ref:
            continue
        try:
            ticket = selectors.ticket_get(principal=principal, ref=ref)
            with transaction.atomic():
                if target is not None:
                    services_console.ticket_merge(
                        source=ticket, target=target, principal=principal, now=now
                    )
                    changed = True
                else:
                    changed = _one(principal, ticket, action, value, now)
        except DomainError as exc:
            result.refused.append((ref, exc.detail))
            continue
        (result.changed if changed else result.unchanged).append(ref)
    return result
