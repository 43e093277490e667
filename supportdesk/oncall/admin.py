from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction

from supportdesk.core import clock
from supportdesk.core.admin import ReadOnlyAdmin, ReadOnlyInline
from supportdesk.core.errors import InvalidInput
from supportdesk.oncall.models import ChainRun, EscalationChain, OnCallConfig, Page, Schedule
from supportdesk.oncall.services.schedules import chain_save, config_update, schedule_save


class _SpecForm(forms.ModelForm):
    """Validates the JSON spec through the same service the API and demo use."""

    save_with: Any = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            with transaction.atomic():
                type(self).save_with(
                    vendor=data["vendor"], slug=data["slug"], name=data["name"],
                    spec=data["spec"], now=clock.now(),
                )  # fmt: skip
                transaction.set_rollback(True)  # dry run; save_model writes
        except InvalidInput as exc:
            raise forms.ValidationError(exc.detail) from None
        return data


class ScheduleForm(_SpecForm):
    save_with = staticmethod(schedule_save)

    class Meta:
        model = Schedule
        fields = ["vendor", "slug", "name", "spec"]


class ChainForm(_SpecForm):
    save_with = staticmethod(chain_save)

    class Meta:
        model = EscalationChain
        fields = ["vendor", "slug", "name", "spec"]


class _SpecAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "vendor", "updated_at"]
    list_filter = ["vendor"]

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        saved = form.save_with(
            vendor=obj.vendor, slug=obj.slug, name=obj.name, spec=obj.spec, now=clock.now()
        )
        obj.pk = saved.pk


_CONFIG_FIELDS = [
    "business_calendar", "business_hours", "helpdesk_number", "inbound_numbers",
    "emergency_chain", "emergency_menu", "sms_gateway_domain",
]  # fmt: skip


def _config_changes(data: dict[str, Any]) -> dict[str, Any]:
    changes = {f: data.get(f) for f in _CONFIG_FIELDS}
    changes["inbound_numbers"] = (changes["inbound_numbers"] or "").split()
    changes["helpdesk_number"] = changes["helpdesk_number"] or ""
    changes["sms_gateway_domain"] = changes["sms_gateway_domain"] or ""
    return changes


class OnCallConfigForm(forms.ModelForm):
    """Checked and saved by `config_update`, the service the API uses (numbers to E.164)."""

    class Meta:
        model = OnCallConfig
        fields = _CONFIG_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            with transaction.atomic():
                config_update(vendor=self.instance.vendor, **_config_changes(data))
                transaction.set_rollback(True)  # dry run; save_model writes
        except InvalidInput as exc:
            raise forms.ValidationError(exc.detail) from None
        return data


@admin.register(OnCallConfig)
class OnCallConfigAdmin(admin.ModelAdmin):
    """One row per vendor, created on first use; saved through `config_update` (rule 15)."""

    form = OnCallConfigForm
    list_display = [
        "vendor",
        "business_calendar",
        "helpdesk_number",
        "emergency_chain",
        "sms_gateway_domain",
    ]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def save_model(self, request: Any, obj: OnCallConfig, form: Any, change: bool) -> None:
        config_update(vendor=obj.vendor, **_config_changes(form.cleaned_data))


@admin.register(Schedule)
class ScheduleAdmin(_SpecAdmin):
    """Edit the JSON spec here; the service validates it (docs/oncall.md, "Stored form")."""

    form = ScheduleForm


@admin.register(EscalationChain)
class EscalationChainAdmin(_SpecAdmin):
    form = ChainForm


class PageInline(ReadOnlyInline):
    model = Page
    fields = ["recipient", "channel", "round", "due_at", "status", "delivery_status", "outbox"]


@admin.register(ChainRun)
class ChainRunAdmin(ReadOnlyAdmin):
    """Read-only: runs change through acknowledgements, which write the ticket's audit log."""

    list_display = ["id", "ticket", "chain_name", "reason", "started_at", "acknowledged_at"]
    list_filter = ["vendor", "reason"]
    inlines = [PageInline]
