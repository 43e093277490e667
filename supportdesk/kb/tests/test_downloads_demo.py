"""The enterprise demo ships FaxRoute Server releases with real files: one customer downloads
10.1.1, another is told why it cannot (K-3, E-6, E-7); loading twice adds no file."""

from __future__ import annotations

import hashlib
import zipfile
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

import pytest

from supportdesk.kb.models import ReleaseFile

pytestmark = pytest.mark.django_db


def test_demo_releases_one_customer_downloads_another_is_told_why_K3(
    settings: Any, tmp_path: Any, client: Any
) -> None:
    from supportdesk.accounts.models import User
    from supportdesk.demo.load import demo_load
    from tests.factories import ApiClient

    settings.MEDIA_ROOT = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    demo_load()
    files = ReleaseFile.objects.filter(release__version__product__name="FaxRoute Server")
    assert files.count() == 4
    demo_load()
    assert files.count() == 4

    def rows(email: str) -> dict[str, Any]:
        api = ApiClient(client, User.objects.get(email=email))
        return {r["name"]: r["download"] for r in api.get("/releases").json()}

    acme = rows("alice@acme-insurance.example")
    hooli = rows("ivy@hooli-couriers.example")
    assert acme["10.1.1"]["allowed"] and acme["10.1.0"]["allowed"]
    assert hooli["10.1.1"]["code"] == "not_covered"
    assert "but there was none on" in hooli["10.1.1"]["reason"]
    assert acme["9.5.3"]["code"] == "version_unsupported"
    assert acme["10.1 Advanced Routing (upgrade)"]["code"] == "upgrade_sold_separately"

    api = ApiClient(client, User.objects.get(email="alice@acme-insurance.example"))
    release = files.get(release__name="10.1.1").release
    link = api.post(f"/releases/{release.pk}/download-link", {}).json()["url"]
    body = client.get(urlsplit(link).path).getvalue()
    assert hashlib.sha256(body).hexdigest() == files.get(release=release).sha256
    assert "RELEASE-NOTES.txt" in zipfile.ZipFile(BytesIO(body)).namelist()
