"""Who may mail with whose authority (T-11, house rule 14): per-staff reply addresses with an
unguessable token, and the authentication verdict intake applies to every message.

A staff member's reply address is ``<local>+r-<token>@<domain>`` of the queue (or vendor
support) address: the notifications a staff member gets carry it as ``Reply-To``, so replying
to one proves who wrote the reply (only they receive mail with their token). The MTA must
deliver subaddresses (``recipient_delimiter = +`` in Postfix) to intake.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction

from supportdesk.accounts.models import User
from supportdesk.core.errors import Forbidden, InvalidInput
from supportdesk.core.tenancy import Principal
from supportdesk.intake.domain.authresults import AuthVerdict, authentication_verdict
from supportdesk.intake.domain.identify import normalise_address
from supportdesk.intake.domain.parse import ParsedEmail
from supportdesk.intake.models import StaffReplyToken
from supportdesk.intake.selectors import thread_headers_for
from supportdesk.tickets.models import Ticket

TOKEN_ADDRESS = re.compile(r"\+r-([0-9a-f]{32})@", re.IGNORECASE)


def _new_token() -> str:
    return secrets.token_hex(16)  # 128 bits, lower-case: survives MTAs that fold case


def staff_reply_token(*, user: User, now: datetime) -> StaffReplyToken:
    """The staff member's live reply token, created on first use."""
    live = StaffReplyToken.objects.filter(user=user, revoked_at__isnull=True).first()
    if live is not None:
        return live
    if user.vendor_id is None:
        raise InvalidInput("only staff of a vendor have reply addresses")
    try:
        with transaction.atomic():
            return StaffReplyToken.objects.create(
                vendor_id=user.vendor_id, user=user, token=_new_token(), created_at=now
            )
    except IntegrityError:  # created concurrently: one live token per user
        return StaffReplyToken.objects.get(user=user, revoked_at__isnull=True)


def staff_reply_token_rotate(*, principal: Principal, now: datetime) -> StaffReplyToken:
    """Revoke the principal's reply address and issue a new one (a leaked address, e.g. a
    reply that was copied to someone else). Mail to the old address is then quarantined."""
    if not principal.is_staff or principal.user_id is None:
        raise Forbidden("only staff have reply addresses")
    user = User.objects.get(pk=principal.user_id)
    with transaction.atomic():
        StaffReplyToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        return staff_reply_token(user=user, now=now)


def staff_reply_token_exposed(
    *, parsed: ParsedEmail, staff: User, own: Iterable[str], now: datetime
) -> bool:
    """A staff reply that proved itself by the reply address, but was also addressed to
    someone outside (a reply-all to the customer), showed the address to them: it is replaced,
    so that they cannot write as the staff member with it. Returns whether it was."""
    ours = {normalise_address(a) for a in own}
    outside = {
        address
        for item in (*parsed.to, *parsed.cc)
        if (address := normalise_address(item.address or ""))
        and address not in ours
        and not TOKEN_ADDRESS.search(address)
    }
    staff_addresses = set(
        User.objects.filter(vendor_id=staff.vendor_id or 0, email__in=outside).values_list(
            "email", flat=True
        )
    )
    if not outside - {a.lower() for a in staff_addresses}:
        return False
    with transaction.atomic():
        StaffReplyToken.objects.filter(user=staff, revoked_at__isnull=True).update(revoked_at=now)
        staff_reply_token(user=staff, now=now)
    return True


def staff_reply_address(*, user: User, ticket: Ticket, now: datetime) -> str:
    """``support+r-<token>@domain`` for `user`, on the ticket's queue (or support) address."""
    base = ticket.queue.email or ticket.vendor.support_email or settings.DEFAULT_FROM_EMAIL
    local, _, domain = normalise_address(base).rpartition("@")
    local = local.split("+", 1)[0]
    return f"{local}+r-{staff_reply_token(user=user, now=now).token}@{domain}"


def staff_mail_headers(*, user: User, ticket: Ticket, now: datetime) -> dict[str, str]:
    """Headers of mail to a staff member about `ticket`: the thread's In-Reply-To/References
    (so their mail client threads it) and Reply-To their own reply address (T-11)."""
    headers = thread_headers_for(ticket=ticket, automatic=False)
    headers.pop("Subject", None)
    headers["Reply-To"] = staff_reply_address(user=user, ticket=ticket, now=now)
    return headers


def staff_for_token_addresses(*, vendor_id: int, addresses: Iterable[str]) -> User | None:
    """The staff member whose live reply token one of `addresses` carries, or None."""
    tokens = {m.group(1).lower() for a in addresses if (m := TOKEN_ADDRESS.search(a or ""))}
    if not tokens:
        return None
    row = (
        StaffReplyToken.objects.filter(
            vendor_id=vendor_id, token__in=tokens, revoked_at__isnull=True, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    return row.user if row is not None else None


@dataclass(frozen=True)
class MailTrust:
    """What a message proves. `verdict`: the trusted Authentication-Results (see
    `domain.authresults`); `token_user`: the staff member whose reply address it was sent to."""

    verdict: AuthVerdict
    token_user: User | None
    checking: bool  # trusted hosts are configured: customer mail must prove itself too

    def staff_authenticated(self, staff: User) -> tuple[bool, str]:
        if self.token_user is not None and self.token_user.pk == staff.pk:
            return True, "sent to the staff member's reply address"
        if self.verdict.authenticated:
            return True, self.verdict.reason
        if self.token_user is not None:
            return False, "sent to another staff member's reply address"
        return False, self.verdict.reason

    @property
    def customer_unverified(self) -> bool:
        return self.checking and not self.verdict.authenticated

    def note(self) -> str:
        if self.token_user is not None:
            return f"reply address of {self.token_user.email}; {self.verdict.reason}"[:300]
        return self.verdict.reason[:300]


def mail_trust(*, parsed: ParsedEmail, vendor_id: int, recipients: Iterable[str]) -> MailTrust:
    trusted = list(settings.MAIL_TRUSTED_AUTHSERV_IDS)
    verdict = authentication_verdict(
        parsed.headers, from_address=parsed.from_address or "", trusted_ids=trusted
    )
    token_user = staff_for_token_addresses(vendor_id=vendor_id, addresses=recipients)
    return MailTrust(verdict=verdict, token_user=token_user, checking=bool(trusted))
