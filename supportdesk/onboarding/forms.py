from __future__ import annotations

from django import forms


class SetupForm(forms.Form):
    vendor_name = forms.CharField(label="Vendor name", max_length=200)
    slug = forms.SlugField(label="Short name (slug)", max_length=60)
    timezone = forms.CharField(label="Time zone (IANA)", initial="UTC", max_length=64)
    country = forms.CharField(label="Country code for holidays", initial="US", max_length=4)
    support_email = forms.EmailField(label="Support address")
    support_phone = forms.CharField(label="Support phone", required=False, max_length=32)
