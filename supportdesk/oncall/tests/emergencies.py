"""Emergencies waiting to be paged, for runs across processes: the two-worker race test
(test_workers_race.py) and bench/scaleout.py seed them the same way."""

from __future__ import annotations

from django.db import transaction

from supportdesk.accounts.services import staff_user_create
from supportdesk.core import clock
from supportdesk.core.models import Vendor
from supportdesk.customers.services import contact_create, organization_create
from supportdesk.oncall.domain.escalation import emergency_chain
from supportdesk.oncall.services.paging import run_start
from supportdesk.oncall.services.schedules import chain_save, schedule_save
from supportdesk.tickets.models import Queue
from supportdesk.tickets.services import ticket_create


def seed_emergencies(*, count: int, slug: str) -> None:
    """A vendor ``slug`` with one on-call engineer, five architects and the emergency chain
    (O-4), and ``count`` voicemail P1 tickets whose escalation runs are started but not yet
    dispatched, so a worker's sweep sends their pages."""
    now = clock.now()
    domain = f"{slug}.example"
    vendor = Vendor.objects.create(name=slug.title(), slug=slug, support_email=f"s@{domain}")
    Queue.objects.create(vendor=vendor, name="Support", is_default=True)
    oncall = staff_user_create(
        email=f"oncall@{domain}",
        password=None,
        vendor=vendor,
        roles=["engineer"],
        phone="+15125550200",
    )
    for i in range(5):
        staff_user_create(
            email=f"a{i}@{domain}",
            password=None,
            vendor=vendor,
            roles=["architect"],
            phone=f"+1512555021{i}",
        )
    rotation = {
        "id": "w",
        "participants": [oncall.email],
        "zone": "UTC",
        "start": "2025-01-06",
        "handoff": "09:00",
        "shift": "weekly",
    }
    schedule_save(
        vendor=vendor,
        slug="p",
        name="P",
        now=now,
        spec={"layers": [{"name": "b", "rotations": [rotation]}]},
    )
    chain = chain_save(
        vendor=vendor,
        slug="e",
        name="E",
        now=now,
        spec=emergency_chain(schedule="p", role="architect").to_spec(),
    )
    org = organization_create(vendor=vendor, name="Customer")
    contact = contact_create(
        organization=org, name="C", emails=["c@customer.example"], phones=["+12125550300"]
    )
    for n in range(count):
        with transaction.atomic():
            ticket = ticket_create(
                principal=None,
                vendor=vendor,
                organization=org,
                requester=contact,
                subject=f"Emergency {n}",
                body="down",
                priority="P1",
                channel="voicemail",
                caller_number="+12125550300",
                now=now,
            )
            run_start(
                ticket=ticket,
                chain=chain,
                reason="voicemail",
                now=now,
                dispatch=False,
                context={
                    "caller_number": "+12125550300",
                    "organisation": "Customer",
                    "recording_url": "https://rec.example/r",
                    "transcript": "",
                },
            )
