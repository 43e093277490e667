"""Sender identity (T-2): address normalisation, free-mail domains, the missing-details reply.

Intake accepts mail from any address. A sender is *identified* when its normalised address (or a
verified alias) belongs to a known contact; everything else is stored, never answered as a
ticket, and gets one automatic reply asking who they are (:func:`missing_details_reply_text`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from supportdesk.core.emails import normalise_address, normalise_domain

# Free-mail and consumer ISP domains. ``name.*`` matches any public suffix (gmx.de, gmx.net,
# yahoo.co.uk, ...). Deployments pass their own list; this is the default.
DEFAULT_FREE_MAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com",
    "googlemail.com",
    "live.*",
    "hotmail.*",
    "outlook.*",
    "msn.com",
    "passport.com",
    "windowslive.com",
    "yahoo.*",
    "ymail.com",
    "rocketmail.com",
    "aol.*",
    "aim.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "gmx.*",
    "web.de",
    "t-online.de",
    "freenet.de",
    "mail.com",
    "email.com",
    "usa.com",
    "protonmail.*",
    "proton.me",
    "pm.me",
    "tutanota.*",
    "tuta.io",
    "fastmail.*",
    "zoho.com",
    "zohomail.com",
    "yandex.*",
    "ya.ru",
    "mail.ru",
    "inbox.ru",
    "list.ru",
    "bk.ru",
    "rambler.ru",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "rediffmail.com",
    "libero.it",
    "virgilio.it",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "laposte.net",
    "seznam.cz",
    "wp.pl",
    "o2.pl",
    "interia.pl",
    "btinternet.com",
    "sky.com",
    "comcast.net",
    "att.net",
    "sbcglobal.net",
    "bellsouth.net",
    "verizon.net",
    "cox.net",
    "charter.net",
    "earthlink.net",
    "juno.com",
    "netzero.net",
    "optonline.net",
    "hushmail.com",
    "inbox.com",
    "mailinator.com",
)

_PUBLIC_SUFFIX = re.compile(r"^[a-z]{2,4}(\.[a-z]{2,3})?$")
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+$")


def is_valid_address(address: str) -> bool:
    """A practical (not RFC-complete) check: ``local@domain.tld`` without spaces or brackets."""
    return len(address) <= 320 and bool(_ADDRESS.match(address))


def address_domain(address: str) -> str:
    normalised = normalise_address(address) if "@" in address else normalise_domain(address)
    return normalised.rpartition("@")[2]


def is_free_mail(domain: str, free_domains: Iterable[str] | None = None) -> bool:
    """Whether ``domain`` (or the domain of an address) is a free-mail / consumer domain.

    Entries are exact domains (which also match their subdomains), ``name.*`` for every
    suffix (``gmx.*`` matches gmx.de and gmx.co.uk) or ``*.domain`` for subdomains only.
    """
    target = address_domain(domain)
    if not target:
        return False
    for entry in DEFAULT_FREE_MAIL_DOMAINS if free_domains is None else free_domains:
        pattern = entry.strip().lower()
        if not pattern:
            continue
        if pattern.endswith(".*"):
            base = pattern[:-2]
            rest = target[len(base) + 1 :] if target.startswith(base + ".") else ""
            if rest and _PUBLIC_SUFFIX.match(rest):
                return True
        elif pattern.startswith("*."):
            if target.endswith(pattern[1:]):
                return True
        elif target == normalise_domain(pattern) or target.endswith("." + pattern):
            return True
    return False


@dataclass(frozen=True)
class SenderIdentity:
    address: str
    identified: bool
    free_mail: bool

    @property
    def needs_details(self) -> bool:
        """T-2: an unidentified sender is asked once for its details, never served a ticket."""
        return not self.identified


def identify_sender(
    address: str,
    known_addresses: Collection[str],
    free_domains: Iterable[str] | None = None,
) -> SenderIdentity:
    """Classify a sender against the normalised addresses (and verified aliases) of contacts."""
    normalised = normalise_address(address)
    known = {normalise_address(item) for item in known_addresses}
    return SenderIdentity(
        address=normalised,
        identified=bool(normalised) and normalised in known,
        free_mail=is_free_mail(normalised, free_domains) if normalised else False,
    )


def missing_details_reply_subject() -> str:
    """Fixed: never the sender's own subject (T-11, an open relay for their text otherwise)."""
    return "We need your details to help you"


def missing_details_reply_text(
    *,
    organisation_name: str,
    free_mail: bool = False,
    phone: str = "",
    support_address: str = "",
) -> str:
    """The one automatic reply (T-2) to an unidentified sender, asking for full name, company,
    company email and phone numbers. Plain text; the caller adds Auto-Submitted headers.
    Nothing of the sender's message (name, subject, text) is repeated in it (T-11).
    """
    lines = [
        "Hello,",
        "",
        "Thank you for your message. It has been received and stored, but we could not "
        "match your email address to a customer we support, so we cannot act on it yet.",
    ]
    if free_mail:
        lines += [
            "",
            "You wrote from a public email service, so we cannot tell which company you are with.",
        ]
    lines += [
        "",
        "Please reply to this email with:",
        "  - your full name",
        "  - your company",
        "  - your company email address",
        "  - all phone numbers where you can be reached",
        "",
        "As soon as we can identify you, your request will be handled by our support team.",
    ]
    if phone:
        lines += ["", f"If your request is urgent, please call us at {phone}."]
    if support_address:
        lines += ["", f"Support requests: {support_address}"]
    lines += ["", "This is an automatic message.", "", f"{organisation_name} Support"]
    return "\n".join(lines) + "\n"
