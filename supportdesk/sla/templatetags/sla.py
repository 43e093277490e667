"""`{% load sla %}{% sla_badge ticket %}`: the live countdown to a ticket's next due instant;
`{% sla_panel ticket %}`: the ticket's matched rule, its explanation and its clocks.

In a list, the first badge fetches the clocks of every ticket in the context's `tickets`
in one query and the rest reuse it; it also brings the script that keeps the countdowns
moving (sla/countdown.js), once per page.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.templatetags.static import static
from django.utils import dateformat
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timezone import localtime

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


def _badge_html(badge: Badge | None, script: bool) -> str:
    """The badge's markup, built here rather than by a template: a list renders one per row."""
    html = ""
    if badge is not None:
        if badge.state == "breached":
            text = f"overdue {_short(badge.seconds)}"
        elif badge.state == "paused":
            text = "SLA paused"
        else:
            text = f"due in {_short(badge.seconds)}"
        title = badge.kind
        due = ""
        if badge.due_at is not None:
            local = localtime(badge.due_at)  # in the page's zone, as the date filter shows it
            title += f" due {dateformat.format(local, 'Y-m-d H:i e')}"
            if badge.state != "paused":
                due = format_html(' data-sla-due="{}"', dateformat.format(local, "c"))
        html = format_html(
            '<span class="badge sla-{}" title="{}"{}>{}</span>', badge.state, title, due, text
        )
    if script:
        html += format_html('<script src="{}" defer></script>', static("sla/countdown.js"))
    return html


def _ref(ticket: Any) -> int:
    """A ticket's number, from a model instance or a list row (tickets.listviews)."""
    return ticket["ref"] if isinstance(ticket, dict) else ticket.pk  # type: ignore[no-any-return]


@register.simple_tag(takes_context=True)
def sla_badge(context: template.Context, ticket: Any) -> SafeString:
    cache = context.render_context
    badges: dict[int, Badge] | None = cache.get("sla_badges")
    known: set[int] = cache.get("sla_badge_ids") or set()
    ref = _ref(ticket)
    if badges is None or ref not in known:
        listed = context.get("tickets") or ()
        ids = {ref} | {_ref(t) for t in listed if isinstance(t, dict) or hasattr(t, "pk")}
        badges = sla_badges(ticket_ids=ids, now=clock.now())
        cache["sla_badges"] = badges
        cache["sla_badge_ids"] = ids
    badge = badges.get(ref)
    script = badge is not None and not cache.get("sla_script")
    if script:
        cache["sla_script"] = True
    return SafeString(_badge_html(badge, script))


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
