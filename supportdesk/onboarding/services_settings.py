"""Vendor settings writes for plans, rate cards, on-call, mailboxes, provider credentials, the
mail webhook key and the invoice letterhead (issue 11.2): each checks that a vendor admin asks,
calls the owning app's one service, and records a vendor event in the same transaction. Secrets
never reach an event: only that they changed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from supportdesk.billing.models import RateCard
from supportdesk.billing.services_letterhead import vendor_billing_save
from supportdesk.billing.services_rates import plan_rate_card_set, rate_card_save
from supportdesk.contracts.models import Plan
from supportdesk.contracts.services import plan_create
from supportdesk.contracts.services_plans import plan_update
from supportdesk.core.audit import vendor_event_record
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import ProviderCredential, Vendor, VendorEventKind
from supportdesk.core.services_credentials import mail_webhook_key_rotate, provider_credential_save
from supportdesk.core.tenancy import Principal
from supportdesk.intake.models import ImapMailbox
from supportdesk.intake.services_mailboxes import mailbox_save
from supportdesk.onboarding.services import _require_admin, _spec
from supportdesk.oncall.models import EscalationChain, Schedule
from supportdesk.oncall.services.schedules import chain_save, schedule_save


def _record(
    vendor: Vendor, principal: Principal, now: datetime, kind: VendorEventKind, **data: Any
) -> None:
    vendor_event_record(vendor_id=vendor.pk, kind=kind, actor_id=principal.user_id, now=now, **data)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Event data is JSON: amounts and moments as text."""
    return {k: v if isinstance(v, str | int | bool | dict | list | None) else str(v)
            for k, v in values.items()}  # fmt: skip


@transaction.atomic
def vendor_plan_save(
    *,
    vendor: Vendor,
    principal: Principal,
    now: datetime,
    name: str,
    card: RateCard | None,
    plan: Plan | None = None,
    slug: str = "",
    kind: str = "",
    rules_json: str = "{}",
    price_percent_of_list: Decimal = Decimal(0),
    price_fixed: Decimal = Decimal(0),
    per_user_price: Decimal | None = None,
    currency: str = "USD",
) -> Plan:
    """Create a plan with its terms (contracts.plan_create) or rename `plan`
    (contracts.plan_update: terms are never edited in place); then set the rate card for its
    hourly work (billing.plan_rate_card_set)."""
    _require_admin(principal, vendor)
    if plan is None:
        plan = plan_create(
            vendor=vendor, slug=slug, name=" ".join(name.split()), kind=kind,
            rules=_spec(rules_json or "{}", "plan rules"), now=now,
            price_percent_of_list=price_percent_of_list, price_fixed=price_fixed,
            per_user_price=per_user_price, currency=currency,
        )  # fmt: skip
        old: dict[str, Any] = {}
        created = True
    else:
        plan, old = plan_update(plan=plan, now=now, name=name)
        created = False
    plan, card_old = plan_rate_card_set(plan=plan, card=card, now=now)
    old.update(card_old)
    if created or old:
        _record(
            vendor, principal, now, VendorEventKind.PLAN_SAVED, plan=plan.slug,
            created=created, old=_plain(old),
            new=_plain({k: getattr(plan, k) for k in old}),
        )  # fmt: skip
    return plan


@transaction.atomic
def vendor_rate_card_save(
    *, vendor: Vendor, principal: Principal, now: datetime, card: RateCard | None = None,
    calendar_json: str, **fields: Any,
) -> RateCard:  # fmt: skip
    """Create or change one of the vendor's rate cards (billing.rate_card_save)."""
    _require_admin(principal, vendor)
    calendar = _spec(calendar_json or "{}", "rate card calendar") if calendar_json else {}
    row, old = rate_card_save(vendor=vendor, now=now, card=card, calendar_spec=calendar, **fields)
    if card is None or old:
        _record(
            vendor, principal, now, VendorEventKind.RATE_CARD_SAVED, rate_card=row.pk,
            name=row.name, created=card is None, old=_plain(old),
            new=_plain({k: getattr(row, k) for k in old}),
        )  # fmt: skip
    return row


@transaction.atomic
def vendor_schedule_save(
    *, vendor: Vendor, principal: Principal, now: datetime, slug: str, name: str, spec_json: str
) -> Schedule:
    """Create or replace an on-call schedule (oncall.schedule_save, O-1)."""
    _require_admin(principal, vendor)
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("the schedule needs a name")
    row = schedule_save(
        vendor=vendor, slug=slug.strip(), name=name, spec=_spec(spec_json, "schedule"), now=now
    )
    _record(vendor, principal, now, VendorEventKind.SCHEDULE_SAVED, schedule=row.slug,
            name=row.name, spec=row.spec)  # fmt: skip
    return row


@transaction.atomic
def vendor_chain_save(
    *, vendor: Vendor, principal: Principal, now: datetime, slug: str, name: str, spec_json: str
) -> EscalationChain:
    """Create or replace an escalation chain (oncall.chain_save, O-4)."""
    _require_admin(principal, vendor)
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("the chain needs a name")
    row = chain_save(
        vendor=vendor, slug=slug.strip(), name=name, spec=_spec(spec_json, "chain"), now=now
    )
    _record(vendor, principal, now, VendorEventKind.CHAIN_SAVED, chain=row.slug,
            name=row.name, spec=row.spec)  # fmt: skip
    return row


@transaction.atomic
def vendor_mailbox_save(
    *, vendor: Vendor, principal: Principal, now: datetime, mailbox: ImapMailbox | None = None,
    **fields: Any,
) -> ImapMailbox:  # fmt: skip
    """Create or change an IMAP mailbox (intake.mailbox_save); the password is stored
    encrypted and the event says only whether it changed."""
    _require_admin(principal, vendor)
    row, changed = mailbox_save(vendor=vendor, now=now, mailbox=mailbox, **fields)
    if mailbox is None or changed:
        _record(vendor, principal, now, VendorEventKind.MAILBOX_SAVED, mailbox=str(row),
                created=mailbox is None, changed=changed)  # fmt: skip
    return row


@transaction.atomic
def vendor_credential_save(
    *, vendor: Vendor, principal: Principal, now: datetime, provider: str, account: str,
    secret: str | None, sender: str,
) -> ProviderCredential:  # fmt: skip
    """Set the vendor's SMS/voice provider account (core.provider_credential_save); the
    secret is stored encrypted and the event says only whether it changed."""
    _require_admin(principal, vendor)
    row, changed = provider_credential_save(
        vendor=vendor, provider=provider, account=account, secret=secret, sender=sender, now=now
    )
    if changed:
        _record(vendor, principal, now, VendorEventKind.CREDENTIAL_SAVED, provider=provider,
                account=row.account, changed=changed)  # fmt: skip
    return row


@transaction.atomic
def vendor_webhook_key_rotate(*, vendor: Vendor, principal: Principal, now: datetime) -> str:
    """A new key for the vendor's mail webhook (core.mail_webhook_key_rotate), returned once;
    the event records only that it was replaced."""
    _require_admin(principal, vendor)
    key = mail_webhook_key_rotate(vendor=vendor)
    _record(vendor, principal, now, VendorEventKind.WEBHOOK_KEY_ROTATED, hook="mail")
    return key


@transaction.atomic
def vendor_letterhead_save(
    *, vendor: Vendor, principal: Principal, now: datetime, values: dict[str, Any]
) -> list[str]:
    """The vendor's legal name, postal address, tax and payment terms on its invoices
    (billing.vendor_billing_save)."""
    _require_admin(principal, vendor)
    changed = vendor_billing_save(vendor=vendor, **values)
    if changed:
        _record(vendor, principal, now, VendorEventKind.LETTERHEAD_SAVED, changed=changed)
    return changed
