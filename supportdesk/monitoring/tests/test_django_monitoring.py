"""Monitoring intake end to end (N-1, E-3, E-4, O-4): the webhook, alerts, who hears of them,
outages, maintenance windows, the API and the console."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest

from supportdesk.monitoring.tests.conftest import FIXTURES, Monitoring, fixture_json

pytestmark = pytest.mark.django_db


def _now(at: Any) -> Any:
    return mock.patch("supportdesk.core.clock.now", return_value=at)


def _alerts() -> list[Any]:
    from supportdesk.monitoring.models import Alert

    return list(Alert.objects.order_by("pk"))


def _admin_mail() -> list[Any]:
    from supportdesk.notifications.models import OutboxMessage

    return list(OutboxMessage.objects.filter(recipient="ada@acme.example").order_by("pk"))


def _sweep(at: Any) -> int:
    from supportdesk.monitoring.services_mail import alerts_mail_sweep

    return alerts_mail_sweep(now=at)


def test_alertmanager_fixture_creates_updates_and_resolves_an_alert_N1(mon: Monitoring, client):
    from tests.factories import NOW

    body = fixture_json("alertmanager_v4.json")
    body["commonLabels"]["severity"] = body["alerts"][0]["labels"]["severity"] = "warning"
    with _now(NOW):
        answer = mon.post(client, body)
    assert answer.status_code == 202, answer.content
    [alert] = _alerts()
    assert (alert.status, alert.organization, alert.asset_serial) == (
        "firing",
        mon.world.acme,
        "PBX-0001",
    )
    body["alerts"][0]["annotations"]["description"] = "still down"
    with _now(NOW + timedelta(minutes=1)):
        assert mon.post(client, body).status_code == 202
    [alert] = _alerts()
    assert alert.event_count == 2 and alert.details == "still down"
    body["status"] = body["alerts"][0]["status"] = "resolved"
    body["alerts"][0]["endsAt"] = "2026-01-05T15:10:00Z"
    with _now(NOW + timedelta(minutes=2)):
        assert mon.post(client, body).status_code == 202
    [alert] = _alerts()
    assert alert.status == "resolved" and alert.resolved_at == NOW + timedelta(minutes=2)
    kinds = list(alert.events.values_list("kind", flat=True))
    assert kinds[0] == "opened" and "repeated" in kinds and kinds[-1] == "resolved"


def test_grafana_and_generic_fixtures_create_alerts_N1(mon: Monitoring, client) -> None:
    from tests.factories import NOW

    with _now(NOW):
        assert mon.post(client, (FIXTURES / "grafana.json").read_bytes()).status_code == 202
        assert mon.post(client, (FIXTURES / "generic.json").read_bytes()).status_code == 202
    alerts = _alerts()
    assert sorted(a.fingerprint for a in alerts) == [
        "acme-trunk-2",
        "bc97ff14869b13e3",
        "c6eadffa33fcdf37",
    ]
    assert {a.organization_id for a in alerts} == {mon.world.acme.pk}
    generic = next(a for a in alerts if a.fingerprint == "acme-trunk-2")
    generic_resolved = {
        "summary": "Trunk 2 registration failed",
        "status": "resolved",
        "dedup_key": "acme-trunk-2",
        "customer": str(mon.world.acme.pk),
    }
    with _now(NOW + timedelta(minutes=5)):
        assert mon.post(client, generic_resolved).status_code == 202
    generic.refresh_from_db()
    assert generic.status == "resolved"


def test_a_second_identical_delivery_changes_nothing_N1(mon: Monitoring, client) -> None:
    from supportdesk.monitoring.models import Delivery
    from tests.factories import NOW

    body = (FIXTURES / "generic.json").read_bytes()
    with _now(NOW):
        first = mon.post(client, body).json()
    before = [(a.pk, a.event_count, a.last_event_at) for a in _alerts()]
    with _now(NOW + timedelta(minutes=1)):
        second = mon.post(client, body).json()
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert [(a.pk, a.event_count, a.last_event_at) for a in _alerts()] == before
    assert Delivery.objects.count() == 2  # kept, but applied once


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{broken", 400),
        (b'{"hello": "world"}', 422),
        (b'{"summary": "x", "status": "on"}', 422),
        (b"[]", 422),
    ],
)
def test_malformed_bodies_are_refused_and_store_nothing_N1(mon: Monitoring, client, body, status):
    from supportdesk.monitoring.models import Alert, Delivery

    answer = mon.post(client, body)
    assert answer.status_code == status
    assert answer.json()["detail"]
    assert Delivery.objects.count() == Alert.objects.count() == 0


def test_bad_token_404_bad_signature_401_oversized_413_N1(mon: Monitoring, client, settings):
    from supportdesk.monitoring.models import Alert, Delivery

    body = (FIXTURES / "generic.json").read_bytes()
    assert mon.post(client, body, token="not-a-token").status_code == 404
    mon.integration.signing_secret = "hush"
    mon.integration.save()
    assert mon.post(client, body).status_code == 401
    wrong = "sha256=" + hmac.new(b"other", body, hashlib.sha256).hexdigest()
    assert mon.post(client, body, HTTP_X_SUPPORTDESK_SIGNATURE=wrong).status_code == 401
    settings.MONITORING_MAX_BODY_BYTES = 64
    good = "sha256=" + hmac.new(b"hush", body, hashlib.sha256).hexdigest()
    assert mon.post(client, body, HTTP_X_SUPPORTDESK_SIGNATURE=good).status_code == 413
    assert Delivery.objects.count() == Alert.objects.count() == 0
    settings.MONITORING_MAX_BODY_BYTES = 1024 * 1024
    assert mon.post(client, body, HTTP_X_SUPPORTDESK_SIGNATURE=good).status_code == 202
    assert Alert.objects.count() == 1


def test_administrators_get_one_grouped_mail_then_a_resolved_follow_up_E3_N1(
    mon: Monitoring, client
) -> None:
    from tests.factories import NOW

    grafana = fixture_json("grafana.json")
    with _now(NOW):
        mon.post(client, grafana)
    assert _admin_mail() == []  # waits for its group
    assert _sweep(NOW + timedelta(seconds=1)) == 1
    [mail] = _admin_mail()
    assert "2 alerts" in mail.subject
    assert "zone us-1" in mail.body and "zone eu-1" in mail.body
    assert _sweep(NOW + timedelta(minutes=1)) == 0  # nothing owed twice
    grafana["alerts"] = grafana["alerts"][:1]
    grafana["status"] = grafana["alerts"][0]["status"] = "resolved"
    with _now(NOW + timedelta(minutes=5)):
        mon.post(client, grafana)
    assert _sweep(NOW + timedelta(minutes=6)) == 1
    resolved = _admin_mail()[-1]
    assert resolved.subject.startswith("[RESOLVED]") and "zone us-1" in resolved.subject


def test_an_alert_resolved_before_its_group_is_due_mails_nobody_N1(mon: Monitoring, client):
    from tests.factories import NOW

    mon.integration.group_wait_seconds = 60
    mon.integration.save()
    body = {"summary": "Blip", "customer": "Acme", "dedup_key": "blip", "severity": "warning"}
    with _now(NOW):
        mon.post(client, body)
    with _now(NOW + timedelta(seconds=20)):
        mon.post(client, {**body, "status": "resolved"})
    assert _sweep(NOW + timedelta(minutes=5)) == 0
    assert _admin_mail() == []


def test_low_severities_wait_for_the_daily_digest_N1(mon: Monitoring, client) -> None:
    from tests.factories import NOW

    with _now(NOW):
        for n in range(3):
            mon.post(
                client,
                {
                    "summary": f"Note {n}",
                    "customer": "Acme",
                    "severity": "info",
                    "dedup_key": f"note-{n}",
                },
            )
    assert _sweep(NOW + timedelta(hours=1)) == 0
    assert _sweep(NOW + timedelta(hours=24)) == 1
    [digest] = _admin_mail()
    assert digest.subject == "Monitoring digest: 3 alerts"


def test_customer_without_active_contract_gets_nothing_automatic_E4_N1(mon: Monitoring, client):
    from supportdesk.oncall.models import ChainRun
    from supportdesk.tickets.models import Ticket
    from tests.factories import NOW

    body = {
        "summary": "Everything down",
        "customer": "Globex",
        "severity": "critical",
        "dedup_key": "globex-down",
    }
    with _now(NOW):
        mon.post(client, body)
    [alert] = _alerts()
    assert alert.organization == mon.world.globex
    assert "no active contract" in alert.suppressed
    assert "suppressed" in alert.events.values_list("kind", flat=True)
    assert _sweep(NOW + timedelta(hours=25)) == 0
    assert not Ticket.objects.filter(channel="monitoring").exists()
    assert not ChainRun.objects.exists()


def test_outage_opens_one_p1_and_pages_once_however_many_alerts_O4_N1(mon: Monitoring, client):
    from supportdesk.monitoring.models import Outage
    from supportdesk.oncall.models import ChainRun
    from supportdesk.tickets.models import Message, Ticket, TicketEvent
    from tests.factories import NOW

    with _now(NOW):
        for n in range(5):
            body = fixture_json("alertmanager_v4.json")
            body["alerts"][0]["fingerprint"] = f"down-{n}"
            body["alerts"][0]["labels"]["asset_serial"] = f"PBX-{n}"
            assert mon.post(client, body).status_code == 202
    [ticket] = Ticket.objects.filter(channel="monitoring")
    assert (ticket.priority, ticket.organization) == ("P1", mon.world.acme)
    assert ticket.subject == "Outage: PBX unreachable"
    [run] = ChainRun.objects.all()
    assert (run.ticket_id, run.reason) == (ticket.pk, "monitoring")
    assert TicketEvent.objects.filter(ticket=ticket, kind="monitoring_alert").count() == 5
    with _now(NOW + timedelta(minutes=30)):
        for n in range(5):
            body = fixture_json("alertmanager_v4.json")
            body["alerts"][0]["fingerprint"] = f"down-{n}"
            body["status"] = body["alerts"][0]["status"] = "resolved"
            mon.post(client, body)
    outage = Outage.objects.get()
    assert outage.ended_at == NOW + timedelta(minutes=30)
    note = Message.objects.filter(ticket=ticket, kind="internal").last()
    assert note is not None and "resolved" in note.body_text
    # The next outage is a new one: one more ticket, one more page.
    with _now(NOW + timedelta(hours=2)):
        body = fixture_json("alertmanager_v4.json")
        body["alerts"][0]["fingerprint"] = "down-0"
        mon.post(client, body)
    assert Ticket.objects.filter(channel="monitoring").count() == 2
    assert ChainRun.objects.count() == 2


def test_a_maintenance_window_silences_but_keeps_the_history_N1(mon: Monitoring, client):
    from supportdesk.core.tenancy import principal_for
    from supportdesk.monitoring.services_staff import maintenance_window_create
    from supportdesk.oncall.models import ChainRun
    from supportdesk.tickets.models import Ticket
    from tests.factories import NOW

    maintenance_window_create(
        principal=principal_for(mon.world.agent),
        organization_id=mon.world.acme.pk,
        starts_at=NOW - timedelta(hours=1),
        ends_at=NOW + timedelta(hours=1),
        reason="upgrade",
    )
    with _now(NOW):
        mon.post(client, fixture_json("alertmanager_v4.json"))
    [alert] = _alerts()
    assert alert.status == "firing" and "maintenance" in alert.suppressed
    assert list(alert.events.values_list("kind", flat=True)) == ["opened", "matched", "suppressed"]
    assert _sweep(NOW + timedelta(minutes=5)) == 0
    assert not Ticket.objects.filter(channel="monitoring").exists()
    assert not ChainRun.objects.exists()


def test_unmatched_alert_waits_then_an_agent_matches_it_and_makes_a_rule_N1(
    mon: Monitoring, client, api
) -> None:
    from tests.factories import NOW

    body = {
        "summary": "Fan failure",
        "labels": {"cluster": "pbx-7"},
        "dedup_key": "fan",
        "severity": "error",
    }
    with _now(NOW):
        mon.post(client, body)
    [alert] = _alerts()
    assert alert.organization is None
    listed = api(mon.world.agent).get("/alerts", unmatched="true")
    assert [a["id"] for a in listed.json()] == [alert.pk]
    with _now(NOW + timedelta(minutes=1)):
        matched = api(mon.world.agent).post(
            f"/alerts/{alert.pk}/match",
            {"organization": mon.world.acme.pk, "rule_label": "cluster"},
        )
    assert matched.status_code == 200, matched.content
    assert matched.json()["organization"] == mon.world.acme.pk
    assert _sweep(NOW + timedelta(minutes=2)) == 1  # now the administrators hear of it
    with _now(NOW + timedelta(minutes=3)):
        mon.post(client, {**body, "dedup_key": "fan-2", "summary": "Fan 2 failure"})
    assert _alerts()[-1].organization == mon.world.acme  # the rule matched it


def test_flapping_alert_is_recorded_but_not_mailed_N1(mon: Monitoring, client) -> None:
    from tests.factories import NOW

    body = {"summary": "Link flaps", "customer": "Acme", "dedup_key": "flap", "severity": "warning"}
    at = NOW
    for n in range(8):
        at += timedelta(minutes=1)
        with _now(at):
            mon.post(
                client,
                {
                    **body,
                    "status": "firing" if n % 2 == 0 else "resolved",
                    "occurred_at": at.isoformat(),
                },
            )
    [alert] = _alerts()
    assert alert.flapping and "flapping" in alert.suppressed
    assert alert.events.filter(kind="reopened").count() == 3


def test_api_integrations_alerts_and_tenancy_N1(mon: Monitoring, client, api) -> None:
    from tests.factories import NOW

    created = api(mon.world.agent).post("/monitoring/integrations", {"name": "Grafana"})
    assert created.status_code == 201, created.content
    url = created.json()["url"]
    assert url.startswith("https://desk.example/hooks/monitoring/")
    token = url.rsplit("/", 1)[1]
    with _now(NOW):
        assert mon.post(client, fixture_json("grafana.json"), token=token).status_code == 202
    # Only admins create integrations; contacts never see them.
    assert (
        api(mon.world.engineer).post("/monitoring/integrations", {"name": "X"}).status_code == 403
    )
    assert api(mon.world.alice.user).get("/monitoring/integrations").json() == []
    alerts = api(mon.world.agent).get("/alerts").json()
    assert len(alerts) == 2
    one = alerts[0]["id"]
    detail = api(mon.world.agent).get(f"/alerts/{one}").json()
    assert detail["events"][0]["kind"] == "opened"
    # Another vendor's staff and another customer's contact: 404.
    assert api(mon.world.rival_agent).get(f"/alerts/{one}").status_code == 404
    assert api(mon.world.gina.user).get(f"/alerts/{one}").status_code == 404
    assert api(mon.world.rival_agent).post(f"/alerts/{one}/acknowledge", {}).status_code == 404
    # Acme's own contact sees its alerts but may not acknowledge them.
    assert len(api(mon.world.alice.user).get("/alerts").json()) == 2
    assert api(mon.world.alice.user).post(f"/alerts/{one}/acknowledge", {}).status_code == 403
    acked = api(mon.world.agent).post(f"/alerts/{one}/acknowledge", {})
    assert acked.status_code == 200 and acked.json()["acknowledged_at"]


def test_maintenance_window_api_validates_and_is_tenant_scoped_N1(mon: Monitoring, api) -> None:
    ok = api(mon.world.agent).post(
        "/monitoring/maintenance-windows",
        {
            "organization": mon.world.acme.pk,
            "starts_at": "2026-01-05T10:00:00Z",
            "ends_at": "2026-01-05T12:00:00Z",
            "reason": "firmware",
        },
    )
    assert ok.status_code == 201, ok.content
    backwards = api(mon.world.agent).post(
        "/monitoring/maintenance-windows",
        {
            "organization": mon.world.acme.pk,
            "starts_at": "2026-01-05T12:00:00Z",
            "ends_at": "2026-01-05T10:00:00Z",
        },
    )
    assert backwards.status_code == 400 and "end after" in backwards.json()["detail"]
    foreign = api(mon.world.rival_agent).post(
        "/monitoring/maintenance-windows",
        {
            "organization": mon.world.acme.pk,
            "starts_at": "2026-01-05T10:00:00Z",
            "ends_at": "2026-01-05T12:00:00Z",
        },
    )
    assert foreign.status_code == 404
    assert api(mon.world.rival_agent).get("/monitoring/maintenance-windows").json() == []


def _generic(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "summary": f"Handset {n} unreachable",
        "customer": "Acme",
        "severity": "warning",
        "dedup_key": f"handset-{n}",
        **fields,
    }


@pytest.mark.parametrize("reuse", [0.0, 3600.0])
def test_the_webhook_only_stores_and_wakes_one_worker_run_N1(
    mon: Monitoring, client, monkeypatch, reuse
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tasks_db.models import DBTaskResult

    from supportdesk.monitoring.models import Delivery
    from supportdesk.monitoring.tasks import monitoring_apply
    from tests.factories import NOW

    monkeypatch.setattr("supportdesk.monitoring.tasks.WAKE_REUSE_SECONDS", reuse)
    with _now(NOW):
        first = mon.post(client, _generic(1), apply=False)
        with CaptureQueriesContext(connection) as queries:
            second = mon.post(client, _generic(2), apply=False)
        # Read now: the next request's start empties the connection's query log.
        statements = [q["sql"] for q in queries]
        duplicate = mon.post(client, _generic(2), apply=False)
    assert first.status_code == second.status_code == duplicate.status_code == 202
    assert (first.json()["state"], first.json()["events"]) == ("stored", 1)
    assert duplicate.json()["duplicate"] is True
    # Integration by token, INSERT with its duplicate check; and whether a worker run is
    # already waiting, unless this process saw one a moment ago.
    assert len(statements) == (3 if reuse == 0 else 2), statements
    assert _alerts() == []
    waiting = DBTaskResult.objects.filter(task_path=monitoring_apply.module_path, status="READY")
    assert waiting.count() == 1  # one wake-up for the three requests
    with _now(NOW + timedelta(seconds=1)):
        monitoring_apply.call()
    assert sorted(a.fingerprint for a in _alerts()) == ["handset-1", "handset-2"]
    assert sorted(Delivery.objects.values_list("state", flat=True)) == [
        "duplicate",
        "processed",
        "processed",
    ]


def test_a_delivery_that_cannot_be_applied_fails_alone_and_the_batch_is_kept_N1(
    mon: Monitoring, client
) -> None:
    from django.db import OperationalError

    from supportdesk.monitoring import services
    from supportdesk.monitoring.models import Delivery
    from supportdesk.monitoring.services import deliveries_apply_pending
    from tests.factories import NOW

    real = services._apply_event
    trouble = {"Handset 2 unreachable": RuntimeError("db blip")}

    def flaky(integration: Any, event: Any, **kwargs: Any) -> Any:
        if event.summary in trouble:
            raise trouble[event.summary]
        return real(integration, event, **kwargs)

    with _now(NOW):
        for n in (1, 2, 3):
            mon.post(client, _generic(n), apply=False)
        mon.post(client, _generic(4, severity="critical"), apply=False)
    trouble["Handset 3 unreachable"] = OperationalError("deadlock detected")
    with mock.patch("supportdesk.monitoring.services._apply_event", side_effect=flaky):
        batch = deliveries_apply_pending(now=NOW)
    assert (batch.claimed, batch.applied) == (4, 2)
    assert [(d.state, d.error) for d in Delivery.objects.order_by("pk")] == [
        ("processed", ""),
        ("failed", "RuntimeError: db blip"),
        ("stored", ""),  # a lock conflict: tried again by the next batch
        ("processed", ""),
    ]
    assert sorted(a.fingerprint for a in _alerts()) == ["handset-1", "handset-4"]
    [outage_alert] = [a for a in _alerts() if a.fingerprint == "handset-4"]
    assert outage_alert.outage is not None  # the outage of the kept delivery stands
    assert deliveries_apply_pending(now=NOW).applied == 1
    assert sorted(a.fingerprint for a in _alerts()) == ["handset-1", "handset-3", "handset-4"]


def test_a_batch_of_repeats_costs_a_few_statements_per_event_N1(mon: Monitoring, client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from supportdesk.monitoring.services import deliveries_apply_pending
    from tests.factories import NOW

    with _now(NOW):
        for n in range(10):
            mon.post(client, _generic(n))
        for n in range(10):
            mon.post(client, _generic(n, details="again"), apply=False)
    with CaptureQueriesContext(connection) as queries:
        assert deliveries_apply_pending(now=NOW).applied == 10
    # Per repeat: savepoint, the alert's update, release. Per batch: claim, the integration,
    # its alerts locked at once, the timeline lines at once, processed; and here the batch's
    # transaction is itself a savepoint and its release (the test runs inside a transaction).
    assert len(queries) <= 3 * 10 + 5 + 2, [q["sql"] for q in queries]
    assert {a.event_count for a in _alerts()} == {2}


def test_console_alert_pages_for_staff_only_N1(mon: Monitoring, client) -> None:
    from tests.factories import NOW

    with _now(NOW):
        mon.post(client, fixture_json("alertmanager_v4.json"))
        mon.post(client, {"summary": "Stray", "labels": {"x": "y"}, "dedup_key": "stray"})
    [alert, stray] = _alerts()
    client.force_login(mon.world.agent)
    page = client.get("/console/alerts/")
    assert page.status_code == 200
    assert b"PBX unreachable" in page.content and b"Stray" in page.content
    detail = client.get(f"/console/alerts/{alert.pk}/")
    assert detail.status_code == 200 and b"Outage" in detail.content
    acked = client.post(f"/console/alerts/{alert.pk}/acknowledge/")
    assert acked.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    matched = client.post(
        f"/console/alerts/{stray.pk}/match/",
        {"organization": mon.world.globex.pk, "rule_label": "x"},
    )
    assert matched.status_code == 302
    stray.refresh_from_db()
    assert stray.organization == mon.world.globex
    assert client.get("/console/alerts/integrations/").status_code == 200
    client.logout()
    client.force_login(mon.world.rival_agent)
    assert client.get(f"/console/alerts/{alert.pk}/").status_code == 404
    client.logout()
    client.force_login(mon.world.alice.user)
    assert client.get("/console/alerts/").status_code == 403


def test_replay_command_feeds_a_sample_through_the_intake_N1(mon: Monitoring, tmp_path) -> None:
    from django.core.management import call_command

    sample = tmp_path / "sample.jsonl"
    sample.write_text(
        "\n".join(
            json.dumps(x)
            for x in [fixture_json("generic.json"), fixture_json("alertmanager_v4.json")]
        )
    )
    call_command("monitoring", "replay", str(sample), "--integration", str(mon.integration.pk))
    assert {a.fingerprint for a in _alerts()} == {"acme-trunk-2", "5f2c6a1e9b0d4c21"}


def test_notification_rules_route_by_severity_labels_and_plan_N1(
    mon: Monitoring, client, api
) -> None:
    from supportdesk.contracts.tests.django_helpers import PRESETS
    from supportdesk.monitoring.models import AlertEventKind
    from tests.factories import NOW

    acme_plan = PRESETS["per_user"].plan_id
    path = f"/monitoring/integrations/{mon.integration.pk}"
    rules = [
        {"route": "none", "severities": ["warning"], "plans": [acme_plan]},
        {"route": "mail", "labels": {"team": "voice"}},
    ]
    changed = api(mon.world.agent).patch(path, {"notification_rules": rules})
    assert changed.status_code == 200, changed.content
    assert [r["route"] for r in changed.json()["notification_rules"]] == ["none", "mail"]
    with _now(NOW):
        for key, severity, labels in (
            ("trunk", "warning", {}),
            ("voice", "info", {"team": "voice"}),
            ("other", "info", {}),
        ):
            body = {"summary": key, "customer": "Acme", "severity": severity, "dedup_key": key}
            mon.post(client, {**body, "labels": labels})
    assert _sweep(NOW + timedelta(seconds=1)) == 1
    [mail] = _admin_mail()
    # Rule 1 silences Acme's warnings on its plan; rule 2 mails an info at once; the third
    # alert falls through to the severity sets and waits for the digest.
    assert "voice" in mail.body and "trunk" not in mail.body and "other" not in mail.body
    trunk, voice, other = _alerts()
    routed = trunk.events.get(kind=AlertEventKind.ROUTED)
    assert routed.data == {"route": "none", "rule": "notification rule 1", "change": "opened"}
    assert voice.events.get(kind=AlertEventKind.ROUTED).data["rule"] == "notification rule 2"
    assert not other.events.filter(kind=AlertEventKind.ROUTED).exists()
    assert other.mail_state == "digest"


def test_notification_rules_are_validated_and_only_the_vendors_admins_change_them_N1(
    mon: Monitoring, api
) -> None:
    path = f"/monitoring/integrations/{mon.integration.pk}"
    unknown = api(mon.world.agent).patch(
        path, {"notification_rules": [{"route": "mail", "plans": ["gold"]}]}
    )
    assert unknown.status_code == 400 and "no such plan gold" in unknown.json()["detail"]
    bad_route = api(mon.world.agent).patch(path, {"notification_rules": [{"route": "sms"}]})
    assert bad_route.status_code == 422
    assert api(mon.world.engineer).patch(path, {"active": False}).status_code == 403
    assert api(mon.world.rival_agent).patch(path, {"active": False}).status_code == 404
    assert api(mon.world.alice.user).patch(path, {"active": False}).status_code == 404
    mon.integration.refresh_from_db()
    assert mon.integration.active and mon.integration.notification_rules == []
    off = api(mon.world.agent).patch(path, {"active": False, "outage_assets": 3})
    assert off.status_code == 200 and off.json()["active"] is False
    assert off.json()["outage_assets"] == 3


def test_console_adds_and_removes_notification_rules_N1(mon: Monitoring, client) -> None:
    from supportdesk.contracts.tests.django_helpers import PRESETS

    url = f"/console/alerts/integrations/{mon.integration.pk}/rules/"
    client.force_login(mon.world.agent)
    added = client.post(
        url,
        {
            "severities": ["warning", "info"],
            "labels": "team=voice, env = prod",
            "plans": [PRESETS["per_user"].plan_id],
            "route": "digest",
        },
    )
    assert added.status_code == 302
    mon.integration.refresh_from_db()
    assert mon.integration.notification_rules == [
        {
            "route": "digest",
            "severities": ["info", "warning"],
            "labels": {"team": "voice", "env": "prod"},
            "plans": [PRESETS["per_user"].plan_id],
        }
    ]
    page = client.get("/console/alerts/integrations/")
    assert b"<code>team=voice</code>" in page.content
    bad = client.post(url, {"labels": "team voice", "route": "mail"})
    assert bad.status_code == 400 and b"name=value" in bad.content
    assert client.post(url, {"remove": "2"}).status_code == 400
    assert client.post(url, {"remove": "1"}).status_code == 302
    mon.integration.refresh_from_db()
    assert mon.integration.notification_rules == []
