"""Vendor settings in the console for the vendor's admins (issue 11.2): profile, staff,
mail templates with a preview, CSV imports. Every change goes through a service that writes a
vendor event (core.audit)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import datetime, time, timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from supportdesk.accounts.models import Absence, Role, User
from supportdesk.accounts.services import (
    absence_add,
    absence_remove,
    staff_deactivate,
    staff_invite,
    staff_roles_set,
)
from supportdesk.core import clock
from supportdesk.core.errors import Forbidden, InvalidInput, NotFound
from supportdesk.core.models import Vendor, VendorEvent
from supportdesk.core.web import int_param, staff_page
from supportdesk.notifications import services as mail_services
from supportdesk.notifications.mail_templates import (
    VARIABLES,
    Kind,
    RenderedMail,
    mail_preview,
    mail_template_source,
)
from supportdesk.onboarding.services import (
    PROFILE_FIELDS,
    vendor_calendar_save,
    vendor_policy_save,
    vendor_profile_update,
)
from supportdesk.onboarding.services_imports import IMPORTERS, import_csv
from supportdesk.sla.models import Calendar, SlaPolicy
from supportdesk.tickets.models import Queue
from supportdesk.tickets.services_queues import queue_save

View = Callable[..., HttpResponse]
IMPORT_MAX_BYTES = 20 * 1024 * 1024


def vendor_admin_page(view: View) -> View:
    """Staff pages that only the vendor's admins may open; the vendor is the admin's own."""

    @staff_page
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        principal = request.principal  # type: ignore[attr-defined]
        if principal.vendor_id is None or not principal.has_role("admin"):
            raise Forbidden("vendor settings are for the vendor's admins")
        request.vendor = Vendor.objects.get(pk=principal.vendor_id)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Vendor
        fields = list(PROFILE_FIELDS)


@vendor_admin_page
def settings_home(request: HttpRequest) -> HttpResponse:
    vendor = request.vendor  # type: ignore[attr-defined]
    form = ProfileForm(request.POST or None, instance=Vendor.objects.get(pk=vendor.pk))
    if request.method == "POST":
        changes: dict[str, Any] = {k: request.POST.get(k, "") for k in PROFILE_FIELDS}
        changes["self_signup"] = request.POST.get("self_signup") == "on"
        changed = vendor_profile_update(
            vendor=vendor,
            principal=request.principal,
            changes=changes,
            now=clock.now(),  # type: ignore[attr-defined]
        )
        messages.success(request, f"Saved: {', '.join(changed)}." if changed else "No change.")
        return redirect("console:settings:home")
    events = VendorEvent.objects.filter(vendor=vendor).order_by("-pk")
    return render(
        request,
        "onboarding/settings_home.html",
        {"vendor": vendor, "form": form, "events": events[:30], "tab": "profile"},
    )


class AbsenceForm(forms.Form):
    first_day = forms.DateField()
    last_day = forms.DateField()
    reason = forms.CharField(required=False, max_length=200)


class InviteForm(forms.Form):
    email = forms.EmailField()
    display_name = forms.CharField(required=False, max_length=200, label="Name")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.AGENT)


@vendor_admin_page
def staff(request: HttpRequest) -> HttpResponse:
    vendor = request.vendor  # type: ignore[attr-defined]
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            raise InvalidInput("; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        user = staff_invite(
            vendor=vendor, email=form.cleaned_data["email"], roles=[form.cleaned_data["role"]],
            display_name=form.cleaned_data["display_name"],
            principal=request.principal, now=clock.now(),  # type: ignore[attr-defined]
        )  # fmt: skip
        messages.success(request, f"Invitation mailed to {user.email}.")
        return redirect("console:settings:staff")
    upcoming = Absence.objects.filter(ends_at__gt=clock.now()).order_by("starts_at")
    people = (
        User.objects.filter(vendor=vendor, is_staff=True)
        .prefetch_related(
            "roles", Prefetch("absences", queryset=upcoming, to_attr="upcoming_absences")
        )
        .order_by("email")
    )
    return render(
        request,
        "onboarding/settings_staff.html",
        {"people": people, "form": form, "roles": Role.choices, "tab": "staff"},
    )


def _staff_member(request: HttpRequest, user_id: int) -> User:
    user = User.objects.filter(pk=user_id, vendor=request.vendor, is_staff=True).first()  # type: ignore[attr-defined]
    if user is None:
        raise NotFound(f"staff member {user_id} not found")
    return user


@require_POST
@vendor_admin_page
def staff_action(request: HttpRequest, user_id: int, action: str) -> HttpResponse:
    user = _staff_member(request, user_id)
    principal, now = request.principal, clock.now()  # type: ignore[attr-defined]
    if action == "deactivate":
        staff_deactivate(user=user, principal=principal, now=now)
        messages.success(request, f"{user.email} can no longer sign in.")
    elif action == "roles":
        staff_roles_set(
            user=user, roles=request.POST.getlist("roles"), principal=principal, now=now
        )
        messages.success(request, f"Roles of {user.email} saved.")
    elif action == "absence":
        form = AbsenceForm(request.POST)
        if not form.is_valid():
            raise InvalidInput("; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        zone = ZoneInfo(request.vendor.timezone)  # type: ignore[attr-defined]
        first, last = form.cleaned_data["first_day"], form.cleaned_data["last_day"]
        absence_add(
            user=user, principal=principal, now=now, reason=form.cleaned_data["reason"],
            starts_at=datetime.combine(first, time.min, tzinfo=zone),
            ends_at=datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
        )  # fmt: skip
        messages.success(request, f"{user.email} is away {first} to {last}.")
    elif action == "absence-remove":
        absence = Absence.objects.filter(
            pk=int_param(request.POST.get("absence")) or 0, user=user
        ).first()
        if absence is None:
            raise NotFound("absence not found")
        absence_remove(absence=absence, principal=principal, now=now)
    else:
        raise NotFound(f"unknown action {action!r}")
    return redirect("console:settings:staff")


@vendor_admin_page
def queues(request: HttpRequest) -> HttpResponse:
    """Queues with their address, default flag and members; one form per queue and a new one."""
    vendor = request.vendor  # type: ignore[attr-defined]
    if request.method == "POST":
        queue_id = int_param(request.POST.get("queue"))
        queue = Queue.objects.filter(pk=queue_id, vendor=vendor).first() if queue_id else None
        if queue_id and queue is None:
            raise NotFound(f"queue {queue_id} not found")
        saved = queue_save(
            vendor=vendor, principal=request.principal, now=clock.now(),  # type: ignore[attr-defined]
            name=request.POST.get("name", ""), email=request.POST.get("email", ""),
            is_default=request.POST.get("is_default") == "on",
            member_ids=[i for i in map(int_param, request.POST.getlist("members")) if i],
            queue=queue,
        )  # fmt: skip
        messages.success(request, f"Queue {saved.name} saved.")
        return redirect("console:settings:queues")
    rows = Queue.objects.filter(vendor=vendor).prefetch_related("members").order_by("name")
    staff_members = User.objects.filter(vendor=vendor, is_staff=True, is_active=True).order_by(
        "email"
    )
    context = {
        "queues": [(q, {m.pk for m in q.members.all()}) for q in rows],
        "staff": staff_members,
        "tab": "queues",
    }
    return render(request, "onboarding/settings_queues.html", context)


@vendor_admin_page
def response_targets(request: HttpRequest) -> HttpResponse:
    """Business calendars and response-target policies as their JSON specs (docs/sla.md)."""
    vendor = request.vendor  # type: ignore[attr-defined]
    if request.method == "POST":
        principal, now = request.principal, clock.now()  # type: ignore[attr-defined]
        if request.POST.get("what") == "calendar":
            row: Any = vendor_calendar_save(
                vendor=vendor, principal=principal, now=now,
                name=request.POST.get("name", ""), spec_json=request.POST.get("spec", ""),
            )  # fmt: skip
        else:
            row = vendor_policy_save(
                vendor=vendor, principal=principal, now=now,
                spec_json=request.POST.get("spec", ""),
                is_default=request.POST.get("is_default") == "on",
            )  # fmt: skip
        messages.success(request, f"{row.name} saved.")
        return redirect("console:settings:targets")
    context = {
        "calendars": [
            (c, json.dumps(c.spec, indent=2))
            for c in Calendar.objects.filter(vendor=vendor).order_by("name")
        ],
        "policies": [
            (p, json.dumps(p.spec, indent=2))
            for p in SlaPolicy.objects.filter(vendor=vendor).order_by("-is_default", "name")
        ],
        "tab": "targets",
    }
    return render(request, "onboarding/settings_targets.html", context)


@vendor_admin_page
def mail_templates(request: HttpRequest) -> HttpResponse:
    vendor = request.vendor  # type: ignore[attr-defined]
    own = set(
        mail_services.MailTemplate.objects.filter(vendor=vendor).values_list("kind", flat=True)
    )
    rows = [(kind, label, kind in own) for kind, label in Kind.choices]
    return render(request, "onboarding/settings_mail.html", {"rows": rows, "tab": "mail"})


@vendor_admin_page
def mail_template_edit(request: HttpRequest, kind: str) -> HttpResponse:
    vendor = request.vendor  # type: ignore[attr-defined]
    if kind not in VARIABLES:
        raise NotFound(f"no mail template {kind!r}")
    subject, body = mail_template_source(vendor_id=vendor.pk, kind=kind)
    preview: RenderedMail | None = None
    error = ""
    if request.method == "POST":
        subject, body = request.POST.get("subject", ""), request.POST.get("body", "")
        action = request.POST.get("action", "preview")
        principal, now = request.principal, clock.now()  # type: ignore[attr-defined]
        try:
            if action == "save":
                mail_services.mail_template_save(
                    vendor=vendor, kind=kind, subject=subject, body=body,
                    principal=principal, now=now,
                )  # fmt: skip
                messages.success(request, "Template saved.")
                return redirect("console:settings:mail-edit", kind=kind)
            if action == "reset":
                mail_services.mail_template_reset(
                    vendor=vendor, kind=kind, principal=principal, now=now
                )
                messages.success(request, "Back to the built-in text.")
                return redirect("console:settings:mail-edit", kind=kind)
            preview = mail_preview(kind=kind, subject=subject, body=body)
        except InvalidInput as exc:
            error = exc.detail
    else:
        preview = mail_preview(kind=kind, subject=subject, body=body)
    context = {
        "kind": kind,
        "label": Kind(kind).label,
        "subject": subject,
        "body": body,
        "preview": preview,
        "error": error,
        "variables": sorted(VARIABLES[kind]),
        "tab": "mail",
    }
    return render(
        request, "onboarding/settings_mail_edit.html", context, status=400 if error else 200
    )


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, k) for k in IMPORTERS])
    file = forms.FileField()
    dry_run = forms.BooleanField(required=False, initial=True, label="Dry run (save nothing)")


@vendor_admin_page
def import_upload(request: HttpRequest) -> HttpResponse:
    """The CSV import as an upload (A-4): the same service and report as the command."""
    vendor = request.vendor  # type: ignore[attr-defined]
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST":
        if not form.is_valid():
            raise InvalidInput("; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        upload = form.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise InvalidInput(f"the file is larger than {IMPORT_MAX_BYTES // 2**20} MB")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("the file is not UTF-8 text (save it as CSV UTF-8)") from None
        report = import_csv(
            kind=form.cleaned_data["kind"], vendor=vendor, stream=io.StringIO(text, newline=""),
            now=clock.now(), principal=request.principal,  # type: ignore[attr-defined]
            dry_run=form.cleaned_data["dry_run"], file_name=upload.name or "",
        )  # fmt: skip
    return render(
        request,
        "onboarding/settings_import.html",
        {"form": form, "report": report, "tab": "import"},
    )
