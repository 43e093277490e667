"""Gap-free numbering and idempotence under concurrency (B-1, B-9) on PostgreSQL: several
threads, each with its own connection, run the billing run for the same date and issue
drafts at the same time. Every contract is invoiced once; numbers are 1..N with no gap.
(SQLite serialises writers with BEGIN IMMEDIATE, so the race only means something here.)"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connection

from supportdesk.billing import runs, services
from supportdesk.billing.models import BillingRunKey, Invoice
from supportdesk.billing.tests.test_django_billing import one_line_draft
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import Product
from supportdesk.contracts.tests.django_helpers import make_plan
from supportdesk.customers.services import organization_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
CONTRACTS = 8
NOW = datetime(2026, 2, 1, tzinfo=UTC)


def _threads(target: Any, n: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def body(i: int) -> None:
        from django.db import connections

        try:
            barrier.wait()
            target(i)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_concurrent_runs_issue_once_gap_free_B1_B9(world: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://…)")
    plan = make_plan(world.vendor, "enterprise")
    product = Product.objects.create(vendor=world.vendor, name="Server")
    for n in range(CONTRACTS):
        org = organization_create(vendor=world.vendor, name=f"Customer {n}")
        contract_services.contract_create(
            principal=None, organization=org, plan=plan, start=date(2026, 2, 1),
            state="active", now=NOW,
            lines=[contract_services.LineInput(kind="licence", quantity=1,
                                               unit_price="100000.00", product=product)],
        )  # fmt: skip
    drafts = [one_line_draft(world) for _ in range(6)]

    def work(i: int) -> None:
        if i < 3:
            runs.billing_run(today=date(2026, 2, 1), now=NOW, vendor=world.vendor)
        else:
            for d in drafts[(i - 3) * 2 : (i - 3) * 2 + 2]:
                services.invoice_issue(invoice=d, issue_date=date(2026, 2, 1), now=NOW)

    assert _threads(work, 6) == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, CONTRACTS + 6 + 1))
    assert Invoice.objects.filter(contract__isnull=False).count() == CONTRACTS
    assert BillingRunKey.objects.filter(purpose="invoice").count() == CONTRACTS
