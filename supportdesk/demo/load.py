"""Load the demo presets through the same services every channel uses. Idempotent."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta
from typing import IO, Any

from django.db import transaction

from supportdesk.accounts.models import Absence, User
from supportdesk.accounts.services import staff_user_create
from supportdesk.assets import demo as assets_demo
from supportdesk.assets import demo_backups as assets_demo_backups
from supportdesk.billing import demo as billing_demo
from supportdesk.contracts import demo as contracts_demo
from supportdesk.contracts.models import Product, ProductVersion
from supportdesk.core import clock
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import principal_for
from supportdesk.customers.models import Contact, ContactRole
from supportdesk.customers.selectors import contact_find_by_email
from supportdesk.customers.services import (
    contact_create,
    contact_portal_access_grant,
    organization_create,
)
from supportdesk.demo.presets import DEMO_PASSWORD, PRESETS
from supportdesk.intake import demo as intake_demo
from supportdesk.kb import demo as kb_demo
from supportdesk.kb import demo_downloads as downloads_demo
from supportdesk.monitoring import demo as monitoring_demo
from supportdesk.oncall import demo as oncall_demo
from supportdesk.sla.demo import demo_extend
from supportdesk.tickets import demo as tickets_demo
from supportdesk.tickets import services as tickets
from supportdesk.tickets.models import Queue

ADMIN_EMAIL = "admin@supportdesk.localhost"
ADMIN_PASSWORD = "admin-demo-password"  # noqa: S105 - printed demo login


def screenshot_png(width: int = 48, height: int = 32) -> bytes:
    """A small real PNG (a blue gradient) so demo attachments are genuine images."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (20, 60 + x * 3, 160 + y * 2))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _load_vendor(preset: dict[str, Any]) -> Vendor:
    now = clock.now()
    vendor = Vendor.objects.create(**preset["vendor"])
    demo_extend(vendor=vendor, slug=vendor.slug, now=now)
    queues = {
        q["name"]: Queue.objects.create(
            vendor=vendor, name=q["name"], email=q["email"], is_default=q.get("default", False)
        )
        for q in preset["queues"]
    }
    staff: dict[str, User] = {}
    for person in preset["staff"]:
        user = staff_user_create(
            email=person["email"],
            password=DEMO_PASSWORD,
            vendor=vendor,
            roles=person["roles"],
            display_name=person["name"],
            phone=person["phone"],
        )
        staff[person["email"]] = user
        for name in person["queues"]:
            queues[name].members.add(user)
        if lead := person.get("lead"):
            Queue.objects.filter(pk=queues[lead].pk).update(team_lead=user)
        if days := person.get("away_days"):
            Absence.objects.create(
                user=user, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=days),
                reason="vacation",
            )  # fmt: skip
    products = {}
    for item in preset["products"]:
        product = Product.objects.create(vendor=vendor, name=item["name"])
        products[item["name"]] = product
        for version, current in item["versions"]:
            ProductVersion.objects.create(product=product, version=version, is_current=current)
    orgs = {}
    for customer in preset["customers"]:
        org = organization_create(
            vendor=vendor, name=customer["name"], email_domains="\n".join(customer["domains"])
        )
        orgs[customer["name"]] = org
        for person in customer["contacts"]:
            contact = contact_create(
                organization=org,
                name=person["name"],
                emails=[person["email"], *person.get("emails", [])],
                phones=person["phones"],
                faxes=person.get("faxes", []),
                role=person.get("role", ContactRole.CONTACT),
            )
            if person.get("portal"):
                contact_portal_access_grant(contact=contact, password=DEMO_PASSWORD)
    contracts_demo.demo_extend(vendor=vendor, slug=vendor.slug, now=now)  # before tickets
    downloads_demo.demo_extend(vendor=vendor, now=now)  # files of the contracts demo's releases
    billing_demo.demo_extend(vendor=vendor, slug=vendor.slug, now=now)  # after contracts
    oncall_demo.demo_extend(vendor=vendor, slug=vendor.slug, now=now)
    agent = next(iter(staff.values()))
    agent_principal = principal_for(agent)
    for item in preset["tickets"]:
        contact = contact_find_by_email(vendor_id=vendor.pk, address=item["contact"])
        assert contact is not None
        staff_logged = item["channel"] in ("phone", "voicemail")
        ticket = tickets.ticket_create(
            principal=agent_principal if staff_logged else _contact_principal(contact),
            vendor=vendor,
            organization=orgs[item["customer"]],
            requester=contact,
            subject=item["subject"],
            body=item["body"],
            priority=item["priority"],
            channel=item["channel"],
            product=products.get(item.get("product", "")),
            version=item.get("version", ""),
            caller_number=item.get("caller", ""),
            attachments=[tickets.AttachmentInput("screenshot.png", screenshot_png())],
            now=now,
        )
        tickets.ticket_assign(ticket=ticket, principal=agent_principal, assignee=None, now=now)
        if reply := item.get("reply"):
            tickets.message_add(ticket=ticket, principal=agent_principal, body=reply, now=now)
        if note := item.get("note"):
            tickets.message_add(
                ticket=ticket, principal=agent_principal, body=note, kind="internal", now=now
            )
        if reason := item.get("escalate"):
            tickets.ticket_escalate(
                ticket=ticket, principal=agent_principal, reason=reason, now=now
            )
        if scope := item.get("out_of_scope"):
            tickets.ticket_close_out_of_scope(
                ticket=ticket, principal=agent_principal, scope=scope[0], note=scope[1], now=now
            )
    intake_demo.demo_extend(vendor=vendor, slug=vendor.slug, now=now)  # after staff, contacts
    monitoring_demo.demo_extend(vendor=vendor, slug=vendor.slug, now=now)  # after contracts
    tickets_demo.demo_extend(vendor=vendor, now=now)  # macros and signatures (T-12)
    assets_demo_backups.demo_extend(vendor=vendor, slug=vendor.slug, now=now)  # after contracts
    assets_demo.demo_extend(vendor=vendor, preset=preset, now=now)  # after contracts, staff
    kb_demo.demo_extend(vendor=vendor, articles=preset.get("articles", []), now=now)
    return vendor


def _contact_principal(contact: Contact) -> Any:
    return principal_for(contact.user) if contact.user else None


def demo_load(*, stdout: IO[str] | None = None) -> str:
    """Create the admin and the three presets that are missing; existing ones are left as is."""
    created = []
    with transaction.atomic():
        if not User.objects.filter(email=ADMIN_EMAIL).exists():
            staff_user_create(
                email=ADMIN_EMAIL, password=ADMIN_PASSWORD, vendor=None, roles=["admin"],
                display_name="Demo admin", superuser=True,
            )  # fmt: skip
        for preset in PRESETS:
            if Vendor.objects.filter(slug=preset["vendor"]["slug"]).exists():
                continue
            if stdout:
                stdout.write(f"loading preset {preset['vendor']['name']}\n")
            _load_vendor(preset)
            created.append(preset["vendor"]["slug"])
    lines = [
        "Demo data: " + (f"loaded {', '.join(created)}" if created else "already loaded"),
        f"  admin (Django admin, all vendors): {ADMIN_EMAIL} / {ADMIN_PASSWORD}",
        f"  every demo staff member and portal contact has the password {DEMO_PASSWORD}, e.g.",
    ]
    for preset in PRESETS:
        staff_email = preset["staff"][0]["email"]
        contact_email = next(
            c["email"] for cust in preset["customers"] for c in cust["contacts"] if c.get("portal")
        )
        lines.append(
            f"  {preset['vendor']['slug']:>10}: console {staff_email} · portal {contact_email}"
        )
    return "\n".join(lines)
