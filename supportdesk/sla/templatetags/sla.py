"""`{% load sla %}{% sla_badge ticket %}`: the live countdown to a ticket's next due instant;
`{% sla_panel ticket %}`: the ticket's matched rule, its explanation and its clocks.

In a list, the first badge fetches the clocks of every ticket in the context's `tickets`
in one query and the rest reuse it; it also brings the script that keeps the countdowns
moving (sla/countdown.js), once per page.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from supportdesk.core import clock
from supportdesk.sla.selectors import Badge, sla_badges, sla_ticket_get

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
    script = view is not None and not cache.get("sla_script")
    if script:
        cache["sla_script"] = True
    return SafeString(render_to_string("sla/_badge.html", {"badge": view, "script": script}))


@register.inclusion_tag("sla/_panel.html", takes_context=True)
def sla_panel(context: template.Context, ticket: Any) -> dict[str, Any]:
    """How the ticket matched its policy (S-2) and each clock: state, due instant, time left
    or overdue (S-3, S-4). Staff pages only; nothing for a ticket without a policy."""
    principal = context["request"].principal
    now = clock.now()
    sla = sla_ticket_get(principal=principal, ticket_id=ticket.pk)
    clocks = []
    if sla is not None:
        for t in sorted(sla.targets.all(), key=lambda t: (t.started_at, t.pk)):
            row: dict[str, Any] = {"target": t, "pending": False}
            if t.stopped_at is None and t.due_at is not None:  # running, or breached and open
                seconds = int((t.due_at - now).total_seconds())
                row.update(pending=True, text=_short(abs(seconds)), overdue=seconds <= 0)
            clocks.append(row)
    return {"sla": sla, "clocks": clocks}
