"""On-call API, console and demo (O-1, O-3, O-4): feeds, now/next, acks, paging, tenancy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from icalendar import Calendar

from supportdesk.core import clock
from supportdesk.oncall.domain.schedule import Schedule as DomainSchedule
from supportdesk.oncall.domain.schedule import on_call
from supportdesk.oncall.models import ChainRun, Page, PageStatus
from supportdesk.oncall.services.acknowledgements import ack_token
from supportdesk.oncall.services.emergencies import ticket_page
from supportdesk.oncall.services.schedules import chain_save, schedule_save
from supportdesk.tickets import services as ticket_services
from supportdesk.tickets.models import TicketEvent
from tests.factories import NOW, PASSWORD, make_ticket

pytestmark = pytest.mark.django_db


def phone_ticket(world, contact=None):
    contact = contact or world.alice
    return ticket_services.ticket_create(
        principal=world.principal(world.agent),
        vendor=world.vendor,
        organization=contact.organization,
        requester=contact,
        subject="Server down, call me",
        body="Called in: the server is down.",
        priority="P1",
        channel="phone",
        caller_number="+12125550100",
        now=clock.now(),
    )


def rotation_schedule(paging):
    """Replace the schedule with a daily two-person rotation so now/next differ."""
    world = paging.world
    return schedule_save(
        vendor=world.vendor,
        slug="primary",
        name="Primary",
        spec={
            "layers": [
                {
                    "name": "base",
                    "rotations": [
                        {
                            "id": "daily",
                            "participants": [world.engineer.email, world.architect.email],
                            "zone": "America/Chicago",
                            "start": "2025-01-06",
                            "handoff": "09:00",
                            "shift": "daily",
                        }
                    ],
                }
            ]
        },
        now=NOW,
    )


def test_ics_feed_parsed_by_icalendar_agrees_with_on_call_O1(paging, api):
    schedule = rotation_schedule(paging)
    response = api(paging.world.agent).get(f"/oncall/schedules/{schedule.pk}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) > 90
    spec = DomainSchedule.from_spec(schedule.spec)
    now = clock.now()
    for hours in range(0, 24 * 30, 7):
        at = now + timedelta(hours=hours)
        covering = [
            str(e["X-SUPPORTDESK-PARTICIPANT"])
            for e in events
            if e.decoded("dtstart") <= at < e.decoded("dtend")
        ]
        assert covering == on_call(spec, at)
    names = {str(e["SUMMARY"]) for e in events}
    world = paging.world
    assert names == {f"On call: {world.engineer.name}", f"On call: {world.architect.name}"}


def test_schedules_feed_and_runs_are_staff_and_vendor_only_O1_tenancy(paging, api, client):
    world = paging.world
    schedule = paging.schedule
    for who in (world.rival_agent, world.alice.user):
        assert api(who).get(f"/oncall/schedules/{schedule.pk}.ics").status_code == 404
        assert api(who).get(f"/oncall/schedules/{schedule.pk}").status_code == 404
        assert api(who).get("/oncall/schedules").json() == []
    ticket = phone_ticket(world)
    run = ticket_page(
        ticket=ticket, principal=world.principal(world.agent), reason="site down", now=clock.now()
    )
    for who in (world.rival_agent, world.alice.user):
        assert api(who).get(f"/oncall/runs/{run.pk}").status_code == 404
        assert api(who).post(f"/oncall/runs/{run.pk}/ack", {}).status_code == 404
        assert api(who).post(f"/tickets/{ticket.ref}/page", {"reason": "x"}).status_code == 404
    assert client.get(f"/api/v1/oncall/schedules/{schedule.pk}.ics").status_code == 401
    run.refresh_from_db()
    assert run.acknowledged_at is None


def test_schedules_list_says_who_is_on_call_now_and_next_O1(paging, api):
    rotation_schedule(paging)
    [item] = api(paging.world.agent).get("/oncall/schedules").json()
    assert len(item["on_call_now"]) == 1 and len(item["on_call_next"]) == 1
    assert item["on_call_now"] != item["on_call_next"]
    assert item["next_change_at"] is not None and item["ics_url"].endswith(".ics")


def test_agent_pages_a_phone_ticket_from_an_identified_contact_and_acks_by_api_O3_O4(paging, api):
    world = paging.world
    ticket = phone_ticket(world)
    client = api(world.agent)
    response = client.post(f"/tickets/{ticket.ref}/page", {"reason": "customer called: all down"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reason"] == "phone" and len([p for p in body["pages"] if p["round"] == 1]) == 8
    again = client.post(f"/tickets/{ticket.ref}/page", {"reason": "again"})
    assert again.status_code == 409
    acked = client.post(f"/oncall/runs/{body['id']}/ack", {})
    assert acked.status_code == 200
    assert acked.json()["acknowledged_by"] == "Agent Smith"
    assert {p["status"] for p in acked.json()["pages"] if p["round"] > 1} == {"cancelled"}
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds.count("page_sent") == 8 and kinds[-1] == "page_acknowledged"


def test_unidentified_phone_ticket_cannot_page_O3(paging, api):
    world = paging.world
    ticket = ticket_services.ticket_create(
        principal=world.principal(world.agent),
        vendor=world.vendor,
        organization=world.acme,
        requester=None,
        subject="Unknown caller",
        body="Someone called.",
        priority="P1",
        channel="phone",
        caller_number="+13105550000",
        now=clock.now(),
    )
    response = api(world.agent).post(f"/tickets/{ticket.ref}/page", {"reason": "urgent"})
    assert response.status_code == 400 and response.json()["code"] == "unidentified_caller"


def test_run_keeps_its_chain_snapshot_when_the_chain_is_edited_rule9(paging):
    world = paging.world
    run = ticket_page(
        ticket=phone_ticket(world),
        principal=world.principal(world.agent),
        reason="down",
        now=clock.now(),
    )
    chain_save(
        vendor=world.vendor,
        slug="emergency",
        name="Emergency",
        spec={"rounds": 1, "steps": [{"notify_persons": [world.agent.email]}]},
        now=NOW,
    )
    run.refresh_from_db()
    assert run.chain["rounds"] == 3
    assert Page.objects.filter(run=run).count() == 24


def test_signed_ack_link_shows_then_acknowledges_O4(paging, client):
    world = paging.world
    run = ticket_page(
        ticket=phone_ticket(world),
        principal=world.principal(world.agent),
        reason="down",
        now=clock.now(),
    )
    token = ack_token(run=run, user=paging.architects[0])
    page = client.get(f"/hooks/oncall/ack/{token}/")
    assert page.status_code == 200 and b"Acknowledge as" in page.content
    run.refresh_from_db()
    assert run.acknowledged_at is None  # a link preview must not acknowledge
    done = client.post(f"/hooks/oncall/ack/{token}/")
    assert done.status_code == 200 and b"nobody else will be paged" in done.content
    run.refresh_from_db()
    assert run.acknowledged_via == "link" and run.acknowledged_by_id == paging.architects[0].pk
    assert client.post(f"/hooks/oncall/ack/{token[:-2]}xx/").status_code == 400


def test_console_shows_on_call_and_runs_with_an_ack_button_O4(paging):
    world = paging.world
    ticket = phone_ticket(world)
    browser = Client()
    assert browser.login(username=world.agent.email, password=PASSWORD)
    response = browser.post("/console/oncall/page/", {"ticket": ticket.ref, "reason": "down"})
    assert response.status_code == 302
    run = ChainRun.objects.get(ticket=ticket)
    page = browser.get("/console/oncall/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Primary" in html and f"/console/oncall/runs/{run.pk}/ack/" in html
    assert browser.post(f"/console/oncall/runs/{run.pk}/ack/").status_code == 302
    run.refresh_from_db()
    assert run.acknowledged_at is not None
    assert not Page.objects.filter(run=run, status=PageStatus.PLANNED).exists()
    emailed = make_ticket(world, priority="P1", channel="email")
    refused = browser.post("/console/oncall/page/", {"ticket": emailed.ref, "reason": "x"})
    assert refused.status_code == 400
    rival = Client()
    assert rival.login(username=world.rival_agent.email, password=PASSWORD)
    assert rival.post(f"/console/oncall/runs/{run.pk}/ack/").status_code == 404


def _preset_vendor(slug):
    from supportdesk.accounts.services import staff_user_create
    from supportdesk.core.models import Vendor
    from supportdesk.demo.presets import PRESETS

    preset = next(p for p in PRESETS if p["vendor"]["slug"] == slug)
    vendor = Vendor.objects.create(**preset["vendor"])
    for person in preset["staff"]:
        staff_user_create(
            email=person["email"],
            password=None,
            vendor=vendor,
            roles=person["roles"],
            display_name=person["name"],
            phone=person["phone"],
        )
    return vendor


def test_demo_presets_set_up_the_emergency_path_idempotently_O2(db):
    from supportdesk.oncall.demo import demo_extend
    from supportdesk.oncall.models import EscalationChain, OnCallConfig, Schedule
    from supportdesk.sla.demo import demo_extend as sla_demo_extend

    msp = _preset_vendor("msp")
    sla_demo_extend(vendor=msp, slug="msp", now=clock.now())  # demo.load's order
    for _ in range(2):
        demo_extend(vendor=msp, slug="msp", now=clock.now())
    config = OnCallConfig.objects.get(vendor=msp)
    assert config.emergency_chain.slug == "emergency"
    # "After hours" on the phone line is the SLA preset's business calendar (S-1).
    assert config.business_calendar.name == "CT business hours"
    assert Schedule.objects.filter(vendor=msp).count() == 1
    assert EscalationChain.objects.filter(vendor=msp).count() == 1
    schedule = Schedule.objects.get(vendor=msp)
    rotation = DomainSchedule.from_spec(schedule.spec).layers[0].rotations[0]
    assert rotation.participants == (
        "ava.architect@harbor-it.example",
        "ben.architect@harbor-it.example",
    )
    enterprise = _preset_vendor("enterprise")
    demo_extend(vendor=enterprise, slug="enterprise", now=clock.now())
    chain = EscalationChain.objects.get(vendor=enterprise)
    # The caller's own customer's DSE, then its backup (E-2), not two fixed people.
    assert [s.get("notify_account") for s in chain.spec["steps"]] == ["dse", None, "backup", None]
