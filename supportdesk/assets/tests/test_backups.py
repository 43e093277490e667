"""Configuration backups (H-4, E-10): schedule, due list, upload and device push, restore,
retention after lapse with the warning mail, the deletion run and reinstatement."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage

from supportdesk.assets import selectors_backups, services_backups
from supportdesk.assets.models import BackupEvent, BackupRetention, ConfigBackup
from supportdesk.assets.tests.backup_helpers import device, uploaded
from supportdesk.billing import services_reinstatement
from supportdesk.billing.tests.test_django_reinstatement import lapsed_subscription
from supportdesk.contracts.tests.django_helpers import make_contract
from supportdesk.core.tenancy import principal_for
from supportdesk.customers.services import contact_update
from supportdesk.notifications.models import OutboxMessage
from tests.factories import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: Any) -> None:
    """Pages and the API read the clock; the contracts here run around the factories' NOW."""
    from supportdesk.core import clock

    monkeypatch.setattr(clock, "now", lambda: NOW)


def _bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _push(client: Any, asset_id: int, raw: str, body: bytes = b"config", **query: str) -> Any:
    url = f"/api/v1/assets/{asset_id}/backups"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.post(url, body, content_type="application/octet-stream", **_bearer(raw))


def _token(world: Any, asset: Any) -> str:
    return services_backups.device_token_create(
        principal=principal_for(world.engineer), asset=asset, name="pbx", now=NOW
    )[1]


# --- schedule and due list ---------------------------------------------------------------------


def test_end_of_life_device_gets_no_backup_schedule_H4(world):
    make_contract(world.acme, "per_user")  # a subscription with configuration backups
    eol = device(world.acme, name="Old-100", eol=date(2025, 6, 30))
    fresh = device(world.acme, name="X-200")
    rows = selectors_backups.backup_due_list(principal=principal_for(world.engineer), now=NOW)
    assert [r.asset.pk for r in rows] == [fresh.pk]
    row, _ = selectors_backups.backup_schedule_for(asset=eol, now=NOW)
    assert row.due is None and row.reason == "end of life since 2025-06-30"


def test_due_list_is_overdue_first_and_yearly_per_plan_H4(world):
    make_contract(world.acme, "per_user")
    recent, stale, never = (device(world.acme) for _ in range(3))
    uploaded(recent, world.engineer, now=NOW - timedelta(days=10))
    uploaded(stale, world.engineer, now=NOW - timedelta(days=400))
    rows = selectors_backups.backup_due_list(principal=principal_for(world.engineer), now=NOW)
    assert [r.asset.pk for r in rows] == [stale.pk, never.pk, recent.pk]
    assert rows[0].due.overdue_days == 35 and rows[1].due.overdue_days == 0  # type: ignore[union-attr]
    assert rows[2].due.next_due == date(2026, 12, 26)  # type: ignore[union-attr]


def test_no_schedule_without_a_subscription_with_backups_E10(world):
    make_contract(world.acme, "enterprise")  # seed 000's plan has no configuration backups
    asset = device(world.acme)
    row, standing = selectors_backups.backup_schedule_for(asset=asset, now=NOW)
    assert not standing.covered and row.due is None
    assert row.reason == "no subscription with configuration backups in force"


def test_console_due_list_and_upload(client, world):
    make_contract(world.acme, "per_user")
    asset = device(world.acme)
    client.force_login(world.engineer)
    page = client.get("/console/backups/")
    assert page.status_code == 200 and asset.serial in page.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    sent = client.post(
        f"/console/backups/assets/{asset.pk}/",
        {"file": SimpleUploadedFile("startup.cfg", b"hostname pbx\n")},
    )
    assert sent.status_code == 302
    backup = ConfigBackup.objects.get(asset=asset)
    assert backup.sha256 == hashlib.sha256(b"hostname pbx\n").hexdigest()
    assert backup.uploaded_by == world.engineer and backup.source == "engineer"
    assert default_storage.open(backup.file.name).read() == b"hostname pbx\n"
    detail = client.get(f"/console/backups/assets/{asset.pk}/").content.decode()
    assert backup.sha256 in detail and "startup.cfg" in detail


# --- device tokens and the push endpoint --------------------------------------------------------


def test_device_token_pushes_only_its_own_assets_backups_H4(client, world):
    mine, neighbour = device(world.acme), device(world.acme)
    raw = _token(world, mine)
    pushed = _push(client, mine.pk, raw, b"hostname pbx", filename="daily.cfg")
    assert pushed.status_code == 201, pushed.content
    body = pushed.json()
    assert body["sha256"] == hashlib.sha256(b"hostname pbx").hexdigest() and body["size"] == 12
    assert body["source"] == "device" and body["filename"] == "daily.cfg"
    # the same organisation's other device, another vendor's, and a missing one: all 404
    foreign = device(world.rival_org)
    for other in (neighbour.pk, foreign.pk, 2**62):
        response = _push(client, other, raw)
        assert response.status_code == 404, (other, response.content)
    assert ConfigBackup.objects.filter(asset=mine).count() == 1
    assert not ConfigBackup.objects.exclude(asset=mine).exists()
    # the device token is good for nothing else
    listing = client.get(f"/api/v1/assets/{mine.pk}/backups", **_bearer(raw))
    assert listing.status_code == 401


def test_revoked_token_is_refused_and_the_raw_token_is_not_stored(client, world, api):
    asset = device(world.acme)
    created = api(world.engineer).post(f"/assets/{asset.pk}/device-tokens", {"name": "pbx"})
    assert created.status_code == 201
    raw = created.json()["token"]
    token_id = created.json()["id"]
    from supportdesk.assets.models import DeviceToken

    stored = DeviceToken.objects.get(pk=token_id)
    assert raw not in (stored.token_hash, stored.prefix) and stored.token_hash != raw
    assert "token" not in api(world.engineer).get(f"/assets/{asset.pk}/device-tokens").json()[0]
    revoked = api(world.engineer).post(f"/assets/{asset.pk}/device-tokens/{token_id}/revoke", {})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert _push(client, asset.pk, raw).status_code == 401


def test_backup_over_the_cap_is_a_413_and_empty_is_a_400(client, world, settings):
    settings.BACKUP_MAX_BYTES = 100
    asset = device(world.acme)
    raw = _token(world, asset)
    assert _push(client, asset.pk, raw, b"x" * 100).status_code == 201
    too_big = _push(client, asset.pk, raw, b"x" * 101)
    assert too_big.status_code == 413 and too_big.json()["code"] == "too_large"
    assert _push(client, asset.pk, raw, b"").status_code == 400
    assert ConfigBackup.objects.count() == 1


def test_engineer_uploads_through_the_api_agent_may_not(client, world, api):
    asset = device(world.acme)
    url = f"/api/v1/assets/{asset.pk}/backups?filename=a.cfg"
    engineer = api(world.engineer)
    ok = client.post(url, b"abc", content_type="application/octet-stream", **engineer.headers)
    assert ok.status_code == 201 and ok.json()["uploaded_by"] == world.engineer.email
    agent = api(world.agent)
    refused = client.post(url, b"abc", content_type="application/octet-stream", **agent.headers)
    assert refused.status_code == 403


# --- restore: vendor staff and the customer's administrators ------------------------------------


def test_restore_by_staff_and_customer_administrators_only_tenancy(client, world, api):
    asset = device(world.acme)
    backup = uploaded(asset, world.engineer, b"hostname pbx")
    url = f"/assets/{asset.pk}/backups/{backup.pk}/download"
    got = api(world.agent).get(url)
    assert got.status_code == 200 and b"".join(got.streaming_content) == b"hostname pbx"
    assert got["X-Checksum-SHA256"] == backup.sha256
    # alice is a plain contact of Acme: refused; made administrator: allowed
    assert api(world.alice.user).get(url).status_code == 403
    assert api(world.alice.user).get(f"/assets/{asset.pk}/backups").status_code == 403
    contact_update(contact=world.alice, role="administrator")
    listed = api(world.alice.user).get(f"/assets/{asset.pk}/backups")
    assert listed.status_code == 200 and listed.json()["items"][0]["id"] == backup.pk
    assert api(world.alice.user).get(url).status_code == 200
    # another customer's administrator and another vendor's staff: 404 as for a missing one
    contact_update(contact=world.gina, role="administrator")
    assert api(world.gina.user).get(url).status_code == 404
    assert api(world.gina.user).get(f"/assets/{asset.pk}/backups").status_code == 404
    assert api(world.rival_agent).get(url).status_code == 404
    assert api(world.agent).get(f"/assets/{asset.pk}/backups/{2**62}/download").status_code == 404
    # customers see no device tokens
    assert api(world.alice.user).get(f"/assets/{asset.pk}/device-tokens").status_code == 403
    kinds = list(BackupEvent.objects.filter(asset=asset).values_list("kind", flat=True))
    assert kinds.count("downloaded") == 2


# --- retention after lapse (E-10) ---------------------------------------------------------------


def _lapsed_with_backup(world: Any) -> tuple[Any, Any, Any]:
    contract = lapsed_subscription(world)  # Globex's subscription lapsed on 2026-01-01
    contact_update(contact=world.gina, role="administrator")
    asset = device(world.globex)
    backup = uploaded(asset, world.engineer, b"hostname globex", now=NOW - timedelta(days=60))
    return contract, asset, backup


def test_lapse_makes_backups_eligible_warns_then_deletes_after_grace_E10(
    world, api, django_capture_on_commit_callbacks
):
    contract, asset, backup = _lapsed_with_backup(world)
    grace_end = date(2026, 1, 1) + timedelta(days=contract.plan.backup_retention_days)
    assert services_backups.backup_retention_sweep(now=NOW) == {
        "eligible": 1, "kept": 0, "deleted": 0,
    }  # fmt: skip
    retention = BackupRetention.objects.get(organization=world.globex)
    assert retention.lapsed_on == date(2026, 1, 1) and retention.delete_on == grace_end
    mail = OutboxMessage.objects.get(recipient="gina@globex.example")
    assert grace_end.isoformat() in mail.subject and "lapsed on 2026-01-01" in mail.body
    # idempotent: nothing more to do before the grace ends, and no second warning
    day_before = datetime.combine(grace_end - timedelta(days=1), NOW.timetz())
    assert services_backups.backup_retention_sweep(now=NOW) == {
        "eligible": 0, "kept": 0, "deleted": 0,
    }  # fmt: skip
    assert services_backups.backup_retention_sweep(now=day_before)["deleted"] == 0
    assert OutboxMessage.objects.filter(recipient="gina@globex.example").count() == 1
    listed = api(world.gina.user).get(f"/assets/{asset.pk}/backups").json()
    assert listed["eligible_for_deletion_from"] == grace_end.isoformat()
    # the grace is over: the deletion run removes the file and keeps the record
    name = backup.file.name
    on_the_day = datetime.combine(grace_end, NOW.timetz())
    with django_capture_on_commit_callbacks(execute=True):
        counts = services_backups.backup_retention_sweep(now=on_the_day)
    assert counts == {"eligible": 0, "kept": 0, "deleted": 1}
    backup.refresh_from_db()
    assert backup.deleted_at == on_the_day and not backup.file and backup.sha256
    assert not default_storage.exists(name)
    assert services_backups.backup_retention_sweep(now=on_the_day + timedelta(days=1)) == {
        "eligible": 0, "kept": 0, "deleted": 0,
    }  # fmt: skip
    gone = api(world.gina.user).get(f"/assets/{asset.pk}/backups/{backup.pk}/download")
    assert gone.status_code == 404 and gone.json()["code"] == "deleted"
    kinds = list(
        BackupEvent.objects.filter(organization=world.globex).values_list("kind", flat=True)
    )
    assert kinds == ["uploaded", "eligible", "deleted"]


def test_reinstatement_within_the_grace_keeps_the_backups_E10_B6(world):
    contract, _, backup = _lapsed_with_backup(world)
    services_backups.backup_retention_sweep(now=NOW)
    assert BackupRetention.objects.get(organization=world.globex).kept_at is None
    services_reinstatement.contract_reinstate(contract=contract, on=NOW.date(), now=NOW)
    after_grace = NOW + timedelta(days=200)
    counts = services_backups.backup_retention_sweep(now=after_grace)
    assert counts == {"eligible": 0, "kept": 1, "deleted": 0}
    backup.refresh_from_db()
    assert backup.deleted_at is None and default_storage.exists(backup.file.name)
    assert BackupRetention.objects.get(organization=world.globex).kept_at == after_grace


def test_active_subscription_keeps_backups_and_is_never_warned_E10(world):
    make_contract(world.acme, "per_user")
    uploaded(device(world.acme), world.engineer)
    assert services_backups.backup_retention_sweep(now=NOW + timedelta(days=100)) == {
        "eligible": 0, "kept": 0, "deleted": 0,
    }  # fmt: skip
    assert not BackupRetention.objects.exists() and not OutboxMessage.objects.exists()


def test_retention_task_is_registered_as_a_periodic_sweep():
    from supportdesk.core import runtime

    paths = [job.task_path for job in runtime.PERIODIC]
    assert "supportdesk.assets.tasks_backups.backup_retention_sweep" in paths


def test_portal_backups_for_the_organisations_administrators_only_tenancy(client, world):
    asset = device(world.acme)
    backup = uploaded(asset, world.engineer, b"hostname acme")
    client.force_login(world.alice.user)
    assert client.get("/portal/backups/").status_code == 403  # a plain contact
    contact_update(contact=world.alice, role="administrator")
    page = client.get("/portal/backups/")
    assert page.status_code == 200 and backup.sha256 in page.content.decode()
    url = f"/portal/backups/{asset.pk}/{backup.pk}/download/"
    got = client.get(url)
    assert got.status_code == 200 and b"".join(got.streaming_content) == b"hostname acme"
    contact_update(contact=world.gina, role="administrator")
    client.force_login(world.gina.user)
    assert client.get(url).status_code == 404
    assert backup.sha256 not in client.get("/portal/backups/").content.decode()


def test_device_may_push_a_multipart_file(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    asset = device(world.acme)
    raw = _token(world, asset)
    sent = client.post(
        f"/api/v1/assets/{asset.pk}/backups",
        {"file": SimpleUploadedFile("../../etc/passwd", b"hostname pbx")},
        **_bearer(raw),
    )
    assert sent.status_code == 201, sent.content
    backup = ConfigBackup.objects.get(asset=asset)
    assert backup.filename == "passwd"
    assert backup.file.name.startswith(f"backups/{asset.vendor_id}/{asset.pk}/")
    assert backup.device_token is not None and backup.uploaded_by is None


def test_deletion_run_is_logged(world, caplog):
    _lapsed_with_backup(world)
    with caplog.at_level("INFO", logger="supportdesk.assets.services_backups"):
        services_backups.backup_retention_sweep(now=NOW)
        services_backups.backup_retention_sweep(now=NOW + timedelta(days=120))
    text = caplog.text
    assert "eligible for deletion from 2026-04-01" in text
    assert "deleted 1 configuration backups" in text
