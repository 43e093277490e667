"""Macros and canned replies (T-12, issue 10.4).

A macro's text is a Django template rendered in a sandbox: an engine with no tags at all (no
`include`, `load`, `url`, `debug`) and only the built-in filters, over a context of plain
strings built here — never a model object, so a placeholder cannot walk into the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.template import Context, Engine, TemplateSyntaxError

from supportdesk.accounts.models import User
from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.tenancy import Principal
from supportdesk.tickets.models import AgentProfile, Macro, Ticket

BODY_MAX = 20_000


class _Sandbox(Engine):
    """Only the built-in filters: Engine() would add every default tag (include, debug, url)."""

    default_builtins = ["django.template.defaultfilters"]


_ENGINE = _Sandbox(autoescape=False, debug=False)
PLACEHOLDERS = (
    "requester.name", "requester.first_name", "requester.email", "organization.name",
    "ticket.ref", "ticket.subject", "ticket.priority", "ticket.status",
    "agent.name", "agent.first_name", "agent.email",
    "entitlement.covered", "entitlement.plan", "entitlement.billing", "entitlement.explanation",
)  # fmt: skip


def _first(name: str) -> str:
    return name.split()[0] if name.split() else ""


def macro_context(*, ticket: Ticket, agent: User) -> dict[str, dict[str, str]]:
    """The only values a macro can reach: strings, by the names in PLACEHOLDERS."""
    requester = ticket.requester
    entitlement = getattr(ticket, "entitlement", None)
    contract = getattr(entitlement, "contract", None) if entitlement else None
    return {
        "requester": {
            "name": requester.name if requester else "",
            "first_name": _first(requester.name) if requester else "",
            "email": requester.primary_email if requester else "",
        },
        "organization": {"name": ticket.organization.name},
        "ticket": {
            "ref": str(ticket.ref),
            "subject": ticket.subject,
            "priority": ticket.priority,
            "status": ticket.get_status_display(),
        },
        "agent": {"name": agent.name, "first_name": _first(agent.name), "email": agent.email},
        "entitlement": {
            "covered": ("yes" if entitlement.covered else "no") if entitlement else "",
            "plan": str(getattr(getattr(contract, "plan", None), "name", "") or ""),
            "billing": entitlement.billing if entitlement else "",
            "explanation": entitlement.explanation if entitlement else "",
        },
    }


def macro_check(body: str) -> str:
    """Refuse a macro text the sandbox cannot render (a tag, an unknown filter, bad syntax)."""
    body = (body or "").strip()
    if len(body) > BODY_MAX:
        raise InvalidInput(f"the text is longer than {BODY_MAX} characters")
    try:
        _ENGINE.from_string(body)
    except TemplateSyntaxError as exc:
        raise InvalidInput(f"the text cannot be used as a macro: {exc}") from None
    return body


def macro_render(*, macro: Macro, ticket: Ticket, agent: User) -> str:
    template = _ENGINE.from_string(macro_check(macro.body))
    return template.render(Context(macro_context(ticket=ticket, agent=agent))).strip()


def macro_list(*, principal: Principal) -> QuerySet[Macro]:
    """Vendor-wide macros and the agent's own."""
    if not principal.is_staff or principal.vendor_id is None:
        return Macro.objects.none()
    return Macro.objects.filter(
        Q(owner__isnull=True) | Q(owner_id=principal.user_id), vendor_id=principal.vendor_id
    ).order_by("name")


def macro_get(*, principal: Principal, macro_id: int) -> Macro:
    macro = macro_list(principal=principal).filter(pk=macro_id).first()
    if macro is None:
        raise NotFound(f"macro {macro_id} not found")
    return macro


def signature_get(*, user_id: int) -> str:
    profile = AgentProfile.objects.filter(user_id=user_id).first()
    return profile.signature.strip() if profile else ""


def with_signature(body: str, *, user_id: int) -> str:
    """A public reply with the agent's signature under it (once)."""
    signature = signature_get(user_id=user_id)
    if not signature or body.rstrip().endswith(signature):
        return body
    return f"{body.rstrip()}\n\n-- \n{signature}"


def macro_apply(*, macro: Macro, ticket: Ticket, principal: Principal, now: datetime) -> list[str]:
    """The macro's field changes, each through its service; what changed, in words."""
    from supportdesk.tickets import (
        services,  # the services build on this module
        services_console,
    )

    done: list[str] = []
    if macro.set_status and macro.set_status != ticket.status:
        ticket = services.ticket_status_change(
            ticket=ticket, principal=principal, status=macro.set_status, now=now
        )
        done.append(f"status {ticket.get_status_display()}")
    if macro.set_priority and macro.set_priority != ticket.priority:
        ticket = services.ticket_priority_change(
            ticket=ticket, principal=principal, priority=macro.set_priority, now=now
        )
        done.append(f"priority {ticket.priority}")
    if macro.assign_to_me and ticket.assignee_id != principal.user_id:
        me = User.objects.get(pk=principal.user_id)
        ticket = services.ticket_assign(ticket=ticket, principal=principal, assignee=me, now=now)
        done.append(f"assigned to {me.name}")
    for tag in (t for t in macro.add_tags.split(",") if t.strip()):
        if services_console.ticket_tag_add(ticket=ticket, principal=principal, tag=tag, now=now):
            done.append(f"tag {tag.strip()}")
    return done


def macro_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Checked fields of a macro form (the service re-checks ownership)."""
    return {
        "name": " ".join(str(data.get("name") or "").split())[:80],
        "body": macro_check(str(data.get("body") or "")),
        "set_status": str(data.get("set_status") or ""),
        "set_priority": str(data.get("set_priority") or ""),
        "assign_to_me": bool(data.get("assign_to_me")),
        "add_tags": str(data.get("add_tags") or "")[:200],
    }
