from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from supportdesk.accounts.models import User
from supportdesk.customers.models import Contact, Organization
from supportdesk.demo.load import demo_load
from supportdesk.tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_createadmin_is_non_interactive_with_email_and_password(capsys):
    call_command("createadmin", email="Root@Example.com", password="long-enough-pw")
    user = User.objects.get(email="root@example.com")
    assert user.is_superuser and user.check_password("long-enough-pw")
    with pytest.raises(CommandError, match="already exists"):
        call_command("createadmin", email="root@example.com", password="long-enough-pw")
    with pytest.raises(CommandError, match="at least 8"):
        call_command("createadmin", email="x@example.com", password="short")


def test_token_create_prints_a_token_the_api_accepts(world, client, capsys):
    call_command("token", "create", "alice@acme.example")
    token = capsys.readouterr().out.strip()
    assert token.startswith("sd_")
    response = client.get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    with pytest.raises(CommandError, match="no user"):
        call_command("token", "create", "nobody@example.com")


def test_a_command_that_rejects_its_input_says_why_in_one_line_without_a_traceback(capsys):
    from supportdesk.cli import main

    assert main(["token", "create", "nobody@example.com"]) == 2
    said = capsys.readouterr()
    assert said.err == "supportdesk token: no user with email nobody@example.com\n"
    assert said.out == ""


def test_demo_loads_three_presets_and_a_second_run_changes_nothing(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    demo_load()
    counts = [
        m.objects.count() for m in (User, Organization, Contact, Ticket, Message, TicketEvent)
    ]
    assert Organization.objects.values("vendor").distinct().count() == 3
    assert Ticket.objects.filter(channel="voicemail", priority="P1").exists()
    assert Ticket.objects.filter(out_of_scope="network").exists()
    assert Ticket.objects.exclude(escalated_at=None).exists()
    assert "already loaded" in demo_load()
    assert [
        m.objects.count() for m in (User, Organization, Contact, Ticket, Message, TicketEvent)
    ] == counts
