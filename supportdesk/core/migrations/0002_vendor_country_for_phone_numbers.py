"""Vendor.country (ISO 3166) replaces Vendor.default_country_code (issue 17.5 item 7).

Phone numbers are parsed by `phonenumbers` in the vendor's country. The country is derived
from the stored calling code (1 -> US, 44 -> GB, 49 -> DE); reversing writes the calling
code back from the country.
"""

import phonenumbers
from django.db import migrations, models

import supportdesk.core.models


def country_from_calling_code(apps, schema_editor):
    Vendor = apps.get_model("core", "Vendor")
    for vendor in Vendor.objects.all():
        code = (vendor.default_country_code or "1").lstrip("+")
        region = phonenumbers.region_code_for_country_code(int(code)) if code.isdigit() else "ZZ"
        vendor.country = region if region != "ZZ" else "US"
        vendor.save(update_fields=["country"])


def calling_code_from_country(apps, schema_editor):
    Vendor = apps.get_model("core", "Vendor")
    for vendor in Vendor.objects.all():
        code = phonenumbers.country_code_for_region(vendor.country) or 1
        vendor.default_country_code = str(code)
        vendor.save(update_fields=["default_country_code"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="vendor",
            name="country",
            field=models.CharField(
                default="US",
                help_text="ISO 3166 country (GB, US, DE): where phone numbers without '+' are read.",
                max_length=2,
                validators=[supportdesk.core.models.validate_region],
            ),
        ),
        migrations.RunPython(country_from_calling_code, calling_code_from_country),
        migrations.RemoveField(
            model_name="vendor",
            name="default_country_code",
        ),
    ]
