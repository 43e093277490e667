"""On-call API (O-1, O-4): schedules, who is on call, the iCalendar feed, runs, acks, paging."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from pydantic import Field

from supportdesk.api.common import ERRORS, principal_of
from supportdesk.api.schemas import Id
from supportdesk.core import clock
from supportdesk.core.errors import NotFound
from supportdesk.core.links import absolute_url
from supportdesk.oncall import feed_tokens, selectors
from supportdesk.oncall.domain.ical import schedule_to_ics
from supportdesk.oncall.models import ChainRun, Schedule
from supportdesk.oncall.services.acknowledgements import run_acknowledge_by_staff
from supportdesk.oncall.services.emergencies import ticket_page
from supportdesk.tickets import selectors as ticket_selectors

router = Router(tags=["oncall"])
FEED_PAST = timedelta(days=14)
FEED_FUTURE = timedelta(days=90)


class ScheduleOut(Schema):
    id: int
    slug: str
    name: str
    on_call_now: list[str]
    next_change_at: datetime | None
    on_call_next: list[str]
    ics_url: str


class PageOut(Schema):
    id: int
    recipient: str
    channel: str
    round: int
    due_at: datetime
    status: str
    delivery: str


class RunOut(Schema):
    id: int
    ticket: int
    chain: str
    reason: str
    started_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledged_via: str
    pages: list[PageOut]


class PageIn(Schema):
    reason: Annotated[str, Field(max_length=2000)]
    caller: Annotated[str, Field(max_length=40)] = Field(
        "",
        description="The number an identified contact of the ticket's customer is phoning from "
        "to escalate this (e.g. emailed) ticket: the call is logged on the ticket (O-3).",
    )


def _schedule_out(row: Any, now: datetime) -> dict[str, Any]:
    info = selectors.schedule_now(schedule=row, at=now)
    return {
        "id": row.pk,
        "slug": row.slug,
        "name": row.name,
        "on_call_now": info.now,
        "next_change_at": info.next_at,
        "on_call_next": info.next,
        "ics_url": f"/api/v1/oncall/schedules/{row.pk}.ics",
    }


def run_out(run: ChainRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "ticket": run.ticket_id,
        "chain": run.chain_name,
        "reason": run.reason,
        "started_at": run.started_at,
        "acknowledged_at": run.acknowledged_at,
        "acknowledged_by": run.acknowledged_by.name if run.acknowledged_by else None,
        "acknowledged_via": run.acknowledged_via,
        "pages": [
            {
                "id": p.pk,
                "recipient": p.recipient.name,
                "channel": p.channel,
                "round": p.round,
                "due_at": p.due_at,
                "status": p.status,
                "delivery": p.delivery_status or (p.outbox.status if p.outbox else ""),
            }
            for p in run.pages.all()
        ],
    }


@router.get("/oncall/schedules", response={200: list[ScheduleOut], **ERRORS})
def list_schedules(request: HttpRequest) -> Any:
    now = clock.now()
    return [_schedule_out(s, now) for s in selectors.schedule_list(principal=principal_of(request))]


@router.get("/oncall/schedules/{int:schedule_id}", response={200: ScheduleOut, **ERRORS})
def get_schedule(request: HttpRequest, schedule_id: int) -> Any:
    row = selectors.schedule_get(principal=principal_of(request), schedule_id=schedule_id)
    return _schedule_out(row, clock.now())


def _feed(request: HttpRequest, row: Schedule) -> HttpResponse:
    """The schedule as an RFC 5545 calendar: shifts from 14 days ago to 90 days ahead."""
    now = clock.now()
    body = schedule_to_ics(
        selectors.domain_schedule(row),
        name=row.name,
        start=now - FEED_PAST,
        end=now + FEED_FUTURE,
        uid_domain=request.get_host().split(":")[0] or "supportdesk.localhost",
        dtstamp=now.replace(microsecond=0),
        labels=selectors.staff_labels(row.vendor_id),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{row.slug}.ics"'
    return response


@router.get("/oncall/schedules/{int:schedule_id}.ics", response={200: None, **ERRORS})
def schedule_feed(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """The iCalendar feed for a logged-in staff member or a bearer token."""
    row = selectors.schedule_get(principal=principal_of(request), schedule_id=schedule_id)
    return _feed(request, row)


@router.get(
    "/oncall/feeds/{token}/{int:schedule_id}.ics", auth=None, response={200: None, **ERRORS}
)
def schedule_feed_by_link(request: HttpRequest, token: str, schedule_id: int) -> HttpResponse:
    """The iCalendar feed for calendar apps, which cannot log in: the secret link of a staff
    member of the schedule's vendor (`POST /oncall/feed-token`). A wrong or revoked link: 404."""
    row = feed_tokens.feed_schedule(raw=token, schedule_id=schedule_id, now=clock.now())
    return _feed(request, row)


class FeedOut(Schema):
    schedule: int
    name: str
    url: str


class FeedTokenOut(Schema):
    token: str
    feeds: list[FeedOut]


class RevokedOut(Schema):
    revoked: int


def feed_url(request: HttpRequest, *, token: str, schedule_id: int) -> str:
    path = f"/api/v1/oncall/feeds/{token}/{schedule_id}.ics"
    return absolute_url(path, request=request)


@router.post("/oncall/feed-token", response={201: FeedTokenOut, **ERRORS})
def create_feed_token(request: HttpRequest) -> Any:
    """Issue your calendar subscription link (shown once; an earlier one stops working)."""
    principal = principal_of(request)
    token = feed_tokens.feed_token_create(principal=principal, now=clock.now())
    feeds = [
        {"schedule": s.pk, "name": s.name, "url": feed_url(request, token=token, schedule_id=s.pk)}
        for s in selectors.schedule_list(principal=principal)
    ]
    return Status(201, {"token": token, "feeds": feeds})


@router.delete("/oncall/feed-token", response={200: RevokedOut, **ERRORS})
def revoke_feed_token(request: HttpRequest) -> Any:
    """Revoke your calendar subscription link: subscribed calendars get 404 from now on."""
    revoked = feed_tokens.feed_token_revoke(principal=principal_of(request), now=clock.now())
    return {"revoked": revoked}


@router.get("/oncall/runs", response={200: list[RunOut], **ERRORS})
def list_runs(
    request: HttpRequest,
    ticket: Id | None = None,
    limit: Annotated[int, Field(ge=1, le=200)] = 50,
) -> Any:
    runs = selectors.run_list(principal=principal_of(request), ticket_id=ticket)
    return [run_out(r) for r in runs[: max(1, min(limit, 200))]]


@router.get("/oncall/runs/{int:run_id}", response={200: RunOut, **ERRORS})
def get_run(request: HttpRequest, run_id: int) -> Any:
    return run_out(selectors.run_get(principal=principal_of(request), run_id=run_id))


@router.post("/oncall/runs/{int:run_id}/ack", response={200: RunOut, **ERRORS})
def ack_run(request: HttpRequest, run_id: int) -> Any:
    principal = principal_of(request)
    run = selectors.run_get(principal=principal, run_id=run_id)
    run_acknowledge_by_staff(run=run, principal=principal, now=clock.now())
    return run_out(selectors.run_get(principal=principal, run_id=run_id))


@router.post("/tickets/{int:ref}/page", response={201: RunOut, **ERRORS})
def page_ticket(request: HttpRequest, ref: int, payload: PageIn) -> Any:
    """Escalate a phone request from an identified contact into the emergency chain (O-3);
    with `caller`, the contact's escalation call about this ticket is logged on it first."""
    principal = principal_of(request)
    if principal.is_contact:
        raise NotFound(f"ticket {ref} not found")
    ticket = ticket_selectors.ticket_get(principal=principal, ref=ref)
    run = ticket_page(
        ticket=ticket,
        principal=principal,
        reason=payload.reason,
        caller=payload.caller,
        now=clock.now(),
    )
    return Status(201, run_out(selectors.run_get(principal=principal, run_id=run.pk)))
