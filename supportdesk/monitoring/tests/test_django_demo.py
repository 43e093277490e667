"""The phone preset shows monitoring working (N-1, seed 002): an administrator email, an outage
P1 that pages, a digest waiting, a lapsed customer held back (E-4), an alert waiting for an
agent; loading twice adds nothing."""

from __future__ import annotations

from typing import Any

import pytest

from supportdesk.core.models import Vendor
from supportdesk.demo.load import demo_load
from supportdesk.monitoring.models import Alert, Integration
from supportdesk.notifications.models import OutboxMessage
from supportdesk.oncall.models import ChainRun
from supportdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_phone_preset_ships_monitoring_that_mails_and_pages_N1(settings: Any, tmp_path: Any):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ONCALL_SEND_ON_COMMIT = False
    demo_load()
    phones = Vendor.objects.get(slug="phones")
    alerts = {a.summary: a for a in Alert.objects.filter(vendor=phones)}
    assert alerts["SIP trunk 1 latency above 150 ms"].organization.name == (
        "Cedar Veterinary Clinic"
    )  # matched by the integration's label rule
    admin_mail = OutboxMessage.objects.filter(vendor=phones, recipient="kim@cedarvet.example")
    assert admin_mail.filter(body__contains="SIP trunk 1 latency above 150 ms").exists()
    [p1] = Ticket.objects.filter(vendor=phones, channel="monitoring")
    assert p1.priority == "P1" and p1.organization.name == "Cedar Veterinary Clinic"
    assert ChainRun.objects.filter(ticket=p1, reason="monitoring").count() == 1
    assert alerts["Firmware 8.0.2 available for 7 handsets"].mail_state == "digest"
    assert "E-4" in alerts["Voicemail storage 95% full"].suppressed
    assert alerts["Handset offline at an unknown site"].organization is None
    demo_load()
    assert Integration.objects.filter(vendor=phones).count() == 1
    assert Alert.objects.filter(vendor=phones).count() == len(alerts)
