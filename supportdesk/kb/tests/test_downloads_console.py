"""K-3: vendor staff upload release files in the console and see every download."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from supportdesk.kb.models import ReleaseFile
from supportdesk.kb.tests.downloads_helpers import licensed_contract, product_of, shipped, today_of

pytestmark = pytest.mark.django_db


def test_console_upload_list_and_download_log_K3(client, api, world):
    from supportdesk.contracts import services as contract_services

    product = product_of(world)
    licensed_contract(world.acme, product, today_of(world) - timedelta(days=200))
    release = contract_services.release_create(
        version=product.versions.get(version="10.2"), name="10.2.1", shipped_on=shipped(5, world),
        kind="patch",
    )  # fmt: skip
    client.force_login(world.agent)
    page = f"/console/downloads/releases/{release.pk}/"
    assert "No files yet" in client.get(page).content.decode()
    body = b"installer" * 100
    response = client.post(page, {"file": SimpleUploadedFile("setup.exe", body)})
    assert response.status_code == 302
    stored = ReleaseFile.objects.get()
    assert stored.sha256 == hashlib.sha256(body).hexdigest() and stored.uploaded_by == world.agent
    listing = client.get("/console/downloads/").content.decode()
    assert "10.2.1" in listing and "Patch" in listing
    assert stored.sha256 in client.get(page).content.decode()
    assert client.post(page, {}).status_code == 400  # no file chosen

    link = api(world.alice.user).post(f"/releases/{release.pk}/download-link", {}).json()
    client.get(urlsplit(link["url"]).path, HTTP_RANGE="bytes=0-99").getvalue()
    log = client.get("/console/downloads/log/").content.decode()
    assert "Acme" in log and world.alice.user.email in log and "0–99 of 900" in log

    client.force_login(world.rival_agent)
    assert client.get(page).status_code == 404
    assert "Acme" not in client.get("/console/downloads/log/").content.decode()
