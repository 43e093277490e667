"""Vendor settings in the console (issue 11.2, 11.6, A-4 upload): admins only, every change
through a service with a vendor event."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from supportdesk.accounts.models import User
from supportdesk.accounts.services import staff_user_create
from supportdesk.core.models import VendorEvent
from supportdesk.customers.models import Contact
from supportdesk.notifications.models import MailTemplate, OutboxMessage
from tests.factories import PASSWORD


@pytest.fixture
def admin(world):
    return staff_user_create(
        email="boss@vendor.example", password=PASSWORD, vendor=world.vendor, roles=["admin"]
    )


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def _kinds(world) -> list[str]:
    return list(VendorEvent.objects.filter(vendor=world.vendor).values_list("kind", flat=True))


def test_settings_are_for_the_vendors_admins_only(world, client):
    client.force_login(world.agent)
    for path in ("/console/settings/", "/console/settings/staff/", "/console/settings/import/"):
        assert client.get(path).status_code == 403
    client.force_login(world.alice.user)
    assert client.get("/console/settings/").status_code == 403


def test_profile_change_is_audited(world, admin_client, admin):
    page = admin_client.get("/console/settings/")
    assert page.status_code == 200 and b"Vendor Support" in page.content
    form = {
        "name": "Vendor Support Inc", "support_email": "Help@Vendor.example",
        "support_phone": "(212) 555-0100", "emergency_phone": "", "timezone": "America/New_York",
        "free_mail_domains": "Mail.example, post.example\npost.example",
    }  # fmt: skip
    assert admin_client.post("/console/settings/", form).status_code == 302
    world.vendor.refresh_from_db()
    assert (world.vendor.name, world.vendor.support_email, world.vendor.support_phone) == (
        "Vendor Support Inc", "help@vendor.example", "+12125550100",
    )  # fmt: skip
    assert world.vendor.free_mail_domains == "mail.example\npost.example"  # T-2 free mail
    event = VendorEvent.objects.get(vendor=world.vendor, kind="profile_changed")
    assert (event.actor_id, event.actor_email) == (admin.pk, admin.email)
    assert event.data["old"]["name"] == "Vendor Support"
    bad = admin_client.post("/console/settings/", {**form, "timezone": "Moon/Base"})
    assert bad.status_code == 400 and b"IANA" in bad.content
    bad = admin_client.post("/console/settings/", {**form, "free_mail_domains": "not a domain!"})
    assert bad.status_code == 400 and b"not a mail domain" in bad.content
    assert b"Profile changed" in admin_client.get("/console/settings/").content


def test_staff_invite_roles_and_deactivation_are_audited(world, admin_client, admin):
    response = admin_client.post(
        "/console/settings/staff/", {"email": "new@vendor.example", "role": "agent"}
    )
    assert response.status_code == 302
    new = User.objects.get(email="new@vendor.example")
    assert new.vendor == world.vendor and not new.has_usable_password()
    assert OutboxMessage.objects.filter(recipient="new@vendor.example").exists()
    assert b"invited" in admin_client.get("/console/settings/staff/").content
    url = f"/console/settings/staff/{world.agent.pk}/"
    admin_client.post(url + "roles/", {"roles": ["agent", "engineer"]})
    assert set(world.agent.roles.values_list("role", flat=True)) == {"agent", "engineer"}
    admin_client.post(url + "deactivate/")
    world.agent.refresh_from_db()
    assert not world.agent.is_active
    # Another vendor's staff member is not found; an admin cannot lock themselves out.
    assert (
        admin_client.post(f"/console/settings/staff/{world.rival_agent.pk}/deactivate/").status_code
        == 404
    )
    own = admin_client.post(f"/console/settings/staff/{admin.pk}/roles/", {"roles": ["agent"]})
    assert own.status_code == 400 and b"own admin role" in own.content
    assert _kinds(world) == ["staff_invited", "staff_roles_changed", "staff_deactivated"]


def test_mail_template_preview_save_use_and_reset_11_6(world, admin_client):
    page = admin_client.get("/console/settings/mail/reply/")
    assert (
        page.status_code == 200 and b"Please restart the print spooler" in page.content
    )  # preview
    form = {
        "subject": "Update on {{ ticket_subject }}",
        "body": "Dear {{ contact_name }},\n{{ reply }}",
    }
    preview = admin_client.post("/console/settings/mail/reply/", {**form, "action": "preview"})
    assert b"Dear Alice Example," in preview.content and not MailTemplate.objects.exists()
    bad = admin_client.post(
        "/console/settings/mail/reply/",
        {"subject": "x", "body": "{% include 'base.html' %}", "action": "save"},
    )
    assert bad.status_code == 400 and b"not allowed" in bad.content
    admin_client.post("/console/settings/mail/reply/", {**form, "action": "save"})
    assert MailTemplate.objects.get(vendor=world.vendor, kind="reply").subject.startswith("Update")
    assert b"your own" in admin_client.get("/console/settings/mail/").content
    admin_client.post("/console/settings/mail/reply/", {**form, "action": "reset"})
    assert not MailTemplate.objects.exists()
    assert _kinds(world) == ["mail_template_saved", "mail_template_reset"]
    assert admin_client.get("/console/settings/mail/nonsense/").status_code == 404


def test_import_upload_reports_rows_and_dry_run_saves_nothing_A4(world, admin_client):
    csv_text = "email,name,organization\nnew@acme.example,New,Acme\nbad,Bad,Acme\n"

    def upload(dry_run: bool):
        data = {"kind": "contacts", "file": SimpleUploadedFile("c.csv", csv_text.encode())}
        if dry_run:
            data["dry_run"] = "on"
        return admin_client.post("/console/settings/import/", data)

    dry = upload(True)
    assert dry.status_code == 200 and b"dry run, nothing saved: 1 created" in dry.content
    assert (
        b"&#x27;bad&#x27; is not an email address" in dry.content and b"<td>3</td>" in dry.content
    )
    assert not Contact.objects.filter(name="New").exists()
    real = upload(False)
    assert b"contacts: 1 created, 0 updated, 0 unchanged, 1 refused" in real.content
    assert Contact.objects.filter(name="New").exists()
    assert _kinds(world) == ["imported"]
    latin = admin_client.post(
        "/console/settings/import/",
        {
            "kind": "contacts",
            "file": SimpleUploadedFile("l.csv", "email,name\nj\xf6rg".encode("latin-1")),
        },
    )
    assert latin.status_code == 400 and b"not UTF-8" in latin.content


def test_queues_and_members_are_edited_by_admins_with_an_event(world, admin_client, admin):
    page = admin_client.get("/console/settings/queues/")
    assert page.status_code == 200 and b"Support" in page.content
    response = admin_client.post(
        "/console/settings/queues/",
        {"name": "Billing desk", "email": "Billing@Vendor.example", "is_default": "on",
         "members": [str(world.agent.pk), str(admin.pk)]},
    )  # fmt: skip
    assert response.status_code == 302
    from supportdesk.tickets.models import Queue

    billing = Queue.objects.get(vendor=world.vendor, name="Billing desk")
    assert billing.is_default and billing.email == "billing@vendor.example"
    assert set(billing.members.all()) == {world.agent, admin}
    world.queue.refresh_from_db()
    assert not world.queue.is_default  # one default per vendor
    admin_client.post(
        "/console/settings/queues/",
        {"queue": billing.pk, "name": "Billing", "members": [str(admin.pk)]},
    )
    billing.refresh_from_db()
    assert billing.name == "Billing" and list(billing.members.all()) == [admin]
    # Another vendor's staff cannot be a member; another vendor's queue is not found.
    bad = admin_client.post(
        "/console/settings/queues/", {"name": "X", "members": [str(world.rival_agent.pk)]}
    )
    assert bad.status_code == 400 and b"active staff of this vendor" in bad.content
    rival_queue = Queue.objects.get(vendor=world.other_vendor)
    gone = admin_client.post("/console/settings/queues/", {"queue": rival_queue.pk, "name": "Mine"})
    assert gone.status_code == 404
    assert admin_client.post("/console/settings/queues/", {"name": "support"}).status_code == 409
    assert _kinds(world) == ["queue_saved", "queue_saved"]


def test_staff_absences_are_added_and_removed_in_the_vendors_zone_T7(world, admin_client):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from supportdesk.accounts.models import Absence

    world.vendor.timezone = "Europe/Berlin"
    world.vendor.save(update_fields=["timezone"])
    url = f"/console/settings/staff/{world.agent.pk}/"
    response = admin_client.post(
        url + "absence/", {"first_day": "2099-07-01", "last_day": "2099-07-14", "reason": "Summer"}
    )
    assert response.status_code == 302
    absence = Absence.objects.get(user=world.agent)
    berlin = ZoneInfo("Europe/Berlin")
    assert absence.starts_at == datetime(2099, 7, 1, tzinfo=berlin)
    assert absence.ends_at == datetime(2099, 7, 15, tzinfo=berlin)  # the whole last day
    assert b"Summer" in admin_client.get("/console/settings/staff/").content
    backwards = admin_client.post(
        url + "absence/", {"first_day": "2099-07-14", "last_day": "2099-07-01"}
    )
    assert backwards.status_code == 400 and b"ends after it starts" in backwards.content
    admin_client.post(url + "absence-remove/", {"absence": absence.pk})
    assert not Absence.objects.exists()
    assert _kinds(world) == ["absence_added", "absence_removed"]


def test_calendars_and_policies_are_edited_as_checked_json_with_events(world, admin_client):
    import json

    from supportdesk.onboarding.services import calendar_spec, policy_spec
    from supportdesk.sla.models import Calendar, SlaPolicy

    url = "/console/settings/response-targets/"
    spec = calendar_spec(timezone="Europe/Paris", country="FR")
    created = admin_client.post(
        url, {"what": "calendar", "name": "Business hours", "spec": json.dumps(spec)}
    )
    assert created.status_code == 302
    assert Calendar.objects.get(vendor=world.vendor).spec["timezone"] == "Europe/Paris"
    policy = admin_client.post(
        url,
        {
            "what": "policy",
            "spec": json.dumps(policy_spec(timezone="Europe/Paris")),
            "is_default": "on",
        },
    )
    assert policy.status_code == 302 and SlaPolicy.objects.get(vendor=world.vendor).is_default
    page = admin_client.get(url).content.decode()
    assert "Calendar Business hours" in page and "Standard response targets" in page
    broken = admin_client.post(url, {"what": "calendar", "name": "X", "spec": "{not json"})
    assert broken.status_code == 400 and b"not JSON" in broken.content
    wrong = admin_client.post(
        url, {"what": "calendar", "name": "X", "spec": json.dumps({**spec, "timezone": "Nowhere"})}
    )
    assert wrong.status_code == 400 and Calendar.objects.filter(vendor=world.vendor).count() == 1
    assert _kinds(world) == ["calendar_saved", "policy_saved"]
