"""Reads for configuration backups (H-4): the asset as a principal may see it, its backups and
device tokens, an organisation's backup standing (schedule, retention) and the engineers'
due list. Every read a customer can reach filters by the principal (house rule 11)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Max, QuerySet

from supportdesk.assets.domain.backups import (
    BackupDue,
    backup_due,
    due_order_key,
    no_schedule_reason,
)
from supportdesk.assets.models import (
    Asset,
    AssetStatus,
    BackupEvent,
    BackupRetention,
    ConfigBackup,
    DeviceToken,
)
from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.domain.flags import entitlement_flags
from supportdesk.contracts.domain.plans import Feature
from supportdesk.contracts.domain.states import IN_FORCE_STATES, ContractState
from supportdesk.contracts.models import Contract
from supportdesk.contracts.selectors import contract_term, vendor_tz
from supportdesk.core.errors import Forbidden, NotFound
from supportdesk.core.tenancy import Principal, scope
from supportdesk.customers.models import Contact, ContactRole

DEFAULT_INTERVAL_MONTHS = 12


def asset_for_backups(*, principal: Principal, asset_id: int) -> Asset:
    """The asset if the principal may see it (its vendor's staff, its organisation's
    contacts), else 404 exactly as for an asset that does not exist."""
    qs = scope(
        Asset.objects.select_related("model", "organization", "vendor"),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    )
    asset = qs.filter(pk=asset_id).first()
    if asset is None:
        raise NotFound("not found")
    return asset


def require_backup_reader(principal: Principal) -> None:
    """Backups are restored by the vendor's staff and by the customer's designated
    administrators (H-4); other contacts of the organisation are refused."""
    if principal.is_staff:
        return
    is_admin = Contact.objects.filter(
        pk=principal.contact_id, role=ContactRole.ADMINISTRATOR
    ).exists()
    if not is_admin:
        raise Forbidden(
            "configuration backups are for the organisation's administrators",
            code="administrators_only",
        )


def backup_list(*, principal: Principal, asset_id: int) -> tuple[Asset, QuerySet[ConfigBackup]]:
    asset = asset_for_backups(principal=principal, asset_id=asset_id)
    require_backup_reader(principal)
    rows = ConfigBackup.objects.filter(asset=asset).select_related("uploaded_by")
    return asset, rows.order_by("-created_at", "-pk")


def device_token_list(*, principal: Principal, asset: Asset) -> QuerySet[DeviceToken]:
    if not principal.is_staff:
        return DeviceToken.objects.none()
    return DeviceToken.objects.filter(asset=asset).order_by("-created_at", "-pk")


def backup_events(*, asset: Asset, limit: int = 50) -> list[BackupEvent]:
    return list(
        BackupEvent.objects.filter(asset=asset)
        .select_related("actor")
        .order_by("-at", "-pk")[:limit]
    )


# --- standing: schedule and retention per organisation (H-4, E-10) ----------------------------


@dataclass(frozen=True)
class BackupStanding:
    """An organisation's backup standing on ``today``: whether a subscription with
    configuration backups is in force (then how often), and, after its lapse, from which day
    its backups may be deleted (None while they are kept)."""

    covered: bool
    interval_months: int
    retained_until: date | None
    lapsed_on: date | None
    retention_days: int


def backup_standing(*, organization_id: int, today: date) -> BackupStanding:
    contracts = list(
        Contract.objects.filter(organization_id=organization_id)
        .select_related("plan")
        .prefetch_related("lines__product")
        .order_by("start", "pk")
    )
    pairs = []
    for contract in contracts:
        try:
            pairs.append((contract, contract_term(contract)))
        except EntitlementInputError:
            continue  # a term whose snapshot cannot be read grants nothing
    with_backups = [(c, t) for c, t in pairs if Feature.CONFIG_BACKUPS in t.plan.features]
    kept_states = IN_FORCE_STATES | {ContractState.SUSPENDED}
    in_force = [c for c, t in with_backups if t.contains(today) and t.state in kept_states]
    retention = max((c.plan.backup_retention_days for c, _ in with_backups), default=0)
    flags = entitlement_flags(
        contracts=[t for _, t in pairs], today=today, backup_retention_days=retention
    )
    retained_until = flags["config_backup_retained_until"]
    lapsed_on = (
        None
        if retained_until is None
        else max(t.end for _, t in with_backups if t.effective_state(today) is ContractState.LAPSED)
    )
    return BackupStanding(
        covered=bool(in_force),
        interval_months=min(
            (c.plan.backup_interval_months for c in in_force), default=DEFAULT_INTERVAL_MONTHS
        ),
        retained_until=retained_until,
        lapsed_on=lapsed_on,
        retention_days=retention,
    )


def open_retention(*, organization_id: int) -> BackupRetention | None:
    return BackupRetention.objects.filter(
        organization_id=organization_id, kept_at__isnull=True, deleted_at__isnull=True
    ).first()


def _today(vendor_timezone: str, now: datetime) -> date:
    return now.astimezone(vendor_tz(vendor_timezone)).date()


@dataclass(frozen=True)
class DueRow:
    asset: Asset
    due: BackupDue | None
    last_backup_at: datetime | None
    reason: str | None  # why there is no schedule


def _last_backups(asset_ids: Iterable[int]) -> dict[int, datetime]:
    rows = (
        ConfigBackup.objects.filter(asset_id__in=list(asset_ids))
        .values("asset_id")
        .annotate(last=Max("created_at"))
    )
    return {row["asset_id"]: row["last"] for row in rows}


def asset_backup_schedule(
    *, asset: Asset, standing: BackupStanding, last_backup_at: datetime | None, today: date
) -> DueRow:
    tz = vendor_tz(asset.vendor.timezone)
    in_service = asset.status == AssetStatus.IN_SERVICE
    last = last_backup_at.astimezone(tz).date() if last_backup_at else None
    due = backup_due(
        today=today,
        interval_months=standing.interval_months,
        scheduled_from=asset.created_at.astimezone(tz).date(),
        last_backup_on=last,
        end_of_life_on=asset.model.end_of_life_on,
        in_service=in_service,
        covered=standing.covered,
    )
    reason = None
    if due is None:
        reason = no_schedule_reason(
            today=today,
            end_of_life_on=asset.model.end_of_life_on,
            in_service=in_service,
            covered=standing.covered,
        )
    return DueRow(asset=asset, due=due, last_backup_at=last_backup_at, reason=reason)


def backup_schedule_for(*, asset: Asset, now: datetime) -> tuple[DueRow, BackupStanding]:
    today = _today(asset.vendor.timezone, now)
    standing = backup_standing(organization_id=asset.organization_id, today=today)
    last = _last_backups([asset.pk]).get(asset.pk)
    row = asset_backup_schedule(asset=asset, standing=standing, last_backup_at=last, today=today)
    return row, standing


def backup_due_list(*, principal: Principal, now: datetime, limit: int = 500) -> list[DueRow]:
    """The engineers' due list: every scheduled device of the vendor, overdue first (most
    overdue at the top), then by due date. Devices without a schedule (end of life, out of
    service, no subscription with backups) are left out."""
    if not principal.is_staff:
        return []
    assets = list(
        scope(
            Asset.objects.select_related("model", "organization", "vendor", "site"),
            principal,
            vendor_field="vendor_id",
            organization_field=None,
        ).filter(status=AssetStatus.IN_SERVICE)
    )
    last = _last_backups(a.pk for a in assets)
    standings: dict[int, BackupStanding] = {}
    rows: list[DueRow] = []
    for asset in assets:
        today = _today(asset.vendor.timezone, now)
        if asset.organization_id not in standings:
            standings[asset.organization_id] = backup_standing(
                organization_id=asset.organization_id, today=today
            )
        row = asset_backup_schedule(
            asset=asset,
            standing=standings[asset.organization_id],
            last_backup_at=last.get(asset.pk),
            today=today,
        )
        if row.due is not None:
            rows.append(row)
    rows.sort(key=lambda r: due_order_key(r.due, str(r.asset)))  # type: ignore[arg-type]
    return rows[:limit]


def backup_out(backup: ConfigBackup) -> dict[str, Any]:
    return {
        "id": backup.pk,
        "asset": backup.asset_id,
        "filename": backup.filename,
        "size": backup.size,
        "sha256": backup.sha256,
        "source": backup.source,
        "uploaded_by": backup.uploaded_by.email if backup.uploaded_by else None,
        "device_token": backup.device_token.prefix if backup.device_token_id else None,
        "created_at": backup.created_at,
        "deleted_at": backup.deleted_at,
    }


def organization_backups(*, principal: Principal) -> QuerySet[ConfigBackup]:
    """The portal's list: every backup of the principal's organisation's devices, for its
    administrators (others are refused)."""
    require_backup_reader(principal)
    rows = scope(
        ConfigBackup.objects.select_related("asset__model", "asset__site"),
        principal,
        vendor_field="asset__vendor_id",
        organization_field="asset__organization_id",
    )
    return rows.order_by("asset__serial", "-created_at", "-pk")
