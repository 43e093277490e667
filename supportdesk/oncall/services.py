"""Every write of the on-call app: set-up, emergencies, pages, acknowledgements (O-1 … O-5).

Pages are rows planned when a run starts (the plan is the snapshot, house rule 9). Those due
at once are handed to the outbox in the same transaction; later ones are sent by the periodic
sweep (`pages_process`), which claims each row with a conditional UPDATE — a second worker or a
duplicate task finds nothing to claim, and the outbox de-duplicates on the page's idempotency
key, so nobody is paged twice (O-5, N-2). Every page and acknowledgement writes a TicketEvent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connections, transaction
from django.db.models import Q

from supportdesk.accounts.models import Role, User
from supportdesk.contracts.models import SupportAssignment
from supportdesk.core import clock
from supportdesk.core.errors import Conflict, Forbidden, InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.phones import normalize_e164
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import Organization
from supportdesk.customers.selectors import contact_find_by_phone
from supportdesk.notifications.models import OutboxMessage, OutboxStatus
from supportdesk.notifications.services import (
    OutboxDraft,
    outbox_deliver_one,
    outbox_enqueue_many,
)
from supportdesk.oncall.domain.escalation import EscalationChain as DomainChain
from supportdesk.oncall.domain.escalation import (
    NotifyAccountTeam,
    NotifyOnCall,
    NotifyPersons,
    NotifyRole,
    Resolved,
    Resolver,
    chain_end,
    plan_chain,
)
from supportdesk.oncall.domain.schedule import Schedule as DomainSchedule
from supportdesk.oncall.domain.schedule import on_call, participants
from supportdesk.oncall.domain.sms import make_page_code, parse_ack, to_gsm7, voicemail_page_text
from supportdesk.oncall.models import (
    ChainRun,
    EscalationChain,
    OnCallConfig,
    Page,
    PageStatus,
    RunReason,
    Schedule,
    Voicemail,
)
from supportdesk.oncall.providers import FALLBACK
from supportdesk.oncall.selectors import page_refusal
from supportdesk.sla.domain.calendar import BusinessCalendar
from supportdesk.sla.models import Calendar
from supportdesk.tickets.models import Channel, Priority, Ticket, TicketEvent
from supportdesk.tickets.services import ticket_create

log = logging.getLogger(__name__)

# Chain specs may name the domain's generic role; staff roles are accounts.Role values.
ROLE_ALIASES = {"system_architect": Role.ARCHITECT.value}
UNIDENTIFIED_ORG_NAME = "Unidentified callers"
ACK_SALT = "supportdesk.oncall.ack"
ACK_MAX_AGE = 7 * 24 * 3600
DEFAULT_BUSINESS_HOURS = {
    "weekly": {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
}


def _event(
    ticket_id: int, kind: str, now: datetime, actor_id: int | None = None, **data: Any
) -> None:
    TicketEvent.objects.create(ticket_id=ticket_id, kind=kind, at=now, actor_id=actor_id, data=data)


def _require_staff_of(principal: Principal, vendor_id: int) -> None:
    if not principal.is_staff:
        raise Forbidden("only staff may do this")
    if not principal.is_superuser and principal.vendor_id != vendor_id:
        raise Forbidden("this belongs to another vendor")


# ---------------------------------------------------------------------------------------------
# Set-up: configuration, schedules, chains
# ---------------------------------------------------------------------------------------------


def config_for(vendor: Vendor) -> OnCallConfig:
    config, _ = OnCallConfig.objects.get_or_create(vendor=vendor)
    return config


def business_calendar(config: OnCallConfig) -> BusinessCalendar:
    """The phone line's business hours: the chosen SLA calendar (S-1) — the same working
    hours and holidays the response targets run on — else the config's own hours."""
    if config.business_calendar is not None:
        return config.business_calendar.calendar()
    spec = dict(config.business_hours or DEFAULT_BUSINESS_HOURS)
    spec.setdefault("timezone", config.vendor.timezone)
    return BusinessCalendar.from_spec(spec)


@transaction.atomic
def config_update(
    *,
    vendor: Vendor,
    business_calendar: Calendar | None = None,
    business_hours: Mapping[str, Any] | None = None,
    helpdesk_number: str | None = None,
    inbound_numbers: Iterable[str] | None = None,
    emergency_chain: EscalationChain | None = None,
    sms_gateway_domain: str | None = None,
) -> OnCallConfig:
    config = OnCallConfig.objects.select_for_update().get(pk=config_for(vendor).pk)
    cc = vendor.default_country_code
    if business_calendar is not None:
        if business_calendar.vendor_id != vendor.pk:
            raise InvalidInput("the business calendar belongs to another vendor")
        config.business_calendar = business_calendar
    if business_hours is not None:
        spec = dict(business_hours)
        spec.setdefault("timezone", vendor.timezone)
        try:
            BusinessCalendar.from_spec(spec)
        except ValueError as exc:
            raise InvalidInput(f"business hours: {exc}") from None
        config.business_hours = spec
    if helpdesk_number is not None:
        config.helpdesk_number = (
            normalize_e164(helpdesk_number, default_country_code=cc) if helpdesk_number else ""
        )
    if inbound_numbers is not None:
        numbers = [normalize_e164(n, default_country_code=cc) for n in inbound_numbers if n]
        config.inbound_numbers = "\n".join(numbers)
    if emergency_chain is not None:
        if emergency_chain.vendor_id != vendor.pk:
            raise InvalidInput("the emergency chain belongs to another vendor")
        config.emergency_chain = emergency_chain
    if sms_gateway_domain is not None:
        config.sms_gateway_domain = sms_gateway_domain.strip().lstrip("@").lower()
    config.save()
    return config


def _staff_by_key(vendor_id: int) -> dict[str, User]:
    users = User.objects.filter(vendor_id=vendor_id, is_staff=True, is_active=True)
    return {u.email.lower(): u for u in users}


@transaction.atomic
def schedule_save(
    *, vendor: Vendor, slug: str, name: str, spec: Mapping[str, Any], now: datetime
) -> Schedule:
    """Create or replace the schedule `slug` (O-1). Participants are staff emails."""
    data = dict(spec)
    data["id"] = slug
    data.setdefault("name", name)
    try:
        schedule = DomainSchedule.from_spec(data)
    except ValueError as exc:
        raise InvalidInput(f"schedule: {exc}") from None
    staff = _staff_by_key(vendor.pk)
    unknown = [p for p in participants(schedule) if p.lower() not in staff]
    if unknown:
        raise InvalidInput(f"schedule: not staff of {vendor.name}: {', '.join(unknown)}")
    row, _ = Schedule.objects.update_or_create(
        vendor=vendor,
        slug=slug,
        defaults={"name": name, "spec": schedule.to_spec(), "updated_at": now},
        create_defaults={
            "name": name, "spec": schedule.to_spec(), "created_at": now, "updated_at": now
        },
    )  # fmt: skip
    return row


@transaction.atomic
def chain_save(
    *, vendor: Vendor, slug: str, name: str, spec: Mapping[str, Any], now: datetime
) -> EscalationChain:
    """Create or replace the escalation chain `slug` (O-4), checking what its steps name."""
    data = dict(spec)
    data["id"] = slug
    data.setdefault("name", name)
    try:
        chain = DomainChain.from_spec(data)
    except ValueError as exc:
        raise InvalidInput(f"chain: {exc}") from None
    staff = _staff_by_key(vendor.pk)
    schedules = set(Schedule.objects.filter(vendor=vendor).values_list("slug", flat=True))
    for i, step in enumerate(chain.steps):
        if isinstance(step, NotifyOnCall) and step.schedule not in schedules:
            raise InvalidInput(f"chain: steps[{i}]: no schedule {step.schedule!r}")
        if (
            isinstance(step, NotifyRole)
            and ROLE_ALIASES.get(step.role, step.role) not in Role.values
        ):
            raise InvalidInput(f"chain: steps[{i}]: unknown role {step.role!r}")
        if isinstance(step, NotifyPersons):
            unknown = [p for p in step.persons if p.lower() not in staff]
            if unknown:
                raise InvalidInput(f"chain: steps[{i}]: not staff: {', '.join(unknown)}")
    row, _ = EscalationChain.objects.update_or_create(
        vendor=vendor,
        slug=slug,
        defaults={"name": name, "spec": chain.to_spec(), "updated_at": now},
        create_defaults={
            "name": name,
            "spec": chain.to_spec(),
            "created_at": now,
            "updated_at": now,
        },
    )
    return row


# ---------------------------------------------------------------------------------------------
# Runs and pages
# ---------------------------------------------------------------------------------------------


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
    _event(
        ticket.pk, "oncall_started", now, started_by.pk if started_by else None,
        run=run.pk, chain=chain.name, reason=reason, pages_planned=len(pages),
        people=sorted({p.recipient.name for p in pages}),
    )  # fmt: skip
    if not pages:
        log.warning("on-call run %s of ticket %s reaches nobody", run.pk, ticket.pk)
    if dispatch:
        due = [p for p in pages if p.status == PageStatus.QUEUED]
        outbox_ids = _pages_dispatch(due, run=run, ticket=ticket, now=now)
        if outbox_ids and settings.ONCALL_SEND_ON_COMMIT:
            transaction.on_commit(lambda: _deliver_soon(outbox_ids))
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


def _deliver_all(outbox_ids: list[int]) -> None:
    try:
        for outbox_id in outbox_ids:
            try:
                outbox_deliver_one(outbox_id=outbox_id, now=clock.now())
            except Exception:  # the outbox sweep retries the row; never crash the pool
                log.exception("immediate delivery of outbox row %s failed", outbox_id)
    finally:
        connections.close_all()


def ack_token(*, run: ChainRun, user: User) -> str:
    return signing.dumps({"r": run.pk, "u": user.pk}, salt=ACK_SALT, compress=True)


def ack_token_read(token: str) -> tuple[int, int]:
    try:
        data = signing.loads(token, salt=ACK_SALT, max_age=ACK_MAX_AGE)
        return int(data["r"]), int(data["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvalidInput("this acknowledgement link is invalid or has expired") from None


def _public_url(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _address(page: Page, config: OnCallConfig) -> str:
    user = page.recipient
    if page.channel == "email":
        return user.email
    try:
        number = normalize_e164(user.phone, default_country_code=config.vendor.default_country_code)
    except InvalidInput:
        return ""
    if page.channel == "sms_email":
        domain = config.sms_gateway_domain
        return f"{number.lstrip('+')}@{domain}" if domain else ""
    return number


def _compose(page: Page, run: ChainRun, ticket: Ticket) -> tuple[str, str]:
    """(subject, body) of `page`; SMS-like channels get the short text."""
    ctx = run.context
    ack_link = _public_url(f"/hooks/oncall/ack/{ack_token(run=run, user=page.recipient)}/")
    if run.reason == RunReason.VOICEMAIL:
        recording = ctx.get("recording_url") or _public_url(f"/console/tickets/{ticket.pk}/")
        if not recording.startswith(("http://", "https://")):
            recording = "http://localhost" + recording
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
    caller = ctx.get("caller_number") or "no number"
    sms = to_gsm7(
        f"EMERGENCY #{ticket.pk}: {who} ({caller}) asked for escalation by phone: "
        f"{ticket.subject}. Reply ACK {run.ack_code} to acknowledge."
    )[:320]
    if page.channel != "email":
        return "", sms
    body = (
        f"{who} ({caller}) asked for an emergency escalation by phone.\n\n"
        f"Ticket: #{ticket.pk} {ticket.subject}\nReason: {ctx.get('reason', '')}\n\n"
        f"To acknowledge, reply ACK {run.ack_code} to the page SMS, or open: {ack_link}\n"
        "Acknowledging stops the escalation for everybody.\n"
    )
    return f"EMERGENCY #{ticket.pk}: escalation from {who}", body


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
                TicketEvent(
                    ticket_id=ticket.pk, kind="page_skipped", at=now, data={
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
            TicketEvent(
                ticket_id=ticket.pk, kind="page_sent", at=now, data={
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
    TicketEvent.objects.bulk_create(events)
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
            _event(
                run.ticket_id, "page_failed", now, run=run.pk, page=page.pk,
                channel=page.channel, to=page.recipient.name, fallback=nxt or "",
                error=(page.outbox.last_error if page.outbox else "")[:300],
            )  # fmt: skip
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


def pages_process(*, now: datetime, limit: int = 500) -> dict[str, int]:
    """The periodic sweep: send every due page, then fall back from failed ones."""
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


@transaction.atomic
def run_acknowledge(
    *, run: ChainRun, user: User | None, via: str, now: datetime
) -> tuple[ChainRun, bool]:
    """Acknowledge `run` (locks the run row): nothing further is paged to anybody (O-4).

    Returns (run, True) for the acknowledgement that counted, (run, False) if it already was.
    """
    run = ChainRun.objects.select_for_update().get(pk=run.pk)
    if run.acknowledged_at is not None:
        return run, False
    if user is not None and user.vendor_id != run.vendor_id and not user.is_superuser:
        raise Forbidden("this page belongs to another vendor")
    run.acknowledged_at = now
    run.acknowledged_by = user
    run.acknowledged_via = via
    run.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledged_via"])
    cancelled = Page.objects.filter(run=run, status=PageStatus.PLANNED).update(
        status=PageStatus.CANCELLED
    )
    _event(
        run.ticket_id, "page_acknowledged", now, user.pk if user else None, run=run.pk, via=via,
        by=user.name if user else "", cancelled_pages=cancelled,
    )  # fmt: skip
    return run, True


def run_acknowledge_by_staff(*, run: ChainRun, principal: Principal, now: datetime) -> ChainRun:
    _require_staff_of(principal, run.vendor_id)
    user = User.objects.get(pk=principal.user_id)
    return run_acknowledge(run=run, user=user, via="console/api", now=now)[0]


def sms_inbound(*, vendor: Vendor | None, from_number: str, body: str, now: datetime) -> str:
    """An SMS to the provider number: `ACK <code>` acknowledges; returns the reply text."""
    code = parse_ack(body)
    if code is None:
        return "To acknowledge a page, reply ACK followed by its code."
    try:
        number = normalize_e164(from_number)
    except InvalidInput:
        return "This number is not registered for pages."
    users = User.objects.filter(phone=number, is_active=True, is_staff=True)
    if vendor is not None:
        users = users.filter(vendor=vendor)
    user = users.order_by("pk").first()
    if user is None:
        return "This number is not registered for pages."
    runs = ChainRun.objects.filter(vendor_id=user.vendor_id, ack_code=code)
    run = (
        runs.filter(pages__recipient=user).order_by("acknowledged_at", "-started_at").first()
        or runs.order_by("acknowledged_at", "-started_at").first()
    )
    if run is None:
        return f"No page has the code {code}."
    run, counted = run_acknowledge(run=run, user=user, via="sms", now=now)
    if not counted:
        return f"Ticket #{run.ticket_id} was already acknowledged."
    return f"Acknowledged: ticket #{run.ticket_id}. Nobody else will be paged."


def delivery_status_update(
    *, message_sid: str, status: str, error_code: str, now: datetime
) -> bool:
    """The provider's status callback: record it; a failed delivery marks the outbox row
    bounced, which makes the sweep fall back to the next channel."""
    row = OutboxMessage.objects.filter(provider_message_id=message_sid).first()
    if row is None or not message_sid:
        return False
    status = (status or "").strip().lower()[:20]
    Page.objects.filter(outbox=row).update(delivery_status=status)
    if status in ("failed", "undelivered"):
        OutboxMessage.objects.filter(pk=row.pk, status=OutboxStatus.SENT).update(
            status=OutboxStatus.BOUNCED,
            last_error=f"provider reported {status}"
            + (f" (error {error_code})" if error_code else ""),
        )
    return True


# ---------------------------------------------------------------------------------------------
# Emergencies: voicemail (O-2) and an explicit phone escalation (O-3)
# ---------------------------------------------------------------------------------------------


def vendor_for_number(number: str) -> Vendor | None:
    """The vendor a provider number (the `To` of a call or SMS) belongs to."""
    if not number:
        return None
    try:
        number = normalize_e164(number)
    except InvalidInput:
        return None
    config = OnCallConfig.objects.filter(inbound_numbers__contains=number).first()
    if config is not None:
        return config.vendor
    return (
        Vendor.objects.filter(Q(emergency_phone=number) | Q(support_phone=number))
        .order_by("pk")
        .first()
    )


def _unidentified_org(vendor: Vendor) -> Organization:
    config = config_for(vendor)
    if config.unidentified_org_id:
        return config.unidentified_org  # type: ignore[return-value]
    notes = (
        "FLAGGED: voicemails from numbers that match no contact are filed here. "
        "Identify the caller and move the ticket to the right customer."
    )
    try:
        with transaction.atomic():
            org, _ = Organization.objects.get_or_create(
                vendor=vendor, name=UNIDENTIFIED_ORG_NAME, defaults={"notes": notes}
            )
    except IntegrityError:
        org = Organization.objects.get(vendor=vendor, name=UNIDENTIFIED_ORG_NAME)
    OnCallConfig.objects.filter(pk=config.pk).update(unidentified_org=org)
    return org


def voicemail_receive(
    *,
    vendor: Vendor,
    call_sid: str,
    from_number: str,
    recording_url: str,
    duration_seconds: int,
    transcript: str,
    now: datetime,
) -> tuple[Voicemail, bool]:
    """An emergency voicemail (O-2): a P1 ticket and the emergency chain, once per call.

    A repeated webhook for the same CallSid returns the first voicemail and does nothing.
    """
    call_sid = (call_sid or "").strip()[:64]
    if not call_sid:
        raise InvalidInput("CallSid is required")
    if recording_url and not recording_url.startswith(("https://", "http://")):
        raise InvalidInput("RecordingUrl must be an http(s) URL")
    existing = Voicemail.objects.filter(vendor=vendor, call_sid=call_sid).first()
    if existing is not None:
        transcript = (transcript or "").strip()[:20_000]
        if transcript and not existing.transcript:  # the transcription callback comes later
            with transaction.atomic():
                if Voicemail.objects.filter(pk=existing.pk, transcript="").update(
                    transcript=transcript
                ):
                    _event(existing.ticket_id, "voicemail_transcribed", now, transcript=transcript)
        return existing, False
    try:
        number = normalize_e164(from_number, default_country_code=vendor.default_country_code)
    except InvalidInput:
        number = ""  # withheld / anonymous
    contact = contact_find_by_phone(vendor_id=vendor.pk, number=number) if number else None
    organization = contact.organization if contact else _unidentified_org(vendor)
    who = organization.name if contact else "UNIDENTIFIED caller"
    transcript = (transcript or "").strip()[:20_000]
    body = "\n".join(
        [
            "Emergency voicemail left on the after-hours line.",
            f"Caller: {number or 'withheld number'}"
            + (f" ({contact.name}, {organization.name})" if contact else " (UNIDENTIFIED)"),
            f"Recording: {recording_url or '(none)'} ({duration_seconds} s)",
            "",
            "Transcript:",
            transcript or "(no transcript)",
        ]
    )
    try:
        with transaction.atomic():
            ticket = ticket_create(
                principal=None,
                vendor=vendor,
                organization=organization,
                requester=contact,
                subject=f"Emergency voicemail from {who} ({number or 'withheld number'})",
                body=body,
                priority=Priority.P1,
                channel=Channel.VOICEMAIL,
                caller_number=number,
                now=now,
            )
            voicemail = Voicemail.objects.create(
                vendor=vendor,
                call_sid=call_sid,
                ticket=ticket,
                from_number=number,
                recording_url=recording_url,
                duration_seconds=max(0, duration_seconds),
                transcript=transcript,
                identified=contact is not None,
                received_at=now,
            )
            _event(
                ticket.pk, "voicemail_received", now, call_sid=call_sid,
                identified=contact is not None, recording_url=recording_url,
            )  # fmt: skip
            chain = config_for(vendor).emergency_chain
            if chain is None:
                _event(ticket.pk, "oncall_not_configured", now, why="no emergency chain set up")
            else:
                run_start(
                    ticket=ticket,
                    chain=chain,
                    reason=RunReason.VOICEMAIL,
                    context={
                        "caller_number": number,
                        "organisation": organization.name if contact else "",
                        "recording_url": recording_url,
                        "transcript": transcript,
                        "timezone": vendor.timezone,
                    },
                    now=now,
                )
    except IntegrityError:
        # The same call delivered twice at once: the other delivery won; this one rolled back.
        return Voicemail.objects.get(vendor=vendor, call_sid=call_sid), False
    return voicemail, True


@transaction.atomic
def ticket_page(*, ticket: Ticket, principal: Principal, reason: str, now: datetime) -> ChainRun:
    """An agent escalates a phone request from an identified contact into the emergency chain
    (O-3). Email, portal and unidentified callers never page anybody."""
    _require_staff_of(principal, ticket.vendor_id)
    refusal = page_refusal(ticket)
    if refusal is not None:
        raise InvalidInput(refusal.detail, code=refusal.code)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("say why this is an emergency (reason)")
    ticket = Ticket.objects.select_for_update().select_related("organization").get(pk=ticket.pk)
    if ChainRun.objects.filter(
        ticket=ticket, acknowledged_at__isnull=True, ends_at__gt=now
    ).exists():
        raise Conflict(f"ticket #{ticket.pk} is already paging", code="already_paging")
    vendor = Vendor.objects.get(pk=ticket.vendor_id)
    chain = config_for(vendor).emergency_chain
    if chain is None:
        raise InvalidInput("no emergency chain is set up for this vendor", code="no_chain")
    return run_start(
        ticket=ticket,
        chain=chain,
        reason=RunReason.PHONE,
        context={
            "caller_number": ticket.caller_number,
            "organisation": ticket.organization.name,
            "reason": reason,
            "timezone": vendor.timezone,
        },
        now=now,
        started_by=User.objects.get(pk=principal.user_id),
    )
