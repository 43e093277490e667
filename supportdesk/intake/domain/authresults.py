"""Is a message authenticated? RFC 8601 ``Authentication-Results`` of a trusted host (T-11).

Anyone can write an ``Authentication-Results`` header into the mail they send, so only a
header whose authserv-id (the first item of the field) is one the operator configured as
trusted counts, and of those only the **topmost** one: a receiving MTA prepends its header
above everything the message already carried, so a copy with the trusted id further down was
written by the sender (RFC 8601 section 5 asks the MTA to remove such copies; not every MTA
does). Every other ``Authentication-Results`` header is ignored.

The message is *authenticated* when that header reports, for the domain of the ``From``
address (relaxed alignment: the same organisational domain, see :func:`organisational_domain`):

* ``dmarc=pass`` (its ``header.from``, when given, must align too), or
* ``dkim=pass`` with an aligned signing domain ``header.d`` (or ``header.i``), or
* ``spf=pass`` with an aligned ``smtp.mailfrom`` domain.

Pure functions, no I/O; :func:`authentication_verdict` is what intake calls.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

__all__ = [
    "AuthResult",
    "AuthVerdict",
    "ResultsHeader",
    "authentication_verdict",
    "organisational_domain",
    "parse_authentication_results",
]

MAX_FIELD = 16_384  # longer header values are cut; no real result list comes near this

# Public suffixes under which organisations register a third label (co.uk, com.au, …). A short
# fixed list instead of the full Public Suffix List: alignment errs towards "not aligned" for
# suffixes it does not know only when two customers share such a suffix, which the list covers
# for the countries our vendors serve.
MULTI_LABEL_SUFFIXES = frozenset(
    f"{second}.{top}"
    for top, seconds in {
        "uk": ("co", "org", "ac", "gov", "ltd", "plc", "me", "net", "nhs", "sch"),
        "au": ("com", "net", "org", "edu", "gov", "asn", "id"),
        "nz": ("co", "org", "net", "ac", "govt", "school"),
        "jp": ("co", "ne", "or", "ac", "go", "ed"),
        "za": ("co", "org", "net", "ac", "gov"),
        "br": ("com", "net", "org", "gov", "edu"),
        "cn": ("com", "net", "org", "gov", "edu"),
        "in": ("co", "net", "org", "firm", "gen", "ind", "ac", "edu", "gov"),
        "il": ("co", "org", "net", "ac", "gov"),
        "kr": ("co", "or", "ne", "ac", "go"),
        "mx": ("com", "org", "gob", "edu", "net"),
        "tr": ("com", "org", "net", "gov", "edu"),
        "sg": ("com", "org", "net", "edu", "gov"),
        "hk": ("com", "org", "net", "edu", "gov"),
        "ar": ("com", "org", "net", "gob", "edu"),
    }.items()
    for second in seconds
)


@dataclass(frozen=True)
class AuthResult:
    """One ``method=result`` of a header, with its ``ptype.property=value`` items (lowercased
    names; values as written, unquoted)."""

    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)

    def prop(self, name: str) -> str:
        return self.properties.get(name, "")


@dataclass(frozen=True)
class ResultsHeader:
    authserv_id: str
    results: tuple[AuthResult, ...]


@dataclass(frozen=True)
class AuthVerdict:
    """``checked``: a trusted header was found. ``authenticated``: it proves the From domain.
    ``reason``: one line for people (stored on the inbound row)."""

    checked: bool
    authenticated: bool
    reason: str


def _lex(value: str) -> list[str]:
    """Tokens of a header value: ``;`` and ``=`` as their own tokens, quoted strings unquoted
    (prefixed with a NUL so that ``";"`` stays a value), comments dropped, whitespace splits."""
    tokens: list[str] = []
    current: list[str] = []
    depth = 0
    i = 0
    text = value[:MAX_FIELD]

    def flush() -> None:
        if current:
            tokens.append("".join(current))
            current.clear()

    while i < len(text):
        char = text[i]
        if depth:
            if char == "\\":
                i += 1
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
        elif char == "(":
            flush()
            depth = 1
        elif char == '"':
            flush()
            end = i + 1
            quoted: list[str] = []
            while end < len(text) and text[end] != '"':
                if text[end] == "\\" and end + 1 < len(text):
                    end += 1
                quoted.append(text[end])
                end += 1
            tokens.append("\x00" + "".join(quoted))
            i = end
        elif char in ";=":
            flush()
            tokens.append(char)
        elif char.isspace():
            flush()
        else:
            current.append(char)
        i += 1
    flush()
    return tokens


def _plain(token: str) -> str:
    return token[1:] if token.startswith("\x00") else token


def parse_authentication_results(value: str) -> ResultsHeader | None:
    """The authserv-id and results of one ``Authentication-Results`` field value, or None when
    it has no authserv-id. Unknown or malformed items are skipped, never raise."""
    tokens = _lex(value)
    if not tokens or tokens[0] in (";", "="):
        return None
    authserv_id = _plain(tokens[0]).lower()
    segments: list[list[str]] = [[]]
    for item in tokens[1:]:
        if item == ";":
            segments.append([])
        else:
            segments[-1].append(item)
    results: list[AuthResult] = []
    for segment in segments[1:]:
        pairs = _pairs(segment)
        if not pairs:
            continue  # "none", or junk
        method, result = pairs[0]
        properties: dict[str, str] = {}
        for name, val in pairs[1:]:
            properties.setdefault(name, val)  # the first of a repeated property counts
        results.append(
            AuthResult(method=method.split("/", 1)[0], result=result.lower(), properties=properties)
        )
    return ResultsHeader(authserv_id=authserv_id, results=tuple(results))


def _pairs(segment: list[str]) -> list[tuple[str, str]]:
    """``name = value`` triples of one result; stray tokens are skipped."""
    pairs: list[tuple[str, str]] = []
    index = 0
    while index + 2 < len(segment):
        name, eq, val = segment[index], segment[index + 1], segment[index + 2]
        if eq == "=" and name != "=" and val != "=":
            pairs.append((_plain(name).lower(), _plain(val)))
            index += 3
        else:
            index += 1
    return pairs


def organisational_domain(domain: str) -> str:
    """The registered domain: the last two labels, or three under a suffix of
    :data:`MULTI_LABEL_SUFFIXES` (``mail.acme.co.uk`` -> ``acme.co.uk``)."""
    labels = [label for label in domain.strip().strip(".").lower().split(".") if label]
    if len(labels) <= 2:
        return ".".join(labels)
    if ".".join(labels[-2:]) in MULTI_LABEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _domain_of(value: str) -> str:
    """``user@Example.COM`` / ``@example.com`` / ``example.com`` -> ``example.com``."""
    return value.strip().strip("<>").rpartition("@")[2].strip().strip(".").lower()


def _aligned(candidate: str, from_domain: str) -> bool:
    domain = _domain_of(candidate)
    return bool(domain) and organisational_domain(domain) == organisational_domain(from_domain)


def trusted_header(
    headers: Iterable[tuple[str, str]], trusted_ids: Collection[str]
) -> ResultsHeader | None:
    """The topmost ``Authentication-Results`` header with a trusted authserv-id (see module)."""
    trusted = {item.strip().lower() for item in trusted_ids if item.strip()}
    if not trusted:
        return None
    for name, value in headers:
        if name.lower() != "authentication-results":
            continue
        parsed = parse_authentication_results(value)
        if parsed is not None and parsed.authserv_id in trusted:
            return parsed
    return None


def authentication_verdict(
    headers: Iterable[tuple[str, str]], *, from_address: str, trusted_ids: Collection[str]
) -> AuthVerdict:
    """Whether the message proves its ``From`` domain (module docs), from its header fields in
    order (topmost first) and the configured trusted authserv-ids."""
    header = trusted_header(headers, trusted_ids)
    if header is None:
        why = "no trusted Authentication-Results" if trusted_ids else "no trusted host configured"
        return AuthVerdict(checked=False, authenticated=False, reason=why)
    from_domain = _domain_of(from_address)
    if not from_domain:
        return AuthVerdict(True, False, f"{header.authserv_id}: no From domain")
    seen: list[str] = []
    order = {"dmarc": 0, "dkim": 1, "spf": 2}  # the strongest proof is the one reported
    for item in sorted(header.results, key=lambda r: order.get(r.method, 3)):
        seen.append(f"{item.method}={item.result}")
        if item.result != "pass":
            continue
        if item.method == "dmarc":
            claimed = item.prop("header.from")
            if not claimed or _aligned(claimed, from_domain):
                return AuthVerdict(True, True, f"{header.authserv_id}: dmarc=pass")
        elif item.method == "dkim":
            signer = item.prop("header.d") or item.prop("header.i")
            if _aligned(signer, from_domain):
                return AuthVerdict(True, True, f"{header.authserv_id}: dkim=pass d={signer}")
        elif item.method == "spf":
            mailfrom = item.prop("smtp.mailfrom")
            if _aligned(mailfrom, from_domain):
                return AuthVerdict(True, True, f"{header.authserv_id}: spf=pass {mailfrom}")
    summary = ", ".join(seen) or "no results"
    return AuthVerdict(
        True, False, f"{header.authserv_id}: {summary}, none aligned with {from_domain}"
    )
