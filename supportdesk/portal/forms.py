from __future__ import annotations

from django import forms

from supportdesk.core.forms import MultipleFileField
from supportdesk.tickets.models import Priority


class NewTicketForm(forms.Form):
    subject = forms.CharField(max_length=300)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), label="Describe the problem")
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.P3)
    attachments = MultipleFileField(required=False, label="Screenshots and files")


class ReplyForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    attachments = MultipleFileField(required=False)
