from __future__ import annotations

from django import forms

from supportdesk.core.forms import MultipleFileField
from supportdesk.tickets.models import MessageKind, OutOfScope, Priority, Status


class ReplyForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    kind = forms.ChoiceField(choices=MessageKind.choices, initial=MessageKind.PUBLIC)
    attachments = MultipleFileField(required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(choices=Priority.choices)


class AssignForm(forms.Form):
    assignee = forms.CharField(help_text='A staff user id, or "auto".')


class EscalateForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class OutOfScopeForm(forms.Form):
    scope = forms.ChoiceField(choices=OutOfScope.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class CallForm(forms.Form):
    """Start a ticket from a phone call in one step (T-6)."""

    caller_number = forms.CharField(max_length=32)
    organization = forms.IntegerField(required=False)
    subject = forms.CharField(max_length=300)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.P3)
