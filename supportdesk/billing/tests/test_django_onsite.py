"""Seed 002: "On-site technician troubleshooting, repair, or other services is not included
with a Support Subscription". On a covered per-user subscription, a ticket in the on-site
category is decided billable hourly at intake, and its on-site time becomes an invoice line;
the same work on a covered problem ticket does not (E-4, B-7, B-8)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from supportdesk.billing import runs
from supportdesk.billing.models import Invoice, InvoiceLine
from supportdesk.billing.tests.test_django_billing import make_rate_card
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.domain.plans import PER_USER_PLAN
from supportdesk.contracts.domain.vocabulary import Category
from supportdesk.contracts.tests.django_helpers import make_contract
from supportdesk.core.tenancy import principal_for
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db

OPENED = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)
VISIT = datetime(2026, 1, 6, 16, 0, tzinfo=UTC)  # Tue 11:00 New York: business hours
RUN_DAY = date(2026, 2, 1)
RUN_AT = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)


def _visit(world: Any, category: str) -> Any:
    ticket = make_ticket(world, world.alice, now=OPENED, subject="Replace the wall phone")
    staff = principal_for(world.agent)
    decision = contract_services.ticket_category_set(
        principal=staff, ticket=ticket, category=category, now=OPENED
    )
    contract_services.time_entry_add(
        principal=None, ticket=ticket, engineer=world.engineer, started_at=VISIT, minutes=90,
        work_kind="on_site", category=category, now=VISIT + timedelta(hours=2),
    )  # fmt: skip
    return decision


def test_plan_data_leaves_on_site_work_out_of_the_phone_subscription_seed002():
    assert Category.ON_SITE not in PER_USER_PLAN.included_categories
    assert Category.ON_SITE not in PER_USER_PLAN.out_of_scope_categories  # billed, not refused
    assert "not included" in PER_USER_PLAN.not_included_advice[Category.ON_SITE]


def test_on_site_ticket_on_a_covered_subscription_is_an_invoice_line_seed002_B8(world):
    make_rate_card(world)
    contract = make_contract(world.acme, "per_user")  # in force on the visit day
    decision = _visit(world, "on_site")
    assert decision.contract_id == contract.pk
    assert (decision.covered, decision.billing, decision.reason) == (
        False,
        "hourly",
        "not_included",
    )
    assert "not included with a Support Subscription" in decision.explanation
    summary = runs.billing_run(today=RUN_DAY, now=RUN_AT)
    assert summary.counts["hourly_invoices"] == 1
    line = InvoiceLine.objects.get(invoice__organization=world.acme, kind="hourly")
    assert line.amount == Decimal("225.00")  # 1.5 h at the business rate of 150.00
    assert "On site" in line.description


def test_on_site_work_on_a_covered_problem_ticket_is_not_billed_E4(world):
    make_rate_card(world)
    make_contract(world.acme, "per_user")
    decision = _visit(world, "problem")
    assert decision.covered
    runs.billing_run(today=RUN_DAY, now=RUN_AT)
    assert not Invoice.objects.filter(organization=world.acme).exists()
