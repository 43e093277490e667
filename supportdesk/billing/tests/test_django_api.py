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


def clerk_user(world: Any) -> Any:
    from supportdesk.accounts.models import User
    from supportdesk.billing.tests.test_django_subscriptions import billing_clerk

    return User.objects.get(pk=billing_clerk(world).user_id)


def test_payments_api_settles_oldest_first_and_is_billing_staff_only_B4(
    world: Any, api: Any
) -> None:
    a = issued(world)
    b = issued(world)
    clerk = clerk_user(world)
    body = {"organization": world.acme.pk, "amount": "15.00", "received_on": "2026-02-03",
            "reference": "wire 42"}  # fmt: skip
    assert api(world.alice.user).post("/payments", body).status_code == 403  # own org: no
    assert api(world.agent).post("/payments", body).status_code == 403  # not billing staff
    assert api(world.rival_agent).post("/payments", body).status_code == 404
    assert api(clerk).post("/payments", {**body, "amount": "-1"}).status_code == 400
    assert api(clerk).post("/payments", {**body, "amount": "1.001"}).status_code == 400
    assert api(clerk).post("/payments", {**body, "amount": "ten"}).status_code == 422
    made = api(clerk).post("/payments", body)
    assert made.status_code == 201, made.content
    out = made.json()
    assert [(x["invoice"], Decimal(x["amount"])) for x in out["allocations"]] == [
        (a.label, Decimal("10.00")),
        (b.label, Decimal("5.00")),
    ]
    assert Decimal(out["unapplied"]) == 0
    b.refresh_from_db()
    assert b.balance == Decimal("5.00")


def test_balance_api_contact_sees_only_own_organisation(world: Any, api: Any) -> None:
    issued(world)  # due 2026-03-03: overdue by the real clock
    issued(world, org=world.globex)
    body = api(world.alice.user).get(f"/organizations/{world.acme.pk}/balance").json()
    (usd,) = body["balances"]
    assert (Decimal(usd["open"]), usd["open_invoices"]) == (Decimal("10.00"), 1)
    assert Decimal(usd["overdue"]) == Decimal("10.00")
    assert api(world.alice.user).get(f"/organizations/{world.globex.pk}/balance").status_code == 404
    assert api(world.rival_agent).get(f"/organizations/{world.acme.pk}/balance").status_code == 404
    staff = api(world.agent).get(f"/organizations/{world.globex.pk}/balance").json()
    assert Decimal(staff["balances"][0]["balance"]) == Decimal("10.00")


def test_void_and_credit_note_api_record_the_reason_B1(world: Any, api: Any) -> None:
    a = issued(world)
    b = issued(world)
    clerk = clerk_user(world)
    assert (
        api(world.alice.user).post(f"/invoices/{a.number}/void", {"reason": "x"}).status_code == 403
    )
    assert api(clerk).post(f"/invoices/{a.number}/void", {"reason": ""}).status_code == 400
    voided = api(clerk).post(f"/invoices/{a.number}/void", {"reason": "duplicate"})
    assert voided.status_code == 200 and voided.json()["state"] == "void"
    assert a.events.get(kind="voided").actor_id == clerk.pk
    note = api(clerk).post(
        f"/invoices/{b.number}/credit-notes", {"reason": "goodwill", "amount": "4.00"}
    )
    assert note.status_code == 201 and Decimal(note.json()["total"]) == Decimal("-4.00")
    assert (
        api(world.rival_agent).post(f"/invoices/{b.number}/void", {"reason": "x"}).status_code
        == 404
    )


def test_subscription_api_start_and_users_added_B5(world: Any, api: Any) -> None:
    from supportdesk.billing.tests.test_django_subscriptions import per_user_plan

    plan = per_user_plan(world)
    clerk = clerk_user(world)
    body = {"organization": world.globex.pk, "plan": plan.pk, "users": 5,
            "invoice_date": "2026-03-01"}  # fmt: skip
    assert api(world.gina.user).post("/subscriptions", body).status_code == 403
    assert api(world.rival_agent).post("/subscriptions", body).status_code == 404
    assert api(clerk).post("/subscriptions", {**body, "users": 0}).status_code == 400
    made = api(clerk).post("/subscriptions", body)
    assert made.status_code == 201, made.content
    out = made.json()
    assert out["start"] == "2026-03-01" and Decimal(out["invoice"]["total"]) == Decimal("120.00")
    path = f"/subscriptions/{out['contract']}/users"
    added = api(clerk).post(path, {"added": 2, "on": "2026-03-17", "reason": "two new agents"})
    assert added.status_code == 201, added.content
    # 2 × 24.00 × 15/31 days = 23.225… → 23.23
    assert Decimal(added.json()["total"]) == Decimal("23.23")
    assert api(world.alice.user).post(path, {"added": 1}).status_code == 404
    assert api(world.gina.user).get(f"/invoices/{out['invoice']['number']}").status_code == 200
