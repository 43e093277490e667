"""Issue 17.5 item 8: each escalation step resolves who is on call when it falls due (as
Grafana OnCall does), on the chain snapshot the run started with (rule 9)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportdesk.accounts.services import staff_user_create
from supportdesk.oncall.domain._time import iso_utc
from supportdesk.oncall.models import ChainRun, Page, PageStatus
from supportdesk.oncall.services.paging import pages_process
from supportdesk.oncall.services.schedules import chain_save, schedule_save
from supportdesk.oncall.tests.test_hooks import voicemail
from supportdesk.tickets.models import TicketEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _override(paging, who, start, end):
    spec = {**paging.schedule.spec, "overrides": [
        {"participant": who.email, "start": iso_utc(start), "end": iso_utc(end)},
    ]}  # fmt: skip
    schedule_save(vendor=paging.world.vendor, slug="primary", name="Primary", spec=spec, now=start)


def test_override_made_during_an_emergency_is_paged_by_the_next_step_O4(client, paging):
    voicemail(client)
    run = ChainRun.objects.get()
    start = run.started_at
    stand_in = staff_user_create(
        email="standin@vendor.example", password=PASSWORD, vendor=paging.world.vendor,
        roles=["engineer"], display_name="Stand In", phone="+15125550130",
    )  # fmt: skip
    _override(paging, stand_in, start + timedelta(minutes=5), start + timedelta(hours=2))
    assert pages_process(now=start + timedelta(minutes=10))["queued"] == 8
    round2 = Page.objects.filter(run=run, round=2)
    sent = {(p.recipient_id, p.channel) for p in round2.filter(status=PageStatus.QUEUED)}
    people = {stand_in.pk, *(a.pk for a in paging.architects)}
    assert sent == {(u, c) for u in people for c in ("sms", "email")}
    # The engineer the run foresaw is no longer on call: that page is skipped, and says so.
    dropped = round2.filter(recipient=paging.on_call)
    assert {p.status for p in dropped} == {PageStatus.SKIPPED}
    skipped = TicketEvent.objects.filter(ticket=run.ticket, kind="page_skipped")
    assert {e.data["why"] for e in skipped} == {"no longer on call when the step fell due"}
    # Round 1 went out before the override: untouched.
    assert not Page.objects.filter(run=run, round=1, recipient=stand_in).exists()


def test_the_chain_snapshot_still_rules_a_run_after_the_chain_is_edited_rule9(client, paging):
    voicemail(client)
    run = ChainRun.objects.get()
    start = run.started_at
    chain_save(
        vendor=paging.world.vendor, slug="emergency", name="Emergency",
        spec={"id": "emergency", "rounds": 1, "steps": [{"notify_role": "architect"}]},
        now=start + timedelta(minutes=1),
    )  # fmt: skip
    assert pages_process(now=start + timedelta(minutes=10))["queued"] == 8  # still 3 rounds
    assert Page.objects.filter(run=run, round=2, recipient=paging.on_call).exists()


def test_a_sweep_resolves_each_step_once_and_an_acknowledged_run_never(client, paging):
    voicemail(client)
    run = ChainRun.objects.get()
    start = run.started_at
    assert pages_process(now=start + timedelta(minutes=10))["queued"] == 8
    assert pages_process(now=start + timedelta(minutes=10))["queued"] == 0
    ChainRun.objects.filter(pk=run.pk).update(acknowledged_at=start + timedelta(minutes=11))
    stand_in = staff_user_create(
        email="late@vendor.example", password=PASSWORD, vendor=paging.world.vendor,
        roles=["engineer"], phone="+15125550131",
    )  # fmt: skip
    _override(paging, stand_in, start + timedelta(minutes=12), start + timedelta(hours=2))
    pages_process(now=start + timedelta(minutes=20))
    assert not Page.objects.filter(run=run, recipient=stand_in).exists()
