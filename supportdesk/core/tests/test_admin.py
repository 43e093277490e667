"""Rule 15 / issue 17.5 item 1: the Django admin is no second write path.

Superusers only; every model that has services is read-only there or saves through them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission

from supportdesk.accounts.models import User
from supportdesk.contracts.domain.plans import PER_USER_PLAN
from supportdesk.contracts.domain.specs import plan_to_spec
from supportdesk.contracts.models import Contract, Plan
from supportdesk.contracts.tests.django_helpers import make_contract, make_plan
from supportdesk.core.admin import ReadOnlyAdmin
from supportdesk.customers.models import ContactEmail
from supportdesk.customers.selectors import contact_find_by_email
from supportdesk.customers.services import contact_create

pytestmark = pytest.mark.django_db

# Registered models that are not read-only, and why: configuration without services, or the
# admin saves through the service (its save_model calls it).
EDITABLE = {
    "contracts.Product": "catalogue; no service",
    "billing.PlanBilling": "configuration; no service",
    "billing.VendorBilling": "invoice letterhead and tax; configuration, no service",
    "billing.CustomerBilling": "a customer's billing address and tax; configuration, no service",
    "axes.AccessAttempt": "django-axes: a superuser unlocks an account by deleting its attempts",
    "axes.AccessFailureLog": "django-axes: sign-in failures, kept by axes itself",
    "axes.AccessLog": "django-axes: sign-ins, kept by axes itself",
    "otp_totp.TOTPDevice": "django-otp: a superuser removes a lost authenticator (recovery)",
    "otp_static.StaticDevice": "django-otp: a superuser removes used-up backup codes (recovery)",
    "contracts.Plan": "added through plan_create, never changed",
    "oncall.OnCallConfig": "saved through config_update",
    "oncall.Schedule": "saved through schedule_save",
    "oncall.EscalationChain": "saved through chain_save",
    "sla.Calendar": "saved through sla_calendar_save",
    "sla.SlaPolicy": "saved through sla_policy_save",
    "sla.OrganizationSlaPolicy": "saved through sla_policy_assign",
    "sla.PlanSlaPolicy": "saved through sla_policy_assign_plan",
    "assets.RmaPolicy": "a plan's advance-exchange terms; configuration, no service",
}


@pytest.fixture
def superuser(world: Any) -> User:
    return User.objects.create_superuser("root@vendor.example", "root-password")


def test_every_registered_model_is_read_only_or_listed_with_its_reason_rule15():
    editable = {
        m._meta.label
        for m, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, ReadOnlyAdmin)
        and m._meta.app_label not in ("auth", "django_tasks_database")
    }
    assert editable == set(EDITABLE)


def test_contract_change_form_is_read_only_and_a_post_changes_nothing_rule15(
    world: Any, client: Any, superuser: User
):
    contract = make_contract(world.acme)
    other_plan = make_plan(world.vendor, "enterprise")
    client.force_login(superuser)
    url = f"/admin/contracts/contract/{contract.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="plan"' not in body and 'name="organization"' not in body
    assert 'name="_save"' not in body
    before = Contract.objects.values().get(pk=contract.pk)
    posted = client.post(
        url,
        {"organization": world.globex.pk, "plan": other_plan.pk, "start": "2020-01-01",
         "end": "2030-01-01", "_save": "Save"},
    )  # fmt: skip
    assert posted.status_code == 403
    assert Contract.objects.values().get(pk=contract.pk) == before
    assert client.post("/admin/contracts/contract/add/", {}).status_code == 403
    deleted = client.post(f"/admin/contracts/contract/{contract.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 403
    assert Contract.objects.filter(pk=contract.pk).exists()


def test_contact_addresses_cannot_be_written_in_the_admin_rule15(
    world: Any, client: Any, superuser: User
):
    client.force_login(superuser)
    url = f"/admin/customers/contact/{world.alice.pk}/change/"
    assert client.get(url).status_code == 200
    posted = client.post(url, {"name": "Alice", "emails-0-address": "Alice.Second@Acme.example"})
    assert posted.status_code == 403
    assert list(world.alice.emails.values_list("address", flat=True)) == ["alice@acme.example"]


def test_plan_added_in_the_admin_goes_through_plan_create_rule15(
    world: Any, client: Any, superuser: User
):
    client.force_login(superuser)
    data = {
        "vendor": world.vendor.pk, "slug": "basic", "name": "Basic",
        "kind": PER_USER_PLAN.kind.value,
        "rules": json.dumps(plan_to_spec(PER_USER_PLAN, identity=False), default=str),
        "currency": "USD", "price_percent_of_list": "10", "price_fixed": "0",
        "backup_retention_days": "90",
    }  # fmt: skip
    response = client.post("/admin/contracts/plan/add/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    plan = Plan.objects.get(vendor=world.vendor, slug="basic")
    assert plan.created_at is not None  # set by plan_create, not a form field
    change = client.post(f"/admin/contracts/plan/{plan.pk}/change/", {**data, "name": "X"})
    assert change.status_code == 403
    assert Plan.objects.get(pk=plan.pk).name == "Basic"


@pytest.mark.parametrize("path", ["/admin/", "/admin/contracts/contract/"])
def test_staff_who_are_not_superusers_get_no_admin_rule15(world: Any, client: Any, path: str):
    world.agent.user_permissions.set(Permission.objects.all())  # even with every permission
    client.force_login(world.agent)
    response = client.get(path)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_contact_email_is_stored_in_the_form_intake_matches_T2(world: Any):
    contact = contact_create(
        organization=world.acme, name="Dieter", emails=["Dieter.Mann@Bücher.Example"]
    )
    [row] = ContactEmail.objects.filter(contact=contact)
    assert row.address == "dieter.mann@xn--bcher-kva.example"
    found = contact_find_by_email(vendor_id=world.vendor.pk, address="<DIETER.MANN@bücher.example>")
    assert found == contact


def test_every_admin_page_renders_for_a_superuser(world: Any, client: Any, superuser: User):
    from tests.factories import make_ticket

    make_ticket(world)  # so tickets, events, outbox rows and clocks have rows to show
    client.force_login(superuser)
    for model, _ in admin.site._registry.items():
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        assert client.get(base).status_code == 200, base
        row = model._default_manager.order_by("pk").first()
        if row is not None:
            assert client.get(f"{base}{row.pk}/change/").status_code == 200, base
