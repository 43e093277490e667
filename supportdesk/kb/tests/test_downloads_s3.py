"""Release files on S3-compatible storage by configuration alone (django-storages), proved
against moto's S3 server on 127.0.0.1: upload with SHA-256, ranged download through a link."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from supportdesk.kb.tests.downloads_helpers import (
    licensed_contract,
    product_of,
    release_with_file,
    shipped,
    today_of,
)

pytestmark = pytest.mark.django_db
S3_ENV = {
    "SUPPORTDESK_STORAGE": "s3",
    "S3_BUCKET": "releases",
    "S3_REGION": "us-east-1",
    "S3_ACCESS_KEY_ID": "test",
    "S3_SECRET_ACCESS_KEY": "test",  # moto accepts any key
}


def test_settings_select_s3_from_the_environment():
    env = {**os.environ, **S3_ENV, "S3_ENDPOINT_URL": "http://127.0.0.1:9"}
    code = "from config import base; import json; print(json.dumps(base.STORAGES['default']))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
        check=True,
    ).stdout  # fmt: skip
    assert '"storages.backends.s3.S3Storage"' in out and '"bucket_name": "releases"' in out
    assert '"endpoint_url": "http://127.0.0.1:9"' in out


@pytest.fixture
def moto_s3(settings: Any) -> Any:
    boto3 = pytest.importorskip("boto3")
    server_module = pytest.importorskip("moto.server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
        ).create_bucket(Bucket="releases")  # fmt: skip
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": "releases", "endpoint_url": endpoint,
                    "region_name": "us-east-1", "access_key": "test", "secret_key": "test",
                    "file_overwrite": False, "default_acl": None,
                },
            },
        }  # fmt: skip
        yield endpoint
    finally:
        server.stop()


def test_release_file_on_s3_uploads_and_serves_ranges_K3(client, api, world, moto_s3):
    product = product_of(world)
    licensed_contract(world.acme, product, today_of(world) - timedelta(days=200))
    body = bytes(range(256)) * 400
    release = release_with_file(product, "10.2", "10.2.1", shipped(5, world), payload=body)
    stored = release.files.get()
    assert stored.sha256 == hashlib.sha256(body).hexdigest()
    response = client.post(
        f"/api/v1/releases/{release.pk}/files",
        {"file": SimpleUploadedFile("second.bin", b"abc")}, **api(world.agent).headers,
    )  # fmt: skip
    assert response.status_code == 201
    import boto3

    keys = boto3.client(
        "s3", endpoint_url=moto_s3, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    ).list_objects_v2(Bucket="releases")["Contents"]  # fmt: skip
    assert sorted(k["Key"].rsplit("/", 1)[1] for k in keys) == ["10.2.1.bin", "second.bin"]
    link = (
        api(world.alice.user)
        .post(f"/releases/{release.pk}/download-link", {"file": stored.pk})
        .json()["url"]
    )
    part = client.get(urlsplit(link).path, HTTP_RANGE="bytes=1000-1999")
    assert part.status_code == 206 and part.getvalue() == body[1000:2000]
    assert client.get(urlsplit(link).path).getvalue() == body
