"""Per-vendor mail templates (issue 11.6), rendered in a sandbox.

A template sees only a whitelisted dict of plain strings (never a model object, so no method
or relation can be reached from a template), through an engine with no loaders and no tag
libraries beyond Django's built-ins: `{% include %}` and `{% extends %}` find nothing, and
`{% load %}` knows no library. Mail is plain text, so nothing is HTML-escaped.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.defaulttags import DebugNode, LoadNode, URLNode
from django.template.loader_tags import ExtendsNode, IncludeNode

from supportdesk.core.errors import InvalidInput
from supportdesk.notifications.models import MailTemplate, MailTemplateKind

Kind = MailTemplateKind

_ENGINE = Engine(loaders=[], libraries={}, autoescape=False, debug=False)
# Tags that would reach outside the context: files, installed modules, URL routes.
_FORBIDDEN_NODES = (DebugNode, LoadNode, URLNode, ExtendsNode, IncludeNode)

# Every kind's variables, each with the sample the preview shows. A template may use any of
# these and nothing else (an unknown name renders empty, as in every Django template).
VARIABLES: dict[str, dict[str, str]] = {
    Kind.ACKNOWLEDGEMENT: {
        "vendor_name": "Example Support",
        "contact_name": "Alice Example",
        "ticket_ref": "1042",
        "ticket_subject": "Printer offline",
        "ticket_url": "https://support.example.com/portal/tickets/1042/",
    },
    Kind.REPLY: {
        "vendor_name": "Example Support",
        "contact_name": "Alice Example",
        "ticket_ref": "1042",
        "ticket_subject": "Printer offline",
        "ticket_url": "https://support.example.com/portal/tickets/1042/",
        "reply": "Please restart the print spooler and tell us what you see.",
        "agent_name": "Sam Agent",
        "signature": "Sam Agent\nExample Support",
        "history": "> On 2026-01-05 09:12 Alice Example wrote:\n> It says offline since 8am.",
        "attachment_links": "",
    },
    Kind.SOLVED: {
        "vendor_name": "Example Support",
        "contact_name": "Alice Example",
        "ticket_ref": "1042",
        "ticket_subject": "Printer offline",
        "ticket_url": "https://support.example.com/portal/tickets/1042/",
        "rate_good_url": "https://support.example.com/portal/rate/abc-123/?rating=good",
        "rate_bad_url": "https://support.example.com/portal/rate/abc-123/?rating=bad",
    },
    Kind.QUARANTINE: {
        # No sender name or subject: the unknown sender's own text is never echoed (T-11).
        "vendor_name": "Example Support",
        "standard_subject": "We need your details to help you",
        "standard_text": "We could not tell which customer you write for ...",
        "support_address": "support@example.com",
        "support_phone": "+1 212 555 0100",
    },
    Kind.INVITATION: {
        "vendor_name": "Example Support",
        "contact_name": "Alice Example",
        "organization_name": "Acme",
        "link": "https://support.example.com/invite/MQ/abc-123/",
        "valid_days": "7",
    },
    Kind.STAFF_INVITATION: {
        "vendor_name": "Example Support",
        "name": "Sam Agent",
        "link": "https://support.example.com/invite/MQ/abc-123/",
        "valid_days": "7",
    },
    Kind.PASSWORD_RESET: {
        "vendor_name": "Example Support",
        "name": "Alice Example",
        "link": "https://support.example.com/password-reset/MQ/abc-123/",
        "valid_hours": "24",
    },
    Kind.SIGNUP: {
        "vendor_name": "Example Support",
        "name": "Alice Example",
        "organization_name": "Acme",
        "link": "https://support.example.com/signup/abc-123/",
        "valid_hours": "24",
    },
}

DEFAULTS: dict[str, tuple[str, str]] = {
    Kind.ACKNOWLEDGEMENT: (
        "{{ ticket_subject }}",
        "We have received your request #{{ ticket_ref }}: {{ ticket_subject }}\n\n"
        "Reply to this message to add information; keep the [#number] in the subject.\n"
        "Follow it in the portal: {{ ticket_url }}\n",
    ),
    Kind.REPLY: (
        "{{ ticket_subject }}",
        "{{ reply }}\n\n"
        "{% if signature %}-- \n{{ signature }}\n\n{% endif %}"
        "{% if attachment_links %}Too large to attach, in the portal:\n{{ attachment_links }}\n\n"
        "{% endif %}"
        "Your request #{{ ticket_ref }} in the portal: {{ ticket_url }}\n"
        "{% if history %}\n{{ history }}\n{% endif %}",
    ),
    Kind.SOLVED: (
        "Solved: {{ ticket_subject }}",
        "Your request #{{ ticket_ref }} ({{ ticket_subject }}) is solved.\n\n"
        "If it is not, reply to this message or reopen it in the portal: {{ ticket_url }}\n"
        "{% if rate_good_url %}\nHow did we do?\n  Good: {{ rate_good_url }}\n"
        "  Bad:  {{ rate_bad_url }}\n{% endif %}",
    ),
    Kind.QUARANTINE: ("{{ standard_subject }}", "{{ standard_text }}"),
    Kind.INVITATION: (
        "Your {{ vendor_name }} support portal account",
        "Hello {{ contact_name }},\n\n"
        "{{ vendor_name }} invites you to its support portal for {{ organization_name }}. "
        "Choose your password here (the link works once, for {{ valid_days }} days):\n\n"
        "{{ link }}\n",
    ),
    Kind.STAFF_INVITATION: (
        "You are invited to the {{ vendor_name }} help desk",
        "Hello {{ name }},\n\n"
        "Choose your password to join the {{ vendor_name }} help desk (the link works once, "
        "for {{ valid_days }} days):\n\n{{ link }}\n",
    ),
    Kind.PASSWORD_RESET: (
        "Reset your {{ vendor_name }} password",
        "Hello {{ name }},\n\n"
        "Someone asked to reset the password of this address. If it was you, choose a new one "
        "here (the link works once, for {{ valid_hours }} hours):\n\n{{ link }}\n\n"
        "If it was not you, ignore this message: nothing changes.\n",
    ),
    Kind.SIGNUP: (
        "Confirm your address for the {{ vendor_name }} support portal",
        "Hello {{ name }},\n\n"
        "Someone asked for a {{ vendor_name }} support portal account for this address at "
        "{{ organization_name }}. If it was you, choose your password here (the link works "
        "once, for {{ valid_hours }} hours):\n\n{{ link }}\n\n"
        "If it was not you, ignore this message: no account is made.\n",
    ),
}


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body: str


@functools.lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    """A template's text parsed and checked once per process (every mail of a kind renders
    the same few sources); a text that fails is not kept and fails again."""
    try:
        template = _ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        raise InvalidInput(str(exc)) from None
    for node_type in _FORBIDDEN_NODES:
        if template.nodelist.get_nodes_by_type(node_type):
            raise InvalidInput("this tag is not allowed in mail templates")
    return template


def _render(source: str, context: Mapping[str, str], where: str) -> str:
    try:
        template = _compiled(source)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.detail}") from None
    try:
        return template.render(Context(dict(context), autoescape=False))
    except Exception as exc:  # a template tag failing at render time (e.g. a bad include)
        raise InvalidInput(f"{where}: {exc.__class__.__name__}: {exc}") from None


def render_source(
    *, kind: str, subject: str, body: str, context: Mapping[str, str]
) -> RenderedMail:
    """Render a template's text with `context`, which may hold only this kind's variables."""
    allowed = VARIABLES.get(kind)
    if allowed is None:
        raise InvalidInput(f"unknown mail template {kind!r}")
    unknown = sorted(set(context) - set(allowed))
    if unknown:
        raise ValueError(f"{kind}: variables outside the whitelist: {', '.join(unknown)}")
    clean = {k: str(context.get(k, "")) for k in allowed}
    rendered_subject = " ".join(_render(subject, clean, "subject").split())
    return RenderedMail(subject=rendered_subject[:300], body=_render(body, clean, "body"))


def mail_template_source(*, vendor_id: int | None, kind: str) -> tuple[str, str]:
    """The vendor's (subject, body) of `kind`, else the built-in one."""
    row = MailTemplate.objects.filter(vendor_id=vendor_id, kind=kind).first() if vendor_id else None
    return (row.subject, row.body) if row else DEFAULTS[kind]


def mail_render(
    *,
    vendor_id: int | None,
    kind: str,
    context: Mapping[str, str],
    source: tuple[str, str] | None = None,
) -> RenderedMail:
    """The mail of `kind` for the vendor (its template `source` when the caller read it
    already); a vendor template that fails to render (saved before a check existed, say)
    falls back to the built-in text rather than losing the mail."""
    subject, body = source or mail_template_source(vendor_id=vendor_id, kind=kind)
    try:
        return render_source(kind=kind, subject=subject, body=body, context=context)
    except InvalidInput:
        subject, body = DEFAULTS[kind]
        return render_source(kind=kind, subject=subject, body=body, context=context)


def mail_preview(*, kind: str, subject: str, body: str) -> RenderedMail:
    """The template rendered with the kind's sample values (vendor settings' preview)."""
    return render_source(kind=kind, subject=subject, body=body, context=VARIABLES[kind])
