"""Demo devices and RMAs (H-1..H-3) from a preset's ``hardware`` section, through the services.

Enterprise: fax boards and modems at Acme Insurance's data centre, in warranty and covered by
its contract; Globex Legal's board is out of warranty. One advance exchange waits for the
defective modem (replacement shipped, serial swapped); one return to factory has its repair
quote approved and repaired, and cannot ship back until its invoice is paid — its lead time
has passed the warning mark. Called by `demo.load` after the tickets; idempotent (a vendor
that has hardware models is left alone)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from supportdesk.accounts.models import User
from supportdesk.assets import services, services_rma
from supportdesk.assets.models import Asset, HardwareModel
from supportdesk.contracts.models import Contract, ContractState
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import principal_for
from supportdesk.customers.models import Organization
from supportdesk.customers.selectors import contact_find_by_email
from supportdesk.customers.services import site_create
from supportdesk.tickets import services as tickets


def _covering(org: Organization) -> Contract | None:
    return (
        Contract.objects.filter(organization=org, state=ContractState.ACTIVE)
        .order_by("-end")
        .first()
    )


def demo_extend(*, vendor: Vendor, preset: dict[str, Any], now: datetime) -> None:
    hardware = preset.get("hardware")
    if not hardware or HardwareModel.objects.filter(vendor=vendor).exists():
        return
    models = {
        m["name"]: services.hardware_model_create(principal=None, vendor=vendor, **m)
        for m in hardware["models"]
    }
    sites: dict[tuple[int, str], Any] = {}
    for item in hardware["assets"]:
        org = Organization.objects.get(vendor=vendor, name=item["customer"])
        site = None
        if name := item.get("site"):
            site = sites.get((org.pk, name)) or site_create(organization=org, name=name)
            sites[(org.pk, name)] = site
        services.asset_create(
            principal=None, organization=org, model=models[item["model"]], serial=item["serial"],
            purchased_on=(now - timedelta(days=item["purchased_days_ago"])).date(), site=site,
            contract=_covering(org) if item.get("covered") else None, now=now,
        )  # fmt: skip
    staff = principal_for(
        User.objects.filter(vendor=vendor, is_staff=True, roles__role="agent").order_by("pk")[0]
    )
    for item in hardware["rmas"]:
        at = now - timedelta(days=item["days_ago"])
        asset = Asset.objects.get(vendor=vendor, serial=item["serial"])
        contact = contact_find_by_email(vendor_id=vendor.pk, address=item["contact"])
        assert contact is not None
        ticket = tickets.ticket_create(
            principal=staff, vendor=vendor, organization=asset.organization, requester=contact,
            subject=item["subject"], body=f"{asset.model}, serial {asset.serial}.",
            priority="P2", channel="phone", now=at,
        )  # fmt: skip
        rma = services_rma.rma_start(
            principal=staff, ticket=ticket, asset=asset, kind=item["kind"], now=at
        )
        for action, step in item["steps"]:
            # the customer's administrator approves the quote in the portal
            who = principal_for(contact.user) if action == "approve" and contact.user else staff
            rma = services_rma.rma_advance(
                principal=who, rma=rma, action=action, now=at,
                step=services_rma.StepInput(**step),
            )  # fmt: skip
            at += timedelta(days=1)
    services_rma.rma_sweep(now=now)
