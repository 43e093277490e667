"""First run (A-1): a vendor with everything it needs to take its first ticket.

`vendor_setup` is idempotent: a second run with the same answers changes nothing, and a run
with new answers updates the vendor's profile but never replaces a queue, calendar, policy or
admin the vendor already has (it may have edited them since).
"""

from __future__ import annotations

import json
import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import holidays
from django.db import transaction

from supportdesk.accounts.models import Role, StaffRole, User
from supportdesk.accounts.services import staff_user_create
from supportdesk.core.audit import vendor_event_record
from supportdesk.core.errors import Conflict, Forbidden, InvalidInput
from supportdesk.core.models import Vendor, VendorEventKind
from supportdesk.core.phones import normalize_e164
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.sla.models import Calendar, SlaPolicy
from supportdesk.sla.services import sla_calendar_save, sla_policy_save
from supportdesk.tickets.models import Queue

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
CALENDAR_NAME = "Business hours"
POLICY_NAME = "Standard response targets"
PASSWORD_MIN = 8


@dataclass(frozen=True)
class SetupAnswers:
    vendor_name: str
    slug: str
    timezone: str
    country: str
    support_email: str
    admin_email: str
    support_phone: str = ""
    admin_password: str = ""


@dataclass(frozen=True)
class SetupResult:
    vendor: Vendor
    admin: User
    created: list[str]

    def summary(self) -> str:
        made = ", ".join(self.created) if self.created else "nothing new (already set up)"
        return f"vendor {self.vendor.slug}: {made}"


def calendar_spec(*, timezone: str, country: str) -> dict[str, Any]:
    """Monday to Friday 09:00-17:00 in the vendor's zone, closed on the country's holidays."""
    return {
        "timezone": timezone,
        "weekly": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holiday_sets": [{"country": country}],
    }


def policy_spec(*, timezone: str) -> dict[str, Any]:
    """Default response targets: P1 round the clock, the rest in business hours."""
    return {
        "name": POLICY_NAME,
        "timezone": timezone,
        "pause_statuses": ["waiting_customer"],
        "rules": [
            {
                "name": "critical",
                "when": {"priority": ["P1"]},
                "first_response": {"duration": "1h"},
                "next_response": {"duration": "4h"},
            },
            {
                "name": "business hours",
                "first_response": {"duration": "8h", "calendar": CALENDAR_NAME},
                "next_response": {"duration": "16h", "calendar": CALENDAR_NAME},
            },
        ],
    }


def _clean(answers: SetupAnswers) -> SetupAnswers:
    name = " ".join((answers.vendor_name or "").split())
    if not name:
        raise InvalidInput("the vendor needs a name")
    slug = (answers.slug or "").strip().lower()
    if not SLUG_RE.match(slug):
        raise InvalidInput(
            f"slug {slug!r}: use lower-case letters, digits and hyphens (at most 60)"
        )
    zone = (answers.timezone or "").strip()
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{zone!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
    country = (answers.country or "").strip().upper()
    if country not in holidays.list_supported_countries():
        raise InvalidInput(f"{country!r} is not a country code with holidays (e.g. US, DE, FR)")
    emails = []
    for what, value in (("support", answers.support_email), ("admin", answers.admin_email)):
        value = (value or "").strip().lower()
        local, _, domain = value.partition("@")
        if not local or "." not in domain or " " in value:
            raise InvalidInput(f"the {what} address {value!r} is not an email address")
        emails.append(value)
    phone = (answers.support_phone or "").strip()
    if phone:
        phone = normalize_e164(phone, region=country)
    return SetupAnswers(
        vendor_name=name,
        slug=slug,
        timezone=zone,
        country=country,
        support_email=emails[0],
        admin_email=emails[1],
        support_phone=phone,
        admin_password=answers.admin_password or "",
    )


def _admin(vendor: Vendor, answers: SetupAnswers, acting: User | None) -> tuple[User, bool]:
    """The vendor's first admin: `acting` (a superuser at the first-run page), an existing
    admin with that address, or a new one with the given password."""
    user = acting or User.objects.filter(email=answers.admin_email).first()
    if user is not None:
        if user.vendor_id not in (None, vendor.pk):
            raise Conflict(f"{user.email} is staff of another vendor", code="other_vendor")
        if not user.is_staff and not user.is_superuser:
            raise Conflict(f"{user.email} is a customer login, not staff", code="not_staff")
        changed = user.vendor_id is None
        if changed:
            user.vendor = vendor
            user.save(update_fields=["vendor"])
        _, role_added = StaffRole.objects.get_or_create(user=user, role=Role.ADMIN)
        return user, changed or role_added
    if len(answers.admin_password) < PASSWORD_MIN:
        raise InvalidInput(f"the admin password must be at least {PASSWORD_MIN} characters")
    user = staff_user_create(
        email=answers.admin_email,
        password=answers.admin_password,
        vendor=vendor,
        roles=[Role.ADMIN],
    )
    return user, True


@transaction.atomic
def vendor_setup(
    *, answers: SetupAnswers, now: datetime, acting_superuser: User | None = None
) -> SetupResult:
    """Create (or complete) a vendor: queue, calendar, default policy, first admin (A-1)."""
    answers = _clean(answers)
    created: list[str] = []
    profile = {
        "name": answers.vendor_name,
        "timezone": answers.timezone,
        "support_email": answers.support_email,
        "support_phone": answers.support_phone,
        "country": answers.country,
    }
    vendor = Vendor.objects.select_for_update().filter(slug=answers.slug).first()
    if vendor is None:
        vendor = Vendor.objects.create(slug=answers.slug, **profile)
        created.append("vendor")
    else:
        changed = {k: v for k, v in profile.items() if getattr(vendor, k) != v}
        if changed:
            Vendor.objects.filter(pk=vendor.pk).update(**changed)
            vendor.refresh_from_db()
            created.append("profile updated (" + ", ".join(sorted(changed)) + ")")
    if not Queue.objects.filter(vendor=vendor).exists():
        Queue.objects.create(
            vendor=vendor, name="Support", email=answers.support_email, is_default=True
        )
        created.append("queue Support")
    if not Calendar.objects.filter(vendor=vendor).exists():
        sla_calendar_save(
            vendor=vendor,
            name=CALENDAR_NAME,
            spec=calendar_spec(timezone=answers.timezone, country=answers.country),
            now=now,
        )
        created.append(f"calendar {CALENDAR_NAME!r} with {answers.country} holidays")
    has_default = SlaPolicy.objects.filter(vendor=vendor, is_default=True).exists()
    # The policy names our calendar; a vendor that replaced it keeps choosing its own policy.
    if not has_default and Calendar.objects.filter(vendor=vendor, name=CALENDAR_NAME).exists():
        spec = policy_spec(timezone=answers.timezone)
        sla_policy_save(vendor=vendor, spec=spec, is_default=True, now=now)
        created.append(f"default policy {POLICY_NAME!r}")
    admin, admin_changed = _admin(vendor, answers, acting_superuser)
    if admin_changed:
        created.append(f"admin {admin.email}")
    queue = Queue.objects.filter(vendor=vendor, is_default=True).first()
    if queue is not None and not queue.members.filter(pk=admin.pk).exists():
        queue.members.add(admin)
    if created:
        vendor_event_record(
            vendor_id=vendor.pk, kind=VendorEventKind.SET_UP, actor_id=admin.pk, now=now,
            created=created,
        )  # fmt: skip
    return SetupResult(vendor=vendor, admin=admin, created=created)


PROFILE_FIELDS = (
    "name", "support_email", "support_phone", "emergency_phone", "timezone", "self_signup",
    "free_mail_domains",
)  # fmt: skip
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _domains(text: str) -> str:
    """Free-mail domains typed one per line (or separated by spaces/commas), checked and
    stored one per line, sorted."""
    domains = sorted({d.strip().lower() for d in re.split(r"[\s,;]+", text or "") if d.strip()})
    bad = [d for d in domains if not DOMAIN_RE.match(d)]
    if bad:
        raise InvalidInput(f"not a mail domain: {', '.join(bad)}")
    return "\n".join(domains)


@transaction.atomic
def vendor_profile_update(
    *, vendor: Vendor, principal: Principal, changes: dict[str, Any], now: datetime
) -> list[str]:
    """The vendor's admins edit its profile (issue 11.2); returns the fields that changed."""
    require_staff_of(principal, vendor.pk)
    if not principal.has_role("admin"):
        raise Forbidden("only the vendor's admins may change its profile")
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput(f"not a profile field: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {
        k: bool(v) if k == "self_signup" else " ".join((v or "").split())
        for k, v in changes.items()
    }
    if "free_mail_domains" in changes:
        values["free_mail_domains"] = _domains(changes["free_mail_domains"])
    if "name" in values and not values["name"]:
        raise InvalidInput("the vendor needs a name")
    if "timezone" in values:
        try:
            zoneinfo.ZoneInfo(values["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"{values['timezone']!r} is not an IANA time zone") from None
    if values.get("support_email"):
        values["support_email"] = values["support_email"].lower()
        local, _, domain = values["support_email"].partition("@")
        if not local or "." not in domain:
            raise InvalidInput(f"{values['support_email']!r} is not an email address")
    for key in ("support_phone", "emergency_phone"):
        if values.get(key):
            values[key] = normalize_e164(values[key], region=vendor.country)
    changed = {k: v for k, v in values.items() if getattr(vendor, k) != v}
    if changed:
        old = {k: getattr(vendor, k) for k in changed}
        Vendor.objects.filter(pk=vendor.pk).update(**changed)
        vendor.refresh_from_db()
        vendor_event_record(
            vendor_id=vendor.pk, kind=VendorEventKind.PROFILE_CHANGED,
            actor_id=principal.user_id, now=now, old=old, new=changed,
        )  # fmt: skip
    return sorted(changed)


def _spec(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "")
    except ValueError as exc:
        raise InvalidInput(f"{what}: not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{what}: expected a JSON object")
    return value


def _require_admin(principal: Principal, vendor: Vendor) -> None:
    require_staff_of(principal, vendor.pk)
    if not principal.has_role("admin"):
        raise Forbidden("only the vendor's admins may change its settings")


@transaction.atomic
def vendor_calendar_save(
    *, vendor: Vendor, principal: Principal, name: str, spec_json: str, now: datetime
) -> Calendar:
    """A vendor admin creates or replaces a business calendar (docs/sla.md's spec)."""
    _require_admin(principal, vendor)
    row = sla_calendar_save(vendor=vendor, name=name, spec=_spec(spec_json, "calendar"), now=now)
    vendor_event_record(
        vendor_id=vendor.pk, kind=VendorEventKind.CALENDAR_SAVED, actor_id=principal.user_id,
        now=now, calendar=row.name, spec=row.spec,
    )  # fmt: skip
    return row


@transaction.atomic
def vendor_policy_save(
    *, vendor: Vendor, principal: Principal, spec_json: str, is_default: bool, now: datetime
) -> SlaPolicy:
    """A vendor admin creates or replaces a response-target policy; running clocks keep the
    rule they started with (house rule 9)."""
    _require_admin(principal, vendor)
    row = sla_policy_save(
        vendor=vendor, spec=_spec(spec_json, "policy"), is_default=is_default, now=now
    )
    vendor_event_record(
        vendor_id=vendor.pk, kind=VendorEventKind.POLICY_SAVED, actor_id=principal.user_id,
        now=now, policy=row.name, is_default=is_default, spec=row.spec,
    )  # fmt: skip
    return row
