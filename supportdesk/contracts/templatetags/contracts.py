"""`{% load contracts %}{% entitlement_panel ticket %}`: the entitlement box on a ticket page."""

from __future__ import annotations

from typing import Any

from django import template

from supportdesk.contracts import selectors
from supportdesk.core import clock
from supportdesk.tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("contracts/_ticket_entitlement.html", takes_context=True)
def entitlement_panel(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    """The decision taken at intake, today's cap usage of the organisation's contracts in
    force, its Dedicated Support Engineer (E-2, E-4..E-8) and the category form."""
    panel = selectors.ticket_entitlement_panel(ticket=ticket, now=clock.now())
    return {**panel, "csrf_token": context.get("csrf_token")}
