"""Entitlement flags for phone systems and portals to query (SPEC E-10, H-4).

A feature flag is on when a contract term whose plan includes the feature, or that has it as
an add-on (seed 002: the softphone app), is in force today:
- active or past due: everything the plan includes is on (past due is only a warning);
- suspended (B-4): support is off, the other features stay on;
- lapsed, cancelled, draft, not yet started or ended: off.

Configuration backups are kept while a subscription with backups is in force; once it has
lapsed, ``config_backup_retained_until`` = lapse date (the original expiry date) + the
retention period. Backups may be deleted on or after that date.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from .errors import EntitlementInputError
from .plans import Feature
from .states import IN_FORCE_STATES, ContractState, ContractTerm

FLAG_FEATURES = (
    Feature.SUPPORT,
    Feature.UPDATES,
    Feature.SOFTPHONE_APP,
    Feature.REMOTE_PORTAL,
    Feature.OFFSITE_DEVICES,
    Feature.INTEGRATIONS,
    Feature.ADD_EXTENSIONS,
)


def _feature_on(term: ContractTerm, feature: Feature, today: date) -> bool:
    included = feature in term.plan.features or feature in term.addons
    if not included or not term.contains(today):
        return False
    if term.state in IN_FORCE_STATES:
        return True
    return term.state is ContractState.SUSPENDED and feature is not Feature.SUPPORT


def entitlement_flags(
    *, contracts: Sequence[ContractTerm], today: date, backup_retention_days: int
) -> dict[str, Any]:
    """The organisation's entitlement flags on ``today``.

    Keys: the boolean features in ``FLAG_FEATURES`` (support, updates, softphone_app,
    remote_portal, offsite_devices, integrations, add_extensions),
    ``config_backup_retained_until`` (date or None) and ``contracts`` (one entry per term with
    its recorded and effective state).
    """
    if isinstance(backup_retention_days, bool) or backup_retention_days < 0:
        raise EntitlementInputError(
            f"backup_retention_days must be 0 or more, got {backup_retention_days!r}"
        )
    organisations = {term.organisation_id for term in contracts}
    if len(organisations) > 1:
        raise EntitlementInputError(
            f"entitlement flags are per organisation, got contracts of {sorted(organisations)}"
        )
    flags: dict[str, Any] = {
        feature.value: any(_feature_on(term, feature, today) for term in contracts)
        for feature in FLAG_FEATURES
    }
    with_backups = [t for t in contracts if Feature.CONFIG_BACKUPS in t.plan.features]
    kept = any(
        t.contains(today) and t.state in IN_FORCE_STATES | {ContractState.SUSPENDED}
        for t in with_backups
    )
    lapsed = [
        t
        for t in with_backups
        if t.start <= today and t.effective_state(today) is ContractState.LAPSED
    ]
    retained_until: date | None = None
    if lapsed and not kept:
        lapse_date = max(t.end for t in lapsed)
        retained_until = lapse_date + timedelta(days=backup_retention_days)
    flags["config_backup_retained_until"] = retained_until
    flags["contracts"] = [
        {
            "contract_id": term.contract_id,
            "plan_id": term.plan.plan_id,
            "plan_kind": term.plan.kind.value,
            "state": term.effective_state(today).value,
            "recorded_state": term.state.value,
            "start": term.start,
            "end": term.end,
        }
        for term in sorted(contracts, key=lambda t: (t.start, t.contract_id))
    ]
    return flags


def _encode(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"cannot encode {type(value).__name__} in entitlement flags")


def flags_etag(flags: dict[str, Any]) -> str:
    """A strong HTTP ETag (quoted) for ``flags``: equal flags give equal tags, independent of
    key order."""
    payload = json.dumps(flags, sort_keys=True, separators=(",", ":"), default=_encode)
    return '"' + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32] + '"'
