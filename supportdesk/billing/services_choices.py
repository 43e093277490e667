"""The customer's choice of monthly or annual billing for a per-user subscription (B-5).

Annual commitment either way: paid in 12 monthly instalments, or annually in advance with the
plan's discount. The customer (a designated help-desk administrator, in the portal or by API)
or billing staff (console, API) choose per contract; a choice takes effect at the start of the
next term that has not been invoiced yet, never in the middle of a term (prepaid,
non-refundable). Each choice is a `BillingChoice` row, kept as the history.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction

from supportdesk.billing import selectors
from supportdesk.billing.domain.pricing import Billing
from supportdesk.billing.models import BillingChoice
from supportdesk.contracts.models import Contract
from supportdesk.core.errors import Forbidden, InvalidInput, NotFound
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import Contact, ContactRole

CHOICES = frozenset(b.value for b in Billing)


def _require_chooser(principal: Principal, contract: Contract) -> None:
    if principal.is_contact:
        if principal.organization_id != contract.organization_id:
            raise NotFound(f"no contract {contract.pk}")
        contact = Contact.objects.filter(pk=principal.contact_id).first()
        if contact is None or contact.role != ContactRole.ADMINISTRATOR:
            raise Forbidden(
                "only a designated help-desk administrator of the customer may change how "
                "the subscription is billed"
            )
        return
    if not principal.is_superuser and principal.vendor_id != contract.vendor_id:
        raise NotFound(f"no contract {contract.pk}")
    if not principal.has_role("billing", "admin"):
        raise Forbidden("only billing staff may change how a subscription is billed")


@transaction.atomic
def billing_choice_set(
    *, principal: Principal, contract: Contract, billing: str, today: date, now: datetime
) -> selectors.BillingChoiceView:
    """Bill the contract monthly or annually (with the plan's discount) from its next term
    that is not invoiced yet (B-5). Locks the chain's first term, so two choices queue."""
    _require_chooser(principal, contract)
    if billing not in CHOICES:
        raise InvalidInput(f"billing must be monthly or annual, not {billing!r}")
    root = selectors.chain_root(contract)
    Contract.objects.select_for_update().filter(pk=root.pk).first()
    view = selectors.billing_choice_view(contract=contract, today=today)
    if not view.choosable:
        raise InvalidInput(view.why_not)
    BillingChoice.objects.create(
        contract=root,
        billing=billing,
        effective_from=view.next_from,
        chosen_at=now,
        chosen_by_id=principal.user_id,
    )
    return selectors.billing_choice_view(contract=contract, today=today)


def billing_choice_record(
    *, contract: Contract, billing: str, principal: Principal | None, now: datetime
) -> None:
    """The choice made when the subscription is signed: from its first term."""
    if billing not in CHOICES:
        raise InvalidInput(f"billing must be monthly or annual, not {billing!r}")
    BillingChoice.objects.create(
        contract=contract,
        billing=billing,
        effective_from=contract.start,
        chosen_at=now,
        chosen_by_id=principal.user_id if principal else None,
    )
