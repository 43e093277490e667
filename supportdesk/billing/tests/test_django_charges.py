"""One-off charges (ad-hoc invoice lines with a reason) through the API and the console (B-1)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from supportdesk.billing.models import Invoice, InvoiceEvent
from supportdesk.billing.tests.test_django_api import clerk_user

pytestmark = pytest.mark.django_db


def test_one_off_charge_api_is_one_line_with_its_reason_B1(world: Any, api: Any) -> None:
    url = f"/organizations/{world.acme.pk}/charges"
    body = {
        "description": "On-site visit", "unit_price": "150.00", "quantity": "2.5",
        "reason": "installation help beyond the 4 h phone cap", "issue_date": "2026-03-02",
    }  # fmt: skip
    assert api(world.agent).post(url, body).status_code == 403  # billing staff only
    assert api(world.alice.user).post(url, body).status_code == 403
    assert api(world.rival_agent).post(url, body).status_code == 404
    clerk = api(clerk_user(world))
    assert clerk.post(url, {**body, "reason": " "}).status_code == 400
    assert clerk.post(url, {**body, "unit_price": "-1"}).status_code == 400
    response = clerk.post(url, body)
    assert response.status_code == 201, response.content
    out = response.json()
    (line,) = out["lines"]
    assert line["kind"] == "one_off" and Decimal(line["amount"]) == Decimal("375.00")
    assert line["description"] == "On-site visit (installation help beyond the 4 h phone cap)"
    assert out["state"] == "issued" and out["issue_date"] == "2026-03-02"
    inv = Invoice.objects.get(number=out["number"])
    assert "4 h phone cap" in inv.memo
    assert InvoiceEvent.objects.filter(invoice=inv, kind="issued").exists()


def test_one_off_charge_from_the_console_B1(world: Any, client: Any) -> None:
    url = reverse("console:billing:charge", args=[world.acme.pk])
    form = {"description": "Replacement handset", "unit_price": "89.00", "quantity": "1",
            "currency": "USD", "reason": "dropped in the lobby fountain"}  # fmt: skip
    client.force_login(world.agent)
    assert client.post(url, form).status_code == 403
    client.force_login(clerk_user(world))
    page = client.get(reverse("console:billing:organization", args=[world.acme.pk]))
    assert "One-off charge" in page.content.decode()
    assert client.post(url, form).status_code == 302
    assert Invoice.objects.get().total == Decimal("89.00")
