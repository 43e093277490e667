"""Builders for the Django-level entitlement tests: plans from the presets, contracts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from supportdesk.contracts import services
from supportdesk.contracts.domain.plans import ENTERPRISE_PLAN, HOURLY_PLAN, PER_USER_PLAN
from supportdesk.contracts.domain.specs import plan_to_spec
from supportdesk.contracts.models import Contract, Plan, Product, ProductVersion
from supportdesk.core.models import Vendor
from supportdesk.customers.models import Organization
from tests.factories import NOW

PRESETS = {"enterprise": ENTERPRISE_PLAN, "per_user": PER_USER_PLAN, "hourly": HOURLY_PLAN}
START = date(2025, 6, 1)  # contracts from here run over the factories' NOW (2026-01-05)


def make_plan(vendor: Vendor, which: str = "per_user") -> Plan:
    rules = PRESETS[which]
    existing = Plan.objects.filter(vendor=vendor, slug=rules.plan_id).first()
    if existing:
        return existing
    return services.plan_create(
        vendor=vendor,
        slug=rules.plan_id,
        name=rules.name,
        kind=rules.kind.value,
        rules=plan_to_spec(rules, identity=False),
        price_percent_of_list=Decimal(30),
        price_fixed=Decimal(25000),
        now=NOW,
    )


def make_contract(
    org: Organization,
    which: str = "per_user",
    *,
    start: date = START,
    end: date | None = None,
    state: str = "active",
    moves: tuple[str, ...] = (),
    **kwargs: Any,
) -> Contract:
    contract = services.contract_create(
        principal=None,
        organization=org,
        plan=make_plan(org.vendor, which),
        start=start,
        end=end,
        state=state,
        now=kwargs.pop("now", NOW),
        **kwargs,
    )
    for to in moves:
        contract = services.contract_transition(
            principal=None, contract=contract, to=to, reason=f"test: {to}", now=NOW
        )
    return contract


def make_product(vendor: Vendor, name: str = "AccuRoute") -> Product:
    product = Product.objects.create(vendor=vendor, name=name)
    for version, current in (("9.9", False), ("10.1", False), ("10.2", True)):
        ProductVersion.objects.create(product=product, version=version, is_current=current)
    return product
