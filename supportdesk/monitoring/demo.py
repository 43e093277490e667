"""Monitoring part of the phone-system preset (seed 002, N-1): an integration with a label rule,
an on-call chain for outages, and a replayed sample — an administrator email about a trunk, an
outage P1 that pages, a digest line, a lapsed customer's alert held back (E-4) and an alert
waiting for an agent to match it. Idempotent."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from supportdesk.accounts.models import User
from supportdesk.core.models import Vendor
from supportdesk.customers.models import Organization
from supportdesk.monitoring.models import Integration
from supportdesk.monitoring.services import payloads_read, payloads_replay
from supportdesk.monitoring.services_integrations import integration_create
from supportdesk.monitoring.services_mail import alerts_mail_sweep
from supportdesk.oncall.domain.escalation import emergency_chain
from supportdesk.oncall.services.schedules import (
    chain_save,
    config_for,
    config_update,
    schedule_save,
)

SAMPLE = Path(__file__).with_name("demo_sample.jsonl")


def demo_extend(*, vendor: Vendor, slug: str, now: datetime) -> None:
    if slug != "phones" or Integration.objects.filter(vendor=vendor).exists():
        return
    engineer = User.objects.get(email="tech@bluebell-phones.example")
    if config_for(vendor).emergency_chain is None:
        schedule_save(vendor=vendor, slug="engineers", name="Engineers (weekly)", now=now, spec={
            "layers": [{"name": "weekly", "rotations": [{
                "id": "engineers-weekly", "participants": [engineer.email],
                "zone": vendor.timezone, "start": "2025-01-06", "handoff": "08:00",
                "shift": "weekly"}]}]})  # fmt: skip
        chain = chain_save(
            vendor=vendor, slug="outage", name="Outage (monitoring)", now=now,
            spec=emergency_chain(schedule="engineers", role="engineer").to_spec(),
        )  # fmt: skip
        config_update(vendor=vendor, emergency_chain=chain)
    cedar = Organization.objects.get(vendor=vendor, name="Cedar Veterinary Clinic")
    integration, _ = integration_create(
        principal=None, vendor=vendor, name="Bluebell NMS", now=now,
        label_rules=[{"label": "site_id", "value": "cedar-main", "organization": cedar.pk}],
        group_wait_seconds=0,
    )  # fmt: skip
    payloads_replay(integration=integration, payloads=payloads_read(SAMPLE), now=now)
    alerts_mail_sweep(now=now)
