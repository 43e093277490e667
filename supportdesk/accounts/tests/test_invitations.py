"""A-2: invitations and password reset, through the mail a person really receives."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail

from supportdesk.accounts.models import User
from supportdesk.accounts.services import staff_invite
from supportdesk.core import clock
from supportdesk.core.tenancy import principal_for
from supportdesk.customers.models import ContactEmail
from supportdesk.customers.services import contact_create
from supportdesk.notifications.services import outbox_flush
from tests.factories import PASSWORD

LINK = re.compile(r"https?://\S+/(?:invite|password-reset)/[^/\s]+/[^/\s]+/")
NEW_PASSWORD = "a-brand-new-passphrase"


def _deliver() -> list:
    mail.outbox.clear()
    outbox_flush(now=clock.now() + timedelta(seconds=1))
    return list(mail.outbox)


def _link_in(message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(0)


def _follow_and_set(client, link: str, password: str = NEW_PASSWORD):
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path)
    assert response.status_code == 302  # the token moves into the session
    form_url = response["Location"]
    page = client.get(form_url)
    assert page.status_code == 200 and b"This link no longer works" not in page.content
    return client.post(form_url, {"new_password1": password, "new_password2": password})


@pytest.fixture
def carol(world):
    return contact_create(organization=world.acme, name="Carol", emails=["carol@acme.example"])


@pytest.fixture
def admin(world):
    from supportdesk.accounts.services import staff_user_create

    return staff_user_create(
        email="boss@vendor.example", password=PASSWORD, vendor=world.vendor, roles=["admin"]
    )


def test_api_invites_a_contact_whose_link_sets_a_password_once_A2(world, api, client, carol):
    response = api(world.agent).post(
        f"/organizations/{world.acme.pk}/contacts/{carol.pk}/invite", {}
    )
    assert response.status_code == 202, response.content
    assert response.json() == {
        "contact": carol.pk,
        "email": "carol@acme.example",
        "status": "invited",
    }
    carol.refresh_from_db()
    assert carol.user is not None and not carol.user.has_usable_password()
    [invitation] = _deliver()
    assert invitation.to == ["carol@acme.example"] and "Vendor Support" in invitation.subject
    link = _link_in(invitation)
    assert link.startswith("http://127.0.0.1:8000/invite/")  # absolute, PUBLIC_BASE_URL default
    response = _follow_and_set(client, link)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").headers["Location"] == "/portal/"  # signed in as the contact
    user = User.objects.get(email="carol@acme.example")
    assert user.check_password(NEW_PASSWORD)
    assert ContactEmail.objects.get(address="carol@acme.example").verified
    # Single use: the same link now fails.
    client.logout()
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert b"This link no longer works" in client.get(path).content
    # And inviting again is refused with a reason: the contact has a password now.
    again = api(world.agent).post(f"/organizations/{world.acme.pk}/contacts/{carol.pk}/invite", {})
    assert again.status_code == 409 and "Forgot password" in again.json()["detail"]


def test_invitation_links_expire_A2(world, settings, client, carol, api):
    settings.PUBLIC_BASE_URL = "https://help.vendor.example"
    api(world.agent).post(f"/organizations/{world.acme.pk}/contacts/{carol.pk}/invite", {})
    [invitation] = _deliver()
    link = _link_in(invitation)
    assert link.startswith("https://help.vendor.example/invite/")
    settings.INVITATION_TIMEOUT = -1  # every link is older than this
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert b"This link no longer works" in client.get(path).content


def test_invite_endpoint_tenancy_other_vendor_and_customers_get_404_or_403_A2(world, api, carol):
    url = f"/organizations/{world.acme.pk}/contacts/{carol.pk}/invite"
    assert api(world.rival_agent).post(url, {}).status_code == 404
    assert api(world.gina.user).post(url, {}).status_code == 404
    # Alice is a plain contact of Acme: she sees Carol but may not invite her.
    assert api(world.alice.user).post(url, {}).status_code == 403
    # The contact id must belong to the organisation in the path.
    wrong = f"/organizations/{world.globex.pk}/contacts/{carol.pk}/invite"
    assert api(world.agent).post(wrong, {}).status_code == 404
    assert not _deliver()


def test_organisation_administrator_invites_a_colleague_A2(world, api, carol):
    world.alice.role = "administrator"
    world.alice.save(update_fields=["role"])
    response = api(world.alice.user).post(
        f"/organizations/{world.acme.pk}/contacts/{carol.pk}/invite", {}
    )
    assert response.status_code == 202
    assert [m.to for m in _deliver()] == [["carol@acme.example"]]


def test_staff_invitation_joins_the_vendor_A2(world, client, admin):
    user = staff_invite(
        vendor=world.vendor, email="New@Vendor.example", roles=["agent"],
        principal=principal_for(admin), now=clock.now(), display_name="Nina New",
    )  # fmt: skip
    assert user.vendor == world.vendor and user.is_staff and not user.has_usable_password()
    [invitation] = _deliver()
    assert invitation.to == ["new@vendor.example"] and "Nina New" in invitation.body
    response = _follow_and_set(client, _link_in(invitation))
    assert response.status_code == 302
    assert client.get("/").headers["Location"] == "/console/"
    from supportdesk.core.errors import Forbidden

    with pytest.raises(Forbidden):  # an agent is not an admin
        staff_invite(
            vendor=world.vendor, email="x@vendor.example", roles=["agent"],
            principal=principal_for(world.agent), now=clock.now(),
        )  # fmt: skip


@pytest.mark.parametrize("who", ["alice@acme.example", "agent@vendor.example"])
def test_password_reset_for_a_contact_and_a_staff_member_A2(world, client, who):
    page = client.get("/login/")
    assert b'href="/password-reset/"' in page.content
    response = client.post("/password-reset/", {"email": who.upper()})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    [reset] = _deliver()
    assert reset.to == [who]
    _follow_and_set(client, _link_in(reset))
    client.logout()
    assert client.login(username=who, password=NEW_PASSWORD)
    assert not client.login(username=who, password=PASSWORD)


def test_password_reset_answers_an_unknown_address_the_same_A2(world, client):
    known = client.post("/password-reset/", {"email": "alice@acme.example"}, follow=True)
    assert len(_deliver()) == 1
    unknown = client.post("/password-reset/", {"email": "nobody@nowhere.example"}, follow=True)
    assert _deliver() == []
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    csrf = re.compile(rb'"X-CSRFToken": "[^"]*"')  # the one per-request difference
    assert csrf.sub(b"", known.content) == csrf.sub(b"", unknown.content)


def test_reset_link_refuses_a_weak_password_and_stays_usable(world, client, settings):
    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}
    ]
    client.post("/password-reset/", {"email": "alice@acme.example"})
    [reset] = _deliver()
    response = _follow_and_set(client, _link_in(reset), password="short")
    assert response.status_code == 200 and b"too short" in response.content
    assert User.objects.get(email="alice@acme.example").check_password(PASSWORD)


def test_console_invite_button_on_the_ticket_page_mails_the_requester_A2(world, client, carol):
    from supportdesk.tickets.services import ticket_create

    ticket = ticket_create(
        principal=principal_for(world.agent), vendor=world.vendor, organization=world.acme,
        requester=carol, subject="Phoned in", body="Carol called.", priority="P3",
        channel="phone", now=clock.now(),
    )  # fmt: skip
    _deliver()  # the acknowledgement
    client.force_login(world.agent)
    page = client.get(f"/console/tickets/{ticket.ref}/")
    assert b"Invite to the portal" in page.content
    back = f"/console/tickets/{ticket.ref}/"
    response = client.post(f"/console/contacts/{carol.pk}/invite/", {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert [m.to for m in _deliver()] == [["carol@acme.example"]]
    # Another vendor's staff cannot invite her (404), nor can the button be used twice once
    # she has a password.
    client.force_login(world.rival_agent)
    assert client.post(f"/console/contacts/{carol.pk}/invite/").status_code == 404
    # A contact who already signs in gets no button.
    client.force_login(world.agent)
    alice_ticket = ticket_create(
        principal=principal_for(world.agent), vendor=world.vendor, organization=world.acme,
        requester=world.alice, subject="Other", body="x", priority="P3", channel="phone",
        now=clock.now(),
    )  # fmt: skip
    assert (
        b"Invite to the portal" not in client.get(f"/console/tickets/{alice_ticket.ref}/").content
    )


def test_self_signup_with_a_verified_address_in_the_organisations_domain_A2(world, client):
    world.acme.email_domains = "acme.example\nacme-labs.example"
    world.acme.save(update_fields=["email_domains"])
    # Off by default: no mail, the same answer.
    response = client.post("/signup/", {"email": "dave@acme-labs.example", "name": "Dave"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert _deliver() == []
    world.vendor.self_signup = True
    world.vendor.save(update_fields=["self_signup"])
    client.post("/signup/", {"email": "Dave@Acme-Labs.example", "name": "Dave Lab"})
    client.post("/signup/", {"email": "eve@elsewhere.example", "name": "Eve"})  # no such domain
    [mail_] = _deliver()
    assert mail_.to == ["dave@acme-labs.example"] and "Acme" in mail_.body
    link = re.search(r"http://127\.0\.0\.1:8000(/signup/\S+/)", mail_.body).group(1)
    page = client.get(link)
    assert page.status_code == 200 and b"dave@acme-labs.example" in page.content
    done = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and client.get("/").headers["Location"] == "/portal/"
    dave = User.objects.get(email="dave@acme-labs.example").contact
    assert dave.organization == world.acme and dave.name == "Dave Lab"
    assert ContactEmail.objects.get(address="dave@acme-labs.example").verified
    # Single use; a forged link is a 404; an existing login gets a reset link instead.
    client.logout()
    again = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert again.status_code == 400 and b"used already" in again.content
    assert client.get("/signup/forged/").status_code == 404
    client.post("/signup/", {"email": "dave@acme-labs.example", "name": "Dave"})
    [reset] = _deliver()
    assert "/password-reset/" in reset.body
