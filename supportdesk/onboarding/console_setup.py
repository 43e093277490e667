"""Vendor settings pages for plans and rate cards, on-call schedules and escalation chains,
IMAP mailboxes, provider credentials, webhooks and the invoice letterhead (issue 11.2). Thin:
parse the form, call one service of `services_settings`, render. Objects are looked up within
the admin's vendor, so another vendor's id is a 404; bad input is the service's 400 with its
message. Stored secrets are shown as a mask and never put back into a form."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from supportdesk.billing.models import RateCard, VendorBilling
from supportdesk.contracts.models import Plan, PlanKind
from supportdesk.core import clock
from supportdesk.core.crypto import mask
from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.links import absolute_url
from supportdesk.core.models import Provider, ProviderCredential
from supportdesk.core.web import int_param
from supportdesk.intake.models import ImapMailbox
from supportdesk.monitoring.models import Integration
from supportdesk.onboarding.console import vendor_admin_page
from supportdesk.onboarding.services_settings import (
    vendor_chain_save,
    vendor_credential_save,
    vendor_letterhead_save,
    vendor_mailbox_save,
    vendor_plan_save,
    vendor_rate_card_save,
    vendor_schedule_save,
    vendor_webhook_key_rotate,
)
from supportdesk.oncall.models import EscalationChain, Schedule

M = TypeVar("M", bound=Model)
RATE_FIELDS = ("business_rate", "after_hours_rate", "weekend_rate", "holiday_rate")
LETTERHEAD_TEXT = ("legal_name", "address", "tax_id", "tax_label", "payment_instructions", "terms")


def _own(rows: QuerySet[M], raw: str | None, what: str) -> M | None:
    """The vendor's row named by a form's hidden id; empty: a new one; anything else: 404."""
    if not raw:
        return None
    row = rows.filter(pk=int_param(raw) or 0).first()
    if row is None:
        raise NotFound(f"{what} {raw} not found")
    return row


def _decimal(raw: str | None, what: str) -> Decimal:
    raw = (raw or "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(f"{what} is not a number: {raw!r}") from None
    if not value.is_finite():
        raise InvalidInput(f"{what} is not a number: {raw!r}")
    return value


def _whole(raw: str | None, what: str, default: int | None = None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return default
    value = int_param(raw)
    if value is None:
        raise InvalidInput(f"{what} must be a whole number, got {raw!r}")
    return value


def _moment(raw: str | None, zone: str) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        day = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"effective from must be a date like 2027-01-01, got {raw!r}") from None
    if day.tzinfo is None:
        day = day.replace(tzinfo=ZoneInfo(zone))
    return day


@vendor_admin_page
def plans(request: HttpRequest) -> HttpResponse:
    """Plans (E-1, B-2) and the rate cards that price hourly work (B-7, B-8)."""
    vendor = request.vendor  # type: ignore[attr-defined]
    cards = RateCard.objects.filter(vendor=vendor, organization__isnull=True)
    if request.method == "POST":
        principal, now, post = request.principal, clock.now(), request.POST  # type: ignore[attr-defined]
        if post.get("what") == "rate_card":
            card = vendor_rate_card_save(
                vendor=vendor, principal=principal, now=now,
                card=_own(cards, post.get("card"), "rate card"),
                name=post.get("name", ""), currency=post.get("currency", ""),
                rates={k: post.get(k, "") for k in RATE_FIELDS},
                increment_minutes=_whole(post.get("increment_minutes"), "increment", 15),
                rounding=post.get("rounding", "up"),
                minimum_charge=post.get("minimum_charge", ""),
                effective_from=_moment(post.get("effective_from"), vendor.timezone),
                calendar_json=post.get("calendar", ""),
            )  # fmt: skip
            messages.success(request, f"Rate card {card.name} saved.")
        else:
            plan_row = _own(Plan.objects.filter(vendor=vendor), post.get("plan"), "plan")
            terms: dict[str, Any] = {}
            if plan_row is None:
                terms = {
                    "slug": post.get("slug", ""), "kind": post.get("kind", ""),
                    "currency": (post.get("currency") or "USD").strip().upper(),
                    "rules_json": post.get("rules", ""),
                    "price_percent_of_list": _decimal(
                        post.get("price_percent_of_list") or "0", "percent"
                    ),
                    "price_fixed": _decimal(post.get("price_fixed") or "0", "fixed price"),
                    "per_user_price": (
                        _decimal(post["per_user_price"], "user price")
                        if (post.get("per_user_price") or "").strip()
                        else None
                    ),
                }  # fmt: skip
            plan = vendor_plan_save(
                vendor=vendor, principal=principal, now=now, plan=plan_row,
                name=post.get("name", ""),
                card=_own(cards, post.get("rate_card"), "rate card"), **terms,
            )  # fmt: skip
            messages.success(request, f"Plan {plan.name} saved.")
        return redirect("console:settings:plans")
    context = {
        "plans": [
            (p, json.dumps(p.rules, indent=2))
            for p in Plan.objects.filter(vendor=vendor).order_by("name")
        ],
        "cards": [(c, json.dumps(c.calendar_spec, indent=2)) for c in cards.order_by("name")],
        "card_choices": cards.order_by("name"),
        "kinds": PlanKind.choices,
        "calendar_sample": json.dumps(
            {
                "timezone": vendor.timezone,
                "weekly": {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                "holiday_sets": [{"country": vendor.country}],
            }
        ),
        "tab": "plans",
    }
    return render(request, "onboarding/settings_plans.html", context)


@vendor_admin_page
def oncall(request: HttpRequest) -> HttpResponse:
    """On-call schedules (O-1) and escalation chains (O-4) as their JSON specs."""
    vendor = request.vendor  # type: ignore[attr-defined]
    if request.method == "POST":
        principal, now, post = request.principal, clock.now(), request.POST  # type: ignore[attr-defined]
        args: dict[str, Any] = {
            "vendor": vendor, "principal": principal, "now": now, "slug": post.get("slug", ""),
            "name": post.get("name", ""), "spec_json": post.get("spec", ""),
        }  # fmt: skip
        row: Any = (
            vendor_chain_save(**args)
            if post.get("what") == "chain"
            else vendor_schedule_save(**args)
        )
        messages.success(request, f"{row.name} saved.")
        return redirect("console:settings:oncall")
    zone, today = vendor.timezone, clock.now().date().isoformat()
    context = {
        "schedules": [
            (s, json.dumps({k: v for k, v in s.spec.items() if k not in ("id", "name")}, indent=2))
            for s in Schedule.objects.filter(vendor=vendor)
        ],
        "chains": [
            (c, json.dumps({k: v for k, v in c.spec.items() if k not in ("id", "name")}, indent=2))
            for c in EscalationChain.objects.filter(vendor=vendor)
        ],
        "schedule_sample": json.dumps(
            {
                "layers": [
                    {
                        "name": "base",
                        "rotations": [
                            {
                                "id": "weekly",
                                "participants": [getattr(request.user, "email", "")],
                                "zone": zone,
                                "start": today,
                                "handoff": "09:00",
                                "shift": "weekly",
                            }
                        ],
                    }
                ]
            }
        ),
        "chain_sample": json.dumps(
            {
                "rounds": 2,
                "steps": [
                    {"notify_on_call": "SCHEDULE-SLUG", "channels": ["sms", "email"]},
                    {"wait_minutes": 10},
                ],
            }
        ),
        "tab": "oncall",
    }
    return render(request, "onboarding/settings_oncall.html", context)


@vendor_admin_page
def mailboxes(request: HttpRequest) -> HttpResponse:
    """IMAP mailboxes `supportdesk fetchmail` polls; passwords stored encrypted, shown masked."""
    vendor = request.vendor  # type: ignore[attr-defined]
    rows = ImapMailbox.objects.filter(vendor=vendor)
    if request.method == "POST":
        post = request.POST
        box = vendor_mailbox_save(
            vendor=vendor, principal=request.principal, now=clock.now(),  # type: ignore[attr-defined]
            mailbox=_own(rows, post.get("mailbox"), "mailbox"),
            host=post.get("host", ""), port=_whole(post.get("port"), "port"),
            ssl=post.get("security", "ssl") == "ssl",
            starttls=post.get("security") == "starttls",
            username=post.get("username", ""), password=post.get("password") or None,
            folder=post.get("folder", ""), move_to=post.get("move_to", ""),
            active=post.get("active") == "on",
        )  # fmt: skip
        messages.success(request, f"Mailbox {box} saved.")
        return redirect("console:settings:mailboxes")
    context = {"mailboxes": [(b, mask(b.password)) for b in rows], "tab": "mailboxes"}
    return render(request, "onboarding/settings_mailboxes.html", context)


@vendor_admin_page
def providers(request: HttpRequest) -> HttpResponse:
    """The vendor's own SMS/voice provider account (O-5); the token is stored encrypted and
    shown masked."""
    vendor = request.vendor  # type: ignore[attr-defined]
    if request.method == "POST":
        post = request.POST
        vendor_credential_save(
            vendor=vendor, principal=request.principal, now=clock.now(),  # type: ignore[attr-defined]
            provider=post.get("provider", ""), account=post.get("account", ""),
            secret=post.get("secret") or None, sender=post.get("sender", ""),
        )  # fmt: skip
        messages.success(request, "Provider account saved.")
        return redirect("console:settings:providers")
    stored = {c.provider: c for c in ProviderCredential.objects.filter(vendor=vendor)}
    rows = [(value, label, stored.get(value)) for value, label in Provider.choices]
    context = {
        "rows": [(v, label, c, mask(c.secret) if c else "") for v, label, c in rows],
        "tab": "providers",
    }
    return render(request, "onboarding/settings_providers.html", context)


@vendor_admin_page
def webhooks(request: HttpRequest) -> HttpResponse:
    """Where the vendor's systems post to supportdesk, and the vendor's own mail webhook key:
    generated here, shown once, stored encrypted."""
    vendor = request.vendor  # type: ignore[attr-defined]
    new_key = ""
    if request.method == "POST":
        new_key = vendor_webhook_key_rotate(
            vendor=vendor,
            principal=request.principal,
            now=clock.now(),  # type: ignore[attr-defined]
        )
        vendor.refresh_from_db()
    context = {
        "tab": "webhooks",
        "new_key": new_key,
        "stored": mask(vendor.mail_webhook_secret),
        "mail_url": absolute_url(f"/hooks/mail/inbound?vendor={vendor.slug}", request=request),
        "fax_url": absolute_url("/hooks/fax/inbound", request=request),
        "voice_url": absolute_url("/hooks/voice/incoming", request=request),
        "sms_url": absolute_url("/hooks/sms/inbound", request=request),
        "integrations": Integration.objects.filter(vendor=vendor).order_by("name"),
    }
    return render(request, "onboarding/settings_webhooks.html", context)


@vendor_admin_page
def letterhead(request: HttpRequest) -> HttpResponse:
    """The vendor's legal name, postal address, tax and payment terms printed on its invoices."""
    vendor = request.vendor  # type: ignore[attr-defined]
    if request.method == "POST":
        post = request.POST
        changed = vendor_letterhead_save(
            vendor=vendor, principal=request.principal, now=clock.now(),  # type: ignore[attr-defined]
            values={name: post.get(name, "") for name in LETTERHEAD_TEXT}
            | {"tax_percent": _decimal(post.get("tax_percent") or "0", "tax percent")},
        )  # fmt: skip
        messages.success(request, "Letterhead saved." if changed else "Nothing changed.")
        return redirect("console:settings:letterhead")
    context = {"tab": "letterhead", "row": VendorBilling.objects.filter(vendor=vendor).first()}
    return render(request, "onboarding/settings_letterhead.html", context)
