"""Emergencies: voicemail (O-2) and an explicit phone escalation (O-3)."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q

from supportdesk.accounts.models import User
from supportdesk.core.errors import Conflict, InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.phones import normalize_e164
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.customers.models import Contact, Organization
from supportdesk.customers.selectors import contact_find_by_phone
from supportdesk.oncall.models import (
    ChainRun,
    OnCallConfig,
    RunReason,
    Voicemail,
)
from supportdesk.oncall.selectors import page_refusal
from supportdesk.oncall.services.paging import run_start
from supportdesk.oncall.services.schedules import config_for
from supportdesk.tickets.events import ticket_event_record
from supportdesk.tickets.models import (
    Channel,
    Message,
    MessageKind,
    Priority,
    Ticket,
    TicketEventKind,
)
from supportdesk.tickets.services import message_add, message_body_replace, ticket_create

UNIDENTIFIED_ORG_NAME = "Unidentified callers"


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


NO_RECORDING = (
    "Recording: NONE - the caller chose the emergency option but no message was recorded."
)
TRANSCRIPT_HEAD = "Transcript:"
NO_TRANSCRIPT = "(no transcript yet: it is added here when the provider sends it)"


def _transcript_add(voicemail: Voicemail, transcript: str, now: datetime) -> None:
    """A transcript that arrives after the recording goes into the ticket's first message
    (where the recording is) and the history."""
    first = Message.objects.filter(ticket_id=voicemail.ticket_id).order_by("created_at", "pk")
    message_id = first.values_list("pk", flat=True).first()
    if message_id is not None:
        message_body_replace(
            message_id=message_id,
            old=f"{TRANSCRIPT_HEAD}\n{NO_TRANSCRIPT}",
            new=f"{TRANSCRIPT_HEAD}\n{transcript}",
            now=now,
        )
    ticket_event_record(
        ticket_id=voicemail.ticket_id,
        kind=TicketEventKind.VOICEMAIL_TRANSCRIBED,
        at=now,
        data={"transcript": transcript},
    )


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
                    _transcript_add(existing, transcript, now)
        return existing, False
    try:
        number = normalize_e164(from_number, region=vendor.country)
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
            f"Recording: {recording_url} ({duration_seconds} s)" if recording_url else NO_RECORDING,
            "",
            TRANSCRIPT_HEAD,
            transcript or NO_TRANSCRIPT,
        ]
    )
    try:
        with transaction.atomic():
            ticket = ticket_create(
                principal=None,
                vendor=vendor,
                organization=organization,
                requester=contact,
                subject=f"Emergency voicemail from {who} ({number or 'withheld number'})"
                + ("" if recording_url else " - no recording"),
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
            ticket_event_record(
                ticket_id=ticket.pk,
                kind=TicketEventKind.VOICEMAIL_RECEIVED,
                at=now,
                data={
                    "call_sid": call_sid,
                    "identified": contact is not None,
                    "recording_url": recording_url,
                },
            )
            chain = config_for(vendor).emergency_chain
            if chain is None:
                ticket_event_record(
                    ticket_id=ticket.pk,
                    kind=TicketEventKind.ONCALL_NOT_CONFIGURED,
                    at=now,
                    data={"why": "no emergency chain set up"},
                )
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


def _escalation_call_log(
    *, ticket: Ticket, principal: Principal, caller: str, reason: str, vendor: Vendor, now: datetime
) -> tuple[Contact, str]:
    """Log an identified contact's escalation call on `ticket` (an internal phone note) and
    return the caller and number. Refused unless the number belongs to a contact of the
    ticket's customer: an unidentified caller never pages (O-3)."""
    try:
        number = normalize_e164(caller, region=vendor.country)
    except InvalidInput as exc:
        raise InvalidInput(f"caller: {exc.detail}", code="invalid_caller") from exc
    contact = contact_find_by_phone(vendor_id=vendor.pk, number=number)
    if contact is None or contact.organization_id != ticket.organization_id:
        raise InvalidInput(
            f"{number} is not the number of an identified contact of "
            f"{ticket.organization.name}: only their own call can page (O-3)",
            code="unidentified_caller",
        )
    message_add(
        ticket=ticket,
        principal=principal,
        body=f"Phone call from {contact.name} ({number}) asking to escalate: {reason}",
        kind=MessageKind.INTERNAL,
        channel=Channel.PHONE,
        now=now,
    )
    return contact, number


@transaction.atomic
def ticket_page(
    *, ticket: Ticket, principal: Principal, reason: str, now: datetime, caller: str = ""
) -> ChainRun:
    """An agent escalates a phone request from an identified contact into the emergency chain
    (O-3). Email, portal and unidentified callers never page anybody.

    `caller`: the number an identified contact is phoning from to escalate this (say,
    emailed) ticket. The call is logged on the ticket and is the run's reason, so the page is
    about the ticket the customer is calling about (seed 001)."""
    require_staff_of(principal, ticket.vendor_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("say why this is an emergency (reason)")
    caller = (caller or "").strip()
    refusal = page_refusal(ticket)
    if refusal is not None and not (caller and refusal.code == "not_a_phone_request"):
        raise InvalidInput(refusal.detail, code=refusal.code)
    ticket = Ticket.objects.select_for_update().select_related("organization").get(pk=ticket.pk)
    if ChainRun.objects.filter(
        ticket=ticket, acknowledged_at__isnull=True, ends_at__gt=now
    ).exists():
        raise Conflict(f"ticket #{ticket.pk} is already paging", code="already_paging")
    vendor = Vendor.objects.get(pk=ticket.vendor_id)
    chain = config_for(vendor).emergency_chain
    if chain is None:
        raise InvalidInput("no emergency chain is set up for this vendor", code="no_chain")
    context = {
        "caller_number": ticket.caller_number,
        "organisation": ticket.organization.name,
        "reason": reason,
        "timezone": vendor.timezone,
    }
    if caller:
        contact, number = _escalation_call_log(
            ticket=ticket, principal=principal, caller=caller, reason=reason, vendor=vendor,
            now=now,
        )  # fmt: skip
        context |= {
            "caller_number": number,
            "caller": contact.name,
            "reason": f"{contact.name} phoned to escalate: {reason}",
        }
    return run_start(
        ticket=ticket,
        chain=chain,
        reason=RunReason.PHONE,
        context=context,
        now=now,
        started_by=User.objects.get(pk=principal.user_id),
    )
