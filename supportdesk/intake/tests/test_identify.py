"""T-2: who sent this? Address normalisation, free-mail domains, the missing-details reply."""

from __future__ import annotations

import pytest

from supportdesk.intake.domain.identify import (
    identify_sender,
    is_free_mail,
    is_valid_address,
    missing_details_reply_subject,
    missing_details_reply_text,
    normalise_address,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  John.Doe@Example.COM ", "john.doe@example.com"),
        ("<jane@example.com>", "jane@example.com"),
        ("mailto:Jane@Example.com?subject=x", "jane@example.com"),
        ("info@Bücher.example", "info@xn--bcher-kva.example"),
        ("info@example.com.", "info@example.com"),
        ("not an address", ""),
        ("@example.com", ""),
    ],
)
def test_normalise_address_T2(raw: str, expected: str) -> None:
    assert normalise_address(raw) == expected


@pytest.mark.parametrize(
    ("domain", "free"),
    [
        ("gmail.com", True),
        ("GoogleMail.com", True),
        ("someone@Live.com", True),
        ("hotmail.co.uk", True),
        ("yahoo.com", True),
        ("yahoo.co.jp", True),
        ("gmx.de", True),
        ("gmx.net", True),
        ("icloud.com", True),
        ("outlook.com", True),
        ("omnipotech.example", False),
        ("live.nation-events.com", False),
        ("mygmail.com", False),
        ("", False),
    ],
)
def test_is_free_mail_default_list_T2(domain: str, free: bool) -> None:
    assert is_free_mail(domain) is free


def test_is_free_mail_configurable_list_T2() -> None:
    assert is_free_mail("isp.example", ["isp.example"]) is True
    assert is_free_mail("mail.isp.example", ["isp.example"]) is True
    assert is_free_mail("gmail.com", ["isp.example"]) is False
    assert is_free_mail("a.corp.example", ["*.corp.example"]) is True


def test_identify_sender_matches_known_contacts_after_normalisation_T2() -> None:
    known = ["Maria.Lopez@LopezDental.example", "maria.lopez.houston@gmail.com"]
    identified = identify_sender("MARIA.LOPEZ.HOUSTON@gmail.com", known)
    assert identified.identified and identified.free_mail and not identified.needs_details
    stranger = identify_sender("someone@yahoo.com", known)
    assert not stranger.identified and stranger.free_mail and stranger.needs_details
    company = identify_sender("new.person@lopezdental.example", known)
    assert not company.identified and not company.free_mail


def test_is_valid_address_T2() -> None:
    assert is_valid_address("a@b.example")
    assert not is_valid_address("a@b")
    assert not is_valid_address("a b@c.example")
    assert not is_valid_address("")


def test_missing_details_reply_asks_for_name_company_email_and_phones_T2() -> None:
    text = missing_details_reply_text(
        organisation_name="Omnipotech", free_mail=True, phone="281-768-4800"
    )
    for fragment in (
        "Hello,\n",
        "full name",
        "company",
        "company email address",
        "phone numbers",
        "281-768-4800",
        "automatic message",
        "public email service",
    ):
        assert fragment in text
    plain = missing_details_reply_text(organisation_name="Omnipotech")
    assert plain.startswith("Hello,\n") and "public email service" not in plain
    # T-11: fixed wording; nothing the (unidentified) sender wrote is echoed back
    assert missing_details_reply_subject() == "We need your details to help you"
