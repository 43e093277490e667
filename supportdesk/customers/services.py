from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse

from supportdesk.accounts.models import User
from supportdesk.accounts.services import (
    invitation_send,
    password_reset_request,
    user_password_set,
)
from supportdesk.core.emails import normalise_address
from supportdesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from supportdesk.core.links import absolute_url
from supportdesk.core.models import Vendor
from supportdesk.core.phones import normalize_e164
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.customers.models import (
    Contact,
    ContactEmail,
    ContactPhone,
    ContactRole,
    Organization,
    PhoneKind,
    Site,
)
from supportdesk.notifications.mail_templates import mail_render
from supportdesk.notifications.models import MailTemplateKind
from supportdesk.notifications.services import outbox_enqueue


def _clean_name(name: str, what: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(f"{what} name must not be empty")
    if len(name) > 200:
        raise InvalidInput(f"{what} name is longer than 200 characters")
    return name


def _clean_email(address: str) -> str:
    """The stored form is the one intake matches senders in (T-2): see core.emails."""
    cleaned = normalise_address(address or "")
    local, _, domain = cleaned.partition("@")
    if not local or "." not in domain or " " in cleaned or len(cleaned) > 254:
        raise InvalidInput(f"{address!r} is not an email address")
    return cleaned


def _clean_external_id(value: str) -> str:
    value = (value or "").strip()
    if len(value) > 100:
        raise InvalidInput("external id is longer than 100 characters")
    return value


@transaction.atomic
def organization_create(
    *, vendor: Vendor, name: str, email_domains: str = "", notes: str = "", external_id: str = ""
) -> Organization:
    name = _clean_name(name, "organisation")
    external_id = _clean_external_id(external_id)
    if Organization.objects.filter(vendor=vendor, name__iexact=name).exists():
        raise Conflict(f"an organisation named {name!r} already exists", code="duplicate")
    if external_id and Organization.objects.filter(vendor=vendor, external_id=external_id).exists():
        raise Conflict(f"external id {external_id!r} is taken", code="duplicate")
    return Organization.objects.create(
        vendor=vendor, name=name, email_domains=email_domains, notes=notes, external_id=external_id
    )


def site_create(
    *, organization: Organization, name: str, address: str = "", timezone: str = "UTC"
) -> Site:
    """A customer site (H-1: devices are recorded per site); names are unique per customer."""
    name = _clean_name(name, "site")
    found = organization.sites.filter(name__iexact=name).first()
    if found is not None:
        raise Conflict(f"{organization.name} has a site named {name!r} already", code="duplicate")
    return Site.objects.create(
        organization=organization, name=name, address=address.strip(), timezone=timezone
    )


@transaction.atomic
def organization_update(
    *,
    organization: Organization,
    name: str | None = None,
    email_domains: str | None = None,
    notes: str | None = None,
    external_id: str | None = None,
) -> list[str]:
    """Change the given fields; returns the names of those that really changed."""
    values: dict[str, str] = {}
    if name is not None:
        values["name"] = _clean_name(name, "organisation")
    if external_id is not None:
        values["external_id"] = _clean_external_id(external_id)
    if email_domains is not None:
        values["email_domains"] = email_domains
    if notes is not None:
        values["notes"] = notes
    changed = {k: v for k, v in values.items() if getattr(organization, k) != v}
    others = Organization.objects.filter(vendor_id=organization.vendor_id).exclude(
        pk=organization.pk
    )
    if "name" in changed and others.filter(name__iexact=changed["name"]).exists():
        raise Conflict(
            f"an organisation named {changed['name']!r} already exists", code="duplicate"
        )
    if changed.get("external_id") and others.filter(external_id=changed["external_id"]).exists():
        raise Conflict(f"external id {changed['external_id']!r} is taken", code="duplicate")
    if changed:
        for key, value in changed.items():
            setattr(organization, key, value)
        organization.save(update_fields=list(changed))
    return sorted(changed)


@transaction.atomic
def contact_create(
    *,
    organization: Organization,
    name: str,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    faxes: Sequence[str] = (),
    role: str = ContactRole.CONTACT,
) -> Contact:
    """Create a contact; any of its addresses, and any of its fax numbers, identifies it on
    intake (T-2)."""
    name = _clean_name(name, "contact")
    if role not in ContactRole.values:
        raise InvalidInput(f"unknown contact role {role!r}")
    vendor = organization.vendor
    addresses = list(dict.fromkeys(_clean_email(e) for e in emails))
    numbers = list(dict.fromkeys(normalize_e164(p, region=vendor.country) for p in phones))
    fax_numbers = list(dict.fromkeys(normalize_e164(p, region=vendor.country) for p in faxes))
    taken = ContactEmail.objects.filter(vendor=vendor, address__in=addresses).values_list(
        "address", flat=True
    )
    if taken:
        raise Conflict(
            f"address already belongs to a contact: {', '.join(taken)}", code="duplicate"
        )
    contact = Contact.objects.create(organization=organization, name=name, role=role)
    try:
        ContactEmail.objects.bulk_create(
            ContactEmail(contact=contact, vendor=vendor, address=a, is_primary=i == 0)
            for i, a in enumerate(addresses)
        )
    except IntegrityError as exc:
        raise Conflict("address already belongs to a contact", code="duplicate") from exc
    ContactPhone.objects.bulk_create(
        [ContactPhone(contact=contact, vendor=vendor, number=n) for n in numbers]
        + [
            ContactPhone(contact=contact, vendor=vendor, number=n, kind=PhoneKind.FAX)
            for n in fax_numbers
        ]
    )
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    name: str | None = None,
    role: str | None = None,
    phones_add: Sequence[str] = (),
    faxes_add: Sequence[str] = (),
) -> list[str]:
    """Change a contact's name or role, add phone or fax numbers; returns what really
    changed."""
    changed: list[str] = []
    if name is not None and _clean_name(name, "contact") != contact.name:
        contact.name = _clean_name(name, "contact")
        changed.append("name")
    if role is not None and role != contact.role:
        if role not in ContactRole.values:
            raise InvalidInput(f"unknown contact role {role!r}")
        contact.role = role
        changed.append("role")
    if changed:
        contact.save(update_fields=changed)
    vendor = contact.organization.vendor
    for kind, numbers, what in (
        (PhoneKind.VOICE, phones_add, "phones"),
        (PhoneKind.FAX, faxes_add, "faxes"),
    ):
        have = set(contact.phones.filter(kind=kind).values_list("number", flat=True))
        new = [
            n
            for n in dict.fromkeys(normalize_e164(p, region=vendor.country) for p in numbers)
            if n not in have
        ]
        if new:
            ContactPhone.objects.bulk_create(
                ContactPhone(contact=contact, vendor=vendor, number=n, kind=kind) for n in new
            )
            changed.append(what)
    return changed


def _contact_user(contact: Contact) -> User:
    """The contact's login on its primary address, created (without a password) if missing."""
    email = contact.primary_email
    if not email:
        raise InvalidInput("the contact has no email address to log in with")
    if contact.user_id:
        user = contact.user
        assert user is not None
        return user
    if User.objects.filter(email=email).exists():
        raise Conflict(f"a user with email {email} already exists", code="duplicate")
    user = User(email=email, username=email, display_name=contact.name)
    user.set_unusable_password()
    user.save()
    contact.user = user
    contact.save(update_fields=["user"])
    return user


@transaction.atomic
def contact_portal_access_grant(*, contact: Contact, password: str) -> User:
    """Give a contact a portal login on its primary address with a known password (demo)."""
    user = _contact_user(contact)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def contact_invite(*, contact: Contact, principal: Principal, now: datetime) -> User:
    """Invite a contact to the portal (A-2): a login without a password and a mail with a
    single-use link to choose one. The vendor's staff may invite any contact; a designated
    administrator of the organisation may invite colleagues. A contact who already chose a
    password is told to use "Forgot password" instead."""
    organization = contact.organization
    if principal.is_contact:
        inviter = Contact.objects.filter(pk=principal.contact_id or 0).first()
        if (
            inviter is None
            or inviter.organization_id != organization.pk
            or inviter.role != ContactRole.ADMINISTRATOR
        ):
            raise Forbidden("only the organisation's administrator may invite colleagues")
    else:
        require_staff_of(principal, organization.vendor_id)
    if contact.user_id and not contact.user.is_active:  # type: ignore[union-attr]
        raise Conflict("this contact's login is deactivated", code="inactive")
    user = _contact_user(contact)
    if user.has_usable_password():
        raise Conflict(
            "this contact already has a portal password; 'Forgot password' sends a new link",
            code="already_active",
        )
    invitation_send(user=user, now=now)
    return user


# --- self sign-up (A-2, optional per vendor) -------------------------------------------------
SIGNUP_SALT = "supportdesk.customers.signup"
SIGNUP_MAX_AGE = 24 * 3600


def _signup_organizations(address: str) -> list[Organization]:
    """Organisations of vendors that allow sign-up whose email domains hold the address's."""
    domain = address.rpartition("@")[2]
    candidates = Organization.objects.select_related("vendor").filter(
        vendor__self_signup=True, email_domains__icontains=domain
    )
    return [
        org
        for org in candidates
        if domain in {d.strip().lower() for d in org.email_domains.split()}
    ]


def contact_signup_request(*, email: str, name: str, now: datetime) -> None:
    """Someone asks for a portal account. Only the address's owner can go on: the link to
    choose a password goes to that address. Nothing is said back either way (the caller
    answers the same page), so this tells no one whether an address or organisation exists.

    An address that already has a login gets a password-reset link instead; a contact
    without a login gets a portal invitation; an address in exactly one organisation's
    email domains (of a vendor with self sign-up on) gets a sign-up link."""
    try:
        address = _clean_email(email)
    except InvalidInput:
        return
    if User.objects.filter(email=address).exists():
        password_reset_request(email=address, now=now)
        return
    organizations = _signup_organizations(address)
    if len(organizations) != 1:
        return
    org = organizations[0]
    known = ContactEmail.objects.filter(vendor=org.vendor, address=address).first()
    if known is not None:
        if known.contact.organization_id == org.pk:
            invitation_send(user=_contact_user(known.contact), now=now)
        return
    name = " ".join((name or "").split())[:200] or address.partition("@")[0]
    token = signing.dumps({"e": address, "n": name, "o": org.pk}, salt=SIGNUP_SALT, compress=True)
    mail = mail_render(
        vendor_id=org.vendor_id,
        kind=MailTemplateKind.SIGNUP,
        context={
            "vendor_name": org.vendor.name,
            "name": name,
            "organization_name": org.name,
            "link": absolute_url(reverse("signup-complete", kwargs={"token": token})),
            "valid_hours": str(SIGNUP_MAX_AGE // 3600),
        },
    )
    outbox_enqueue(  # at most one sign-up mail per address and day
        key=f"signup:{org.pk}:{address}:{now.date().isoformat()}"[:200],
        channel="email",
        recipient=address,
        sender=org.vendor.support_email,
        subject=mail.subject,
        body=mail.body,
        headers={"Auto-Submitted": "auto-generated"},
        vendor_id=org.vendor_id,
        now=now,
    )


def signup_token_read(*, token: str) -> tuple[str, str, Organization]:
    """(address, name, organisation) of a sign-up link; 404 when forged or expired."""
    try:
        data = signing.loads(token, salt=SIGNUP_SALT, max_age=SIGNUP_MAX_AGE)
        org = Organization.objects.select_related("vendor").get(
            pk=int(data["o"]), vendor__self_signup=True
        )
        return str(data["e"]), str(data["n"]), org
    except (signing.BadSignature, KeyError, TypeError, ValueError, Organization.DoesNotExist):
        raise NotFound("this sign-up link is not valid (or has expired)") from None


@transaction.atomic
def contact_signup_complete(*, token: str, password: str, now: datetime) -> User:
    """Create the contact and its login from a sign-up link; the link works once."""
    address, name, org = signup_token_read(token=token)
    if (
        User.objects.filter(email=address).exists()
        or ContactEmail.objects.filter(vendor=org.vendor, address=address).exists()
    ):
        raise Conflict("this link was used already: sign in, or use 'Forgot password'", code="used")
    contact = contact_create(organization=org, name=name, emails=[address])
    user = _contact_user(contact)
    return user_password_set(user=user, password=password)
