"""Entitlement flags exposed to phone systems and portals (E-10, H-4, B-4, B-6)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.domain.flags import entitlement_flags, flags_etag
from supportdesk.contracts.domain.plans import ENTERPRISE_PLAN, HOURLY_PLAN, PER_USER_PLAN
from supportdesk.contracts.domain.states import ContractState, ContractTerm

from .domain_builders import term

S = ContractState
TODAY = date(2025, 6, 2)
FEATURES = (
    "support",
    "updates",
    "softphone_app",
    "remote_portal",
    "offsite_devices",
    "integrations",
    "add_extensions",
)


def flags_for(contracts, today: date = TODAY, retention: int = 90) -> dict:
    return entitlement_flags(contracts=contracts, today=today, backup_retention_days=retention)


def features(flags: dict) -> dict[str, bool]:
    return {name: flags[name] for name in FEATURES}


ALL_ON = dict.fromkeys(FEATURES, True)


def sub(**kwargs) -> ContractTerm:
    """A per-user subscription with the softphone app add-on (seed 002)."""
    return term(PER_USER_PLAN, addons=frozenset({"softphone_app"}), **kwargs)


def test_softphone_app_is_an_add_on_of_the_subscription_E10_seed002() -> None:
    plain = flags_for([term(PER_USER_PLAN)])
    assert plain["softphone_app"] is False and plain["remote_portal"] is True
    assert flags_for([sub()])["softphone_app"] is True
    with pytest.raises(EntitlementInputError, match="not an add-on"):
        term(ENTERPRISE_PLAN, addons=frozenset({"softphone_app"}))


ALL_OFF = dict.fromkeys(FEATURES, False)


def test_active_subscription_switches_every_feature_on_E10() -> None:
    flags = flags_for([sub()])
    assert features(flags) == ALL_ON
    assert flags["config_backup_retained_until"] is None
    assert flags["contracts"] == [
        {
            "contract_id": "C-1",
            "plan_id": "per-user-subscription",
            "plan_kind": "per_user",
            "state": "active",
            "recorded_state": "active",
            "start": date(2025, 1, 1),
            "end": date(2026, 1, 1),
        }
    ]


def test_past_due_keeps_features_on_E10_B4() -> None:
    flags = entitlement_flags(
        contracts=[sub(state=S.PAST_DUE)], today=TODAY, backup_retention_days=90
    )
    assert features(flags) == ALL_ON


def test_suspension_switches_support_off_only_E10_B4() -> None:
    flags = entitlement_flags(
        contracts=[sub(state=S.SUSPENDED)], today=TODAY, backup_retention_days=90
    )
    assert features(flags) == {**ALL_ON, "support": False}
    assert flags["config_backup_retained_until"] is None


def test_lapse_switches_features_off_and_starts_backup_retention_E10_H4() -> None:
    lapsed = sub(state=S.LAPSED, start=date(2024, 1, 1), end=date(2025, 1, 1))
    flags = entitlement_flags(contracts=[lapsed], today=TODAY, backup_retention_days=90)
    assert features(flags) == ALL_OFF
    # 1 Jan 2025 + 90 days: +30 = 31 Jan, +28 = 28 Feb (58), +31 = 31 Mar (89), +1 = 1 Apr.
    assert flags["config_backup_retained_until"] == date(2025, 4, 1)
    assert flags["contracts"][0]["state"] == "lapsed"


def test_expired_term_not_yet_swept_is_reported_lapsed_E10() -> None:
    expired = sub(start=date(2024, 1, 1), end=date(2025, 1, 1))
    flags = entitlement_flags(contracts=[expired], today=TODAY, backup_retention_days=30)
    assert features(flags) == ALL_OFF
    assert flags["config_backup_retained_until"] == date(2025, 1, 31)
    assert flags["contracts"][0]["state"] == "lapsed"
    assert flags["contracts"][0]["recorded_state"] == "active"


def test_backfilled_renewal_switches_features_back_on_B6_E10() -> None:
    old = sub(state=S.LAPSED, start=date(2024, 1, 1), end=date(2025, 1, 1))
    renewed = sub(contract_id="C-1", start=date(2025, 1, 1), end=date(2026, 1, 1))
    flags = entitlement_flags(contracts=[old, renewed], today=TODAY, backup_retention_days=90)
    assert features(flags) == ALL_ON
    assert flags["config_backup_retained_until"] is None


def test_enterprise_plan_has_support_and_updates_only_E10() -> None:
    flags = entitlement_flags(
        contracts=[term(ENTERPRISE_PLAN)], today=TODAY, backup_retention_days=90
    )
    assert features(flags) == {**ALL_OFF, "support": True, "updates": True}
    assert flags["config_backup_retained_until"] is None


@pytest.mark.parametrize("contracts", [[], [term(HOURLY_PLAN)], [sub(state=S.DRAFT)]])
def test_no_subscription_means_no_features_E10(contracts) -> None:
    flags = entitlement_flags(contracts=contracts, today=TODAY, backup_retention_days=90)
    assert features(flags) == ALL_OFF
    assert flags["config_backup_retained_until"] is None


def test_flags_are_per_organisation_E10() -> None:
    with pytest.raises(EntitlementInputError, match="per organisation"):
        entitlement_flags(
            contracts=[sub(), sub(organisation_id="org-2")],
            today=TODAY,
            backup_retention_days=90,
        )


def test_negative_retention_is_rejected_E10() -> None:
    with pytest.raises(EntitlementInputError, match="backup_retention_days must be 0 or more"):
        entitlement_flags(contracts=[], today=TODAY, backup_retention_days=-1)


def test_etag_is_stable_and_changes_with_the_flags_E10() -> None:
    flags = flags_for([sub()])
    again = flags_for([sub()])
    reordered = dict(reversed(list(flags.items())))
    tag = flags_etag(flags)
    assert tag == flags_etag(again) == flags_etag(reordered)
    assert tag.startswith('"') and tag.endswith('"') and len(tag) == 34
    suspended = entitlement_flags(
        contracts=[sub(state=S.SUSPENDED)], today=TODAY, backup_retention_days=90
    )
    assert flags_etag(suspended) != tag


def test_etag_does_not_change_from_day_to_day_while_nothing_changes_E10() -> None:
    contracts = [sub()]
    monday = entitlement_flags(contracts=contracts, today=TODAY, backup_retention_days=90)
    tuesday = entitlement_flags(
        contracts=contracts, today=date(2025, 6, 3), backup_retention_days=90
    )
    assert flags_etag(monday) == flags_etag(tuesday)


@given(
    state=st.sampled_from(list(ContractState)),
    today=st.dates(min_value=date(2024, 6, 1), max_value=date(2026, 6, 1)),
    retention=st.integers(min_value=0, max_value=400),
)
def test_flag_invariants_E10(state: ContractState, today: date, retention: int) -> None:
    contract = sub(state=state)
    flags = entitlement_flags(contracts=[contract], today=today, backup_retention_days=retention)
    in_force = contract.contains(today) and state in (S.ACTIVE, S.PAST_DUE)
    assert flags["support"] is in_force
    others = in_force or (contract.contains(today) and state is S.SUSPENDED)
    assert all(flags[name] is others for name in FEATURES if name != "support")
    retained = flags["config_backup_retained_until"]
    if retained is not None:
        assert not others
        assert retained == date(2026, 1, 1) + timedelta(days=retention)
