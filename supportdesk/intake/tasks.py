"""Thin tasks: resume stored-but-unapplied mail (T-5) and retry one failed message."""

from __future__ import annotations

from django_tasks import task

from supportdesk.core import clock
from supportdesk.intake import services
from supportdesk.intake.batch import email_process_pending_many
from supportdesk.intake.models import InboundEmail


@task()
def intake_process_pending() -> int:
    return email_process_pending_many(now=clock.now())


@task()
def intake_retry(inbound_id: int) -> str:
    row = InboundEmail.objects.filter(pk=inbound_id).first()
    if row is None:
        return "missing"
    return services.email_retry(inbound=row, now=clock.now()).state
