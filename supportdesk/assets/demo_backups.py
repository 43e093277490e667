"""Demo configuration backups for the phone-system preset (H-4, E-10, seed 002).

Cedar Veterinary Clinic (subscription in force): a desk-phone base overdue for its yearly
backup, a conference unit backed up two months ago with a device token that pushes, and an
end-of-life analogue gateway that gets no schedule. Pine Street Realty (subscription lapsed
35 days ago): a PBX whose backups are eligible for deletion, its administrator warned.
Plus seed 002's on-site rule: an on-site visit ticket on Cedar's covered subscription, billable
hourly. Called by ``demo.load`` once the vendor's contracts, billing and staff exist.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from supportdesk.accounts.models import User
from supportdesk.assets import services_backups
from supportdesk.assets.models import Asset, ConfigBackup, HardwareModel
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.selectors import vendor_tz
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import principal_for
from supportdesk.customers.models import Organization
from supportdesk.customers.selectors import contact_find_by_email
from supportdesk.tickets import services as tickets


def _model(vendor: Vendor, name: str, eol: date | None) -> HardwareModel:
    model, _ = HardwareModel.objects.get_or_create(
        vendor=vendor, manufacturer="Bluebell", name=name,
        defaults={"end_of_life_on": eol, "unit_price": None},
    )  # fmt: skip
    return model


def _device(
    org: Organization, model: HardwareModel, serial: str, bought: date, at: datetime
) -> Asset:
    # Devices are the inventory the assets pages (H-1) manage; here only their rows are needed.
    asset, _ = Asset.objects.get_or_create(
        model=model, serial=serial,
        defaults={"vendor": org.vendor, "organization": org, "purchased_on": bought,
                  "created_at": at},
    )  # fmt: skip
    return asset


def _backup(asset: Asset, engineer: User, text: str, at: datetime) -> ConfigBackup:
    return services_backups.backup_store(
        asset=asset, chunks=[text.encode()], filename=f"{asset.serial}.cfg", now=at,
        principal=principal_for(engineer),
    )  # fmt: skip


def _on_site_visit(vendor: Vendor, engineer: User, agent: User, now: datetime) -> None:
    """Seed 002: on-site work is not included in the subscription: the ticket's category
    makes it billable hourly though Cedar's subscription is in force."""
    contact = contact_find_by_email(vendor_id=vendor.pk, address="kim@cedarvet.example")
    assert contact is not None
    staff = principal_for(agent)
    opened = now - timedelta(days=2)
    ticket = tickets.ticket_create(
        principal=staff, vendor=vendor, organization=contact.organization, requester=contact,
        subject="Wall phone in surgery 2 needs replacing on site",
        body="The wall-mounted handset in surgery 2 is cracked; please send a technician.",
        priority="P3", channel="phone", caller_number="", now=opened,
    )  # fmt: skip
    contract_services.ticket_category_set(
        principal=staff, ticket=ticket, category="on_site", now=opened
    )
    contract_services.time_entry_add(
        principal=None, ticket=ticket, engineer=engineer, started_at=opened + timedelta(hours=3),
        minutes=90, work_kind="on_site", category="on_site", now=now,
        note="Replaced the wall handset and re-provisioned extension 204.",
    )  # fmt: skip


def _phones(vendor: Vendor, now: datetime) -> None:
    today = now.astimezone(vendor_tz(vendor.timezone)).date()
    engineer = User.objects.get(email="tech@bluebell-phones.example")
    agent = User.objects.get(email="rep@bluebell-phones.example")
    cedar = Organization.objects.get(vendor=vendor, name="Cedar Veterinary Clinic")
    pine = Organization.objects.get(vendor=vendor, name="Pine Street Realty")
    base = _model(vendor, "BPX-500 desk base", None)
    conference = _model(vendor, "CS-20 conference unit", None)
    gateway = _model(vendor, "AG-4 analogue gateway", today - timedelta(days=200))
    long_ago = now - timedelta(days=800)
    overdue = _device(cedar, base, "BPX5-00417", today - timedelta(days=800), long_ago)
    _backup(
        overdue, engineer, "hostname cedar-pbx\nextensions 201-204\n", now - timedelta(days=400)
    )
    recent = _device(cedar, conference, "CS20-11802", today - timedelta(days=500), long_ago)
    _backup(recent, engineer, "hostname cedar-conf\nroom surgery-1\n", now - timedelta(days=60))
    services_backups.device_token_create(
        principal=principal_for(engineer), asset=recent, name="conference unit", now=long_ago
    )
    eol = _device(cedar, gateway, "AG4-77310", today - timedelta(days=1500), long_ago)
    _backup(eol, engineer, "hostname cedar-fax-ata\nports 4\n", now - timedelta(days=700))
    lapsed = _device(pine, base, "BPX5-00988", today - timedelta(days=600), long_ago)
    _backup(lapsed, engineer, "hostname pine-pbx\nextensions 210-215\n", now - timedelta(days=90))
    # Pine's subscription lapsed 35 days ago: the deletion run marks its backups eligible
    # and warns its administrator (the same step the scheduled sweep takes).
    services_backups.backup_retention_run(organization_id=pine.pk, now=now)
    _on_site_visit(vendor, engineer, agent, now)


def demo_extend(*, vendor: Vendor, slug: str, now: datetime) -> None:
    """Add the preset's devices and backups; a no-op for other presets or when done."""
    if slug != "phones" or ConfigBackup.objects.filter(asset__vendor=vendor).exists():
        return
    _phones(vendor, now)
