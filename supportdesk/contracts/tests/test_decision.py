"""The intake entitlement decision (E-4, E-5, E-6, E-8, T-8, T-10, B-8)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.contracts.domain.caps import (
    INSTALLATION_PHONE_HOURS,
    PHONE_INCIDENTS_PER_YEAR,
    Cap,
    CapUsage,
    UsageEvent,
    UsageKind,
)
from supportdesk.contracts.domain.decision import (
    Decision,
    DecisionFlag,
    RateBasis,
    ReasonCode,
    Request,
    Suggestion,
    compute_cap_usage,
    decide,
)
from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.domain.plans import ENTERPRISE_PLAN, HOURLY_PLAN, PER_USER_PLAN
from supportdesk.contracts.domain.states import ContractState, ContractTerm
from supportdesk.contracts.domain.versions import Catalogue, ProductVersion
from supportdesk.contracts.domain.vocabulary import Category, Channel

from .domain_builders import at, licence, term

S = ContractState
NOW = at(2025, 6, 2, 13)
CATALOGUE = Catalogue(
    versions=(
        ProductVersion("AccuRoute", "9.9", date(2022, 5, 1)),
        ProductVersion("AccuRoute", "10.1", date(2023, 3, 1)),
        ProductVersion("AccuRoute", "10.2", date(2024, 1, 10), current=True),
    )
)
ENTERPRISE_NAME = "contract E-1 (Enterprise support (24x7, Dedicated Support Engineer))"
NON_SUBSCRIBER = "accepted, billable hourly at non-subscriber rates"


def enterprise(state: ContractState = S.ACTIVE, **kwargs) -> ContractTerm:
    return term(
        ENTERPRISE_PLAN,
        contract_id="E-1",
        state=state,
        line_items=(licence("AccuRoute"),),
        **kwargs,
    )


def per_user(state: ContractState = S.ACTIVE, **kwargs) -> ContractTerm:
    return term(PER_USER_PLAN, contract_id="P-1", state=state, **kwargs)


def usage(
    cap: Cap,
    used: str,
    start: date = date(2025, 1, 1),
    end: date = date(2026, 1, 1),
) -> CapUsage:
    amount = Decimal(used)
    return CapUsage(
        cap_name=cap.name,
        unit=cap.unit,
        used=amount,
        limit=cap.limit,
        remaining=max(cap.limit - amount, Decimal(0)),
        period_start=start,
        period_end=end,
        exhausted=amount >= cap.limit,
    )


def req(
    channel: str,
    category: str,
    *,
    when: datetime = NOW,
    product: str | None = None,
    version: str | None = None,
    requester: str = "contact-alice",
    organisation: str = "org-1",
) -> Request:
    return Request(
        organisation_id=organisation,
        requester_id=requester,
        channel=Channel(channel),
        category=Category(category),
        received_at=when,
        product=product,
        version=version,
    )


def run(
    contracts: Sequence[ContractTerm],
    request: Request,
    cap_usage: dict[str, Sequence[CapUsage]] | None = None,
    **kwargs,
) -> Decision:
    return decide(
        contracts=contracts,
        request=request,
        cap_usage=cap_usage or {},
        catalogue=CATALOGUE,
        now=kwargs.pop("now", NOW),
        **kwargs,
    )


ENTERPRISE_USAGE = {"E-1": [usage(INSTALLATION_PHONE_HOURS, "0")]}
PER_USER_USAGE = {"P-1": [usage(PHONE_INCIDENTS_PER_YEAR, "0")]}


# --- no contract, lapsed, suspended, past due (E-4, B-8) ---------------------------------


def test_no_contract_is_accepted_billable_hourly_at_non_subscriber_rates_E4_B8() -> None:
    decision = run([], req("email", "problem"))
    assert decision.covered is False
    assert decision.billing == "hourly"
    assert decision.reason is ReasonCode.NO_CONTRACT
    assert decision.rate_basis is RateBasis.NON_SUBSCRIBER
    assert decision.contract_id is None
    assert decision.explanation == f"no active contract: {NON_SUBSCRIBER}"
    assert decision.flags == frozenset()
    assert decision.decided_at == NOW


def test_lapsed_contract_is_billable_hourly_with_reason_E4() -> None:
    lapsed = per_user(S.LAPSED, start=date(2024, 1, 1), end=date(2025, 1, 1))
    decision = run([lapsed], req("phone", "problem"))
    assert (decision.covered, decision.billing) == (False, "hourly")
    assert decision.reason is ReasonCode.LAPSED
    assert decision.rate_basis is RateBasis.NON_SUBSCRIBER
    assert decision.contract_id == "P-1"
    assert decision.explanation == f"contract P-1 lapsed on 2025-01-01: {NON_SUBSCRIBER}"
    assert decision.suggestion is Suggestion.RENEW_CONTRACT


def test_active_contract_past_its_end_counts_as_lapsed_E4() -> None:
    expired = per_user(S.ACTIVE, start=date(2024, 1, 1), end=date(2025, 1, 1))
    assert run([expired], req("email", "problem")).reason is ReasonCode.LAPSED


def test_suspended_contract_is_billable_hourly_with_reason_E4_B4() -> None:
    decision = run([enterprise(S.SUSPENDED)], req("phone", "problem"))
    assert (decision.covered, decision.reason) == (False, ReasonCode.SUSPENDED)
    assert decision.rate_basis is RateBasis.NON_SUBSCRIBER
    assert decision.explanation == f"contract E-1 is suspended (B-4): {NON_SUBSCRIBER}"


def test_past_due_contract_is_still_covered_but_flagged_B4() -> None:
    decision = run([enterprise(S.PAST_DUE)], req("email", "problem"), ENTERPRISE_USAGE)
    assert decision.covered is True
    assert decision.billing == "covered"
    assert decision.flags == {DecisionFlag.PAST_DUE_WARNING}
    assert decision.explanation == (
        f"covered by {ENTERPRISE_NAME}; the contract is past due, remind the customer to pay"
    )


def test_draft_and_future_contracts_do_not_cover_E1() -> None:
    draft = per_user(S.DRAFT)
    future = per_user(S.ACTIVE, start=date(2025, 7, 1), end=date(2026, 7, 1))
    for contracts in ([draft], [future]):
        decision = run(contracts, req("email", "problem"))
        assert decision.reason is ReasonCode.NO_CONTRACT
        assert decision.contract_id is None


# --- enterprise plan (seed 000) -----------------------------------------------------------


def test_enterprise_problem_by_email_is_covered_E4() -> None:
    decision = run([enterprise()], req("email", "problem"), ENTERPRISE_USAGE)
    assert (decision.covered, decision.billing) == (True, "covered")
    assert decision.reason is ReasonCode.INCLUDED
    assert decision.rate_basis is RateBasis.COVERED
    assert decision.contract_id == "E-1"
    assert decision.explanation == f"covered by {ENTERPRISE_NAME}"
    assert decision.cap_notices == ()


def test_enterprise_installation_by_email_is_not_included_seed000() -> None:
    decision = run([enterprise()], req("email", "installation"), ENTERPRISE_USAGE)
    assert (decision.covered, decision.billing) == (False, "hourly")
    assert decision.reason is ReasonCode.NOT_INCLUDED
    assert decision.rate_basis is RateBasis.CONTRACT
    assert decision.explanation == (
        f"installation help by email is not included in {ENTERPRISE_NAME}: Installation and "
        "consulting services are not included; basic installation help is available by phone "
        "(4 h maximum), otherwise offer on-site installation; billable hourly"
    )


def test_installation_help_by_phone_within_4_hours_is_covered_E5() -> None:
    decision = run(
        [enterprise()],
        req("phone", "installation"),
        {"E-1": [usage(INSTALLATION_PHONE_HOURS, "1.5")]},
    )
    assert decision.covered is True
    assert decision.cap_notices == (
        "Installation phone help: 1.5 of 4.0 h used this contract year "
        "(2025-01-01 to 2026-01-01, 2.5 left)",
    )


def test_installation_phone_help_used_up_tells_agent_to_offer_onsite_E5() -> None:
    decision = run(
        [enterprise()],
        req("phone", "installation"),
        {"E-1": [usage(INSTALLATION_PHONE_HOURS, "4.0")]},
    )
    assert (decision.covered, decision.billing) == (False, "hourly")
    assert decision.reason is ReasonCode.CAP_EXHAUSTED
    assert decision.rate_basis is RateBasis.CONTRACT
    assert decision.flags == {DecisionFlag.CAP_EXCEEDED}
    assert decision.cap_notices == (
        "Installation phone help used up (4.0 of 4.0 h): offer on-site installation",
    )
    assert decision.suggestion is Suggestion.OFFER_BEYOND_CAP


def test_api_help_is_covered_but_limited_to_base_functionality_E8() -> None:
    decision = run([enterprise()], req("portal", "api_developer"), ENTERPRISE_USAGE)
    assert decision.covered is True
    assert decision.flags == {DecisionFlag.API_BEYOND_BASE}
    assert decision.explanation.endswith(
        "; API help is limited to the base licensed functionality (E-8)"
    )


def test_older_version_is_flagged_but_still_covered_E6() -> None:
    decision = run(
        [enterprise()],
        req("email", "problem", product="AccuRoute", version="9.9"),
        ENTERPRISE_USAGE,
    )
    assert decision.covered is True
    assert decision.flags == {DecisionFlag.VERSION_UNSUPPORTED}
    assert decision.explanation == (
        f"covered by {ENTERPRISE_NAME}; version flagged (E-6): AccuRoute 9.9 is older than the "
        "supported versions (10.1, 10.2)"
    )


@pytest.mark.parametrize("version", ["10.2", "10.2.7", "10.1"])
def test_current_and_preceding_versions_are_not_flagged_E6(version: str) -> None:
    decision = run(
        [enterprise()],
        req("email", "problem", product="AccuRoute", version=version),
        ENTERPRISE_USAGE,
    )
    assert decision.flags == frozenset()


def test_unparseable_version_is_flagged_not_rejected_E6() -> None:
    decision = run(
        [enterprise()],
        req("email", "problem", product="AccuRoute", version="latest"),
        ENTERPRISE_USAGE,
    )
    assert decision.covered is True
    assert decision.flags == {DecisionFlag.VERSION_UNSUPPORTED}


def test_old_version_is_flagged_even_without_a_contract_E6_B8() -> None:
    decision = run([], req("email", "problem", product="AccuRoute", version="9.9"))
    assert decision.reason is ReasonCode.NO_CONTRACT
    assert decision.flags == {DecisionFlag.VERSION_UNSUPPORTED}


def test_product_not_under_contract_is_billed_as_non_subscriber_B8() -> None:
    decision = run([enterprise()], req("email", "problem", product="FaxServer"), ENTERPRISE_USAGE)
    assert decision.reason is ReasonCode.NO_CONTRACT
    assert decision.rate_basis is RateBasis.NON_SUBSCRIBER
    assert decision.explanation == (
        f"no active contract for FaxServer (contracts cover AccuRoute, not FaxServer): "
        f"{NON_SUBSCRIBER}"
    )


# --- per-user subscription (seed 002) -----------------------------------------------------


def test_fourth_phone_incident_used_call_is_still_covered_seed002_E5() -> None:
    decision = run(
        [per_user()], req("phone", "problem"), {"P-1": [usage(PHONE_INCIDENTS_PER_YEAR, "4")]}
    )
    assert decision.covered is True
    assert decision.cap_notices == (
        "Phone incidents: 4 of 5 incidents used this contract year "
        "(2025-01-01 to 2026-01-01, 1 left)",
    )


def test_phone_call_after_five_incidents_is_hourly_seed002_E5() -> None:
    decision = run(
        [per_user()], req("phone", "how_to"), {"P-1": [usage(PHONE_INCIDENTS_PER_YEAR, "5")]}
    )
    assert (decision.covered, decision.reason) == (False, ReasonCode.CAP_EXHAUSTED)
    assert decision.flags == {DecisionFlag.CAP_EXCEEDED}
    assert decision.cap_notices == (
        "Phone incidents used up (5 of 5 incidents): ask the customer to use email or the "
        "portal, or bill the call hourly",
    )


def test_email_is_not_limited_by_the_phone_incident_cap_seed002_E5() -> None:
    decision = run(
        [per_user()], req("email", "problem"), {"P-1": [usage(PHONE_INCIDENTS_PER_YEAR, "5")]}
    )
    assert decision.covered is True
    assert decision.cap_notices == ()


@pytest.mark.parametrize("category", ["hardware", "network", "third_party"])
def test_hardware_network_third_party_are_out_of_scope_T10(category: str) -> None:
    decision = run([per_user()], req("email", category), PER_USER_USAGE)
    assert (decision.covered, decision.billing) == (False, "hourly")
    assert decision.reason is ReasonCode.OUT_OF_SCOPE
    assert decision.suggestion is Suggestion.CLOSE_OUT_OF_SCOPE
    assert "(T-10)" in decision.explanation


def test_api_development_is_not_part_of_the_subscription_seed002() -> None:
    decision = run([per_user()], req("email", "api_developer"), PER_USER_USAGE)
    assert decision.reason is ReasonCode.NOT_INCLUDED
    assert decision.flags == frozenset()  # the E-8 note only applies to plans with API help


# --- MSP hourly (seed 001) ----------------------------------------------------------------


@pytest.mark.parametrize("category", ["problem", "hardware", "network"])
def test_msp_hourly_plan_bills_every_request_at_contract_rates_seed001_B7(category: str) -> None:
    msp = term(HOURLY_PLAN, contract_id="H-1")
    decision = run([msp], req("voicemail", category))
    assert (decision.covered, decision.billing) == (False, "hourly")
    assert decision.reason is ReasonCode.HOURLY_PLAN
    assert decision.rate_basis is RateBasis.CONTRACT
    assert decision.contract_id == "H-1"


# --- several contracts, time zones, authority ---------------------------------------------


def test_active_contract_preferred_over_past_due_one_E4() -> None:
    contracts = [enterprise(S.PAST_DUE), per_user()]
    usages = {**ENTERPRISE_USAGE, **PER_USER_USAGE}
    assert run(contracts, req("email", "problem"), usages).contract_id == "P-1"
    # a product named on the request picks the contract that licenses it
    on_product = run(contracts, req("email", "problem", product="AccuRoute"), usages)
    assert on_product.contract_id == "E-1"
    assert on_product.flags == {DecisionFlag.PAST_DUE_WARNING}


def test_covering_contract_preferred_over_one_that_bills_hourly_E4() -> None:
    contracts = [term(HOURLY_PLAN, contract_id="H-1"), per_user()]
    decision = run(contracts, req("email", "problem"), PER_USER_USAGE)
    assert (decision.covered, decision.contract_id) == (True, "P-1")


def test_receipt_date_is_read_in_the_vendor_zone_E4() -> None:
    ending = per_user(start=date(2024, 1, 1), end=date(2025, 1, 1))
    late_evening_in_new_york = datetime(2025, 1, 1, 3, 0, tzinfo=UTC)  # 22:00 on 31 Dec in NY
    request = req("email", "problem", when=late_evening_in_new_york)
    usages = {"P-1": [usage(PHONE_INCIDENTS_PER_YEAR, "0", date(2024, 1, 1), date(2025, 1, 1))]}
    in_new_york = run([ending], request, usages, tz=ZoneInfo("America/New_York"))
    assert in_new_york.covered is True
    assert run([ending], request, usages).reason is ReasonCode.LAPSED


@pytest.mark.parametrize("requester", ["contact-alice", "contact-bob", "intern-7"])
def test_any_identified_contact_gets_the_same_decision_T8(requester: str) -> None:
    baseline = run([per_user()], req("email", "problem"), PER_USER_USAGE)
    other = run([per_user()], req("email", "problem", requester=requester), PER_USER_USAGE)
    assert other == baseline


def test_compute_cap_usage_feeds_decide_E5() -> None:
    contract = per_user()
    events = [
        UsageEvent(f"t{i}", UsageKind.TICKET_CREATED, at(2025, 2, i + 1), "phone", "problem")
        for i in range(5)
    ]
    computed = compute_cap_usage([contract], events_by_contract={"P-1": events}, at=NOW)
    assert computed["P-1"][0].used == 5
    decision = run([contract], req("phone", "problem"), computed)
    assert decision.reason is ReasonCode.CAP_EXHAUSTED


# --- input errors -------------------------------------------------------------------------


def test_contract_of_another_organisation_is_refused_T8() -> None:
    with pytest.raises(EntitlementInputError, match="belongs to organisation 'org-2'"):
        run([term(PER_USER_PLAN, organisation_id="org-2")], req("email", "problem"))


def test_request_from_the_future_is_refused_E4() -> None:
    with pytest.raises(EntitlementInputError, match="is after now"):
        run([], req("email", "problem", when=at(2025, 6, 3)))


def test_missing_cap_usage_is_an_error_not_free_coverage_E5() -> None:
    with pytest.raises(EntitlementInputError, match="'phone_incidents' for contract 'P-1'"):
        run([per_user()], req("phone", "problem"), {})


def test_stale_cap_usage_is_refused_E5() -> None:
    stale = {"P-1": [usage(PHONE_INCIDENTS_PER_YEAR, "0", date(2024, 1, 1), date(2025, 1, 1))]}
    with pytest.raises(EntitlementInputError, match="not the request date 2025-06-02"):
        run([per_user()], req("phone", "problem"), stale)


def test_request_needs_an_identified_requester_T2_T8() -> None:
    with pytest.raises(EntitlementInputError, match="only identified contacts"):
        req("email", "problem", requester=" ")


def test_unknown_channel_is_a_clear_error_T1() -> None:
    with pytest.raises(EntitlementInputError, match="channel: unknown value 'telex'"):
        Request("org-1", "c", "telex", "problem", NOW)  # type: ignore[arg-type]


# --- properties ---------------------------------------------------------------------------

PLANS = {"enterprise": ENTERPRISE_PLAN, "per_user": PER_USER_PLAN, "hourly": HOURLY_PLAN}


@given(
    plan=st.sampled_from(sorted(PLANS)),
    state=st.sampled_from(list(ContractState)),
    channel=st.sampled_from(list(Channel)),
    category=st.sampled_from(list(Category)),
    used=st.integers(min_value=0, max_value=7),
    requester=st.text(alphabet="abcxyz-0123", min_size=1, max_size=8),
)
def test_decision_invariants_E4_E5_E8_T8(plan, state, channel, category, used, requester) -> None:
    contract = term(PLANS[plan], contract_id="X-1", state=state)
    caps = [usage(cap, str(used)) for cap in PLANS[plan].caps]
    request = Request("org-1", requester, channel, category, NOW)
    decision = run([contract], request, {"X-1": caps})

    assert decision.covered == (decision.billing == "covered")
    assert decision.covered == (decision.reason is ReasonCode.INCLUDED)
    assert decision.covered == (decision.rate_basis is RateBasis.COVERED)
    not_subscribed = {ReasonCode.NO_CONTRACT, ReasonCode.LAPSED, ReasonCode.SUSPENDED}
    assert (decision.reason in not_subscribed) == (decision.rate_basis is RateBasis.NON_SUBSCRIBER)
    assert (DecisionFlag.CAP_EXCEEDED in decision.flags) == (
        decision.reason is ReasonCode.CAP_EXHAUSTED
    )
    in_force = state in (S.ACTIVE, S.PAST_DUE)
    assert (decision.reason not in not_subscribed) == in_force
    if in_force:
        assert (DecisionFlag.PAST_DUE_WARNING in decision.flags) == (state is S.PAST_DUE)
    # E-8: API help is flagged exactly when a plan in force limits it to base functionality
    assert (DecisionFlag.API_BEYOND_BASE in decision.flags) == (
        in_force and category is Category.API_DEVELOPER and PLANS[plan].api_base_only
    )
    # E-6: no product named, no version verdict
    assert DecisionFlag.VERSION_UNSUPPORTED not in decision.flags
    # T-8: who asks never changes the answer
    assert (
        run([contract], Request("org-1", "someone-else", channel, category, NOW), {"X-1": caps})
        == decision
    )


# --- consulting, onboarding/training, on-site as the seeds bill them (E-5, B-7) -----------


@pytest.mark.parametrize(
    ("contract", "usage_", "category", "covered", "advice"),
    [
        (enterprise, ENTERPRISE_USAGE, "consulting", False, "Professional Services"),  # seed 000
        (enterprise, ENTERPRISE_USAGE, "on_site", False, "installation engineer"),  # seed 000
        (per_user, PER_USER_USAGE, "training", True, None),  # seed 002: included
        (per_user, PER_USER_USAGE, "on_site", False, "not included with a Support"),  # seed 002
        (per_user, PER_USER_USAGE, "consulting", False, "not part of the subscription"),
    ],
)
def test_consulting_training_on_site_bill_as_the_seeds_say_seed000_seed002(
    contract, usage_, category, covered, advice
) -> None:
    decision = run([contract()], req("email", category), usage_)
    assert decision.covered is covered
    if not covered:
        assert decision.reason is ReasonCode.NOT_INCLUDED and advice in decision.explanation
        assert "billable hourly" in decision.explanation


def test_msp_bills_consulting_training_on_site_hourly_seed001() -> None:
    msp = term(HOURLY_PLAN, contract_id="H-1")
    for category in ("consulting", "training", "on_site"):
        assert run([msp], req("phone", category)).reason is ReasonCode.HOURLY_PLAN
