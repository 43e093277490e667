"""A-1: first run from the command line and in the browser."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from supportdesk.accounts.models import User
from supportdesk.core.models import Vendor
from supportdesk.sla.models import Calendar, SlaPolicy
from supportdesk.tickets.models import Queue
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

OPTIONS = {
    "vendor_name": "Nordlicht IT",
    "slug": "nordlicht",
    "timezone": "Europe/Berlin",
    "country": "DE",
    "support_email": "Support@Nordlicht.example",
    "support_phone": "030 1234567",
    "admin_email": "chef@nordlicht.example",
    "admin_password": PASSWORD,
}


def _counts() -> list[int]:
    return [m.objects.count() for m in (Vendor, Queue, Calendar, SlaPolicy, User)]


def test_setup_non_interactive_creates_vendor_queue_calendar_policy_admin_A1():
    out = io.StringIO()
    call_command("setup", no_input=True, stdout=out, **OPTIONS)
    vendor = Vendor.objects.get(slug="nordlicht")
    assert (vendor.name, vendor.timezone, vendor.support_email) == (
        "Nordlicht IT", "Europe/Berlin", "support@nordlicht.example",
    )  # fmt: skip
    assert vendor.country == "DE" and vendor.support_phone == "+49301234567"
    queue = Queue.objects.get(vendor=vendor)
    assert queue.is_default and queue.email == "support@nordlicht.example"
    calendar = Calendar.objects.get(vendor=vendor).calendar()
    # German public holidays: Friday 3 October 2025 (Unity Day) is closed, the Thursday open.
    berlin = ZoneInfo("Europe/Berlin")
    assert calendar.is_open(datetime(2025, 10, 2, 12, tzinfo=berlin))
    assert not calendar.is_open(datetime(2025, 10, 3, 12, tzinfo=berlin))
    assert not calendar.is_open(datetime(2025, 10, 2, 18, tzinfo=berlin))
    policy = SlaPolicy.objects.get(vendor=vendor)
    assert policy.is_default and policy.spec["timezone"] == "Europe/Berlin"
    admin = User.objects.get(email="chef@nordlicht.example")
    assert admin.vendor == vendor and admin.check_password(PASSWORD)
    assert set(admin.roles.values_list("role", flat=True)) == {"admin"}
    assert queue.members.filter(pk=admin.pk).exists()
    assert "vendor nordlicht" in out.getvalue()


def test_setup_twice_changes_nothing_and_says_so_A1():
    call_command("setup", no_input=True, stdout=io.StringIO(), **OPTIONS)
    before = _counts()
    out = io.StringIO()
    call_command("setup", no_input=True, stdout=out, **OPTIONS)
    assert _counts() == before
    assert "nothing new" in out.getvalue()


def test_setup_refuses_bad_answers_with_a_message_A1():
    for key, bad, message in (
        ("timezone", "Mars/Olympus", "IANA time zone"),
        ("country", "XX", "country code"),
        ("slug", "Not A Slug", "slug"),
        ("admin_password", "short", "at least 8"),
        ("support_email", "nope", "not an email"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("setup", no_input=True, stdout=io.StringIO(), **{**OPTIONS, key: bad})
    assert not Vendor.objects.exists()


def test_setup_interactive_asks_for_what_is_missing_A1(monkeypatch):
    answers = iter(["Acme Support", "acme", "", "", "help@acme.example", "", "boss@acme.example"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": PASSWORD)
    call_command("setup", stdout=io.StringIO())
    vendor = Vendor.objects.get(slug="acme")
    assert vendor.timezone == "UTC"  # the offered default
    assert Calendar.objects.get(vendor=vendor).spec["holiday_sets"] == [{"country": "US"}]
    assert User.objects.get(email="boss@acme.example").vendor == vendor


def test_createadmin_takes_the_vendor_A1():
    call_command("setup", no_input=True, stdout=io.StringIO(), **OPTIONS)
    call_command(
        "createadmin", email="two@nordlicht.example", password=PASSWORD, vendor="nordlicht",
        stdout=io.StringIO(),
    )  # fmt: skip
    assert User.objects.get(email="two@nordlicht.example").vendor.slug == "nordlicht"
    with pytest.raises(CommandError, match="no vendor 'nope'"):
        call_command("createadmin", email="x@y.example", password=PASSWORD, vendor="nope")


def test_createadmin_asks_for_the_vendor_when_interactive_A1(monkeypatch):
    call_command("setup", no_input=True, stdout=io.StringIO(), **OPTIONS)
    answers = iter(["three@nordlicht.example", "nordlicht"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": PASSWORD)
    call_command("createadmin", stdout=io.StringIO())
    assert User.objects.get(email="three@nordlicht.example").vendor.slug == "nordlicht"


def test_vendorless_superuser_is_taken_to_the_first_run_page_and_joins_the_vendor_A1(client):
    call_command("createadmin", email="root@example.com", password=PASSWORD, stdout=io.StringIO())
    client.login(username="root@example.com", password=PASSWORD)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/setup/"
    assert client.get("/setup/").status_code == 200
    form = {k: v for k, v in OPTIONS.items() if not k.startswith("admin_")}
    response = client.post("/setup/", {**form, "timezone": "Nowhere/Nothing"})
    assert response.status_code == 400 and b"IANA time zone" in response.content
    response = client.post("/setup/", form)
    assert response.status_code == 302 and response["Location"] == "/console/"
    root = User.objects.get(email="root@example.com")
    assert root.vendor.slug == "nordlicht" and root.roles.filter(role="admin").exists()
    # Now it belongs to a vendor: the API creates organisations for it.
    assert client.get("/").headers["Location"] == "/console/"
    assert client.get("/setup/").status_code == 302
