"""`supportdesk billing run [--date D] [--dry-run]` prints a summary and is idempotent (B-9)."""

from __future__ import annotations

from typing import Any

import pytest

from supportdesk.billing.models import Invoice
from supportdesk.billing.tests.test_django_billing import enterprise
from supportdesk.cli import main

pytestmark = pytest.mark.django_db


def test_cli_billing_run_dry_run_then_run_then_rerun_B9(world: Any, capsys: Any) -> None:
    enterprise(world)
    argv = ["billing", "run", "--date", "2026-02-01", "--no-progress", "--list"]
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "(dry run)" in out and "invoices: 1" in out and Invoice.objects.count() == 0
    assert main(argv) == 0
    assert "INV-000001 67,000.00 USD" in capsys.readouterr().out
    assert main(argv) == 0
    assert "invoices" not in capsys.readouterr().out
    assert Invoice.objects.count() == 1
