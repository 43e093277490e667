"""`{% load contracts %}{% entitlement_panel ticket %}`: the entitlement box on a ticket page."""

from __future__ import annotations

from typing import Any

from django import template

from supportdesk.contracts import selectors
from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.models import SupportAssignment
from supportdesk.core import clock
from supportdesk.tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("contracts/_ticket_entitlement.html")
def entitlement_panel(ticket: Ticket) -> dict[str, Any]:
    """The decision taken at intake, today's cap usage of the organisation's contracts in
    force, and its Dedicated Support Engineer (E-2, E-4..E-8)."""
    now = clock.now()
    usage: list[dict[str, Any]] = []
    try:
        terms = selectors.contract_terms(organization_id=ticket.organization_id)
        by_contract = selectors.cap_usage_for(
            terms=terms,
            organization_id=ticket.organization_id,
            at=now,
            tz=selectors.vendor_tz(ticket.vendor.timezone),
        )
        usage = [selectors.cap_usage_out(u) for caps in by_contract.values() for u in caps]
    except EntitlementInputError as exc:
        usage = [{"summary": f"cap usage unavailable: {exc}", "cap": "", "exhausted": False}]
    assignment = (
        SupportAssignment.objects.select_related("dse", "backup")
        .filter(organization_id=ticket.organization_id)
        .first()
    )
    return {
        "entitlement": selectors.ticket_entitlement_out(ticket),
        "usage": usage,
        "assignment": assignment,
    }
