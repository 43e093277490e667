"""Calendar subscription links (O-1), the ticket page's "Page on-call" box (O-3, O-4), the SLA
calendar as the phone line's business hours (O-2, S-1) and the customer's own DSE (E-2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import recurring_ical_events
from django.test import Client
from icalendar import Calendar

from supportdesk.contracts.services import support_assignment_set
from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput
from supportdesk.oncall.domain.escalation import enterprise_chain
from supportdesk.oncall.models import CalendarFeedToken, ChainRun, Page, PageStatus
from supportdesk.oncall.services.emergencies import ticket_page
from supportdesk.oncall.services.schedules import chain_save, config_update
from supportdesk.oncall.tests.test_api_console import phone_ticket
from supportdesk.oncall.tests.test_hooks import VENDOR_NUMBER, signed_post
from supportdesk.sla.services import sla_calendar_save
from tests.factories import PASSWORD, make_ticket

pytestmark = pytest.mark.django_db


def revoke(api, user):
    caller = api(user)
    return caller.client.delete("/api/v1/oncall/feed-token", **caller.headers)


def browser_for(user) -> Client:
    browser = Client()
    assert browser.login(username=user.email, password=PASSWORD)
    return browser


# --- calendar subscription links (O-1) --------------------------------------------------------


def test_feed_link_serves_the_calendar_without_login_and_a_wrong_token_is_404_O1(
    paging, api, client
):
    world, schedule = paging.world, paging.schedule
    created = api(world.engineer).post("/oncall/feed-token", {})
    assert created.status_code == 201, created.content
    body = created.json()
    token = body["token"]
    [feed] = body["feeds"]
    assert feed["schedule"] == schedule.pk
    assert feed["url"] == f"http://testserver/api/v1/oncall/feeds/{token}/{schedule.pk}.ics"
    # A calendar app: no session, no bearer token — the link is the credential.
    response = client.get(feed["url"].removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    now = clock.now()
    events = recurring_ical_events.of(Calendar.from_ical(response.content)).between(
        now, now + timedelta(days=1)
    )
    assert events and all(str(e["SUMMARY"]) == f"On call: {world.engineer.name}" for e in events)
    # Only the hash is stored.
    row = CalendarFeedToken.objects.get(user=world.engineer)
    assert token not in (row.digest, row.prefix) and row.prefix == token[:12]
    assert row.last_used_at is not None
    for wrong in (token[:-3] + "xyz", "nonsense", "cal_" + "A" * 43):
        assert client.get(f"/api/v1/oncall/feeds/{wrong}/{schedule.pk}.ics").status_code == 404
    assert client.get(f"/api/v1/oncall/feeds/{token}/{schedule.pk + 999}.ics").status_code == 404


def test_feed_link_is_revocable_and_a_new_one_replaces_the_old_O1(paging, api, client):
    world, schedule = paging.world, paging.schedule
    first = api(world.engineer).post("/oncall/feed-token", {}).json()["token"]
    second = api(world.engineer).post("/oncall/feed-token", {}).json()["token"]
    assert first != second
    path = "/api/v1/oncall/feeds/{}/" + f"{schedule.pk}.ics"
    assert client.get(path.format(first)).status_code == 404
    assert client.get(path.format(second)).status_code == 200
    revoked = revoke(api, world.engineer)
    assert revoked.status_code == 200 and revoked.json() == {"revoked": 1}
    assert client.get(path.format(second)).status_code == 404
    assert revoke(api, world.engineer).json() == {"revoked": 0}


def test_feed_link_never_opens_another_vendors_schedule_or_a_customers_O1(paging, api, client):
    world, schedule = paging.world, paging.schedule
    rival_token = api(world.rival_agent).post("/oncall/feed-token", {}).json()["token"]
    assert client.get(f"/api/v1/oncall/feeds/{rival_token}/{schedule.pk}.ics").status_code == 404
    refused = api(world.alice.user).post("/oncall/feed-token", {})
    assert refused.status_code == 403 and "staff" in refused.json()["detail"]
    # A staff member who leaves (deactivated) takes their link with them.
    token = api(world.engineer).post("/oncall/feed-token", {}).json()["token"]
    world.engineer.is_active = False
    world.engineer.save(update_fields=["is_active"])
    assert client.get(f"/api/v1/oncall/feeds/{token}/{schedule.pk}.ics").status_code == 404


def test_console_creates_shows_once_and_revokes_the_feed_link_O1(paging, client):
    world = paging.world
    browser = browser_for(world.engineer)
    page = browser.post("/console/oncall/calendar-link/", {"action": "create"})
    assert page.status_code == 200
    html = page.content.decode()
    row = CalendarFeedToken.objects.get(user=world.engineer, revoked_at__isnull=True)
    marker = f"/api/v1/oncall/feeds/{row.prefix}"
    start = html.index(marker)
    url = html[start : html.index('"', start)]
    assert client.get(url).status_code == 200
    again = browser.get("/console/oncall/").content.decode()
    assert marker not in again and f"{row.prefix}…" in again  # shown once, then only the prefix
    done = browser.post("/console/oncall/calendar-link/", {"action": "revoke"})
    assert done.status_code == 302
    assert client.get(url).status_code == 404
    bad = browser.post("/console/oncall/calendar-link/", {"action": "steal"})
    assert bad.status_code == 400


# --- the ticket page's on-call box (O-3, O-4) --------------------------------------------------


def test_ticket_page_pages_on_call_and_acknowledges_in_place_O3_O4(paging):
    world = paging.world
    ticket = phone_ticket(world)
    browser = browser_for(world.agent)
    html = browser.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert "Page on-call" in html and world.engineer.name in html  # who is on call now
    page_url = f"/console/oncall/tickets/{ticket.ref}/page/"
    assert f'action="{page_url}"' in html
    response = browser.post(page_url, {"reason": "whole office is down"})
    assert response.status_code == 302 and response["Location"] == f"/console/tickets/{ticket.ref}/"
    run = ChainRun.objects.get(ticket=ticket)
    html = browser.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert "Paging now" in html and "Page on-call</button>" not in html
    assert "to whoever is on call in primary" in html and "to every architect" in html
    assert "3 rounds in all" in html  # the chain's snapshot, in words
    assert f"/console/oncall/runs/{run.pk}/ack/" in html and run.ack_code in html
    assert browser.post(page_url, {"reason": "again"}).status_code == 409
    acked = browser.post(f"/console/oncall/runs/{run.pk}/ack/", {"back": "ticket"})
    assert acked["Location"] == f"/console/tickets/{ticket.ref}/"
    html = browser.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert "acknowledged</strong> by" in html and world.agent.name in html
    assert not Page.objects.filter(run=run, status=PageStatus.PLANNED).exists()


def test_ticket_page_offers_no_paging_for_email_and_refuses_it_O3(paging):
    world = paging.world
    emailed = make_ticket(world, priority="P1", channel="email", subject="Down!")
    browser = browser_for(world.agent)
    html = browser.get(f"/console/tickets/{emailed.ref}/").content.decode()
    assert "Paging is not offered: only a phone request" in html
    assert "Page on-call</button>" not in html
    refused = browser.post(f"/console/oncall/tickets/{emailed.ref}/page/", {"reason": "x"})
    assert refused.status_code == 400 and ChainRun.objects.count() == 0
    quiet = make_ticket(world, priority="P3", channel="email", subject="A question")
    assert 'id="oncall"' not in browser.get(f"/console/tickets/{quiet.ref}/").content.decode()
    rival = browser_for(world.rival_agent)
    ticket = phone_ticket(world)
    assert (
        rival.post(f"/console/oncall/tickets/{ticket.ref}/page/", {"reason": "x"}).status_code
        == 404
    )
    assert ChainRun.objects.count() == 0


# --- business hours from the SLA calendar (O-2, S-1) -------------------------------------------


def test_phone_line_follows_the_chosen_sla_calendar_O2_S1(client, paging, monkeypatch):
    """Round the clock on weekdays in UTC, with 6 January a holiday: both instants below are
    the opposite of what the line's own default hours (08-17 Chicago) would say."""
    world = paging.world
    calendar = sla_calendar_save(
        vendor=world.vendor,
        name="Line hours",
        spec={
            "timezone": "UTC",
            "weekly": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
            "holidays": ["2026-01-06"],
        },
        now=clock.now(),
    )
    config_update(vendor=world.vendor, business_calendar=calendar)

    def call(at: datetime) -> bytes:
        monkeypatch.setattr(clock, "now", lambda: at)
        params = {"CallSid": f"CA{at:%d%H}", "To": VENDOR_NUMBER}
        return signed_post(client, "/hooks/voice/incoming", params).content

    holiday_morning = datetime(2026, 1, 6, 16, 0, tzinfo=UTC)  # Tuesday 10:00 in Chicago
    assert b"<Gather" in call(holiday_morning)
    wednesday_night = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)  # Tuesday 21:00 in Chicago
    assert b"<Dial>+15125550000</Dial>" in call(wednesday_night)
    other = sla_calendar_save(
        vendor=world.other_vendor,
        name="Theirs",
        spec={"timezone": "UTC", "always_open": True},
        now=clock.now(),
    )
    with pytest.raises(InvalidInput, match="another vendor"):
        config_update(vendor=world.vendor, business_calendar=other)


# --- the customer's own Dedicated Support Engineer (E-2) ---------------------------------------


def test_enterprise_chain_pages_the_callers_own_dse_then_backup_E2(paging):
    world = paging.world
    now = clock.now()
    chain = chain_save(
        vendor=world.vendor,
        slug="enterprise-dse",
        name="DSE then backup",
        spec=enterprise_chain(backup_after_minutes=15).to_spec(),
        now=now,
    )
    config_update(vendor=world.vendor, emergency_chain=chain)
    support_assignment_set(
        principal=None, organization=world.acme, dse=world.engineer, backup=world.architect,
        now=now,
    )  # fmt: skip
    support_assignment_set(
        principal=None, organization=world.globex, dse=world.architect, backup=world.engineer,
        now=now,
    )  # fmt: skip
    acme_call = phone_ticket(world, world.alice)
    globex_call = phone_ticket(world, world.gina)
    agent = world.principal(world.agent)
    for ticket, dse, backup in (
        (acme_call, world.engineer, world.architect),
        (globex_call, world.architect, world.engineer),
    ):
        run = ticket_page(ticket=ticket, principal=agent, reason="down", now=now)
        pages = Page.objects.filter(run=run).order_by("due_at", "pk")
        first = {(p.recipient_id, p.channel) for p in pages if p.due_at == now}
        later = {
            (p.recipient_id, p.channel) for p in pages if p.due_at == now + timedelta(minutes=15)
        }
        assert first == {(dse.pk, c) for c in ("sms", "email", "voice")}
        assert later == {(backup.pk, c) for c in ("sms", "email", "voice")}
    # A customer without a DSE reaches nobody, and that is on the ticket for a human to see.
    support_call = phone_ticket(world, world.bob)
    support_call.organization.support_assignment.delete()
    run = ticket_page(ticket=support_call, principal=agent, reason="down", now=now)
    assert not Page.objects.filter(run=run).exists()
