"""Provider webhooks (O-2, O-4, O-5): Twilio-signed voice and SMS callbacks, and the signed
acknowledgement link of page emails. Thin: verify, parse, call one service, answer TwiML."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.core.errors import DomainError, NotFound
from supportdesk.core.links import absolute_url
from supportdesk.core.models import Provider, Vendor
from supportdesk.core.selectors import provider_credential_get
from supportdesk.oncall.models import ChainRun, EmergencyMenu
from supportdesk.oncall.services import acknowledgements, emergencies, paging, schedules
from supportdesk.oncall.signature import twilio_signature_valid

View = Callable[..., HttpResponse]


def _text(detail: str, status: int) -> HttpResponse:
    return HttpResponse(detail + "\n", status=status, content_type="text/plain; charset=utf-8")


def twiml(body: str) -> HttpResponse:
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Response>{body}</Response>',
        content_type="text/xml; charset=utf-8",
    )


def signed_url(request: HttpRequest) -> str:
    """The URL the provider signed: PUBLIC_BASE_URL + path when set (behind a proxy)."""
    return absolute_url(request.get_full_path(), request=request)


def _signing_token(request: HttpRequest) -> tuple[str, int | None]:
    """The token the provider signed with, and the vendor whose own account it is: the
    vendor's (Console -> Settings -> Providers) when the vendor named by ?vendor= or owning the
    dialled number has one, else TWILIO_AUTH_TOKEN and None."""
    vendor = _vendor(request, required=False)
    try:
        own = provider_credential_get(
            vendor_id=vendor.pk if vendor else None, provider=Provider.TWILIO
        )
    except DomainError:  # a token no configured key opens: nothing can be verified with it
        return "", None
    if own is not None and vendor is not None:
        return own.secret, vendor.pk
    return settings.TWILIO_AUTH_TOKEN, None


def twilio_signed(view: View) -> View:
    """POST only, with a valid X-Twilio-Signature (else 403); domain errors become 4xx text."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return _text("provider webhooks are POST requests", 405)
        params = [(k, v) for k, values in request.POST.lists() for v in values]
        token, request.signed_for_vendor_id = _signing_token(request)  # type: ignore[attr-defined]
        if not twilio_signature_valid(
            token=token,
            url=signed_url(request),
            params=params,
            signature=request.headers.get("X-Twilio-Signature"),
        ):
            return _text("invalid or missing X-Twilio-Signature", 403)
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return _text(exc.detail, exc.status)

    return wrapped


def _vendor(request: HttpRequest, *, required: bool = True) -> Vendor | None:
    slug = request.GET.get("vendor")
    if slug:
        vendor = Vendor.objects.filter(slug=slug).first()
    else:
        vendor = emergencies.vendor_for_number(request.POST.get("To", ""))
    if vendor is None and required:
        raise NotFound(
            "no vendor owns this number: add ?vendor=<slug> to the webhook URL or list the "
            "number in the vendor's on-call set-up"
        )
    return vendor


def _q(request: HttpRequest) -> str:
    slug = request.GET.get("vendor")
    return "?" + urlencode({"vendor": slug}) if slug else ""


def _in_hours(vendor: Vendor) -> tuple[str, bool]:
    """The number calls are put through to, and whether the line is in business hours."""
    config = schedules.config_for(vendor)
    number = config.helpdesk_number or vendor.support_phone
    return number, bool(number) and schedules.business_calendar(config).is_open(clock.now())


def _email_hint(vendor: Vendor) -> str:
    email = vendor.support_email
    return f" For anything else, please email {email}." if email else ""


@twilio_signed
def voice_incoming(request: HttpRequest) -> HttpResponse:
    """A call to the helpdesk number. The emergency option (press 5) is offered as the
    vendor's phone plan says (`OnCallConfig.emergency_menu`): after hours only (seed 001),
    always (in hours a caller who presses nothing is put through), or never."""
    vendor = _vendor(request)
    assert vendor is not None
    menu = schedules.config_for(vendor).emergency_menu
    number, in_hours = _in_hours(vendor)
    dial = f"<Dial>{escape(number)}</Dial>" if number else ""
    if in_hours and menu != EmergencyMenu.ALWAYS:
        return twiml(dial)
    if menu == EmergencyMenu.NEVER:
        say = escape(f"You have reached {vendor.name}. Our office is closed.{_email_hint(vendor)}")
        return twiml(f"<Say>{say}</Say><Hangup/>")
    action = quoteattr(f"/hooks/voice/menu{_q(request)}")
    if in_hours:
        say = escape(
            f"You have reached {vendor.name}. If this is an emergency, press 5 to reach the "
            "on-call engineer. Otherwise, stay on the line."
        )
        return twiml(
            f'<Gather numDigits="1" action={action} method="POST" timeout="5"><Say>{say}</Say>'
            f"</Gather>{dial}"
        )
    say = escape(
        f"You have reached {vendor.name}. Our office is closed. "
        f"If this is an emergency, press 5 to reach the on-call engineer.{_email_hint(vendor)}"
    )
    return twiml(
        f'<Gather numDigits="1" action={action} method="POST" timeout="8"><Say>{say}</Say>'
        "</Gather><Say>Goodbye.</Say><Hangup/>"
    )


@twilio_signed
def voice_menu(request: HttpRequest) -> HttpResponse:
    """The caller's key press: 5 records an emergency voicemail (the only way to page, O-2).
    If the caller records nothing, the call still reaches the voicemail hook (no recording):
    the emergency is logged and pages, saying so."""
    vendor = _vendor(request)
    assert vendor is not None
    if schedules.config_for(vendor).emergency_menu == EmergencyMenu.NEVER:
        return twiml(f"<Say>{escape(_email_hint(vendor).strip() or 'Goodbye.')}</Say><Hangup/>")
    if request.POST.get("Digits", "").strip() != "5":
        number, in_hours = _in_hours(vendor)
        if in_hours:
            return twiml(f"<Dial>{escape(number)}</Dial>")
        email = vendor.support_email or "our support address"
        return twiml(f"<Say>{escape(f'Please email {email}. Goodbye.')}</Say><Hangup/>")
    hook = quoteattr("/hooks/voice/voicemail" + _q(request))
    return twiml(
        "<Say>Please leave your name, company and a number we can call you back on, then "
        "press the pound key. The on-call engineer is notified when you finish.</Say>"
        f'<Record action={hook} method="POST" maxLength="300" finishOnKey="#" '
        f'transcribe="true" transcribeCallback={hook}/>'
        f'<Redirect method="POST">{escape("/hooks/voice/voicemail" + _q(request))}</Redirect>'
    )


def _int(value: str) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


@twilio_signed
def voicemail(request: HttpRequest) -> HttpResponse:
    """The recorded voicemail (and its later transcription): P1 ticket + emergency chain."""
    vendor = _vendor(request)
    assert vendor is not None
    emergencies.voicemail_receive(
        vendor=vendor,
        call_sid=request.POST.get("CallSid", ""),
        from_number=request.POST.get("From", ""),
        recording_url=request.POST.get("RecordingUrl", ""),
        duration_seconds=_int(request.POST.get("RecordingDuration", "0")),
        transcript=request.POST.get("TranscriptionText", ""),
        now=clock.now(),
    )
    if not request.POST.get("RecordingUrl"):
        return twiml(
            "<Say>We did not receive a message, but the on-call engineer has been notified "
            "and will call you back on this number. Goodbye.</Say><Hangup/>"
        )
    return twiml("<Say>Thank you. The on-call engineer has been notified. Goodbye.</Say><Hangup/>")


@twilio_signed
def sms_inbound(request: HttpRequest) -> HttpResponse:
    """An SMS to the provider number: `ACK <code>` acknowledges the page (O-4)."""
    reply = acknowledgements.sms_inbound(
        vendor=_vendor(request, required=False),
        from_number=request.POST.get("From", ""),
        body=request.POST.get("Body", ""),
        now=clock.now(),
    )
    return twiml(f"<Message>{escape(reply)}</Message>")


@twilio_signed
def sms_status(request: HttpRequest) -> HttpResponse:
    """Delivery-status callback of an SMS or call we sent."""
    paging.delivery_status_update(
        # a vendor's own account speaks only for that vendor's messages
        vendor_id=request.signed_for_vendor_id,  # type: ignore[attr-defined]
        message_sid=request.POST.get("MessageSid") or request.POST.get("CallSid", ""),
        status=request.POST.get("MessageStatus") or request.POST.get("CallStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
        now=clock.now(),
    )
    return HttpResponse(status=204)


@csrf_exempt  # the signed token is the credential; GET only shows, POST acknowledges
def ack_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        run_id, user_id = acknowledgements.ack_token_read(token)
        run = ChainRun.objects.select_related("ticket").filter(pk=run_id).first()
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if run is None or user is None:
            raise NotFound("this page no longer exists")
        counted = None
        if request.method == "POST":
            run, counted = acknowledgements.run_acknowledge(
                run=run, user=user, via="link", now=clock.now()
            )
    except DomainError as exc:
        return render(
            request, "error.html", {"status": exc.status, "detail": exc.detail}, status=exc.status
        )
    return render(request, "oncall/ack.html", {"run": run, "pagee": user, "counted": counted})
