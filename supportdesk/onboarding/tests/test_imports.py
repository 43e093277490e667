"""A-4: CSV imports, row by row, idempotent by natural key, with line numbers."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from supportdesk.contracts.models import Contract
from supportdesk.contracts.tests.django_helpers import make_plan
from supportdesk.customers.models import Contact, ContactEmail, ContactPhone, Organization
from supportdesk.onboarding.tests.contacts_csv import write_contacts_csv

pytestmark = pytest.mark.django_db


def _run(*args, **options) -> str:
    out = io.StringIO()
    call_command("import", *args, vendor="vendor", no_progress=True, stdout=out, **options)
    return out.getvalue()


def _write(path, header, rows) -> str:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def test_contacts_csv_with_bad_rows_creates_the_good_refuses_the_bad_with_line_numbers_A4(
    world, tmp_path
):
    path = tmp_path / "contacts.csv"
    bad_lines = write_contacts_csv(path, rows=500, bad_every=50, organizations=["Acme", "Globex"])
    assert len(bad_lines) == 10
    contacts_before = Contact.objects.count()
    out = _run("contacts", str(path))
    assert "contacts: 490 created, 0 updated, 0 unchanged, 10 refused" in out
    assert Contact.objects.count() == contacts_before + 490
    refused_lines = sorted(
        int(line.split()[1].rstrip(":")) for line in out.splitlines() if line.startswith("line ")
    )
    assert refused_lines == bad_lines
    # Running it again changes nothing.
    counts = [m.objects.count() for m in (Contact, ContactEmail, ContactPhone)]
    again = _run("contacts", str(path))
    assert "contacts: 0 created, 0 updated, 490 unchanged, 10 refused" in again
    assert [m.objects.count() for m in (Contact, ContactEmail, ContactPhone)] == counts


def test_each_refusal_says_why_A4(world, tmp_path):
    path = _write(
        tmp_path / "c.csv",
        ["email", "name", "organization", "phone", "role"],
        [
            ["new@acme.example", "New Person", "Acme", "+12125550199", "administrator"],
            ["", "No Address", "Acme", "", ""],
            ["nobody", "Bad Address", "Acme", "", ""],
            ["x@acme.example", "Unknown Org", "Initech", "", ""],
            ["y@acme.example", "Bad Phone", "Acme", "call me", ""],
            ["z@acme.example", "Bad Role", "Acme", "", "king"],
            ["NEW@acme.example", "Twice", "Acme", "", ""],
            ["gina@globex.example", "Gina Moved", "Acme", "", ""],
            ["alice@acme.example", "Alice Renamed", "Acme", "", ""],
        ],
    )
    out = _run("contacts", path, list=True)
    assert "line 2: created new@acme.example" in out
    assert "line 3: refused : empty email" in out
    assert "line 4: refused nobody: 'nobody' is not an email address" in out
    assert "line 5: refused x@acme.example: no organisation with name 'Initech'" in out
    assert "line 6: refused y@acme.example: phone number" in out
    assert "line 7: refused z@acme.example: role must be one of" in out
    assert "line 8: refused new@acme.example: same key as line 2" in out
    assert "line 9: refused gina@globex.example: gina@globex.example is a contact of another" in out
    assert "line 10: updated alice@acme.example" in out
    assert Contact.objects.get(name="New Person").role == "administrator"
    assert Contact.objects.filter(name="Alice Renamed").exists()


def test_dry_run_reports_and_saves_nothing_A4(world, tmp_path):
    path = _write(
        tmp_path / "o.csv", ["name", "external_id"], [["Initech", "C-1"], ["Acme", "C-2"]]
    )
    out = _run("organizations", path, dry_run=True)
    assert "dry run, nothing saved: 1 created, 1 updated" in out
    assert not Organization.objects.filter(name="Initech").exists()
    assert Organization.objects.get(name="Acme").external_id == ""


def test_organisations_match_by_external_id_then_name_A4(world, tmp_path):
    first = _write(
        tmp_path / "o.csv",
        ["name", "external_id", "email_domains"],
        [["Initech", "C-1", "initech.example"], ["Acme", "C-2", ""], ["Acme Duplicate", "C-2", ""]],
    )
    out = _run("organizations", first, list=True)
    assert "line 2: created id:C-1" in out and "line 3: updated id:C-2" in out
    assert "line 4: refused id:C-2: same key as line 3" in out
    # Renamed in the source system: the external id finds it.
    renamed = _write(tmp_path / "r.csv", ["name", "external_id"], [["Initech Ltd", "C-1"]])
    assert "1 updated" in _run("organizations", renamed)
    org = Organization.objects.get(external_id="C-1")
    assert org.name == "Initech Ltd" and org.email_domains == "initech.example"
    assert "1 unchanged" in _run("organizations", renamed)


def test_contracts_import_by_organisation_and_reference_A4(world, tmp_path):
    plan = make_plan(world.vendor, "enterprise")
    path = _write(
        tmp_path / "k.csv",
        ["organization", "plan", "reference", "start", "end", "state"],
        [
            ["Acme", plan.slug, "K-100", "2026-01-01", "2027-01-01", "active"],
            ["Globex", plan.slug, "K-200", "2026-01-01", "", ""],
            ["Acme", "platinum", "K-300", "2026-01-01", "", ""],
            ["Acme", plan.slug, "K-400", "1 Jan 2026", "", ""],
            ["Acme", plan.slug, "K-500", "2026-06-01", "2026-12-01", ""],
        ],
    )
    out = _run("contracts", path, list=True)
    assert "line 2: created acme/K-100" in out and "line 3: created globex/K-200" in out
    assert "line 4: refused acme/K-300: no plan with slug 'platinum'" in out
    assert "line 5: refused acme/K-400: start '1 Jan 2026' is not a date" in out
    assert "line 6: refused acme/K-500:" in out  # overlaps K-100 of the same plan
    contract = Contract.objects.get(reference="K-100")
    assert (contract.state, contract.organization) == ("active", world.acme)
    assert contract.events.get().reason == "imported"
    again = _run("contracts", path)
    assert "0 created, 0 updated, 2 unchanged, 3 refused" in again
    assert Contract.objects.count() == 2


def test_import_refuses_a_file_it_cannot_read_A4(world, tmp_path):
    with pytest.raises(CommandError, match="missing column"):
        _run("contacts", _write(tmp_path / "x.csv", ["mail", "who"], [["a@b.example", "A"]]))
    with pytest.raises(CommandError, match="no file"):
        _run("contacts", str(tmp_path / "missing.csv"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        "email,name,organization\nj\xf6rg@acme.example,J\xf6rg,Acme\n".encode("latin-1")
    )
    with pytest.raises(CommandError, match="not UTF-8"):
        _run("contacts", str(latin))


def test_inventory_import_one_transaction_per_organisation_with_file_line_numbers_A4(
    world, tmp_path
):
    from supportdesk.contracts.models import Inventory

    path = _write(
        tmp_path / "inv.csv",
        ["organization", "type", "id", "kind", "person", "extension", "name"],
        [
            ["Acme", "person", "alice", "", "", "", "Alice Smith"],
            ["Globex", "device", "G1", "rotary", "", "", ""],
            ["Acme", "extension", "201", "user", "alice", "", ""],
            ["Acme", "device", "D1", "desk", "alice", "201", ""],
            ["Initech", "person", "x", "", "", "", "X"],
        ],
    )
    out = _run("inventory", path, list=True)
    assert "line 2: created acme: 3 rows" in out
    # Globex's bad row is reported at its line in the file, and nothing of Globex is stored.
    assert "line 3: refused globex: line 3: kind: unknown kind 'rotary'" in out
    assert "line 6: refused initech: no organisation with name 'Initech'" in out
    inventory = Inventory.objects.get(organization=world.acme)
    assert {d["id"] for d in inventory.items["devices"]} == {"D1"}
    assert not Inventory.objects.filter(organization=world.globex).exists()
    assert "1 unchanged" in _run("inventory", path)
