"""`supportdesk import assets FILE.csv` (H-1 through the A-4 imports): created, updated,
unchanged or refused per row, matched by model and serial."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.management import call_command

from supportdesk.assets.models import Asset
from supportdesk.assets.tests.factories import make_model
from supportdesk.contracts.tests.django_helpers import make_contract

pytestmark = pytest.mark.django_db


def test_assets_import_idempotent_with_refusals_H1(world: Any, tmp_path: Any) -> None:
    make_model(world.acme)
    make_contract(world.acme, reference="K-1")
    path = tmp_path / "assets.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["organization", "manufacturer", "model", "serial", "purchased_on", "contract"])
        w.writerows([
            ["Acme", "Brooktrout", "FX-200", "A-1", "2025-06-30", "K-1"],
            ["Globex", "brooktrout", "fx-200", "G-1", "", ""],
            ["Acme", "Brooktrout", "TR-9", "A-2", "", ""],
            ["Acme", "Brooktrout", "FX-200", "A-3", "", "K-404"],
            ["Globex", "Brooktrout", "FX-200", "A-1", "", ""],
        ])  # fmt: skip

    def run() -> str:
        out = io.StringIO()
        call_command(
            "import", "assets", str(path), vendor="vendor", no_progress=True, list=True, stdout=out
        )
        return out.getvalue()

    first = run()
    assert "line 2: created" in first and "line 3: created" in first
    assert "no hardware model Brooktrout TR-9" in first
    assert "Acme has no contract 'K-404'" in first
    assert "line 6: refused" in first  # the same serial twice in one file
    asset = Asset.objects.get(serial="A-1")
    assert str(asset.warranty_ends_on) == "2026-06-30" and asset.contract.reference == "K-1"
    assert "0 created, 0 updated, 2 unchanged, 3 refused" in run()
