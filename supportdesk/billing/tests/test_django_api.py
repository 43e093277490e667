"""Invoice API, PDF and CSV (B-1) with tenancy: another customer's invoice is 404."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from supportdesk.billing import runs, services
from supportdesk.billing.models import Invoice
from supportdesk.billing.tests.test_django_billing import NOW, RUN_DAY, enterprise, one_line_draft

pytestmark = pytest.mark.django_db


def issued(world: Any, org: Any = None) -> Invoice:
    return services.invoice_issue(
        invoice=one_line_draft(world, "10.00", org=org), issue_date=RUN_DAY, now=NOW
    )


def test_list_staff_sees_vendor_contact_sees_own_org(world: Any, api: Any) -> None:
    a = issued(world)
    g = issued(world, org=world.globex)
    staff = api(world.agent).get("/invoices")
    assert staff.status_code == 200
    assert {row["number"] for row in staff.json()} == {a.number, g.number}
    alice = api(world.alice.user).get("/invoices")
    assert [row["number"] for row in alice.json()] == [a.number]
    assert api(world.rival_agent).get("/invoices").json() == []


def test_other_customers_invoice_is_404(world: Any, api: Any) -> None:
    g = issued(world, org=world.globex)
    assert api(world.alice.user).get(f"/invoices/{g.number}").status_code == 404
    assert api(world.alice.user).get(f"/invoices/{g.number}.pdf").status_code == 404
    assert api(world.rival_agent).get(f"/invoices/{g.number}").status_code == 404
    assert api(world.gina.user).get(f"/invoices/{g.number}").status_code == 200
    assert api(world.alice.user).get("/invoices/999").status_code == 404


def test_drafts_hidden_from_contacts(world: Any, api: Any) -> None:
    one_line_draft(world)
    assert api(world.alice.user).get("/invoices").json() == []
    assert len(api(world.agent).get("/invoices?state=draft").json()) == 1
    assert api(world.agent).get("/invoices?state=bogus").status_code == 400


def test_invoice_json_and_pdf_show_every_line_and_total_B1_B2(world: Any, api: Any) -> None:
    enterprise(world)
    runs.billing_run(today=RUN_DAY, now=NOW)
    inv = Invoice.objects.get()
    body = api(world.alice.user).get(f"/invoices/{inv.number}").json()
    assert body["label"] == "INV-000001" and Decimal(body["total"]) == Decimal("67000.00")
    assert [Decimal(x["amount"]) for x in body["lines"]] == [Decimal(42000), Decimal(25000)]
    response = api(world.alice.user).get(f"/invoices/{inv.number}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(response.content)).pages
    text = " ".join(" ".join(p.extract_text() for p in pages).split())  # wrapped lines joined
    assert "INV-000001" in text
    assert "42,000.00 USD" in text and "25,000.00 USD" in text and "67,000.00 USD" in text
    assert "30 % of total licence list price 140,000.00 USD" in text
    assert "fixed annual amount" in text
    assert "Due date: 2026-03-03" in text


def test_csv_export(world: Any, api: Any) -> None:
    issued(world)
    response = api(world.agent).get("/invoices.csv")
    assert response.status_code == 200
    rows = response.content.decode().splitlines()
    assert rows[0].startswith("invoice,state")
    assert "INV-000001" in rows[1] and "10.00" in rows[1]
    assert date(2026, 2, 1).isoformat() in rows[1]
