"""Every write of the SLA app: policies, clocks, and the breach/warning sweep (S-1..S-4).

The tickets services call `sla_tickets_start` (services_start.py), `sla_ticket_sync` and
`sla_ticket_rematch` explicitly, inside their own transaction, after they changed the
(locked) ticket row:

* created: the policy (the organisation's own, else the one of the plan whose contract covers
  the request, else the vendor's default) is matched on priority, channel and the time of
  receipt (`ticket.created_at`); the rule, its calendars, the pause statuses and the plan are
  copied onto the ticket (`TicketSla`) and the first-response and resolution clocks start.
* first public staff reply: stops first response (met) and a running next response.
* customer reply after a first response: starts a next-response cycle, unless one is running.
* status into a pause status of the policy: running clocks pause; out of it: they resume.
* resolved or closed: resolution is met; response clocks still running are cancelled.
* priority change: the ticket is matched again (same time of receipt); the targets not yet
  met or breached are cancelled and the new rule's targets start at the change.

Breaches are records and notifications, never blocks (S-4): nothing here raises into the
ticket write path because of a target.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Value

from supportdesk.contracts.models import Plan, TicketEntitlement
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.rows import unsaved
from supportdesk.customers.models import Organization
from supportdesk.notifications.services import OutboxDraft, outbox_enqueue_many
from supportdesk.sla.domain.calendar import BusinessCalendar, CalendarSpecError
from supportdesk.sla.domain.clock import ClockEvent, SlaClock
from supportdesk.sla.domain.deadlines import (
    FireKind,
    Person,
    StoredDeadlines,
    next_deadline,
    notice_recipients,
    sweep_step,
)
from supportdesk.sla.domain.policy import Policy, PolicySpecError, Rule, Target, match_rule
from supportdesk.sla.models import (
    ACTIVE_STATES,
    Calendar,
    OrganizationSlaPolicy,
    PlanSlaPolicy,
    SlaPolicy,
    SlaTarget,
    TargetKind,
    TargetState,
    TicketSla,
)
from supportdesk.tickets.events import (
    ticket_event_build,
    ticket_event_record,
    ticket_events_record,
)
from supportdesk.tickets.models import (
    AgentNotificationKind,
    Status,
    Ticket,
    TicketEvent,
    TicketEventKind,
)
from supportdesk.tickets.notify import SlaNotice, sla_notifications_add

log = logging.getLogger(__name__)

CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED)
SWEEP_MAX_BATCHES = 10_000
# Clocks per sweep transaction: big enough that a commit is rare next to the rows written
# (a 10k sweep is ten transactions), small enough to hold row locks well under a second.
SWEEP_BATCH = 1000

# Calendars and policies rebuilt from snapshots, keyed by their JSON: holiday tables are costly
# to build, and a policy is parsed for every new ticket (issue 16.2); a changed spec is a new key.
_CALENDAR_CACHE: dict[str, BusinessCalendar] = {}
_POLICY_CACHE: dict[str, Policy] = {}
_SPEC_CACHE_MAX = 256
Parsed = TypeVar("Parsed")


def _parsed_once(
    cache: dict[str, Parsed], spec: Mapping[str, Any], parse: Callable[[Mapping[str, Any]], Parsed]
) -> Parsed:
    key = json.dumps(spec, sort_keys=True)
    parsed = cache.get(key)
    if parsed is None:
        if len(cache) > _SPEC_CACHE_MAX:
            cache.clear()
        parsed = cache[key] = parse(spec)
    return parsed


def _calendar_from_spec(spec: Mapping[str, Any]) -> BusinessCalendar:
    return _parsed_once(_CALENDAR_CACHE, spec, BusinessCalendar.from_spec)


def _policy_from_spec(spec: Mapping[str, Any]) -> Policy:
    return _parsed_once(_POLICY_CACHE, spec, Policy.from_spec)


# --------------------------------------------------------------------------- configuration
@transaction.atomic
def sla_calendar_save(
    *, vendor: Vendor, name: str, spec: dict[str, Any], now: datetime
) -> Calendar:
    """Create or replace a vendor's calendar. Running clocks keep their snapshot."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a calendar needs a name")
    try:
        BusinessCalendar.from_spec(spec)
    except (CalendarSpecError, ValueError) as exc:
        raise InvalidInput(f"calendar {name!r}: {exc}") from None
    row, _ = Calendar.objects.update_or_create(
        vendor=vendor, name=name, defaults={"spec": spec, "updated_at": now}
    )
    return row


@transaction.atomic
def sla_policy_save(
    *, vendor: Vendor, spec: dict[str, Any], now: datetime, is_default: bool = False
) -> SlaPolicy:
    """Create or replace a policy (by its spec's name); its calendars must exist already.

    Running clocks keep the rule they started with (house rule 9).
    """
    try:
        policy = Policy.from_spec(spec)
    except (PolicySpecError, ValueError) as exc:
        raise InvalidInput(f"policy: {exc}") from None
    have = set(Calendar.objects.filter(vendor=vendor).values_list("name", flat=True))
    missing = sorted(policy.calendar_names() - have)
    if missing:
        raise InvalidInput(f"policy refers to calendar {missing[0]!r}, which is not defined")
    if is_default:
        SlaPolicy.objects.filter(vendor=vendor, is_default=True).exclude(name=policy.name).update(
            is_default=False
        )
    row, _ = SlaPolicy.objects.update_or_create(
        vendor=vendor,
        name=policy.name,
        defaults={"spec": spec, "is_default": is_default, "updated_at": now},
    )
    return row


@transaction.atomic
def sla_policy_assign(*, organization: Organization, policy: SlaPolicy | None) -> None:
    """Give one organisation its own policy; None returns it to the vendor's default."""
    if policy is None:
        OrganizationSlaPolicy.objects.filter(organization=organization).delete()
        return
    if policy.vendor_id != organization.vendor_id:
        raise InvalidInput("the policy belongs to another vendor")
    OrganizationSlaPolicy.objects.update_or_create(
        organization=organization, defaults={"policy": policy}
    )


@transaction.atomic
def sla_policy_assign_plan(*, plan: Plan, policy: SlaPolicy | None) -> None:
    """Make a policy the response targets of a plan; None removes it (the vendor's default
    applies again). Running clocks keep their snapshot."""
    if policy is None:
        PlanSlaPolicy.objects.filter(plan=plan).delete()
        return
    if policy.vendor_id != plan.vendor_id:
        raise InvalidInput("the policy belongs to another vendor")
    PlanSlaPolicy.objects.update_or_create(plan=plan, defaults={"policy": policy})


def _covering_plan(ticket: Ticket) -> Plan | None:
    """The plan of the contract the entitlement decision at intake found covering it."""
    row = (
        TicketEntitlement.objects.filter(ticket_id=ticket.pk, contract__isnull=False)
        .select_related("contract__plan")
        .first()
    )
    return row.contract.plan if row and row.contract else None


def _policy_row_for(ticket: Ticket, plan: Plan | None) -> SlaPolicy | None:
    """The organisation's own policy, else its covering plan's, else the vendor's default:
    one statement (the candidates ranked in that order)."""
    candidates = [
        SlaPolicy.objects.filter(assignments__organization_id=ticket.organization_id).annotate(
            rank=Value(0)
        )
    ]
    if plan is not None:
        candidates.append(SlaPolicy.objects.filter(plans__plan=plan).annotate(rank=Value(1)))
    candidates.append(
        SlaPolicy.objects.filter(vendor_id=ticket.vendor_id, is_default=True).annotate(
            rank=Value(2)
        )
    )
    first, *rest = candidates
    return first.union(*rest, all=True).order_by("rank", "id").first()


# --------------------------------------------------------------------------- clocks
def _clock(target: SlaTarget, calendars: Mapping[str, Any]) -> SlaClock:
    spec = calendars.get(target.calendar_name) if target.calendar_name else None
    calendar = _calendar_from_spec(spec) if spec else BusinessCalendar.always()
    events = tuple(ClockEvent(kind, datetime.fromisoformat(at)) for kind, at in target.events)
    return SlaClock(
        timedelta(seconds=target.duration_seconds),
        calendar,
        events,
        warn_percent=target.warn_percent,
    )


def _refresh_deadlines(target: SlaTarget, clock: SlaClock, now: datetime) -> None:
    """Store the projected instants of a running clock; a paused one has none."""
    if target.state == TargetState.PAUSED:
        target.due_at = target.warn_at = None
    elif target.state in (TargetState.RUNNING, TargetState.BREACHED):
        target.due_at = clock.due_at(now)
        target.warn_at = clock.warning_at(now)
    _refresh_next(target)


def _refresh_next(target: SlaTarget) -> None:
    target.next_deadline = next_deadline(_stored(target))


def _append(target: SlaTarget, kind: str, at: datetime) -> None:
    target.events = [*target.events, [kind, at.isoformat()]]


def _start_target(
    *,
    sla: TicketSla,
    ticket: Ticket,
    kind: str,
    target: Target,
    at: datetime,
    cycle: int = 0,
    paused: bool = False,
    save: bool = True,
) -> SlaTarget:
    row = unsaved(
        SlaTarget,
        ticket=ticket,
        sla=sla,
        vendor_id=ticket.vendor_id,
        organization_id=ticket.organization_id,
        priority=ticket.priority,
        plan=sla.plan_name,
        kind=kind,
        cycle=cycle,
        duration_seconds=int(target.duration.total_seconds()),
        calendar_name=target.calendar or "",
        state=TargetState.RUNNING,
        events=[],
        started_at=at,
    )
    _append(row, "start", at)
    if paused:
        _append(row, "pause", at)
        row.state = TargetState.PAUSED
    _refresh_deadlines(row, _clock(row, sla.calendars), at)
    if save:
        row.save()
    return row


def _match(ticket: Ticket, now: datetime) -> TicketSla | None:
    """Match a stored ticket against its policy and snapshot the result (not saved)."""
    plan = _covering_plan(ticket)
    row = _policy_row_for(ticket, plan)
    if row is None:
        return None
    calendars = Calendar.objects.filter(vendor_id=ticket.vendor_id).values_list("name", "spec")
    return match_with(ticket, row=row, plan=plan, vendor_calendars=dict(calendars), now=now)


def match_with(
    ticket: Ticket,
    *,
    row: SlaPolicy,
    plan: Plan | None,
    vendor_calendars: Mapping[str, Any],
    now: datetime,
) -> TicketSla | None:
    """Match the ticket against the policy `row` (the vendor's calendars by name) and
    snapshot the result (not saved); None when the policy is unusable."""
    try:
        policy = _policy_from_spec(row.spec)
        wanted = policy.calendar_names()
        specs = {name: spec for name, spec in vendor_calendars.items() if name in wanted}
        calendars = {name: _calendar_from_spec(spec) for name, spec in specs.items()}
        match = match_rule(
            policy,
            priority=ticket.priority,
            channel=ticket.channel,
            received_at=ticket.created_at,
            calendars=calendars,
        )
    except (PolicySpecError, CalendarSpecError, ValueError) as exc:
        # A broken policy must never block intake (S-4): log it and run without targets.
        log.error("SLA policy %s of vendor %s is unusable: %s", row.pk, row.vendor_id, exc)
        return None
    rule = match.rule
    used = rule.calendar_names() if rule else set()
    return unsaved(
        TicketSla,
        ticket=ticket,
        policy=row,
        policy_name=policy.name,
        plan_name=plan.name if plan else "",
        rule_name=rule.name if rule else "",
        rule=rule.to_spec() if rule else {},
        calendars={name: spec for name, spec in specs.items() if name in used},
        pause_statuses=sorted(policy.pause_statuses),
        explanation=match.explanation,
        matched_at=now,
    )


def _rule(sla: TicketSla) -> Rule | None:
    return Rule.from_spec(sla.rule, "rule") if sla.rule else None


def _start_from_match(sla: TicketSla, ticket: Ticket, at: datetime) -> list[SlaTarget]:
    """The first-response and resolution clocks of a match, unsaved (the caller inserts the
    clocks of all its tickets in one statement)."""
    rule = _rule(sla)
    if rule is None:
        return []
    paused = ticket.status in sla.pause_statuses
    started = []
    for kind in (TargetKind.FIRST_RESPONSE, TargetKind.RESOLUTION):
        target = getattr(rule, kind)
        if target is None:
            continue
        if kind == TargetKind.FIRST_RESPONSE and ticket.first_response_at is not None:
            continue
        started.append(
            _start_target(
                sla=sla, ticket=ticket, kind=kind, target=target, at=at, paused=paused, save=False
            )
        )
    return started


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _stop(target: SlaTarget, sla: TicketSla, at: datetime, *, met: bool) -> None:
    """Stop a clock: met (the target was fulfilled) or cancelled (it no longer applies).

    A clock whose due instant passed before the sweep saw it is recorded as breached here.
    """
    clock = _clock(target, sla.calendars)
    if target.state == TargetState.RUNNING:
        due = clock.due_at(at)
        if target.breached_at is None and due is not None and due <= at:
            _record_breach(target, due, at)
    _append(target, "stop", at)
    target.stopped_at = at
    if met:
        target.met_at = at
    if target.state != TargetState.BREACHED:
        target.state = TargetState.MET if met else TargetState.CANCELLED
    target.next_deadline = None
    if target.state != TargetState.BREACHED:
        target.due_at = target.warn_at = None
    target.save()


def _set_paused(target: SlaTarget, sla: TicketSla, at: datetime, paused: bool) -> None:
    if paused and target.state == TargetState.RUNNING:
        clock = _clock(target, sla.calendars)
        due = clock.due_at(at)
        if target.breached_at is None and due is not None and due <= at:
            _record_breach(target, due, at)
            target.save()
            return  # a breached clock stays breached; nothing left to pause for
        _append(target, "pause", at)
        target.state = TargetState.PAUSED
    elif not paused and target.state == TargetState.PAUSED:
        _append(target, "resume", at)
        target.state = TargetState.RUNNING
    else:
        return
    _refresh_deadlines(target, _clock(target, sla.calendars), at)
    target.save()


def _locked_targets(ticket: Ticket) -> QuerySet[SlaTarget]:
    return SlaTarget.objects.select_for_update().filter(ticket_id=ticket.pk)


def sla_ticket_sync(*, ticket: Ticket, now: datetime, reply: str | None = None) -> None:
    """Bring the ticket's clocks in line with its current row (re-read here).

    `reply` is "staff" for a public staff reply, "customer" for a customer reply, else None.
    Call inside the transaction of the ticket change (the ticket row is locked there); locks
    the ticket's clocks (`SELECT ... FOR UPDATE`) before changing them.
    """
    sla = TicketSla.objects.filter(ticket_id=ticket.pk).first()
    if sla is not None:
        _sync(sla, ticket.pk, now, reply)


def sla_tickets_sync(*, changes: Sequence[tuple[int, datetime]], reply: str | None = None) -> None:
    """:func:`sla_ticket_sync` for many tickets, each `(ticket id, now)` once: one read of
    their SLA snapshots, then the clocks of those that have one (issue 16.3)."""
    slas = {
        sla.ticket_id: sla
        for sla in TicketSla.objects.filter(ticket_id__in=[pk for pk, _ in changes])
    }
    for ticket_id, now in changes:
        sla = slas.get(ticket_id)
        if sla is not None:
            _sync(sla, ticket_id, now, reply)


def _sync(sla: TicketSla, ticket_id: int, now: datetime, reply: str | None) -> None:
    ticket = Ticket.objects.get(pk=ticket_id)
    # Locked: a sweep batch holding one of these clocks is waited for, then what it
    # recorded is seen here, so a breach is never recorded twice (S-4).
    active = list(
        _locked_targets(ticket)
        .filter(
            # A breached clock keeps running until met, so it is still "active" for stopping.
            Q(state__in=ACTIVE_STATES) | Q(state=TargetState.BREACHED, stopped_at__isnull=True)
        )
        .order_by("pk")
    )
    if reply == "staff":
        for t in active:
            if t.kind in (TargetKind.FIRST_RESPONSE, TargetKind.NEXT_RESPONSE):
                _stop(t, sla, now, met=True)
        active = [t for t in active if t.stopped_at is None]
    if ticket.status in CLOSED_STATUSES:
        for t in active:
            _stop(t, sla, now, met=t.kind == TargetKind.RESOLUTION)
        return
    paused = ticket.status in sla.pause_statuses
    for t in active:
        if t.state in ACTIVE_STATES:
            _set_paused(t, sla, now, paused)
    if reply == "customer":
        _start_next_response(sla, ticket, now, active, paused)


def _start_next_response(
    sla: TicketSla, ticket: Ticket, now: datetime, active: Iterable[SlaTarget], paused: bool
) -> None:
    rule = _rule(sla)
    if rule is None or rule.next_response is None or ticket.first_response_at is None:
        return
    if any(t.kind == TargetKind.NEXT_RESPONSE and t.stopped_at is None for t in active):
        return
    last = (
        SlaTarget.objects.filter(ticket_id=ticket.pk, kind=TargetKind.NEXT_RESPONSE)
        .order_by("-cycle")
        .values_list("cycle", flat=True)
        .first()
    )
    _start_target(
        sla=sla,
        ticket=ticket,
        kind=TargetKind.NEXT_RESPONSE,
        target=rule.next_response,
        at=now,
        cycle=(last or 0) + 1,
        paused=paused,
    )


def sla_ticket_rematch(*, ticket: Ticket, now: datetime) -> None:
    """After a priority change: match again (same time of receipt, current policy).

    Targets not met or breached yet are cancelled; the new rule's first-response (if no
    response yet) and resolution clocks start now, with a fresh snapshot. Met and breached
    records stay as they were. Locks the ticket's clocks, as `sla_ticket_sync` does.
    """
    ticket = Ticket.objects.get(pk=ticket.pk)
    old = TicketSla.objects.filter(ticket_id=ticket.pk).first()
    if old is None or ticket.status in CLOSED_STATUSES:
        return
    for t in _locked_targets(ticket).filter(state__in=ACTIVE_STATES).order_by("pk"):
        _stop(t, old, now, met=False)
    fresh = _match(ticket, now)
    if fresh is None:
        return
    for field in (
        "policy", "policy_name", "plan_name", "rule_name", "rule", "calendars",
        "pause_statuses", "explanation", "matched_at",
    ):  # fmt: skip
        setattr(old, field, getattr(fresh, field))
    old.save()
    rule = _rule(old)
    paused = ticket.status in old.pause_statuses
    targets = []
    if rule is not None:
        for kind in (TargetKind.FIRST_RESPONSE, TargetKind.RESOLUTION):
            target = getattr(rule, kind)
            if target is None:
                continue
            if kind == TargetKind.FIRST_RESPONSE and ticket.first_response_at is not None:
                continue
            cycle = 1 + max(
                SlaTarget.objects.filter(ticket_id=ticket.pk, kind=kind).values_list(
                    "cycle", flat=True
                ),
                default=-1,
            )
            targets.append(
                _start_target(
                    sla=old,
                    ticket=ticket,
                    kind=kind,
                    target=target,
                    at=now,
                    cycle=cycle,
                    paused=paused,
                )
            )
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.SLA_REMATCHED,
        at=now,
        data={
            "policy": old.policy_name,
            "rule": old.rule_name,
            "explanation": old.explanation,
            "targets": {t.kind: iso(t.due_at) for t in targets},
        },
    )


# --------------------------------------------------------------------------- sweep (S-4)
@dataclass(frozen=True)
class _TicketFacts:
    """What a warning or breach notice says about its ticket, and whom it goes to."""

    ticket_id: int
    vendor_id: int
    subject: str
    priority: str
    sender: str
    assignee: Person | None
    team_lead: Person | None
    queue_id: int | None = None


def _person(user_id: int | None, email: str | None) -> Person | None:
    return Person(user_id, email or "") if user_id is not None else None


def _facts(ticket: Ticket) -> _TicketFacts:
    queue = ticket.queue if ticket.queue_id else None
    lead = queue.team_lead if queue is not None else None
    return _TicketFacts(
        ticket_id=ticket.pk,
        vendor_id=ticket.vendor_id,
        subject=ticket.subject,
        priority=ticket.priority,
        sender=(queue.email if queue else "") or ticket.vendor.support_email,
        assignee=_person(ticket.assignee_id, ticket.assignee.email if ticket.assignee else None),
        team_lead=_person(lead.pk, lead.email) if lead is not None else None,
        queue_id=ticket.queue_id,
    )


def _records(
    *,
    target_id: int,
    kind: str,
    cycle: int,
    due_at: datetime | None,
    facts: _TicketFacts,
    what: FireKind,
    at: datetime,
    now: datetime,
) -> tuple[TicketEvent, list[OutboxDraft], SlaNotice]:
    """The ticket event, the mailed notices and the console notice of a fired target.

    The idempotency key names the target, what fired and the recipient, so however often or
    wherever it is recorded, each person gets each notice once.
    """
    event = ticket_event_build(
        ticket_id=facts.ticket_id,
        kind=TicketEventKind.SLA_BREACHED if what == "breach" else TicketEventKind.SLA_WARNING,
        at=at,
        data={
            "target": kind,
            "cycle": cycle,
            "due_at": iso(due_at),
            "recorded_at": now.isoformat(),
        },
    )
    label = TargetKind(kind).label.lower()
    ref = facts.ticket_id
    if what == "breach":
        subject = f"[#{ref}] SLA breached: {label} was due {at:%Y-%m-%d %H:%M} UTC"
    else:
        subject = f"[#{ref}] SLA warning: {label} due {due_at:%Y-%m-%d %H:%M} UTC"
    recipients = notice_recipients(assignee=facts.assignee, team_lead=facts.team_lead, what=what)
    drafts = [
        OutboxDraft(
            key=f"sla:{target_id}:{what}:{person.user_id}",
            channel="email",
            recipient=person.email,
            sender=facts.sender,
            subject=subject[:300],
            body=(
                f"Ticket #{ref} ({facts.priority}) {facts.subject}\n"
                f"{label}: {what} at {at.isoformat()} (you are the {role}).\n"
                "Targets are typical, not guaranteed: this is a notice, nothing is blocked."
            ),
            headers={"Auto-Submitted": "auto-generated"},
            ticket_id=ref,
            vendor_id=facts.vendor_id,
        )
        for person, role in recipients
    ]
    notice = SlaNotice(
        ticket_id=ref,
        queue_id=facts.queue_id,
        user_ids=tuple(person.user_id for person, _ in recipients),
        kind=AgentNotificationKind.SLA_BREACH
        if what == "breach"
        else AgentNotificationKind.SLA_WARNING,
        text=subject.partition("] ")[2],
    )
    return event, drafts, notice


def _record_breach(target: SlaTarget, due: datetime, now: datetime) -> None:
    """A breach noticed on the ticket path (a reply or pause after the due instant)."""
    target.breached_at = target.due_at = due
    target.state = TargetState.BREACHED
    target.next_deadline = None
    event, drafts, notice = _records(
        target_id=target.pk, kind=target.kind, cycle=target.cycle, due_at=due,
        facts=_facts(target.ticket), what="breach", at=due, now=now,
    )  # fmt: skip
    ticket_events_record(events=[event])
    outbox_enqueue_many(drafts=drafts, now=now)
    sla_notifications_add(notices=[notice], now=now)


def _stored(target: SlaTarget) -> StoredDeadlines:
    return StoredDeadlines(
        running=target.state == TargetState.RUNNING,
        due_at=target.due_at,
        warn_at=target.warn_at,
        warned_at=target.warned_at,
        breached_at=target.breached_at,
    )


# The claim reads plain tuples (no model instances: at 10k clocks they cost more than the SQL).
_CLAIM_COLUMNS = (
    "pk", "kind", "cycle", "state", "due_at", "warn_at", "warned_at", "breached_at",
    "ticket_id", "ticket__vendor_id", "ticket__subject", "ticket__priority",
    "ticket__queue__email", "ticket__vendor__support_email",
    "ticket__assignee_id", "ticket__assignee__email",
    "ticket__queue__team_lead_id", "ticket__queue__team_lead__email", "ticket__queue_id",
)  # fmt: skip


def _sweep_batch(*, now: datetime, batch: int, skip_locked: bool) -> tuple[int, int, int]:
    """Claim up to `batch` due clocks and fire them, set-based, in one transaction.

    A fixed number of statements whatever the batch size: the claim (tickets and
    recipients joined in), one UPDATE per outcome, one INSERT of ticket events and the batch
    enqueue of the notices. Returns (claimed, warnings, breaches).
    """
    with transaction.atomic():
        qs = SlaTarget.objects.filter(next_deadline__isnull=False, next_deadline__lte=now)
        if skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.order_by("next_deadline").values_list(*_CLAIM_COLUMNS)[:batch])
        events: list[TicketEvent] = []
        drafts: list[OutboxDraft] = []
        notices: list[SlaNotice] = []
        fired: dict[str, list[int]] = {"breach": [], "warning": []}
        idle: dict[datetime | None, list[int]] = defaultdict(list)
        for (pk, kind, cycle, state, due, warn, warned, breached, ticket_id, vendor_id, subject,
             priority, queue_email, vendor_email, assignee_id, assignee_email, lead_id,
             lead_email, queue_id) in rows:  # fmt: skip
            stored = StoredDeadlines(state == TargetState.RUNNING, due, warn, warned, breached)
            firing = sweep_step(stored, now)
            if firing.kind is None or firing.at is None:
                idle[firing.next_deadline].append(pk)
                continue
            fired[firing.kind].append(pk)
            facts = _TicketFacts(
                ticket_id=ticket_id,
                vendor_id=vendor_id,
                subject=subject,
                priority=priority,
                sender=queue_email or vendor_email,
                assignee=_person(assignee_id, assignee_email),
                team_lead=_person(lead_id, lead_email),
                queue_id=queue_id,
            )
            event, mails, notice = _records(
                target_id=pk, kind=kind, cycle=cycle, due_at=firing.after.due_at, facts=facts,
                what=firing.kind, at=firing.at, now=now,
            )  # fmt: skip
            events.append(event)
            drafts += mails
            notices.append(notice)
        # One UPDATE per outcome, each writing what sweep_step computed for its rows: a
        # breach fixes breached_at at the due instant and leaves nothing to fire; a warning
        # records warn_at and waits for the due instant.
        targets = SlaTarget.objects
        if fired["breach"]:
            targets.filter(pk__in=fired["breach"]).update(
                state=TargetState.BREACHED, breached_at=F("due_at"), next_deadline=None
            )
        if fired["warning"]:
            targets.filter(pk__in=fired["warning"]).update(
                warned_at=F("warn_at"), next_deadline=F("due_at")
            )
        for deadline, pks in idle.items():
            targets.filter(pk__in=pks).update(next_deadline=deadline)
        ticket_events_record(events=events)
        outbox_enqueue_many(drafts=drafts, now=now)
        sla_notifications_add(notices=notices, now=now)
    return len(rows), len(fired["warning"]), len(fired["breach"])


def sla_sweep(*, now: datetime, batch: int = SWEEP_BATCH) -> dict[str, int]:
    """Record the warnings and breaches due at `now` and notify (S-4). Idempotent.

    Claims clocks with `next_deadline <= now` in batches, each in its own short transaction:
    on PostgreSQL with `SELECT ... FOR UPDATE SKIP LOCKED`, so several sweepers share the
    work and never claim the same clock; on SQLite the IMMEDIATE transaction serialises
    them. Each claimed clock's `next_deadline` moves past `now` (or to null) in the same
    transaction as its events and outbox rows, so a later or concurrent sweep finds nothing
    to do twice; the ticket path locks the clocks it changes, so it waits for a batch in
    flight and then sees what the batch recorded.
    """
    if batch < 1:
        raise InvalidInput("batch must be at least 1")
    counts = {"claimed": 0, "warnings": 0, "breaches": 0}
    skip_locked = connection.features.has_select_for_update_skip_locked
    for _ in range(SWEEP_MAX_BATCHES):
        claimed, warnings, breaches = _sweep_batch(now=now, batch=batch, skip_locked=skip_locked)
        counts["claimed"] += claimed
        counts["warnings"] += warnings
        counts["breaches"] += breaches
        if claimed < batch:
            break
    return counts
