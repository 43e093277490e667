"""The demo presets' phone lines say what the seeds say (issue 15.7, O-2, seed 000, seed 001):
in hours a caller is put through to the helpdesk's own line (never the number dialled); at
night the emergency menu answers, and a voicemail pages the engineer on call."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supportdesk.core import clock
from supportdesk.notifications.models import OutboxMessage
from supportdesk.oncall.demo import HELPDESK_LINES
from supportdesk.oncall.demo import demo_extend as oncall_demo_extend
from supportdesk.oncall.models import ChainRun
from supportdesk.oncall.tests.test_api_console import _preset_vendor
from supportdesk.oncall.tests.test_hooks import signed_post
from supportdesk.sla.demo import demo_extend as sla_demo_extend

pytestmark = pytest.mark.django_db
TUESDAY_NIGHT = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)  # 03:00 in New York, 02:00 in Houston
TUESDAY_NOON = datetime(2026, 1, 6, 17, 0, tzinfo=UTC)  # 12:00 in New York, 11:00 in Houston


def _line(slug: str):
    vendor = _preset_vendor(slug)
    sla_demo_extend(vendor=vendor, slug=slug, now=TUESDAY_NOON)  # demo.load's order
    oncall_demo_extend(vendor=vendor, slug=slug, now=TUESDAY_NOON)
    return vendor


@pytest.mark.parametrize("slug", ["enterprise", "msp"])
def test_demo_line_puts_through_in_hours_and_offers_the_emergency_menu_at_night_O2(
    client, provider, monkeypatch, slug
):
    vendor = _line(slug)
    dialled = vendor.support_phone
    monkeypatch.setattr(clock, "now", lambda: TUESDAY_NOON)
    noon = signed_post(client, "/hooks/voice/incoming", {"CallSid": "CA1", "To": dialled})
    assert f"<Dial>{HELPDESK_LINES[slug]}</Dial>".encode() in noon.content
    assert f"<Dial>{dialled}</Dial>".encode() not in noon.content  # never back to the caller's line
    monkeypatch.setattr(clock, "now", lambda: TUESDAY_NIGHT)
    night = signed_post(client, "/hooks/voice/incoming", {"CallSid": "CA2", "To": dialled})
    assert b"press 5" in night.content and b"<Dial>" not in night.content


def test_demo_msp_night_voicemail_pages_the_architect_on_call_O2_seed001(
    client, provider, monkeypatch
):
    vendor = _line("msp")
    monkeypatch.setattr(clock, "now", lambda: TUESDAY_NIGHT)
    response = signed_post(
        client,
        "/hooks/voice/voicemail",
        {"CallSid": "CA3", "From": "+17135550301", "To": vendor.support_phone,
         "RecordingUrl": "https://pbx.example/r/1", "RecordingDuration": "9"},
    )  # fmt: skip
    assert response.status_code == 200
    run = ChainRun.objects.get(vendor=vendor)
    first = {p.recipient.email for p in run.pages.filter(round=1)}
    assert first == {"ava.architect@harbor-it.example", "ben.architect@harbor-it.example"}
    assert OutboxMessage.objects.filter(channel="sms").count() == 2
