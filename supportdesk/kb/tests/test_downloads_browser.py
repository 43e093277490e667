"""A real browser (Debian's chromium): a contact downloads an entitled release file from the
portal's Downloads page and is shown why another release is refused (K-1, K-3, E-6, E-7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from supportdesk.kb.models import DownloadLog
from supportdesk.kb.tests.downloads_helpers import (
    PAYLOAD,
    licensed_contract,
    product_of,
    release_with_file,
    shipped,
    today_of,
)
from supportdesk.portal.tests.test_browser import browser_page  # noqa: F401  (fixture)
from tests.factories import PASSWORD


@pytest.mark.browser
def test_contact_downloads_an_entitled_file_and_sees_why_another_is_refused_K3(
    transactional_db,
    world,
    live_server,
    browser_page,  # noqa: F811
    tmp_path,
):
    product = product_of(world)
    licensed_contract(world.acme, product, today_of(world) - timedelta(days=200))
    entitled = release_with_file(product, "10.2", "10.2.1", shipped(5, world))
    old = release_with_file(product, "9.9", "9.9.4", shipped(5, world))
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "alice@acme.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    page.click("nav >> text=Downloads")
    expect(page.locator("h1")).to_have_text("Downloads")
    refused = page.locator(f"tr[data-release='{old.pk}'] .refusal")
    expect(refused).to_contain_text("version outside the support window")
    expect(refused).to_contain_text("older than the supported versions (10.1, 10.2)")
    expect(page.locator(f"tr[data-release='{old.pk}'] button")).to_have_count(0)
    with page.expect_download() as info:
        page.click(f"tr[data-release='{entitled.pk}'] button:has-text('Download 10.2.1.bin')")
    download = info.value
    assert download.suggested_filename == "10.2.1.bin"
    saved = tmp_path / "got.bin"
    download.save_as(saved)
    assert saved.read_bytes() == PAYLOAD
    log = DownloadLog.objects.get()
    assert (log.organization, log.user, log.bytes_sent) == (
        world.acme,
        world.alice.user,
        len(PAYLOAD),
    )
