"""Contracts from the console organisation page (issue 10.6): create and edit through the same
contracts services as the API (contract_create; contract_addons_set and contract_transition,
or the billing reinstatement when the move activates the renewal of a lapsed term, exactly as
`POST /contracts/{id}/transition`). A refusal is shown on the form, which keeps what was typed.
Contract lines and predecessors are set through the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from supportdesk.billing import services_reinstatement
from supportdesk.console.views_customers import _form_page, _lines, _submit
from supportdesk.contracts import selectors, services
from supportdesk.contracts.models import Contract, ContractState
from supportdesk.core import clock
from supportdesk.core.tenancy import Principal
from supportdesk.core.web import staff_page
from supportdesk.customers import selectors as customer_selectors

DATE = forms.DateInput(attrs={"type": "date"})


class ContractForm(forms.Form):
    plan = forms.TypedChoiceField(coerce=int, choices=())
    start = forms.DateField(widget=DATE)
    end = forms.DateField(
        required=False, widget=DATE, help_text="Exclusive; empty: one term of the plan."
    )
    state = forms.ChoiceField(
        choices=[(s.value, s.label) for s in services.INITIAL_STATES],
        initial=ContractState.DRAFT,
    )
    reference = forms.CharField(required=False, max_length=60)
    currency = forms.CharField(
        required=False, max_length=3, help_text="Empty: the plan's currency."
    )
    price_percent_override = forms.DecimalField(
        required=False, min_value=0, max_value=1000, decimal_places=2
    )
    price_fixed_override = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2
    )
    addons = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Add-ons the plan offers, one per line (e.g. softphone_app).",
    )  # fmt: skip

    def __init__(self, *args: Any, principal: Principal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plans = selectors.plan_list(principal=principal).filter(active=True)
        self.fields["plan"].choices = [(p.pk, p.name) for p in plans]  # type: ignore[attr-defined]


class ContractEditForm(forms.Form):
    addons = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Add-ons the plan offers, one per line.",
    )  # fmt: skip
    to = forms.ChoiceField(
        label="Move to state", required=False,
        choices=[("", "(keep the state)"), *ContractState.choices],
    )  # fmt: skip
    reason = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when the state changes; kept in the contract's history.",
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("to") and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give a reason for the state change.")
        return data


@staff_page
def contract_create_page(request: HttpRequest, org_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    org = customer_selectors.organization_get(principal=principal, organization_id=org_id)
    today = selectors.vendor_today(org.vendor_id, clock.now())
    form = ContractForm(request.POST or None, principal=principal, initial={"start": today})

    def write(d: dict[str, Any]) -> Contract:
        return services.contract_create(
            principal=principal, organization=org,
            plan=selectors.plan_get(principal=principal, plan=d["plan"]),
            start=d["start"], end=d["end"], state=d["state"], reference=d["reference"],
            currency=d["currency"] or None,
            price_percent_override=d["price_percent_override"],
            price_fixed_override=d["price_fixed_override"],
            addons=_lines(d["addons"]), now=clock.now(),
        )  # fmt: skip

    if request.method == "POST" and _submit(form, write) is not None:
        return redirect("console:customer", org_id=org.pk)
    return _form_page(
        request, form, f"New contract for {org.name}", f"/console/customers/{org.pk}/"
    )


def _change(principal: Principal, contract: Contract, d: dict[str, Any]) -> Contract:
    """The add-ons, then the state move, all or nothing."""
    now = clock.now()
    with transaction.atomic():
        addons = _lines(d["addons"])
        if sorted(addons) != sorted(contract.addons or []):
            services.contract_addons_set(
                principal=principal, contract=contract, addons=addons, now=now
            )
        to = d["to"]
        if to and to != contract.state:
            if selectors.contract_renews_lapsed(contract) and to == ContractState.ACTIVE:
                services_reinstatement.contract_reinstate(
                    contract=contract, on=selectors.vendor_today(contract.vendor_id, now),
                    now=now, principal=principal,
                )  # fmt: skip
            else:
                services.contract_transition(
                    principal=principal, contract=contract, to=to, reason=d["reason"], now=now
                )
    return contract


@staff_page
def contract_edit_page(request: HttpRequest, contract_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    contract = selectors.contract_get(principal=principal, contract_id=contract_id)
    form = ContractEditForm(
        request.POST or None, initial={"addons": "\n".join(contract.addons or [])}
    )
    if request.method == "POST" and _submit(form, lambda d: _change(principal, contract, d)):
        return redirect("console:customer", org_id=contract.organization_id)
    return _form_page(
        request, form, f"Edit {contract.label} ({contract.get_state_display()})",
        f"/console/customers/{contract.organization_id}/",
    )  # fmt: skip
