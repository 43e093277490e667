"""On-call runs and pages: starting a chain, sending, sweeping, falling back (O-4, O-5).

A run keeps the snapshot of its chain (house rule 9). Its pages are planned when it starts:
those due at once are handed to the outbox in the same transaction; the later ones are a
forecast. When later steps fall due, the sweep (`pages_process`) first resolves them again
from the snapshot against the schedules as they are then (`steps_resolve`, as Grafana OnCall
does): somebody put on call by an override made during the emergency is paged, somebody no
longer on call is skipped. Then it claims each due page with a conditional UPDATE — a second
worker or a duplicate task finds nothing to claim, and the outbox de-duplicates on the page's
idempotency key, so nobody is paged twice (O-5, N-2). Every page and acknowledgement writes a
TicketEvent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connections, transaction

from supportdesk.accounts.models import User
from supportdesk.contracts.models import SupportAssignment
from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput
from supportdesk.core.links import absolute_url
from supportdesk.core.phones import normalize_e164
from supportdesk.notifications.models import OutboxMessage, OutboxStatus
from supportdesk.notifications.providers import FALLBACK
from supportdesk.notifications.services import (
    OutboxDraft,
    outbox_bounce,
    outbox_deliver_one,
    outbox_enqueue_many,
)
from supportdesk.oncall.domain.escalation import EscalationChain as DomainChain
from supportdesk.oncall.domain.escalation import (
    NotifyAccountTeam,
    NotifyOnCall,
    Resolved,
    Resolver,
    chain_end,
    chain_instants,
    plan_chain,
)
from supportdesk.oncall.domain.schedule import Schedule as DomainSchedule
from supportdesk.oncall.domain.schedule import on_call
from supportdesk.oncall.domain.sms import make_page_code, to_gsm7, voicemail_page_text
from supportdesk.oncall.models import (
    ChainRun,
    EscalationChain,
    OnCallConfig,
    Page,
    PageStatus,
    RunReason,
    Schedule,
)
from supportdesk.oncall.services.acknowledgements import ack_token
from supportdesk.oncall.services.schedules import ROLE_ALIASES, _staff_by_key, config_for
from supportdesk.tickets.events import ticket_event_build, ticket_event_record, ticket_events_record
from supportdesk.tickets.models import Ticket, TicketEvent, TicketEventKind

log = logging.getLogger(__name__)


def _resolver(vendor_id: int, organization_id: int) -> Resolver:
    schedules = {
        s.slug: DomainSchedule.from_spec(s.spec)
        for s in Schedule.objects.filter(vendor_id=vendor_id)
    }
    role_cache: dict[str, list[str]] = {}

    def resolve(step: Resolved, at: datetime) -> list[str]:
        if isinstance(step, NotifyOnCall):
            schedule = schedules.get(step.schedule)
            return [p.lower() for p in on_call(schedule, at)] if schedule else []
        if isinstance(step, NotifyAccountTeam):
            team = (
                SupportAssignment.objects.select_related("dse", "backup")
                .filter(organization_id=organization_id)
                .first()
            )
            person = getattr(team, step.member, None) if team else None
            return [person.email.lower()] if person is not None else []
        role = ROLE_ALIASES.get(step.role, step.role)
        if role not in role_cache:
            role_cache[role] = [
                e.lower()
                for e in User.objects.filter(
                    vendor_id=vendor_id, is_active=True, is_staff=True, roles__role=role
                )
                .order_by("pk")
                .values_list("email", flat=True)
            ]
        return role_cache[role]

    return resolve


def _open_codes(vendor_id: int) -> set[str]:
    return set(
        ChainRun.objects.filter(vendor_id=vendor_id, acknowledged_at__isnull=True).values_list(
            "ack_code", flat=True
        )
    )


def run_start(
    *,
    ticket: Ticket,
    chain: EscalationChain,
    reason: str,
    context: Mapping[str, Any],
    now: datetime,
    started_by: User | None = None,
    dispatch: bool = True,
) -> ChainRun:
    """Start `chain` for `ticket`: snapshot it, plan every page, hand the due ones to the outbox.

    Runs in the caller's transaction (it must be inside one).
    """
    if chain.vendor_id != ticket.vendor_id:
        raise InvalidInput("the chain belongs to another vendor")
    spec = DomainChain.from_spec(chain.spec)
    run = ChainRun.objects.create(
        next_step_at=_next_instant(spec, now, after=now),
        vendor_id=ticket.vendor_id,
        ticket=ticket,
        chain=chain.spec,
        chain_name=chain.name,
        reason=reason,
        context=dict(context),
        ack_code=make_page_code(
            f"ticket:{ticket.pk}:{now.isoformat()}", taken=_open_codes(ticket.vendor_id)
        ),
        started_at=now,
        ends_at=chain_end(spec, now),
        started_by=started_by,
    )
    resolve = _resolver(run.vendor_id, ticket.organization_id)
    plan = plan_chain(spec, run_id=f"run{run.pk}", started_at=now, resolve=resolve)
    staff = _staff_by_key(run.vendor_id)
    pages = [
        Page(
            run=run,
            recipient=staff[p.recipient.lower()],
            channel=p.channel.value,
            step_index=p.step_index,
            round=p.round,
            due_at=p.due_at,
            idempotency_key=p.idempotency_key,
            # Pages due now are claimed as they are written (the sweep's claim, in bulk).
            **(
                {"status": PageStatus.QUEUED, "queued_at": now}
                if dispatch and p.due_at <= now
                else {}
            ),
        )
        for p in plan
        if p.recipient.lower() in staff
    ]
    Page.objects.bulk_create(pages)
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.ONCALL_STARTED,
        at=now,
        actor_id=started_by.pk if started_by else None,
        data={
            "run": run.pk,
            "chain": chain.name,
            "reason": reason,
            "pages_planned": len(pages),
            "people": sorted({p.recipient.name for p in pages}),
        },
    )
    if not pages:
        log.warning("on-call run %s of ticket %s reaches nobody", run.pk, ticket.pk)
    if dispatch:
        due = [p for p in pages if p.status == PageStatus.QUEUED]
        outbox_ids = _pages_dispatch(due, run=run, ticket=ticket, now=now)
        if outbox_ids and settings.ONCALL_SEND_ON_COMMIT:
            # robust: the pages are saved and their outbox rows queued; a failure here only
            # loses the head start (logged), never the emergency's webhook answer.
            transaction.on_commit(lambda: _deliver_soon(outbox_ids), robust=True)
    return run


_SENDER_POOL: ThreadPoolExecutor | None = None


def _deliver_soon(outbox_ids: list[int]) -> None:
    """Step 0 goes out right after commit, without waiting for a worker to poll.

    One pool thread per run sends its pages one after another: on SQLite every claim and
    every "sent" mark takes the single write lock, and a dozen threads per emergency fighting
    for it (each backing off up to 100 ms per try) made the slowest emergencies wait seconds.
    Each row is still claimed by the outbox's conditional UPDATE, so the queued delivery task
    that follows finds nothing to do; if this process dies mid-send the outbox retries the row.
    """
    global _SENDER_POOL
    if _SENDER_POOL is None:
        _SENDER_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="oncall-send")
    _SENDER_POOL.submit(_deliver_all, outbox_ids)


def immediate_sends_finish() -> None:
    """Wait for the pages being sent right after commit (`_deliver_soon`) and stop their
    threads. A process about to fork (the demo, loaded before it starts its web server)
    calls it first: a child forked while one of those threads is inside SQLite inherits the
    library's locks held by a thread it does not have, and hangs on its first connection."""
    global _SENDER_POOL
    pool, _SENDER_POOL = _SENDER_POOL, None
    if pool is not None:
        pool.shutdown(wait=True)


def _deliver_all(outbox_ids: list[int]) -> None:
    try:
        for outbox_id in outbox_ids:
            try:
                outbox_deliver_one(outbox_id=outbox_id, now=clock.now())
            except Exception:  # the outbox sweep retries the row; never crash the pool
                log.exception("immediate delivery of outbox row %s failed", outbox_id)
    finally:
        connections.close_all()


def _address(page: Page, config: OnCallConfig) -> str:
    user = page.recipient
    if page.channel == "email":
        return user.email
    try:
        number = normalize_e164(user.phone, region=config.vendor.country)
    except InvalidInput:
        return ""
    if page.channel == "sms_email":
        domain = config.sms_gateway_domain
        return f"{number.lstrip('+')}@{domain}" if domain else ""
    return number


def _compose(page: Page, run: ChainRun, ticket: Ticket) -> tuple[str, str]:
    """(subject, body) of `page`; SMS-like channels get the short text."""
    ctx = run.context
    ack_link = absolute_url(f"/hooks/oncall/ack/{ack_token(run=run, user=page.recipient)}/")
    if run.reason == RunReason.VOICEMAIL:
        recording = ctx.get("recording_url") or ""
        text = voicemail_page_text(
            caller_number=ctx.get("caller_number") or None,
            organisation=ctx.get("organisation") or None,
            recording_url=recording,
            transcript=ctx.get("transcript") or None,
            ack_code=run.ack_code,
            received_at=run.started_at,
            tz=run.context.get("timezone") or "UTC",
            ticket_ref=f"#{ticket.pk}",
        )
        if page.channel != "email":
            return "", text.sms
        return text.email_subject, f"{text.email_body}\nAcknowledge now: {ack_link}\n"
    who = ctx.get("organisation") or "a customer"
    if run.reason == RunReason.MONITORING:
        sms = to_gsm7(
            f"OUTAGE #{ticket.pk}: {who}: {ticket.subject}. "
            f"Reply ACK {run.ack_code} to acknowledge."
        )[:320]
        if page.channel != "email":
            return "", sms
        body = f"Monitoring reports a total outage at {who}.\n\n" + _ticket_and_how_to_acknowledge(
            run, ticket, ctx, ack_link
        )
        return f"OUTAGE #{ticket.pk}: {who}", body
    caller = ctx.get("caller_number") or "no number"
    sms = to_gsm7(
        f"EMERGENCY #{ticket.pk}: {who} ({caller}) asked for escalation by phone: "
        f"{ticket.subject}. Reply ACK {run.ack_code} to acknowledge."
    )[:320]
    if page.channel != "email":
        return "", sms
    body = (
        f"{who} ({caller}) asked for an emergency escalation by phone.\n\n"
        + _ticket_and_how_to_acknowledge(run, ticket, ctx, ack_link)
    )
    return f"EMERGENCY #{ticket.pk}: escalation from {who}", body


def _ticket_and_how_to_acknowledge(
    run: ChainRun, ticket: Ticket, ctx: dict[str, Any], ack_link: str
) -> str:
    """The end every page email shares: the ticket, the reason, and how to acknowledge."""
    return (
        f"Ticket: #{ticket.pk} {ticket.subject}\nReason: {ctx.get('reason', '')}\n\n"
        f"To acknowledge, reply ACK {run.ack_code} to the page SMS, or open: {ack_link}\n"
        "Acknowledging stops the escalation for everybody.\n"
    )


def _pages_dispatch(
    pages: list[Page], *, run: ChainRun, ticket: Ticket, now: datetime
) -> list[int]:
    """Hand claimed pages of `run` to the outbox (each row's key is its page's) and log them
    on the ticket; returns the ids of the new outbox rows.

    A fixed handful of queries whatever the number of pages: the emergency's first round
    (12 pages) is written inside the webhook's transaction, and on SQLite every query there
    holds the one write lock that the senders and the worker wait for."""
    config = config_for(ticket.vendor)
    sender = ticket.vendor.support_email
    drafts: list[OutboxDraft] = []
    handed: list[Page] = []
    events: list[TicketEvent] = []
    skipped: list[int] = []
    for page in pages:
        page.run = run
        address = _address(page, config)
        if not address:
            skipped.append(page.pk)
            events.append(
                ticket_event_build(
                    ticket_id=ticket.pk, kind=TicketEventKind.PAGE_SKIPPED, at=now, data={
                        "run": run.pk, "page": page.pk, "channel": page.channel,
                        "to": page.recipient.name, "why": "no address for this channel",
                    },
                )
            )  # fmt: skip
            continue
        subject, body = _compose(page, run, ticket)
        drafts.append(
            OutboxDraft(
                key=page.idempotency_key,
                channel=page.channel,
                recipient=address,
                subject=subject,
                body=body,
                sender=sender if page.channel in ("email", "sms_email") else "",
                headers={"Auto-Submitted": "auto-generated"} if page.channel == "email" else {},
                ticket_id=ticket.pk,
                vendor_id=ticket.vendor_id,
            )
        )
        handed.append(page)
        events.append(
            ticket_event_build(
                ticket_id=ticket.pk, kind=TicketEventKind.PAGE_SENT, at=now, data={
                    "run": run.pk, "page": page.pk, "channel": page.channel,
                    "to": page.recipient.name, "round": page.round, "step": page.step_index,
                },
            )
        )  # fmt: skip
    if skipped:
        Page.objects.filter(pk__in=skipped).update(status=PageStatus.SKIPPED)
    new_ids = outbox_enqueue_many(drafts=drafts, now=now)
    if handed:
        rows = dict(
            OutboxMessage.objects.filter(
                idempotency_key__in=[p.idempotency_key for p in handed]
            ).values_list("idempotency_key", "pk")
        )
        for page in handed:
            page.outbox_id = rows[page.idempotency_key]
        Page.objects.bulk_update(handed, ["outbox"])
    ticket_events_record(events=events)
    return new_ids


def page_send(*, page_id: int, now: datetime) -> str:
    """Send one due page. The conditional UPDATE is the claim: only one caller ever wins."""
    with transaction.atomic():
        claimed = Page.objects.filter(
            pk=page_id, status=PageStatus.PLANNED, due_at__lte=now
        ).update(status=PageStatus.QUEUED, queued_at=now)
        if not claimed:
            return "skipped"
        page = Page.objects.select_related("run__ticket__vendor", "recipient").get(pk=page_id)
        run = page.run
        if run.acknowledged_at is not None:
            Page.objects.filter(pk=page_id).update(status=PageStatus.CANCELLED)
            return "cancelled"
        _pages_dispatch([page], run=run, ticket=run.ticket, now=now)
        return "queued"


def pages_fallback(*, now: datetime, limit: int = 200) -> int:
    """Pages whose outbox row failed for good (or bounced) fall back to the next channel."""
    failed = list(
        Page.objects.filter(
            status=PageStatus.QUEUED,
            outbox__status__in=[OutboxStatus.FAILED, OutboxStatus.BOUNCED],
        ).values_list("pk", flat=True)[:limit]
    )
    done = 0
    for page_id in failed:
        with transaction.atomic():
            if not Page.objects.filter(pk=page_id, status=PageStatus.QUEUED).update(
                status=PageStatus.FAILED
            ):
                continue
            page = Page.objects.select_related("run__ticket__vendor", "recipient", "outbox").get(
                pk=page_id
            )
            run = page.run
            nxt = FALLBACK.get(page.channel)
            ticket_event_record(
                ticket_id=run.ticket_id,
                kind=TicketEventKind.PAGE_FAILED,
                at=now,
                data={
                    "run": run.pk,
                    "page": page.pk,
                    "channel": page.channel,
                    "to": page.recipient.name,
                    "fallback": nxt or "",
                    "error": (page.outbox.last_error if page.outbox else "")[:300],
                },
            )
            done += 1
            if nxt is None or run.acknowledged_at is not None:
                continue
            fallback, created = Page.objects.get_or_create(
                idempotency_key=f"{page.idempotency_key}:fallback:{nxt}",
                defaults={
                    "run": run, "recipient": page.recipient, "channel": nxt,
                    "step_index": page.step_index, "round": page.round, "due_at": now,
                    "fallback_of": page, "status": PageStatus.QUEUED, "queued_at": now,
                },
            )  # fmt: skip
            if created:
                _pages_dispatch([fallback], run=run, ticket=run.ticket, now=now)
    return done


def _next_instant(spec: DomainChain, started_at: datetime, *, after: datetime) -> datetime | None:
    return next((t for t in chain_instants(spec, started_at) if t > after), None)


def steps_resolve(*, now: datetime, limit: int = 200) -> int:
    """Resolve the recipients of every run's steps that fell due by `now`; returns the runs.

    Each run is claimed by moving its `next_step_at` on with a conditional UPDATE, so one
    sweeper resolves each instant once. The chain is the run's snapshot; who is on call is
    read now, at the step's instant: missing pages are planned (and sent by the sweep that
    follows), foreseen pages for people no longer meant are skipped with an event.
    """
    due = list(
        ChainRun.objects.filter(next_step_at__lte=now, acknowledged_at__isnull=True)
        .order_by("next_step_at")
        .values_list("pk", "next_step_at")[:limit]
    )
    done = 0
    for run_id, claimed in due:
        with transaction.atomic():
            run = ChainRun.objects.select_related("ticket").get(pk=run_id)
            spec = DomainChain.from_spec(run.chain)
            if not ChainRun.objects.filter(
                pk=run_id, next_step_at=claimed, acknowledged_at__isnull=True
            ).update(next_step_at=_next_instant(spec, run.started_at, after=now)):
                continue
            for at in chain_instants(spec, run.started_at):
                if claimed <= at <= now:
                    _resolve_instant(run, spec, at, now)
            done += 1
    return done


def _resolve_instant(run: ChainRun, spec: DomainChain, at: datetime, now: datetime) -> None:
    resolve = _resolver(run.vendor_id, run.ticket.organization_id)
    plan = plan_chain(
        spec, run_id=f"run{run.pk}", started_at=run.started_at, resolve=resolve, only_at=at
    )
    staff = _staff_by_key(run.vendor_id)
    fresh = [p for p in plan if p.recipient.lower() in staff]
    keys = {p.idempotency_key for p in fresh}
    stale = list(
        Page.objects.filter(run=run, due_at=at, status=PageStatus.PLANNED, fallback_of=None)
        .exclude(idempotency_key__in=keys)
        .select_related("recipient")
    )
    if stale:
        Page.objects.filter(pk__in=[p.pk for p in stale]).update(status=PageStatus.SKIPPED)
        ticket_events_record(
            events=[
                ticket_event_build(
                    ticket_id=run.ticket_id,
                    kind=TicketEventKind.PAGE_SKIPPED,
                    at=now,
                    data={
                        "run": run.pk,
                        "page": p.pk,
                        "channel": p.channel,
                        "to": p.recipient.name,
                        "why": "no longer on call when the step fell due",
                    },
                )
                for p in stale
            ]
        )
    Page.objects.bulk_create(
        [
            Page(
                run=run,
                recipient=staff[p.recipient.lower()],
                channel=p.channel.value,
                step_index=p.step_index,
                round=p.round,
                due_at=p.due_at,
                idempotency_key=p.idempotency_key,
            )
            for p in fresh
        ],
        ignore_conflicts=True,  # the foreseen pages are there already
    )


def pages_process(*, now: datetime, limit: int = 500) -> dict[str, int]:
    """The periodic sweep: resolve the steps that fell due, send every due page, then fall
    back from failed ones."""
    steps_resolve(now=now)
    due = list(
        Page.objects.filter(status=PageStatus.PLANNED, due_at__lte=now)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts = {"queued": 0, "cancelled": 0, "skipped": 0}
    for page_id in due:
        counts[page_send(page_id=page_id, now=now)] += 1
    counts["fallback"] = pages_fallback(now=now)
    return counts


def delivery_status_update(
    *, message_sid: str, status: str, error_code: str, now: datetime, vendor_id: int | None = None
) -> bool:
    """The provider's status callback: record it; a failed delivery marks the outbox row
    bounced, which makes the sweep fall back to the next channel. `vendor_id`: the callback
    was signed with that vendor's own account, so it may only touch that vendor's rows."""
    rows = OutboxMessage.objects.filter(provider_message_id=message_sid)
    if vendor_id is not None:
        rows = rows.filter(vendor_id=vendor_id)
    row = rows.first()
    if row is None or not message_sid:
        return False
    status = (status or "").strip().lower()[:20]
    Page.objects.filter(outbox=row).update(delivery_status=status)
    if status in ("failed", "undelivered"):
        reason = f"provider reported {status}" + (f" (error {error_code})" if error_code else "")
        outbox_bounce(outbox_id=row.pk, reason=reason, only_if_sent=True)
    return True
