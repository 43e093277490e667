"""`{% load oncall %}{% oncall_panel ticket %}`: the on-call box of a ticket page, and
`{{ run.chain|chain_steps }}`: an escalation's snapshot in words."""

from __future__ import annotations

from typing import Any

from django import template

from supportdesk.core import clock
from supportdesk.oncall import selectors
from supportdesk.oncall.domain.escalation import EscalationChain, describe_chain
from supportdesk.tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("oncall/_ticket_panel.html", takes_context=True)
def oncall_panel(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    """Who is on call now and next, this ticket's escalations with their pages and
    acknowledgements, and the "Page on-call" button where O-3 allows it."""
    paging = selectors.ticket_paging(
        principal=context["request"].principal, ticket=ticket, at=clock.now()
    )
    return {"ticket": ticket, "p": paging, "csrf_token": context.get("csrf_token")}


@register.filter
def chain_steps(spec: dict[str, Any]) -> list[str]:
    return describe_chain(EscalationChain.from_spec(spec))
