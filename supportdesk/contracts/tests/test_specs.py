"""Plans stored as data: the JSON spec round-trips the plan rules and refuses bad specs
(E-1 plans are data, E-5 caps, E-8 API help, E-10 features)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportdesk.contracts.domain.caps import Cap, CapUnit, CountingRule, UsageKind
from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.domain.plans import (
    PRESET_PLANS,
    Feature,
    PlanKind,
    PlanRules,
    ReleaseRule,
)
from supportdesk.contracts.domain.specs import plan_from_spec, plan_from_text, plan_to_spec
from supportdesk.contracts.domain.vocabulary import Category, Channel


def _through_json(plan: PlanRules) -> PlanRules:
    return plan_from_spec(json.loads(json.dumps(plan_to_spec(plan))))


@pytest.mark.parametrize("plan_id", sorted(PRESET_PLANS))
def test_preset_plans_survive_storage_E1_E5(plan_id: str) -> None:
    assert _through_json(PRESET_PLANS[plan_id]) == PRESET_PLANS[plan_id]


@pytest.mark.parametrize("plan_id", sorted(PRESET_PLANS))
def test_a_stored_snapshot_is_built_once_per_text_and_a_bad_one_always_fails_E1(
    plan_id: str,
) -> None:
    text = json.dumps(plan_to_spec(PRESET_PLANS[plan_id]))
    built = plan_from_text(text)
    assert built == PRESET_PLANS[plan_id] and plan_from_text(text) is built
    bad = json.dumps({**plan_to_spec(PRESET_PLANS[plan_id]), "unknown_rule": 1})
    for _ in range(2):  # an error is not remembered as a plan
        with pytest.raises(EntitlementInputError):
            plan_from_text(bad)


def test_cap_limit_is_stored_as_a_decimal_string_E5() -> None:
    spec = plan_to_spec(PRESET_PLANS["enterprise-advantage"])
    assert spec["caps"][0]["limit"] == "4"
    assert spec["caps"][0]["counts"] == {
        "source": "time_entry", "channels": ["phone"], "categories": ["installation"],
    }  # fmt: skip


def _spec(**change: object) -> dict:
    return plan_to_spec(PRESET_PLANS["per-user-subscription"]) | change


def _cap(**change: object) -> dict:
    return plan_to_spec(PRESET_PLANS["per-user-subscription"])["caps"][0] | change


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (_spec(price=3), "unknown field(s) price"),
        (_spec(included_categories=["problem", "gossip"]), "unknown value 'gossip'"),
        (_spec(features=["support", "teleport"]), "unknown value 'teleport'"),
        (_spec(version_window="1"), "version_window: expected a whole number"),
        (_spec(version_window=-1), "version_window must be 0 or more"),
        (_spec(kind="monthly"), "plan kind: unknown value 'monthly'"),
        (_spec(caps="five"), "caps: expected a list"),
        (_spec(included_categories=["hardware"]), "both included and out of scope"),
        (_spec(caps=[_cap(limit=5.0)]), "caps[0].limit: expected a whole number or a decimal"),
        (_spec(caps=[_cap(limit="-1")]), "must not be negative"),
        (_spec(caps=[_cap(limit="4.5")]), "an incident limit must be whole"),
        (_spec(caps=[_cap(unit="minutes")]), "cap unit: unknown value 'minutes'"),
    ],
)
def test_bad_plan_specs_are_refused_with_the_field_named_E1_E5(spec: dict, message: str) -> None:
    with pytest.raises(EntitlementInputError) as caught:
        plan_from_spec(spec)
    assert message in str(caught.value)


# --- properties ------------------------------------------------------------------------------

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12).filter(
    lambda s: s.strip("-")
)


@st.composite
def caps(draw: st.DrawFn, name: str) -> Cap:
    unit = draw(st.sampled_from(list(CapUnit)))
    limit = (
        Decimal(draw(st.integers(0, 50)))
        if unit is CapUnit.INCIDENTS
        else Decimal(draw(st.integers(0, 400))) / 4
    )

    def maybe(values: st.SearchStrategy) -> st.SearchStrategy:
        return st.none() | st.frozensets(values, min_size=1)

    return Cap(
        name=name,
        label=draw(words),
        unit=unit,
        limit=limit,
        counts=CountingRule(
            source=UsageKind.TICKET_CREATED if unit is CapUnit.INCIDENTS else UsageKind.TIME_ENTRY,
            channels=draw(maybe(st.sampled_from(list(Channel)))),
            categories=draw(maybe(st.sampled_from(list(Category)))),
        ),
        grants=draw(st.booleans()),
        exhausted_advice=draw(st.text(max_size=40)),
    )


@st.composite
def plans(draw: st.DrawFn) -> PlanRules:
    included = draw(st.frozensets(st.sampled_from(list(Category))))
    out = draw(st.frozensets(st.sampled_from(list(Category)))) - included
    names = draw(st.lists(words, max_size=3, unique=True))
    return PlanRules(
        plan_id=draw(words),
        kind=draw(st.sampled_from(list(PlanKind))),
        name=draw(st.text(min_size=1, max_size=40)),
        included_categories=included,
        out_of_scope_categories=out,
        caps=tuple(draw(caps(name)) for name in names),
        version_window=draw(st.integers(0, 5)),
        api_base_only=draw(st.booleans()),
        features=draw(st.frozensets(st.sampled_from(list(Feature)))),
        not_included_advice=draw(
            st.dictionaries(st.sampled_from(list(Category)), st.text(max_size=40), max_size=3)
        ),
        release_rule=draw(st.sampled_from(list(ReleaseRule))),
        release_window_days=draw(st.integers(0, 400)),
        addon_features=draw(st.frozensets(st.sampled_from(list(Feature)), max_size=2)),
    )


# bounded strategy; on a loaded machine generation can be slow, which is not a failure
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_any_plan_round_trips_through_its_json_spec_E1_E5_E10(plan: PlanRules) -> None:
    assert _through_json(plan) == plan
    spec = plan_to_spec(plan)
    assert plan_to_spec(plan_from_spec(spec)) == spec  # stable: a snapshot never drifts


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_spec_without_identity_plus_identity_is_the_same_plan_E1(plan: PlanRules) -> None:
    rules = plan_to_spec(plan, identity=False)
    assert not {"plan_id", "kind", "name"} & set(rules)
    rebuilt = {**rules, "plan_id": plan.plan_id, "kind": plan.kind.value, "name": plan.name}
    assert plan_from_spec(rebuilt) == plan
