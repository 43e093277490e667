"""`{% load assets %}{% device_panel ticket %}`: the device box on a console ticket page (H-1):
the device the ticket names, its warranty and contract standing, its RMAs."""

from __future__ import annotations

from typing import Any

from django import template

from supportdesk.assets import selectors, services_rma
from supportdesk.assets.models import Asset
from supportdesk.core import clock
from supportdesk.tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("assets/_ticket_device.html", takes_context=True)
def device_panel(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    asset = selectors.ticket_asset(ticket=ticket)
    return {
        "ticket": ticket,
        "asset": asset,
        "standing": services_rma.asset_standing(asset=asset, now=clock.now()) if asset else None,
        "rmas": ticket.rmas.select_related("invoice").order_by("-pk"),
        "choices": Asset.objects.filter(organization_id=ticket.organization_id)
        .select_related("model")
        .order_by("model__name", "serial")[:200],
        "csrf_token": context.get("csrf_token"),
    }
