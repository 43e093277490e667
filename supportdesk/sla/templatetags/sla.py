"""`{% load sla %}{% sla_badge ticket %}`: the countdown to a ticket's next due instant.

In a list, the first badge fetches the clocks of every ticket in the context's `tickets`
in one query and the rest reuse it.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from supportdesk.core import clock
from supportdesk.sla.selectors import Badge, sla_badges

register = template.Library()


def _short(seconds: int) -> str:
    minutes = seconds // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


@register.simple_tag(takes_context=True)
def sla_badge(context: template.Context, ticket: Any) -> SafeString:
    cache = context.render_context
    badges: dict[int, Badge] | None = cache.get("sla_badges")
    known: set[int] = cache.get("sla_badge_ids") or set()
    if badges is None or ticket.pk not in known:
        ids = {ticket.pk} | {t.pk for t in context.get("tickets") or () if hasattr(t, "pk")}
        badges = sla_badges(ticket_ids=ids, now=clock.now())
        cache["sla_badges"] = badges
        cache["sla_badge_ids"] = ids
    badge = badges.get(ticket.pk)
    view = None
    if badge is not None:
        view = {"kind": badge.kind, "state": badge.state, "due_at": badge.due_at,
                "text": _short(badge.seconds)}  # fmt: skip
    return SafeString(render_to_string("sla/_badge.html", {"badge": view}))
