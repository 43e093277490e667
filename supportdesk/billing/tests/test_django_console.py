"""Console billing pages: an organisation's invoices and balance, recording a payment,
deciding a suspension (B-1, B-4), with tenancy: another vendor's customer is 404."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from supportdesk.billing.models import BillingRunKey
from supportdesk.billing.tests.test_django_api import clerk_user, issued
from supportdesk.billing.tests.test_django_suspension import overdue_renewal

pytestmark = pytest.mark.django_db


def test_console_shows_an_organisations_invoices_and_balance_B1(world: Any, client: Any) -> None:
    a = issued(world)
    issued(world)
    client.force_login(world.agent)
    nav = client.get(reverse("console:queue")).content.decode()
    assert reverse("console:billing:overview") in nav
    page = client.get(reverse("console:billing:overview")).content.decode()
    assert "Acme" in page and "20.00 USD" in page
    org_page = client.get(reverse("console:billing:organization", args=[world.acme.pk]))
    text = org_page.content.decode()
    assert org_page.status_code == 200
    assert a.label in text and f"/api/v1/invoices/{a.number}.pdf" in text
    assert "20.00 USD</strong> owed" in text and "past due" in text
    assert "Record a payment" not in text  # agents see, billing staff record


def test_console_is_staff_only_and_vendor_scoped(world: Any, client: Any) -> None:
    client.force_login(world.rival_agent)
    url = reverse("console:billing:organization", args=[world.acme.pk])
    assert client.get(url).status_code == 404
    assert "Acme" not in client.get(reverse("console:billing:overview")).content.decode()
    client.force_login(world.alice.user)
    assert client.get(url).status_code == 403


def test_console_records_a_payment_B4(world: Any, client: Any) -> None:
    inv = issued(world)
    url = reverse("console:billing:payment", args=[world.acme.pk])
    form = {"amount": "10.00", "currency": "USD", "received_on": "2026-02-10", "reference": "c1"}
    client.force_login(world.agent)
    assert client.post(url, form).status_code == 403
    client.force_login(clerk_user(world))
    assert client.post(url, {**form, "amount": "lots"}).status_code == 400
    response = client.post(url, form, follow=True)
    assert response.status_code == 200
    assert f"applied to {inv.label} 10.00 USD" in response.content.decode()
    inv.refresh_from_db()
    assert inv.state == "paid" and inv.amount_paid == Decimal("10.00")
    assert inv.events.get(kind="payment").actor_id == response.wsgi_request.user.pk


def test_console_decides_a_suspension_request_B4(world: Any, client: Any) -> None:
    term = overdue_renewal(world)
    client.force_login(clerk_user(world))
    page = client.get(reverse("console:billing:overview")).content.decode()
    assert "Suspensions awaiting approval" in page
    request = BillingRunKey.objects.get(purpose="suspension_approval")
    assert request.invoice is not None and request.invoice.label in page
    url = reverse("console:billing:decide", args=[request.pk])
    assert client.post(url, {"decision": "approve", "reason": ""}).status_code == 400
    client.post(url, {"decision": "approve", "reason": "ignored every reminder"})
    term.refresh_from_db()
    assert term.state == "suspended"
