"""K-3: download links serve the file as an attachment, whole or by range, log every download
and refuse (403, nothing logged) when expired or tampered; uploads stream with a SHA-256."""

from __future__ import annotations

import hashlib
import http.client
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.files import File

from supportdesk.core import clock
from supportdesk.kb import services_downloads
from supportdesk.kb.models import DownloadLog, ReleaseFile
from supportdesk.kb.tests.downloads_helpers import (
    PAYLOAD,
    licensed_contract,
    product_of,
    release_with_file,
    shipped,
    today_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def entitled(world: Any) -> Any:
    product = product_of(world)
    licensed_contract(world.acme, product, today_of(world) - timedelta(days=200))
    return release_with_file(product, "10.2", "10.2.1", shipped(5, world))


def _link(api: Any, world: Any, release_id: int) -> str:
    response = api(world.alice.user).post(f"/releases/{release_id}/download-link", {})
    assert response.status_code == 200, response.content
    return urlsplit(response.json()["url"]).path


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_link_serves_the_file_as_an_attachment_and_logs_it_K3(client, api, world, entitled):
    path = _link(api, world, entitled.pk)
    assert path.startswith("/downloads/") and len(path) > 60  # random, signed token
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="10.2.1.bin"'
    assert response["Accept-Ranges"] == "bytes" and response["Content-Length"] == str(len(PAYLOAD))
    assert _body(response) == PAYLOAD
    log = DownloadLog.objects.get()
    assert (log.organization, log.user, log.bytes_sent, log.finished, log.status) == (
        world.acme, world.alice.user, len(PAYLOAD), True, 200,
    )  # fmt: skip
    assert ReleaseFile.objects.get().sha256 == hashlib.sha256(PAYLOAD).hexdigest()


@pytest.mark.parametrize(
    ("header", "status", "start", "expected"),
    [
        ("bytes=0-9", 206, 0, PAYLOAD[:10]),
        ("bytes=990-", 206, 990, PAYLOAD[990:]),
        ("bytes=-5", 206, 995, PAYLOAD[-5:]),
        ("bytes=10-99999", 206, 10, PAYLOAD[10:]),
        ("bytes=0-1,5-6", 200, 0, PAYLOAD),  # several ranges: the whole file
        ("bytes=1000-", 416, 0, b""),
    ],
)
def test_range_requests_K3(client, api, world, entitled, header, status, start, expected):
    response = client.get(_link(api, world, entitled.pk), HTTP_RANGE=header)
    assert response.status_code == status
    if status == 416:
        assert response["Content-Range"] == f"bytes */{len(PAYLOAD)}"
        assert not DownloadLog.objects.exists()
        return
    assert _body(response) == expected
    if status == 206:
        end = start + len(expected) - 1
        assert response["Content-Range"] == f"bytes {start}-{end}/{len(PAYLOAD)}"
    assert DownloadLog.objects.get().bytes_sent == len(expected)


def test_head_tells_the_size_and_logs_nothing(client, api, world, entitled):
    response = client.head(_link(api, world, entitled.pk), HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206 and response["Content-Length"] == "10"
    assert response["Content-Range"] == f"bytes 0-9/{len(PAYLOAD)}"
    assert not DownloadLog.objects.exists()


def test_if_range_with_another_etag_sends_the_whole_file(client, api, world, entitled):
    path = _link(api, world, entitled.pk)
    stale = client.get(path, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old"')
    assert stale.status_code == 200 and _body(stale) == PAYLOAD
    fresh = client.get(path, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=stale["ETag"])
    assert fresh.status_code == 206 and _body(fresh) == PAYLOAD[:10]


def test_expired_or_tampered_link_is_refused_and_logs_nothing_K3(
    client, api, world, entitled, settings
):
    path = _link(api, world, entitled.pk)
    token = path.split("/")[2]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/downloads/{tampered}/").status_code == 403
    raw, signature = token.rsplit(":", 1)
    assert client.get(f"/downloads/{raw[:-1]}x:{signature}/").status_code == 403
    settings.DOWNLOAD_LINK_TTL = 60
    url, expires_at = services_downloads.download_link_create(
        principal=_principal(world), release=entitled, organization=world.acme, file_id=None,
        now=clock.now() - timedelta(seconds=61),
    )  # fmt: skip
    assert expires_at < clock.now()
    assert client.get(urlsplit(url).path).status_code == 403
    assert not DownloadLog.objects.exists()
    assert client.get(path).status_code == 200  # the untouched link still works


def _principal(world: Any) -> Any:
    from supportdesk.core.tenancy import principal_for

    return principal_for(world.alice.user)


def test_upload_through_the_api_streams_with_sha256_and_a_size_limit_K3(
    client, api, world, entitled, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    headers = api(world.agent).headers
    body = b"\x00\x01" * 5000
    response = client.post(
        f"/api/v1/releases/{entitled.pk}/files",
        {"file": SimpleUploadedFile("faxroute 10.2.1 (x64).zip", body)}, **headers,
    )  # fmt: skip
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["filename"] == "faxroute_10.2.1_x64_.zip" and out["size"] == len(body)
    assert out["sha256"] == hashlib.sha256(body).hexdigest()
    settings.RELEASE_FILE_MAX_BYTES = 100
    refused = client.post(
        f"/api/v1/releases/{entitled.pk}/files",
        {"file": SimpleUploadedFile("big.zip", b"x" * 101)}, **headers,
    )  # fmt: skip
    assert refused.status_code == 413 and "at most 100" in refused.json()["detail"]
    missing = client.post(f"/api/v1/releases/{entitled.pk}/files", {}, **headers)
    assert missing.status_code == 400
    contact = client.post(
        f"/api/v1/releases/{entitled.pk}/files",
        {"file": SimpleUploadedFile("a.zip", b"x")}, **api(world.alice.user).headers,
    )  # fmt: skip
    assert contact.status_code == 403


class _Pattern:
    """200 MB of varied bytes, written to disk chunk by chunk (never whole in memory)."""

    SIZE = 200 * 1024 * 1024
    CHUNK = 1024 * 1024

    @classmethod
    def write(cls, path: Any) -> str:
        digest = hashlib.sha256()
        seed = hashlib.sha256(b"faxroute").digest() * (cls.CHUNK // 32)
        with open(path, "wb") as out:
            for index in range(cls.SIZE // cls.CHUNK):
                chunk = index.to_bytes(4, "big") + seed[4:]
                digest.update(chunk)
                out.write(chunk)
        return digest.hexdigest()


def _get(base: str, path: str, headers: dict[str, str]) -> Any:
    connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=60)
    connection.request("GET", path, headers=headers)
    return connection, connection.getresponse()


def test_200_mb_download_resumes_with_ranges_K3(transactional_db, world, live_server, tmp_path):
    """Over real HTTP: the client hangs up after ~70 MB, the log shows an incomplete download,
    and a Range request with If-Range fetches the rest; the reassembled bytes have the file's
    SHA-256."""
    from django.test import Client

    from tests.factories import ApiClient

    started = time.monotonic()
    product = product_of(world)
    licensed_contract(world.acme, product, today_of(world) - timedelta(days=200))
    release = release_with_file(product, "10.2", "10.2.1", shipped(5, world))
    source = tmp_path / "big.bin"
    expected = _Pattern.write(source)
    with open(source, "rb") as handle:
        stored = services_downloads.release_file_upload(
            principal=None, release=release, upload=File(handle, name="big.bin"),
            filename="faxroute-10.2.1-full.iso", now=clock.now(),
        )  # fmt: skip
    assert stored.sha256 == expected and stored.size == _Pattern.SIZE
    api = ApiClient(Client(), world.alice.user)
    link = api.post(f"/releases/{release.pk}/download-link", {"file": stored.pk}).json()["url"]
    path = urlsplit(link).path
    connection, response = _get(live_server.url, path, {})
    assert response.status == 200 and response.getheader("Content-Length") == str(_Pattern.SIZE)
    etag = response.getheader("ETag")
    got, received = hashlib.sha256(), 0
    while received < 70 * 1024 * 1024:
        chunk = response.read(1024 * 1024)
        got.update(chunk)
        received += len(chunk)
    connection.close()  # the connection drops
    resume_at = received
    connection, response = _get(
        live_server.url, path, {"Range": f"bytes={resume_at}-", "If-Range": etag}
    )
    assert response.status == 206
    assert response.getheader("Content-Range") == (
        f"bytes {resume_at}-{_Pattern.SIZE - 1}/{_Pattern.SIZE}"
    )
    while chunk := response.read(1024 * 1024):
        got.update(chunk)
        received += len(chunk)
    connection.close()
    assert received == _Pattern.SIZE and got.hexdigest() == expected
    # The server thread records the finished stream after its last bytes reach us: wait for it.
    resumed = DownloadLog.objects.get(status=206)
    deadline = time.monotonic() + 30
    while not resumed.finished and time.monotonic() < deadline:
        time.sleep(0.2)
        resumed.refresh_from_db()
    assert (resumed.range_start, resumed.bytes_sent) == (resume_at, _Pattern.SIZE - resume_at)
    assert resumed.finished
    # The server learns of the hang-up when a write fails; its log row then says how much went.
    deadline = time.monotonic() + 30
    first = DownloadLog.objects.get(status=200)
    while first.bytes_sent == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
        first.refresh_from_db()
    assert not first.finished and resume_at <= first.bytes_sent < _Pattern.SIZE
    assert time.monotonic() - started < 120
