"""Writes on hardware models, assets and the ticket ↔ device link (H-1). RMAs are in
``services_rma.py``. Every write is staff-only; the warranty end is computed by the pure
``domain.warranty`` rule from the purchase date and the model's warranty months."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction

from supportdesk.assets.domain.warranty import warranty_end
from supportdesk.assets.models import Asset, AssetStatus, HardwareModel, TicketAsset
from supportdesk.contracts.models import Contract
from supportdesk.core.errors import Conflict, InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.customers.models import Organization, Site
from supportdesk.tickets.events import ticket_event_record
from supportdesk.tickets.models import Ticket, TicketEventKind


def _staff(principal: Principal | None, vendor_id: int) -> int | None:
    """None is the system itself (demo loader, imports run by the command)."""
    if principal is None:
        return None
    require_staff_of(principal, vendor_id)
    return principal.user_id


def _price(value: Decimal | str | None, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{what} is not an amount: {value!r}") from None
    if not price.is_finite() or price < 0:
        raise InvalidInput(f"{what} must be zero or more")
    return price.quantize(Decimal("0.01"))


def hardware_model_create(
    *,
    principal: Principal | None,
    vendor: Vendor,
    manufacturer: str,
    name: str,
    warranty_months: int = 12,
    end_of_life_on: date | None = None,
    repair_lead_days: int = 14,
    unit_price: Decimal | str | None = None,
    currency: str = "USD",
) -> HardwareModel:
    _staff(principal, vendor.pk)
    manufacturer, name = manufacturer.strip(), name.strip()
    if not manufacturer or not name:
        raise InvalidInput("a hardware model needs a manufacturer and a name")
    if warranty_months < 0 or repair_lead_days < 1:
        raise InvalidInput("warranty months must be ≥ 0 and the repair lead time ≥ 1 day")
    if HardwareModel.objects.filter(
        vendor=vendor, manufacturer__iexact=manufacturer, name__iexact=name
    ).exists():
        raise Conflict(f"{manufacturer} {name} exists already", code="duplicate")
    return HardwareModel.objects.create(
        vendor=vendor,
        manufacturer=manufacturer,
        name=name,
        warranty_months=warranty_months,
        end_of_life_on=end_of_life_on,
        repair_lead_days=repair_lead_days,
        unit_price=_price(unit_price, "the unit price"),
        currency=currency.upper()[:3],
    )


def _check_refs(
    organization: Organization, model: HardwareModel, site: Site | None, contract: Contract | None
) -> None:
    if model.vendor_id != organization.vendor_id:
        raise InvalidInput("the hardware model belongs to another vendor")
    if site is not None and site.organization_id != organization.pk:
        raise InvalidInput("the site belongs to another organisation")
    if contract is not None and contract.organization_id != organization.pk:
        raise InvalidInput("the contract belongs to another organisation")


@transaction.atomic
def asset_create(
    *,
    principal: Principal | None,
    organization: Organization,
    model: HardwareModel,
    serial: str,
    now: datetime,
    purchased_on: date | None = None,
    site: Site | None = None,
    contract: Contract | None = None,
    status: str = AssetStatus.IN_SERVICE,
) -> Asset:
    """A device at a customer's site; its warranty end follows from the purchase date."""
    _staff(principal, organization.vendor_id)
    _check_refs(organization, model, site, contract)
    serial = serial.strip()
    if not serial:
        raise InvalidInput("a device needs a serial number")
    if status not in AssetStatus.values:
        raise InvalidInput(f"status must be one of {', '.join(AssetStatus.values)}")
    try:
        with transaction.atomic():
            return Asset.objects.create(
                vendor_id=organization.vendor_id,
                organization=organization,
                site=site,
                model=model,
                serial=serial,
                purchased_on=purchased_on,
                warranty_ends_on=warranty_end(purchased_on, model.warranty_months),
                contract=contract,
                status=status,
                created_at=now,
            )
    except IntegrityError:
        raise Conflict(f"{model} #{serial} exists already", code="duplicate") from None


UPDATABLE = ("serial", "purchased_on", "site", "contract", "status", "model")


@transaction.atomic
def asset_update(*, principal: Principal | None, asset: Asset, **fields: Any) -> bool:
    """Change some of ``UPDATABLE``; the warranty end is recomputed. True when anything
    changed."""
    _staff(principal, asset.vendor_id)
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
    if "serial" in fields:
        fields["serial"] = str(fields["serial"] or "").strip()
        if not fields["serial"]:
            raise InvalidInput("a device needs a serial number")
    if "status" in fields and fields["status"] not in AssetStatus.values:
        raise InvalidInput(f"status must be one of {', '.join(AssetStatus.values)}")
    _check_refs(
        asset.organization,
        fields.get("model", asset.model),
        fields.get("site", asset.site),
        fields.get("contract", asset.contract),
    )
    changed = [name for name, value in fields.items() if getattr(asset, name) != value]
    for name in changed:
        setattr(asset, name, fields[name])
    ends = warranty_end(asset.purchased_on, asset.model.warranty_months)
    if ends != asset.warranty_ends_on:
        asset.warranty_ends_on = ends
        changed.append("warranty_ends_on")
    if not changed:
        return False
    try:
        with transaction.atomic():
            asset.save(update_fields=changed)
    except IntegrityError:
        raise Conflict(f"{asset.model} #{asset.serial} exists already", code="duplicate") from None
    return True


@transaction.atomic
def ticket_asset_link(
    *, principal: Principal, ticket: Ticket, asset: Asset | None, now: datetime
) -> None:
    """Name the device a ticket is about (or none). Staff only; same organisation."""
    _staff(principal, ticket.vendor_id)
    current = TicketAsset.objects.filter(ticket=ticket).first()
    if asset is None:
        if current is not None:
            current.delete()
            ticket_event_record(
                ticket_id=ticket.pk, kind=TicketEventKind.ASSET_LINKED, at=now,
                actor_id=principal.user_id, data={"asset": None},
            )  # fmt: skip
        return
    if asset.organization_id != ticket.organization_id:
        raise InvalidInput("the device belongs to another organisation")
    if current is not None and current.asset_id == asset.pk:
        return
    TicketAsset.objects.update_or_create(ticket=ticket, defaults={"asset": asset, "linked_at": now})
    ticket_event_record(
        ticket_id=ticket.pk, kind=TicketEventKind.ASSET_LINKED, at=now,
        actor_id=principal.user_id, data={"asset": asset.pk, "serial": asset.serial,
                                          "model": str(asset.model)},
    )  # fmt: skip
