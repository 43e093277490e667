"""The Django side of response targets: clocks on tickets, the sweep, the report (S-1..S-5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from supportdesk.contracts.tests.django_helpers import make_contract
from supportdesk.core.errors import InvalidInput
from supportdesk.notifications.models import OutboxMessage
from supportdesk.sla import services
from supportdesk.sla.demo import demo_extend
from supportdesk.sla.domain.policy import preset_spec
from supportdesk.sla.models import SlaPolicy, SlaTarget, TicketSla
from supportdesk.tickets import services as tickets
from supportdesk.tickets.models import Queue, TicketEvent
from tests.factories import make_ticket

NY = ZoneInfo("America/New_York")
M = timedelta(minutes=1)
H = timedelta(hours=1)


def ny(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=NY)


def target(ticket: Any, kind: str = "first_response", cycle: int = 0) -> SlaTarget:
    return SlaTarget.objects.get(ticket=ticket, kind=kind, cycle=cycle)


def sla_events(ticket: Any, kind: str) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, kind=kind))


@pytest.fixture
def enterprise(world: Any) -> Any:
    demo_extend(vendor=world.vendor, slug="enterprise", now=datetime(2026, 1, 1, tzinfo=UTC))
    return world


@pytest.fixture
def msp(world: Any) -> Any:
    demo_extend(vendor=world.vendor, slug="msp", now=datetime(2026, 1, 1, tzinfo=UTC))
    return world


# --------------------------------------------------------------------------- S-2 start
def test_clocks_start_at_creation_with_time_of_receipt_rule_S2(enterprise: Any) -> None:
    call = make_ticket(enterprise, channel="phone", priority="P2", now=ny(2026, 3, 11, 17, 30))
    t = target(call)
    assert t.state == "running" and t.started_at == ny(2026, 3, 11, 17, 30)
    assert t.due_at == ny(2026, 3, 11, 19, 30)  # callback within 2 h
    assert TicketSla.objects.get(ticket=call).rule_name == "call after 5PM"
    assert "call after 5PM" in sla_events(call, "sla_matched")[0].data["explanation"]

    mail = make_ticket(enterprise, channel="email", now=ny(2026, 3, 11, 21, 0))
    assert target(mail).due_at == ny(2026, 3, 12, 21, 0)  # email after 8PM: 24 h

    day = make_ticket(enterprise, channel="portal", now=ny(2026, 3, 11, 19, 30))
    assert target(day).due_at == ny(2026, 3, 12, 8, 30)  # 1 business hour

    weekend = make_ticket(enterprise, channel="phone", now=ny(2026, 3, 14, 10, 0))
    assert target(weekend).due_at == ny(2026, 3, 14, 12, 0)
    # The enterprise preset sets no resolution target: only first response runs.
    assert SlaTarget.objects.filter(ticket=weekend).count() == 1


def test_no_policy_means_no_clocks_and_no_block_S4(world: Any) -> None:
    ticket = make_ticket(world)
    assert not TicketSla.objects.filter(ticket=ticket).exists()
    assert not SlaTarget.objects.filter(ticket=ticket).exists()


# --------------------------------------------------------------------------- S-3
def test_status_pause_and_resume_move_the_due_instant_S3(enterprise: Any) -> None:
    w = enterprise
    staff = w.principal(w.agent)
    ticket = make_ticket(w, now=ny(2026, 3, 11, 10, 0))  # working hours: 1 business hour
    assert target(ticket).due_at == ny(2026, 3, 11, 11, 0)
    tickets.ticket_status_change(
        ticket=ticket, principal=staff, status="waiting_customer", now=ny(2026, 3, 11, 10, 20)
    )
    t = target(ticket)
    assert t.state == "paused" and t.due_at is None and t.next_deadline is None
    tickets.ticket_status_change(
        ticket=ticket, principal=staff, status="open", now=ny(2026, 3, 11, 11, 0)
    )
    t = target(ticket)
    assert t.state == "running"
    assert t.due_at == ny(2026, 3, 11, 11, 40)  # 20 min used, 40 left
    assert [e[0] for e in t.events] == ["start", "pause", "resume"]


def test_customer_reply_out_of_waiting_resumes_S3(enterprise: Any) -> None:
    w = enterprise
    ticket = make_ticket(w, now=ny(2026, 3, 11, 10, 0))
    tickets.ticket_status_change(
        ticket=ticket, principal=w.principal(w.agent), status="waiting_customer",
        now=ny(2026, 3, 11, 10, 30),
    )  # fmt: skip
    tickets.message_add(
        ticket=ticket, principal=w.principal(w.alice), body="here", now=ny(2026, 3, 11, 12, 0)
    )
    t = target(ticket)
    assert t.state == "running" and t.due_at == ny(2026, 3, 11, 12, 30)


def test_first_public_staff_reply_stops_first_response_S3(enterprise: Any) -> None:
    w = enterprise
    ticket = make_ticket(w, now=ny(2026, 3, 11, 10, 0))
    tickets.message_add(
        ticket=ticket, principal=w.principal(w.agent), body="note", kind="internal",
        now=ny(2026, 3, 11, 10, 5),
    )  # fmt: skip
    assert target(ticket).state == "running"  # an internal note is no response
    tickets.message_add(
        ticket=ticket, principal=w.principal(w.agent), body="hi", now=ny(2026, 3, 11, 10, 30)
    )
    t = target(ticket)
    assert t.state == "met" and t.met_at == ny(2026, 3, 11, 10, 30)
    assert t.next_deadline is None


def test_next_response_cycles_and_resolution_S3(msp: Any) -> None:
    w = msp
    staff, alice = w.principal(w.agent), w.principal(w.alice)
    start = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # Wed 10:00 CT
    ticket = make_ticket(w, now=start)
    assert {t.kind for t in SlaTarget.objects.filter(ticket=ticket)} == {
        "first_response",
        "resolution",
    }
    tickets.message_add(ticket=ticket, principal=alice, body="more", now=start + 10 * M)
    assert not SlaTarget.objects.filter(ticket=ticket, kind="next_response").exists()
    tickets.message_add(ticket=ticket, principal=staff, body="on it", now=start + H)
    tickets.message_add(ticket=ticket, principal=alice, body="still", now=start + 2 * H)
    nr = target(ticket, "next_response", 1)
    # 8 business hours from Wed 12:00 CT: 5 h on Wednesday, 3 h on Thursday -> 11:00 CT
    assert nr.state == "running" and nr.due_at == datetime(2026, 3, 12, 16, 0, tzinfo=UTC)
    tickets.message_add(ticket=ticket, principal=staff, body="fixed?", now=start + 3 * H)
    assert target(ticket, "next_response", 1).state == "met"
    tickets.message_add(ticket=ticket, principal=alice, body="no", now=start + 4 * H)
    assert target(ticket, "next_response", 2).state == "running"
    tickets.ticket_status_change(
        ticket=ticket, principal=staff, status="resolved", now=start + 5 * H
    )
    res = target(ticket, "resolution")
    assert res.state == "met" and res.met_at == start + 5 * H
    assert target(ticket, "next_response", 2).state == "cancelled"


def test_priority_change_rematches_from_the_change_S2(msp: Any) -> None:
    w = msp
    start = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    ticket = make_ticket(w, priority="P3", now=start)
    tickets.ticket_priority_change(
        ticket=ticket, principal=w.principal(w.agent), priority="P1", now=start + 30 * M
    )
    old = target(ticket, "first_response", 0)
    new = target(ticket, "first_response", 1)
    assert old.state == "cancelled"
    assert new.state == "running" and new.due_at == start + 30 * M + H  # emergency: 1 h 24x7
    assert TicketSla.objects.get(ticket=ticket).rule_name == "emergency"
    assert len(sla_events(ticket, "sla_rematched")) == 1


# --------------------------------------------------------------------------- rule 9
def test_policy_edit_after_start_keeps_running_clock_rule9(enterprise: Any) -> None:
    w = enterprise
    ticket = make_ticket(w, channel="phone", now=ny(2026, 3, 14, 10, 0))  # Sat: 2 h
    spec = preset_spec("enterprise")
    spec["policy"]["rules"][1]["first_response"] = {"duration": "8h"}
    spec["policy"]["pause_statuses"] = []
    services.sla_policy_save(
        vendor=w.vendor, spec=spec["policy"], is_default=True, now=ny(2026, 3, 14, 10, 5)
    )
    staff = w.principal(w.agent)
    tickets.ticket_status_change(
        ticket=ticket, principal=staff, status="waiting_customer", now=ny(2026, 3, 14, 10, 30)
    )
    tickets.ticket_status_change(
        ticket=ticket, principal=staff, status="open", now=ny(2026, 3, 14, 11, 0)
    )
    t = target(ticket)
    assert t.duration_seconds == 2 * 3600
    assert t.state == "running" and t.due_at == ny(2026, 3, 14, 12, 30)  # snapshot still pauses
    later = make_ticket(w, channel="phone", now=ny(2026, 3, 14, 10, 10))
    assert target(later).due_at == ny(2026, 3, 14, 18, 10)  # new tickets get the edit


# --------------------------------------------------------------------------- S-4 sweep
@pytest.fixture
def staffed(enterprise: Any) -> Any:
    w = enterprise
    Queue.objects.filter(pk=w.queue.pk).update(team_lead=w.architect)
    return w


def _assigned_ticket(w: Any, now: datetime) -> Any:
    ticket = make_ticket(w, channel="phone", now=now)
    tickets.ticket_assign(ticket=ticket, principal=w.principal(w.agent), assignee=w.agent, now=now)
    return ticket


def test_warning_fires_before_breach_S4(staffed: Any) -> None:
    w = staffed
    ticket = _assigned_ticket(w, ny(2026, 3, 14, 10, 0))  # due 12:00, warning at 80 % = 11:36
    t = target(ticket)
    assert t.warn_at == ny(2026, 3, 14, 11, 36) and t.next_deadline == t.warn_at
    assert services.sla_sweep(now=ny(2026, 3, 14, 11, 35))["claimed"] == 0
    counts = services.sla_sweep(now=ny(2026, 3, 14, 11, 40))
    assert counts == {"claimed": 1, "warnings": 1, "breaches": 0}
    [warning] = sla_events(ticket, "sla_warning")
    assert warning.at == ny(2026, 3, 14, 11, 36)
    assert not sla_events(ticket, "sla_breached")
    assert target(ticket).next_deadline == ny(2026, 3, 14, 12, 0)
    mails = OutboxMessage.objects.filter(ticket=ticket, idempotency_key__startswith="sla:")
    assert [m.recipient for m in mails] == [w.agent.email]  # warning: the assignee only


def test_breach_recorded_at_due_instant_then_assignee_and_team_lead_S4(staffed: Any) -> None:
    w = staffed
    ticket = _assigned_ticket(w, ny(2026, 3, 14, 10, 0))
    services.sla_sweep(now=ny(2026, 3, 14, 11, 40))
    counts = services.sla_sweep(now=ny(2026, 3, 14, 12, 7))
    assert counts["breaches"] == 1
    t = target(ticket)
    assert t.state == "breached" and t.breached_at == ny(2026, 3, 14, 12, 0)  # not sweep time
    [breach] = sla_events(ticket, "sla_breached")
    assert breach.at == ny(2026, 3, 14, 12, 0)
    assert datetime.fromisoformat(breach.data["due_at"]) == ny(2026, 3, 14, 12, 0)
    mails = OutboxMessage.objects.filter(
        ticket=ticket, idempotency_key__contains=":breach:"
    ).order_by("pk")
    assert [m.recipient for m in mails] == [w.agent.email, w.architect.email]
    # S-4: a breach never blocks work: the reply and the close still go through.
    tickets.message_add(
        ticket=ticket, principal=w.principal(w.agent), body="sorry", now=ny(2026, 3, 14, 12, 30)
    )
    t = target(ticket)
    assert t.state == "breached" and t.met_at == ny(2026, 3, 14, 12, 30)


def test_sweep_twice_does_nothing_twice_S4(staffed: Any) -> None:
    w = staffed
    ticket = _assigned_ticket(w, ny(2026, 3, 14, 10, 0))
    late = ny(2026, 3, 14, 13, 0)
    first = services.sla_sweep(now=late)
    second = services.sla_sweep(now=late)
    assert first["breaches"] == 1 and first["warnings"] == 0  # a late sweep skips the warning
    assert second == {"claimed": 0, "warnings": 0, "breaches": 0}
    assert len(sla_events(ticket, "sla_breached")) == 1
    assert OutboxMessage.objects.filter(idempotency_key__contains=":breach:").count() == 2
    call_command("sla_sweep")  # the CLI path: nothing left to fire
    assert len(sla_events(ticket, "sla_breached")) == 1


def test_reply_after_due_before_sweep_records_the_breach_S4(staffed: Any) -> None:
    w = staffed
    ticket = _assigned_ticket(w, ny(2026, 3, 14, 10, 0))
    tickets.message_add(
        ticket=ticket, principal=w.principal(w.agent), body="late", now=ny(2026, 3, 14, 12, 5)
    )
    t = target(ticket)
    assert t.state == "breached" and t.breached_at == ny(2026, 3, 14, 12, 0)
    assert len(sla_events(ticket, "sla_breached")) == 1
    assert services.sla_sweep(now=ny(2026, 3, 14, 13, 0))["claimed"] == 0


# --------------------------------------------------------------------------- S-5 report
@pytest.fixture
def reported(enterprise: Any) -> Any:
    """Acme P3 in January 2026: replies after 10, 20, 40 and 90 minutes, one unanswered."""
    w = enterprise
    staff = w.principal(w.agent)
    days = [7, 8, 9, 13, 14]  # working days, 10:00 ET: 1 business hour
    for day, minutes in zip(days, [10, 20, 40, 90, None], strict=True):
        start = ny(2026, 1, day, 10, 0)
        ticket = make_ticket(w, priority="P3", now=start)
        if minutes is not None:
            tickets.message_add(ticket=ticket, principal=staff, body="ok", now=start + minutes * M)
    make_ticket(w, w.gina, priority="P2", now=ny(2026, 1, 8, 10, 0))
    make_ticket(w, w.alice, priority="P3", now=ny(2026, 2, 3, 10, 0))
    services.sla_sweep(now=ny(2026, 1, 31, 0, 0))
    return w


def test_report_figures_S5(reported: Any, api: Any) -> None:
    w = reported
    res = api(w.agent).get("/reports/sla", month="2026-01")
    assert res.status_code == 200, res.content
    groups = res.json()["groups"]
    assert [(g["organization"]["name"], g["priority"], g["month"]) for g in groups] == [
        ("Acme", "P3", "2026-01"),
        ("Globex", "P2", "2026-01"),
    ]
    acme = groups[0]
    assert (acme["met"], acme["breached"], acme["running"]) == (3, 2, 0)
    assert acme["compliance_percent"] == 60.0
    assert acme["median_response_seconds"] == 1800.0  # of 600, 1200, 2400, 5400
    assert acme["p90_response_seconds"] == 5400.0
    assert acme["plan"] is None
    globex = groups[1]
    assert (globex["met"], globex["breached"]) == (0, 1)
    assert globex["median_response_seconds"] is None

    only = api(w.agent).get("/reports/sla", organization=w.acme.pk, priority="P3").json()
    assert [(g["month"], g["met"], g["breached"], g["running"]) for g in only["groups"]] == [
        ("2026-01", 3, 2, 0),
        ("2026-02", 0, 0, 1),
    ]


def test_report_tenancy_S5(reported: Any, api: Any) -> None:
    w = reported
    assert api(w.alice.user).get("/reports/sla").status_code == 403
    rival = api(w.rival_agent)
    assert rival.get("/reports/sla").json() == {"groups": []}
    assert rival.get("/reports/sla", organization=w.acme.pk).status_code == 404


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"month": "2026-13"}, 400),
        ({"month": "9999-12"}, 400),
        ({"month_to": "9999-12"}, 400),
        ({"month": "January"}, 400),
        ({"month_from": "2026-03", "month_to": "2026-01"}, 400),
        ({"month": "2026-01", "month_from": "2026-01"}, 400),
        ({"priority": "P9"}, 400),
        ({"target": "lunch"}, 400),
        ({"organization": "abc"}, 422),
    ],
)
def test_report_bad_query_is_4xx_S5(
    world: Any, api: Any, params: dict[str, str], status: int
) -> None:
    res = api(world.agent).get("/reports/sla", **params)
    assert res.status_code == status
    assert res.json()["detail"]


def test_console_report_and_badges_S5(reported: Any, client: Any) -> None:
    w = reported
    client.force_login(w.agent)
    page = client.get("/console/sla/", {"month": "2026-01"})
    assert page.status_code == 200
    assert b"<svg" in page.content and b"Acme" in page.content
    ticket = make_ticket(w, channel="phone", now=datetime.now(tz=UTC))
    body = client.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert "due in" in body
    unanswered = SlaTarget.objects.filter(state="breached", stopped_at__isnull=True)
    overdue = unanswered.values_list("ticket_id", flat=True)[0]
    assert "overdue" in client.get(f"/console/tickets/{overdue}/").content.decode()
    assert "due in" in client.get("/console/").content.decode()


def test_report_months_are_the_vendors_local_months_S5(enterprise: Any, api: Any) -> None:
    w = enterprise
    w.vendor.timezone = "America/New_York"
    w.vendor.save(update_fields=["timezone"])
    late = make_ticket(w, priority="P2", now=ny(2026, 1, 31, 21, 0))  # 1 Feb 02:00 UTC
    assert target(late).started_at.astimezone(UTC).month == 2
    make_ticket(w, priority="P2", now=ny(2026, 2, 1, 0, 30))  # February in New York too
    client = api(w.agent)

    def months(**params: str) -> list[tuple[str, int]]:
        groups = client.get("/reports/sla", priority="P2", **params).json()["groups"]
        return [(g["month"], g["running"] + g["breached"] + g["met"]) for g in groups]

    assert months() == [("2026-01", 1), ("2026-02", 1)]
    assert months(month="2026-01") == [("2026-01", 1)]
    assert months(month="2026-02") == [("2026-02", 1)]
    assert months(month_from="2026-02", month_to="2026-03") == [("2026-02", 1)]
    assert months(month_to="2026-01") == [("2026-01", 1)]


def test_console_nav_ticket_panel_and_live_countdown_S2_S4(enterprise: Any, client: Any) -> None:
    w = enterprise
    client.force_login(w.agent)
    ticket = make_ticket(w, channel="phone", now=datetime.now(tz=UTC))
    page = client.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert 'href="/console/sla/"' in page  # the report is one click from every console page
    sla = TicketSla.objects.get(ticket=ticket)
    assert 'id="sla"' in page and sla.rule_name in page
    assert escape(sla.explanation) in page  # the match is explained on the ticket
    due = target(ticket).due_at
    assert due is not None and f'data-sla-due="{due.isoformat()}"' in page
    assert page.count("sla/countdown.js") == 1
    listing = client.get("/console/").content.decode()
    assert listing.count("sla/countdown.js") == 1 and "data-sla-due" in listing
    assert client.get("/static/sla/countdown.js").status_code == 200


PLAN_SPEC = {
    "name": "Plan targets",
    "rules": [{"name": "any", "first_response": {"duration": "30m"}}],
}


def test_plan_policy_applies_to_requests_its_contract_covers_S2_S5(
    enterprise: Any, api: Any
) -> None:
    w = enterprise
    contract = make_contract(w.acme, "per_user")
    plan = contract.plan
    policy = services.sla_policy_save(vendor=w.vendor, spec=PLAN_SPEC, now=ny(2026, 3, 1))
    services.sla_policy_assign_plan(plan=plan, policy=policy)
    saturday = ny(2026, 3, 14, 10, 0)

    covered = make_ticket(w, w.alice, channel="phone", now=saturday)
    sla = TicketSla.objects.get(ticket=covered)
    assert (sla.policy_name, sla.plan_name) == ("Plan targets", plan.name)
    assert target(covered).due_at == saturday + 30 * M and target(covered).plan == plan.name
    uncovered = make_ticket(w, w.gina, channel="phone", now=saturday)  # Globex: no contract
    assert TicketSla.objects.get(ticket=uncovered).plan_name == ""
    assert target(uncovered).due_at == saturday + 2 * H  # the vendor's default policy

    # An organisation's own policy comes before its plan's.
    default = SlaPolicy.objects.get(vendor=w.vendor, is_default=True)
    services.sla_policy_assign(organization=w.acme, policy=default)
    own = make_ticket(w, w.alice, channel="phone", now=saturday)
    assert target(own).due_at == saturday + 2 * H
    assert TicketSla.objects.get(ticket=own).plan_name == plan.name  # still reported by plan

    groups = api(w.agent).get("/reports/sla", month="2026-03").json()["groups"]
    assert [(g["organization"]["name"], g["plan"], g["running"]) for g in groups] == [
        ("Acme", plan.name, 2),
        ("Globex", None, 1),
    ]
    only = api(w.agent).get("/reports/sla", plan=plan.name).json()["groups"]
    assert [g["organization"]["name"] for g in only] == ["Acme"]

    rival = services.sla_policy_save(vendor=w.other_vendor, spec=PLAN_SPEC, now=saturday)
    with pytest.raises(InvalidInput, match="another vendor"):
        services.sla_policy_assign_plan(plan=plan, policy=rival)
