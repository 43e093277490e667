"""Opening tickets (T-1, T-6, T-11, E-2, E-4..E-8, S-1..S-3; issue 16.2): the one create path.

`tickets_create_many` opens a batch of tickets inside the caller's transaction with a fixed
number of statements whatever the batch size: the reads once for the batch — one of the
queues with their agents and the acknowledgement template, the account teams with their
people and the SLA policies with the calendars (`create_read`), then the contracts with plans
and lines (one) and what their caps count — then one INSERT per table (tickets, messages,
search documents, events, entitlement decisions, SLA snapshots, clocks, agent notifications,
outbox rows, Message-ID registry). Nothing it inserts is read back; the rows whose keys
nothing needs are held and sent last, on PostgreSQL as one statement (`inserts_together`).
On PostgreSQL the read also reserves the keys of the tickets, messages, SLA snapshots and
acknowledgements from their sequences, so those are held too: every INSERT of a creation.
`ticket_create` is the batch of one, in its own transaction (a savepoint in the caller's).

A batch is written or fails as a whole. Batched intake keeps one bad item from failing the
others by validating each with `ticket_draft_clean` first (what it raises is the item's
answer, nothing is written) and, for a failure while writing, by running the batch in a
savepoint and its items again one by one when that savepoint is rolled back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from supportdesk.accounts.models import User
from supportdesk.contracts.models import Product
from supportdesk.contracts.selectors_usage import (
    UsageReads,
    UsageRows,
    usage_branches,
    usage_rows_of,
)
from supportdesk.contracts.services_entitlement import (
    contract_rows_of,
    contracts_branch,
    entitlements_decide_new,
    usage_guess,
)
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.phones import normalize_e164
from supportdesk.core.queries import bulk_insert, in_placeholders, inserts_together
from supportdesk.core.rows import unsaved
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import Contact, Organization
from supportdesk.customers.selectors import contacts_emails_prefetch
from supportdesk.notifications.mail_templates import DEFAULTS, mail_render, mail_template_source
from supportdesk.notifications.models import MailTemplate, MailTemplateKind, OutboxMessage
from supportdesk.notifications.services import OutboxDraft, outbox_enqueue_keyed, outbox_headers
from supportdesk.sla.models import TicketSla
from supportdesk.sla.services_start import (
    SlaCandidates,
    sla_candidates,
    sla_candidates_branches,
    sla_tickets_start,
)
from supportdesk.tickets.create_read import (
    ACCOUNT_TEAM,
    CONTRACTS,
    KEYS,
    QUEUE,
    branch,
    keys_branch,
    union_read,
)
from supportdesk.tickets.domain.content import sanitize_html
from supportdesk.tickets.events import ticket_event_build, ticket_events_record
from supportdesk.tickets.mail import OutgoingLink, mail_links_outgoing, mail_thread_headers
from supportdesk.tickets.models import (
    AgentNotificationKind,
    AgentProfile,
    Channel,
    Message,
    MessageKind,
    Priority,
    Queue,
    Ticket,
    TicketEvent,
    TicketEventKind,
)
from supportdesk.tickets.notify import Agent, AgentNotice, agent_notify_many
from supportdesk.tickets.search import ticket_search_index_new
from supportdesk.tickets.services_common import (
    AttachmentInput,
    attachment_filename,
    attachments_store,
    choice_check,
    clean_body,
    clean_subject,
    default_queue,
    mail_context,
    requester_subject,
    subject_with_tag,
)
from supportdesk.tickets.services_routing import (
    Route,
    account_team_branch,
    account_team_routes,
    agent_of_queue,
    route_recorded,
)


@dataclass(frozen=True)
class TicketDraft:
    """One ticket to open for `organization`, with its first message.

    `principal` is the person filing it (a contact, or staff on the customer's behalf); None
    for automatic intake. `unverified`: mail that claims the requester without proving it
    (T-11): marked, and never counted against the customer's caps. `opened_by`: the
    Message-ID of the mail the ticket is opened from, which the acknowledgement answers.
    """

    vendor: Vendor
    organization: Organization
    requester: Contact | None
    subject: str
    body: str
    priority: str
    channel: str
    now: datetime
    principal: Principal | None = None
    body_html: str = ""
    queue: Queue | None = None
    product: Product | None = None
    version: str = ""
    caller_number: str = ""
    attachments: Sequence[AttachmentInput] = ()
    unverified: bool = False
    opened_by: str = ""


@dataclass(frozen=True)
class CreatedTicket:
    ticket: Ticket
    message: Message  # its first message


def ticket_draft_clean(draft: TicketDraft) -> TicketDraft:
    """The draft with its input cleaned (subject, body, caller number, version), or
    InvalidInput / TooLarge saying what is wrong with it. No statement."""
    vendor = draft.vendor
    if draft.organization.vendor_id != vendor.pk:
        raise InvalidInput("organisation belongs to another vendor")
    if draft.requester is not None and draft.requester.organization_id != draft.organization.pk:
        raise InvalidInput("requester is not a contact of this organisation")
    if draft.product is not None and draft.product.vendor_id != vendor.pk:
        raise InvalidInput("product belongs to another vendor")
    if draft.queue is not None and draft.queue.vendor_id != vendor.pk:
        raise InvalidInput("queue belongs to another vendor")
    choice_check(draft.priority, Priority, "priority")
    choice_check(draft.channel, Channel, "channel")
    caller_number = draft.caller_number
    if caller_number:
        caller_number = normalize_e164(caller_number, region=vendor.country)
    return replace(
        draft,
        subject=clean_subject(draft.subject),
        body=clean_body(draft.body, html=draft.body_html),
        caller_number=caller_number,
        version=(draft.version or "").strip()[:40],
    )


@transaction.atomic
def ticket_create(
    *,
    principal: Principal | None,
    vendor: Vendor,
    organization: Organization,
    requester: Contact | None,
    subject: str,
    body: str,
    priority: str,
    channel: str,
    now: datetime,
    body_html: str = "",
    queue: Queue | None = None,
    product: Product | None = None,
    version: str = "",
    caller_number: str = "",
    attachments: Sequence[AttachmentInput] = (),
    unverified: bool = False,
) -> Ticket:
    """Open one ticket (see `TicketDraft`): the batch of one, in its own transaction."""
    draft = TicketDraft(
        vendor=vendor, organization=organization, requester=requester, subject=subject,
        body=body, priority=priority, channel=channel, now=now, principal=principal,
        body_html=body_html, queue=queue, product=product, version=version,
        caller_number=caller_number, attachments=attachments, unverified=unverified,
    )  # fmt: skip
    return tickets_create_many(drafts=[draft])[0].ticket


@dataclass(frozen=True)
class _Context:
    queues: list[Queue]  # each draft's
    agents: dict[int, list[Agent]]  # by queue
    acknowledgements: dict[int, tuple[str, str]]  # the vendor's template, by vendor
    routes: dict[int, Route]  # by organisation (E-2)
    sla: SlaCandidates
    # PostgreSQL: each draft's keys of its ticket, message, SLA snapshot, acknowledgement
    keys: list[tuple[int, int, int, int]] | None
    # PostgreSQL: the organisations' contracts (`contracts_branch`), else read with the decision
    contract_rows: list[list[Any]] | None
    # PostgreSQL: the usage reads guessed for a batch of one vendor and their rows
    usage: tuple[UsageReads, UsageRows] | None


def _context(drafts: Sequence[TicketDraft], now: datetime) -> _Context:
    """What the batch needs besides the contracts, in one read (`create_read`): each draft's
    queue (its own, else its vendor's default), the agents of those queues, told of each new
    ticket, with their notification preferences, the vendors' acknowledgement templates (a
    queue is its vendor's), the account teams of the customers (their routes at `now`) and
    the SLA candidates; on PostgreSQL the customers' contracts for the entitlement decision,
    what their caps used when their last creation read it the way this one is guessed to
    (`usage_guess`), and the keys of each draft's ticket, message, SLA snapshot and
    acknowledgement, so their INSERTs read nothing back. Plain SQL: a new ticket needs three
    columns of each agent, not a model walk."""
    ack = MailTemplateKind.ACKNOWLEDGEMENT
    given = sorted({d.queue.pk for d in drafts if d.queue is not None})
    vendors = sorted({d.vendor.pk for d in drafts if d.queue is None})
    vendor_of = {d.organization.pk: d.vendor.pk for d in drafts}
    queue, link = Queue._meta.db_table, Queue.members.through._meta.db_table
    columns = {
        "o1": "q.id", "o2": "m.id", "i1": "q.vendor_id", "i2": "q.team_lead_id", "i3": "u.id",
        "i4": "p.id", "t1": "q.name", "t2": "q.email", "t3": "u.email", "t4": "t.subject",
        "t5": "t.body", "b1": "q.is_default", "b2": "u.is_active", "j1": "p.muted",
        "j2": "p.emailed",
    }  # fmt: skip
    rest = (
        # only table names from the models and placeholders go into the text
        f"FROM {queue} q LEFT JOIN {MailTemplate._meta.db_table} t "  # noqa: S608
        "ON t.vendor_id = q.vendor_id AND t.kind = %s "
        f"LEFT JOIN {link} m ON m.queue_id = q.id "
        f"LEFT JOIN {User._meta.db_table} u ON u.id = m.user_id "
        f"LEFT JOIN {AgentProfile._meta.db_table} p ON p.user_id = u.id "
        f"WHERE q.id IN ({in_placeholders(given)}) "
        f"OR (q.vendor_id IN ({in_placeholders(vendors)}) AND q.id = "
        f"(SELECT d.id FROM {queue} d WHERE d.vendor_id = q.vendor_id "
        "ORDER BY d.is_default DESC, d.id LIMIT 1))"
    )
    keyed = connection.vendor == "postgresql"
    batch_vendors = set(vendor_of.values())
    guess = (
        usage_guess(next(iter(batch_vendors)), sorted(vendor_of))
        if keyed and len(batch_vendors) == 1
        else None
    )
    rows = union_read(
        [
            branch(QUEUE, columns, rest, [ack.value, *given, *vendors]),
            account_team_branch(organisations=sorted(vendor_of), now=now),
            *sla_candidates_branches(
                organisations=sorted(vendor_of), vendors=sorted(set(vendor_of.values()))
            ),
            *(
                [
                    contracts_branch(sorted(vendor_of)),
                    keys_branch([Ticket, Message, TicketSla, OutboxMessage], len(drafts)),
                ]
                if keyed
                else []
            ),
            *(usage_branches(guess) if guess is not None else []),
        ]
    )
    found: dict[int, Queue] = {}
    members: dict[int, list[Agent]] = {}
    templates = {d.vendor.pk: DEFAULTS[ack] for d in drafts}
    for pk, _, vendor_id, lead, user_id, profile_id, name, email, address, *more in rows.get(
        QUEUE, ()
    ):
        subject, body, is_default, active, muted, emailed = more
        if subject is not None:
            templates[vendor_id] = (subject, body)
        if pk not in found:
            found[pk] = Queue(
                id=pk, vendor_id=vendor_id, name=name, email=email,
                is_default=bool(is_default), team_lead_id=lead,
            )  # fmt: skip
            members[pk] = []
        if user_id is None:
            continue
        members[pk].append(
            agent_of_queue(user_id, address, bool(active), (profile_id, muted, emailed))
        )
    defaults: dict[int, Queue] = {}
    for q in sorted(found.values(), key=lambda q: (not q.is_default, q.pk)):
        if q.vendor_id in vendors:  # the vendor's first, among its own and the drafts' queues
            defaults.setdefault(q.vendor_id, q)
    queues = []
    for d in drafts:
        if d.queue is None and d.vendor.pk not in defaults:  # a vendor without any queue yet
            defaults[d.vendor.pk] = default_queue(d.vendor)
            templates[d.vendor.pk] = mail_template_source(vendor_id=d.vendor.pk, kind=ack)
        queues.append(d.queue or defaults[d.vendor.pk])
    for q in queues:
        members.setdefault(q.pk, [])
    routes = account_team_routes(rows.get(ACCOUNT_TEAM, ()), vendor_of=vendor_of, now=now)
    keys = [(r.i1, r.i2, r.i3, r.i4) for r in rows[KEYS]] if keyed else None
    contract_rows = contract_rows_of(rows.get(CONTRACTS, ())) if keyed else None
    usage = (guess, usage_rows_of(rows)) if guess is not None else None
    return _Context(
        queues, members, templates, routes, sla_candidates(rows), keys, contract_rows, usage
    )


def _acknowledgements(
    tickets: Sequence[Ticket],
    drafts: Sequence[TicketDraft],
    sources: dict[int, tuple[str, str]],
    now: datetime,
    keys: Sequence[int] | None,
) -> None:
    """Mail each requester with an address the acknowledgement (T-4 threading headers, the
    vendor's template `sources`): one INSERT into the outbox (delivered after commit), one
    into the Message-ID registry. A new ticket has nobody on CC yet. `keys`: the one
    reserved for each ticket's acknowledgement (its idempotency key names the new ticket,
    so no stored row has it), or None to read them back."""
    kind = MailTemplateKind.ACKNOWLEDGEMENT
    mails: list[OutboxDraft] = []
    mail_keys: list[int] = []
    for i, (ticket, draft) in enumerate(zip(tickets, drafts, strict=True)):
        address = ticket.requester.primary_email if ticket.requester else ""
        if not address:
            continue
        if keys is not None:
            mail_keys.append(keys[i])
        headers = mail_thread_headers(ticket=ticket, automatic=True, opened_by=draft.opened_by)
        threaded_subject = headers.pop("Subject", None) or subject_with_tag(ticket)
        mail = mail_render(
            vendor_id=ticket.vendor_id,
            kind=kind,
            context=mail_context(ticket),
            source=sources[ticket.vendor_id],
        )
        sender = ticket.queue.email or ticket.vendor.support_email
        mails.append(
            OutboxDraft(
                key=f"ticket:{ticket.pk}:received",
                channel="email",
                recipient=address,
                sender=sender,
                subject=requester_subject(ticket, threaded_subject, mail),
                body=mail.body,
                headers=outbox_headers("email", sender, headers),  # its Message-ID, registered
                ticket_id=ticket.pk,
                vendor_id=ticket.vendor_id,
            )
        )
    new = outbox_enqueue_keyed(drafts=mails, now=now, keys=mail_keys if keys is not None else None)
    mail_links_outgoing(
        links=[
            OutgoingLink(m.vendor_id or 0, m.ticket_id or 0, new[m.key], m.headers["Message-ID"])
            for m in mails
            if m.key in new
        ],
        now=now,
    )


def _staff_author(draft: TicketDraft) -> int | None:
    """The agent who filed it on the customer's behalf: the message's author."""
    principal = draft.principal
    return principal.user_id if principal is not None and principal.is_staff else None


def tickets_create_many(*, drafts: Sequence[TicketDraft]) -> list[CreatedTicket]:
    """Open the tickets of `drafts` (T-1, T-6), in order, inside the caller's transaction
    (a transaction of their own outside one); see the module's docstring. Raises what
    `ticket_draft_clean` raises for the first bad draft before any statement, so the
    caller's transaction stays usable."""
    cleaned = [ticket_draft_clean(d) for d in drafts]
    return _write(cleaned) if cleaned else []


@transaction.atomic(savepoint=False)  # the caller's transaction: no savepoint of its own
@inserts_together()  # history, notices, decisions, clocks, links: sent as one, before commit
def _write(drafts: list[TicketDraft]) -> list[CreatedTicket]:
    now = max(d.now for d in drafts)  # the batch's write time: routing, decisions, SLA
    context = _context(drafts, now)
    queues, members = context.queues, context.agents
    routes = context.routes  # E-2: to the DSE (or the backup) first
    keys = context.keys  # known beforehand: the INSERTs read nothing back and are held
    tickets = bulk_insert(
        [
            unsaved(
                Ticket,
                id=keys[i][0] if keys else None,
                vendor=d.vendor,
                organization=d.organization,
                requester=d.requester,
                caller_number=d.caller_number,
                subject=d.subject,
                channel=d.channel,
                priority=d.priority,
                queue=queue,
                assignee=route.assignee if (route := routes.get(d.organization.pk)) else None,
                product=d.product,
                version=d.version,
                created_at=d.now,
                updated_at=d.now,
                unverified=d.unverified,
            )
            for i, (d, queue) in enumerate(zip(drafts, queues, strict=True))
        ],
        returning=keys is None,
    )
    messages = bulk_insert(
        [
            unsaved(
                Message,
                id=keys[i][1] if keys else None,
                ticket=ticket,
                kind=MessageKind.PUBLIC,
                author_user_id=_staff_author(d),
                author_contact=None if d.principal and d.principal.is_staff else d.requester,
                body_text=d.body,
                body_html=sanitize_html(d.body_html),
                channel=d.channel,
                created_at=d.now,
                unverified=d.unverified,
            )
            for i, (d, ticket) in enumerate(zip(drafts, tickets, strict=True))
        ],
        returning=keys is None,
    )
    attachments_store(
        [(m, item, d.now) for d, m in zip(drafts, messages, strict=True) for item in d.attachments]
    )
    requesters = [t.requester for t in tickets if t.requester is not None]
    contacts_emails_prefetch(requesters)  # the search documents and the mail
    ticket_search_index_new(
        documents=[
            (t, [d.body, *(attachment_filename(a) for a in d.attachments)])
            for t, d in zip(tickets, drafts, strict=True)
        ]
    )
    events: dict[int, list[TicketEvent]] = {}
    notices: list[AgentNotice] = []
    for ticket, d, queue in zip(tickets, drafts, queues, strict=True):
        actor_id = d.principal.user_id if d.principal else None
        events[ticket.pk] = [
            ticket_event_build(
                ticket_id=ticket.pk,
                kind=TicketEventKind.CREATED,
                at=d.now,
                actor_id=actor_id,
                data={"channel": d.channel, "priority": d.priority, "queue": queue.name},
            )
        ]
        route = routes.get(d.organization.pk)
        if route is not None:
            event, notice = route_recorded(ticket=ticket, route=route, now=d.now, actor_id=actor_id)
            events[ticket.pk].append(event)
            notices.append(notice)
        notices.append(
            AgentNotice(
                ticket=ticket,
                kind=AgentNotificationKind.NEW_TICKET,
                users=members[queue.pk],
                text=f"New {d.priority} ticket in {queue.name}: {d.subject}",
                actor_id=actor_id,
            )
        )
    agent_notify_many(notices=notices, now=now)
    decisions = entitlements_decide_new(  # E-4..E-8: at intake
        tickets=tickets, now=now, contract_rows=context.contract_rows, usage_read=context.usage
    )
    started = sla_tickets_start(
        tickets=tickets,
        decisions=decisions,
        candidates=context.sla,
        now=now,
        keys=[k[2] for k in keys] if keys else None,
    )
    for event in started:
        events[event.ticket_id].append(event)
    ticket_events_record(events=[e for t in tickets for e in events[t.pk]])
    _acknowledgements(
        tickets, drafts, context.acknowledgements, now, [k[3] for k in keys] if keys else None
    )
    return [CreatedTicket(t, m) for t, m in zip(tickets, messages, strict=True)]
