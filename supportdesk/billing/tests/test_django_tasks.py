"""The scheduler runs the billing run (B-3, B-9): registered as a periodic task, dated in
each vendor's own zone, and harmless to repeat."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from supportdesk.billing.models import Invoice
from supportdesk.billing.tasks import billing_run_daily
from supportdesk.billing.tests.test_django_billing import enterprise
from supportdesk.core import clock, runtime

pytestmark = pytest.mark.django_db


def test_billing_run_is_a_periodic_task_B9() -> None:
    paths = [job.task_path for job in runtime.PERIODIC]
    assert "supportdesk.billing.tasks.billing_run_daily" in paths


def test_daily_run_uses_the_vendors_date_and_repeats_harmlessly_B3_B9(
    world: Any, monkeypatch: Any
) -> None:
    world.vendor.timezone = "America/New_York"
    world.vendor.save()
    enterprise(world)  # starts 2026-02-01: its first invoice is due to go out that day
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 2, 1, 3, 0, tzinfo=UTC))
    assert billing_run_daily.call() == {}  # still 31 January in New York
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 2, 1, 6, 0, tzinfo=UTC))
    assert billing_run_daily.call()["invoices"] == 1
    assert billing_run_daily.call() == {}
    assert Invoice.objects.get().issue_date.isoformat() == "2026-02-01"
