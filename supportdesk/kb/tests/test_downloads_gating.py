"""K-3, E-6, E-7: the portal's Downloads page and the API give the same answer and reason for
each case the entitlement docs list, and a download link is refused with that reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils.html import escape

from supportdesk.kb.models import DownloadLink, DownloadLog
from supportdesk.kb.tests.downloads_helpers import (
    licensed_contract,
    product_of,
    release_with_file,
    shipped,
    today_of,
)

pytestmark = pytest.mark.django_db


def _answers(client: Any, api: Any, world: Any, release_id: int) -> tuple[str, str, Any]:
    """(code on the page, code in the API list, the download-link response) for Alice."""
    client.force_login(world.alice.user)
    page = client.get("/portal/downloads/").content.decode()
    row = page.split(f'data-release="{release_id}"', 1)[1].split("</tr>", 1)[0]
    listed = {r["id"]: r for r in api(world.alice.user).get("/releases").json()}
    download = listed[release_id]["download"]
    link = api(world.alice.user).post(f"/releases/{release_id}/download-link", {})
    if download["allowed"]:
        assert "Download " in row
        page_code = "eligible"
    else:
        assert escape(download["reason"]) in row, (row, download)
        page_code = row.split('data-code="', 1)[1].split('"', 1)[0]
    return page_code, download["code"], link


CASES = [
    # (case, version, shipped days ago, contract start days before shipping, moves, upgrade)
    ("current_version_E6", "10.2", 5, 200, (), False, "eligible"),
    ("previous_version_E6", "10.1", 5, 200, (), False, "eligible"),
    ("older_version_E6", "9.9", 5, 200, (), False, "version_unsupported"),
    ("covered_30_days_before_shipping_E7", "10.2", 1, 30, (), False, "eligible"),
    ("covered_29_days_before_shipping_E7", "10.2", 1, 29, (), False, "not_covered"),
    ("upgrade_sold_separately_E7", "10.2", 5, 200, (), True, "upgrade_sold_separately"),
    ("suspended_contract", "10.2", 5, 200, ("past_due", "suspended"), False,
     "contract_suspended"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "version", "days_ago", "covered", "moves", "upgrade", "code"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_page_and_api_agree_on_the_answer_and_reason_K3_E6_E7(
    client, api, world, case, version, days_ago, covered, moves, upgrade, code
):
    product = product_of(world)
    ship = shipped(days_ago, world)
    licensed_contract(world.acme, product, ship - timedelta(days=covered), moves=moves)
    release = release_with_file(product, version, f"{version}.7", ship, upgrade=upgrade)
    page_code, api_code, link = _answers(client, api, world, release.pk)
    assert page_code == api_code == code
    if code == "eligible":
        assert link.status_code == 200, link.content
        assert set(link.json()) == {"url", "expires_at"}
    else:
        assert link.status_code == 403, link.content
        listed = api(world.alice.user).get("/releases").json()
        reason = next(r for r in listed if r["id"] == release.pk)["download"]["reason"]
        assert link.json() == {"detail": reason, "code": code}
        assert not DownloadLink.objects.exists()


def test_reasons_say_why(client, api, world):
    product = product_of(world)
    licensed_contract(world.acme, product, today_of(world) - timedelta(days=31))
    old = release_with_file(product, "9.9", "9.9.4", shipped(1, world))
    late = release_with_file(product, "10.2", "10.2.1", shipped(10, world))
    rows = {r["id"]: r["download"] for r in api(world.alice.user).get("/releases").json()}
    assert "older than the supported versions (10.1, 10.2)" in rows[old.pk]["reason"]
    assert "but there was none on" in rows[late.pk]["reason"]


def test_lapsed_or_no_contract_is_a_reason(client, api, world):
    product = product_of(world)
    release = release_with_file(product, "10.2", "10.2.1", shipped(5, world))
    rows = {r["id"]: r["download"] for r in api(world.alice.user).get("/releases").json()}
    assert rows[release.pk]["code"] == "no_contract"
    start = today_of(world) - timedelta(days=400)
    licensed_contract(world.acme, product, start, end=start + timedelta(days=365))
    rows = {r["id"]: r["download"] for r in api(world.alice.user).get("/releases").json()}
    assert rows[release.pk]["code"] == "contract_lapsed", rows


def test_another_customer_neither_sees_nor_gets_a_link_to_releases_of_products_it_lacks(
    client, api, world
):
    """Tenancy per endpoint: Globex licenses another product; Acme's releases are a 404."""
    accu, other = product_of(world), product_of(world, "FaxBridge")
    start = today_of(world) - timedelta(days=200)
    licensed_contract(world.acme, accu, start)
    licensed_contract(world.globex, other, start)
    release = release_with_file(accu, "10.2", "10.2.1", shipped(5, world))
    gina = api(world.gina.user)
    assert release.pk not in {r["id"] for r in gina.get("/releases").json()}
    assert gina.post(f"/releases/{release.pk}/download-link", {}).status_code == 404
    client.force_login(world.gina.user)
    assert f'data-release="{release.pk}"' not in client.get("/portal/downloads/").content.decode()
    assert client.post(f"/portal/downloads/{release.pk}/").status_code == 404
    # a contact names no other organisation, and uploads nothing
    other_org = api(world.alice.user).post(
        f"/releases/{release.pk}/download-link", {"organization": world.globex.pk}
    )
    assert other_org.status_code == 404
    upload = client.post(f"/api/v1/releases/{release.pk}/files", {"file": _file()})
    assert upload.status_code in (403, 404)


def _file() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("x.bin", b"x")


def test_staff_list_every_release_and_ask_for_an_organisation(api, world):
    product = product_of(world)
    licensed_contract(world.acme, product, today_of(world) - timedelta(days=200))
    release = release_with_file(product, "10.2", "10.2.1", shipped(5, world))
    agent = api(world.agent)
    plain = {r["id"]: r for r in agent.get("/releases").json()}
    assert plain[release.pk]["download"] is None and plain[release.pk]["files"][0]["size"] > 0
    named = agent.get("/releases", organization=world.acme.pk).json()
    assert named[0]["download"]["code"] == "eligible"
    assert agent.post(f"/releases/{release.pk}/download-link", {}).status_code == 400
    link = agent.post(f"/releases/{release.pk}/download-link", {"organization": world.acme.pk})
    assert link.status_code == 200
    assert DownloadLink.objects.get().organization == world.acme
    assert not DownloadLog.objects.exists()  # a link is not a download
