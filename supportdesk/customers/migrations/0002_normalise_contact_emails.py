"""Store every contact address in the canonical form intake matches on (issue 17.5).

Rows written through the Django admin kept their case (`Alice.Second@Acme.example`) and were
never matched. A row whose canonical form another contact of the same vendor already holds is
left as it is (merging contacts is a decision for a person) and reported on stdout.
Reverse: nothing to undo; the canonical form is what the services write.
"""

from django.db import migrations

from supportdesk.core.emails import normalise_address


def normalise_contact_emails(apps, schema_editor):
    ContactEmail = apps.get_model("customers", "ContactEmail")
    taken = set(ContactEmail.objects.values_list("vendor_id", "address"))
    for row in ContactEmail.objects.order_by("pk"):
        canonical = normalise_address(row.address)
        if not canonical or canonical == row.address:
            continue
        if (row.vendor_id, canonical) in taken:
            print(f"\n  contact email {row.pk} ({row.address}): {canonical} is taken; left as is")
            continue
        taken.discard((row.vendor_id, row.address))
        taken.add((row.vendor_id, canonical))
        ContactEmail.objects.filter(pk=row.pk).update(address=canonical)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(normalise_contact_emails, migrations.RunPython.noop),
    ]
