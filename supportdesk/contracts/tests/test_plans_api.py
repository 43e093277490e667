"""Plans through the API (ids and slugs) and release eligibility per plan (E-7, K-3): seed 000
needs maintenance over the window before shipping (30 days, a plan setting); seed 002 needs an
active subscription with updates, with no wait."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from supportdesk.billing.models import PlanBilling
from supportdesk.contracts import services
from supportdesk.contracts.domain.versions import CoveragePeriod, Release, release_eligible
from supportdesk.contracts.models import Plan
from supportdesk.core import clock
from tests.factories import NOW

from .django_helpers import make_contract, make_plan, make_product

pytestmark = pytest.mark.django_db


def test_plans_api_lists_rules_and_billing_settings_by_id_and_slug_E1(api, world):
    enterprise = make_plan(world.vendor, "enterprise")
    per_user = make_plan(world.vendor, "per_user")
    PlanBilling.objects.create(plan=enterprise, past_due_clock="term_end", renewal_lead_months=2)
    make_contract(world.acme, "per_user", start=date(2025, 6, 1))
    staff = api(world.agent).get("/plans")
    assert staff.status_code == 200
    rows = {p["slug"]: p for p in staff.json()}
    assert set(rows) == {enterprise.slug, per_user.slug}
    assert rows[enterprise.slug]["billing"]["past_due_clock"] == "term_end"
    assert rows[enterprise.slug]["rules"]["release_rule"] == "covered_before_ship"
    assert rows[enterprise.slug]["rules"]["release_window_days"] == 30
    assert rows[per_user.slug]["rules"]["release_rule"] == "active_with_updates"
    assert rows[per_user.slug]["billing"]["billing"] == "monthly"  # default by plan kind
    assert api(world.agent).get(f"/plans/{enterprise.pk}").json()["slug"] == enterprise.slug
    assert api(world.agent).get(f"/plans/{per_user.slug}").json()["id"] == per_user.pk
    assert api(world.agent).get("/plans/nope").status_code == 404
    # a customer sees the plans of its own contracts; another vendor sees none of ours
    assert [p["slug"] for p in api(world.alice.user).get("/plans").json()] == [per_user.slug]
    assert api(world.alice.user).get(f"/plans/{enterprise.slug}").status_code == 404
    assert api(world.rival_agent).get("/plans").json() == []
    assert api(world.rival_agent).get(f"/plans/{enterprise.pk}").status_code == 404


def _release(world, days_ago: int):
    product = make_product(world.vendor)
    version = product.versions.get(version="10.2")
    today = clock.now().date()
    return services.release_create(
        version=version, name="10.2.1", shipped_on=today - timedelta(days=days_ago)
    )


def test_subscription_with_updates_downloads_without_30_day_wait_E7_seed_002(api, world):
    today = clock.now().date()
    make_contract(world.acme, "per_user", start=today - timedelta(days=10), now=NOW)
    release = _release(world, days_ago=5)  # shipped 5 days after the subscription started
    body = api(world.alice.user).get(f"/releases/{release.pk}/eligibility").json()
    assert body["eligible"] is True and "subscription with updates active" in body["reason"]


def test_enterprise_needs_the_plans_window_before_shipping_E7_seed_000(api, world):
    today = clock.now().date()
    make_contract(world.acme, "enterprise", start=today - timedelta(days=10), now=NOW)
    release = _release(world, days_ago=5)
    url = f"/releases/{release.pk}/eligibility"
    assert api(world.alice.user).get(url).json()["eligible"] is False  # 30 days before shipping
    plan = Plan.objects.get(slug="enterprise-advantage")
    plan.rules = {**plan.rules, "release_window_days": 5}
    plan.save()  # a plan setting, snapshotted when a contract is signed (house rule 9)
    assert api(world.alice.user).get(url).json()["eligible"] is False
    make_contract(world.globex, "enterprise", start=today - timedelta(days=10), now=NOW)
    body = api(world.agent).get(f"{url}?organization={world.globex.pk}").json()
    assert body["eligible"] is True and "the 5 days before it shipped" in body["reason"]


def test_release_rule_domain_active_on_E7() -> None:
    release = Release("PBX", "8.0", "8.0.2", date(2026, 3, 10))
    running = [CoveragePeriod(date(2026, 3, 1), date(2027, 3, 1))]
    assert release_eligible(agreements=running, release=release, active_on=date(2026, 3, 12)).ok
    lapsed = [CoveragePeriod(date(2025, 3, 1), date(2026, 3, 1))]
    refused = release_eligible(agreements=lapsed, release=release, active_on=date(2026, 3, 12))
    assert not refused.ok and "none on 2026-03-12" in refused.reason
    # a window of 0 days: covered on the day it shipped
    assert release_eligible(agreements=running, release=release, window_days=0).ok
