"""Writes the corpus files that need exact bytes (legacy charsets, CRLF, NUL, raw 8-bit headers,
TNEF, binary attachments). The other corpus files are plain text written by hand.

Run ``python -m supportdesk.intake.tests.corpus_builder`` to regenerate; output is
deterministic, and the generated files are committed like the hand-written ones.
"""

from __future__ import annotations

import base64
import struct
import zlib
from email.header import Header
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


# -- TNEF ---------------------------------------------------------------------------------------


def _attr(level: int, attr_id: int, attr_type: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return (
        struct.pack("<BHHI", level, attr_id, attr_type, len(data))
        + data
        + struct.pack("<H", checksum)
    )


def _props(items: list[tuple[int, int, bytes]]) -> bytes:
    out = struct.pack("<I", len(items))
    for prop_type, prop_id, value in items:
        out += struct.pack("<HH", prop_type, prop_id)
        if prop_type in (0x001E, 0x001F, 0x0102):
            out += struct.pack("<II", 1, len(value)) + value + b"\x00" * (-len(value) % 4)
        else:
            out += value
    return out


def build_tnef() -> bytes:
    html = (
        "<html><body><p>Hello support,</p><p>the server <b>SRV-01</b> rebooted twice "
        "tonight. Log and screenshot attached.</p><p>Regards,<br>Jürgen</p></body></html>"
    ).encode()
    stream = struct.pack("<IH", 0x223E9F78, 0x0A1B)
    stream += _attr(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))
    stream += _attr(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))
    stream += _attr(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")
    stream += _attr(
        1,
        0x9003,
        0x0006,
        _props([(0x0003, 0x3FDE, struct.pack("<I", 65001)), (0x0102, 0x1013, html)]),
    )
    rend = struct.pack("<HIIHHI", 1, 0xFFFFFFFF, 0, 0, 0, 0)
    # attachment 1: a log file with a long Unicode name
    stream += _attr(2, 0x9002, 0x0006, rend)
    stream += _attr(2, 0x8010, 0x0001, b"SRV01~1.LOG\x00")
    log = b"03:12 kernel: watchdog reset\n03:40 kernel: watchdog reset\n"
    stream += _attr(2, 0x800F, 0x0006, log)
    long_name = "srv-01 – Ereignisprotokoll.log".encode("utf-16-le") + b"\x00\x00"
    stream += _attr(
        2,
        0x9005,
        0x0006,
        _props([(0x001F, 0x3707, long_name), (0x001E, 0x370E, b"text/plain\x00")]),
    )
    # attachment 2: a screenshot
    stream += _attr(2, 0x9002, 0x0006, rend)
    stream += _attr(2, 0x8010, 0x0001, b"image001.png\x00")
    stream += _attr(2, 0x800F, 0x0006, tiny_png())
    stream += _attr(2, 0x9005, 0x0006, _props([(0x001E, 0x370E, b"image/png\x00")]))
    return stream


# -- files --------------------------------------------------------------------------------------


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def outlook_winmail() -> bytes:
    return crlf(
        f"""Received: from EXCH01.contoso.local ([10.0.0.5]) by mx.omnipotech.example
Date: Tue, 4 Jun 2024 07:15:02 +0000
From: =?iso-8859-1?Q?J=FCrgen_M=FCller?= <Juergen.Mueller@Contoso.example>
To: "helpme@omnipotech.example" <helpme@omnipotech.example>
Subject: Server SRV-01 rebooted twice
Thread-Topic: Server SRV-01 rebooted twice
Thread-Index: AdqxyzABCDEF1234567890abcdefghij==
Message-ID: <AM0PR01MB1234ABCD@AM0PR01MB1234.eurprd01.prod.outlook.example>
Accept-Language: de-DE, en-US
Content-Language: de-DE
X-MS-Has-Attach: yes
X-MS-TNEF-Correlator: <AM0PR01MB1234ABCD@AM0PR01MB1234.eurprd01.prod.outlook.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="_000_AM0PR01MB1234_"

--_000_AM0PR01MB1234_
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Hello support,

the server SRV-01 rebooted twice tonight. Log and screenshot attached.

Regards,
J=FCrgen

--_000_AM0PR01MB1234_
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="winmail.dat"

{b64(build_tnef())}
--_000_AM0PR01MB1234_--
"""
    ).encode("ascii")


def gmail_inline_cid() -> bytes:
    png = b64(tiny_png())
    return crlf(
        f"""MIME-Version: 1.0
Date: Mon, 3 Jun 2024 16:02:11 -0500
Message-ID: <CAF=abc123+XyZ@mail.gmail.example>
Subject: Screenshot of the error
From: Maria Lopez <maria.lopez.houston@gmail.com>
To: helpme@omnipotech.example
Content-Type: multipart/related; boundary="000000000000aa11bb22cc33"

--000000000000aa11bb22cc33
Content-Type: multipart/alternative; boundary="000000000000aa11bb22cc32"

--000000000000aa11bb22cc32
Content-Type: text/plain; charset="UTF-8"

Hi,

QuickBooks shows this error when I open the company file:
[image: error.png]

Maria Lopez
Lopez Dental, (281) 555-0199

--000000000000aa11bb22cc32
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr">Hi,<div><br></div><div>QuickBooks shows this error when I=
 open the company file:</div><div><img src=3D"cid:ii_lx1abc0" alt=3D"error=
.png" width=3D"400" height=3D"120"><br></div><div><br></div><div>Maria Lopez=
<br>Lopez Dental, (281) 555-0199</div></div>

--000000000000aa11bb22cc32--
--000000000000aa11bb22cc33
Content-Type: image/png; name="error.png"
Content-Disposition: inline; filename="error.png"
Content-Transfer-Encoding: base64
X-Attachment-Id: ii_lx1abc0
Content-ID: <ii_lx1abc0>

{png}
--000000000000aa11bb22cc33--
"""
    ).encode("ascii")


def iso2022jp() -> bytes:
    subject = Header("プリンターが動きません", "iso-2022-jp").encode()
    name = Header("山田太郎", "iso-2022-jp").encode()
    body = "お世話になっております。\n経理部のプリンターが印刷できません。\n至急ご対応ください。\n"
    return (
        f"From: {name} <yamada@example.co.jp>\n"
        "To: helpme@omnipotech.example\n"
        f"Subject: {subject}\n"
        "Date: Wed, 05 Jun 2024 09:30:00 +0900\n"
        "Message-ID: <20240605093000.1234@example.co.jp>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=ISO-2022-JP\n"
        "Content-Transfer-Encoding: 7bit\n\n"
    ).encode("ascii") + body.encode("iso2022_jp")


def shift_jis() -> bytes:
    body = "サーバーのバックアップが失敗しました。①エラーコード 0x80070005\n"
    return (
        b"From: sato@example.jp\n"
        b"To: helpme@omnipotech.example\n"
        b"Subject: =?Shift_JIS?B?" + base64.b64encode("バックアップ失敗".encode("cp932")) + b"?=\n"
        b"Date: Wed, 05 Jun 2024 10:00:00 +0900\n"
        b"Message-ID: <sjis-1@example.jp>\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=Shift_JIS\n"
        b"Content-Transfer-Encoding: 8bit\n\n" + body.encode("cp932")
    )


def koi8r() -> bytes:
    subject = "Не работает почта"
    body = "Здравствуйте!\nС утра не работает почта в офисе.\nИван\n"
    return (
        b"From: =?KOI8-R?B?" + base64.b64encode("Иван Петров".encode("koi8_r")) + b"?= "
        b"<ivan@example.ru>\n"
        b"To: helpme@omnipotech.example\n"
        b"Subject: =?koi8-r?B?" + base64.b64encode(subject.encode("koi8_r")) + b"?=\n"
        b"Date: Thu, 06 Jun 2024 08:00:00 +0300\n"
        b"Message-ID: <koi8@example.ru>\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=KOI8-R\n"
        b"Content-Transfer-Encoding: 8bit\n\n" + body.encode("koi8_r")
    )


def cp1252_as_utf8() -> bytes:
    body = "We\u2019re seeing \u201cAccess denied\u201d on the caf\u00e9 terminal \u2013 again.\n"
    return (
        b"From: Front Desk <frontdesk@cafe-example.com>\n"
        b"To: helpme@omnipotech.example\n"
        b"Subject: Access denied\n"
        b"Date: Thu, 06 Jun 2024 11:00:00 -0500\n"
        b"Message-ID: <cp1252@cafe-example.com>\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: 8bit\n\n" + body.encode("cp1252")
    )


def utf8_as_latin1() -> bytes:
    body = "Grüße aus München – der Scanner geht wieder nicht.\n"
    return (
        b"From: buero@praxis-example.de\n"
        b"To: helpme@omnipotech.example\n"
        b"Subject: Scanner\n"
        b"Date: Thu, 06 Jun 2024 12:00:00 +0200\n"
        b"Message-ID: <latin1-utf8@praxis-example.de>\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=ISO-8859-1\n"
        b"Content-Transfer-Encoding: 8bit\n\n" + body.encode("utf-8")
    )


def gb2312_gbk() -> bytes:
    body = "您好，打印机卡纸了。请尽快处理。镕\n"  # the last character is GBK-only
    return (
        b"From: =?gb2312?B?" + base64.b64encode("王小明".encode("gbk")) + b"?= <wang@example.cn>\n"
        b"To: helpme@omnipotech.example\n"
        b"Subject: =?GB2312?B?" + base64.b64encode("打印机故障".encode("gbk")) + b"?=\n"
        b"Date: Fri, 07 Jun 2024 09:00:00 +0800\n"
        b"Message-ID: <gb@example.cn>\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=gb2312\n"
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(body.encode("gbk"))
    )


def nul_bytes() -> bytes:
    return (
        b"From: scanner@printer.example.com\r\n"
        b"To: helpme@omnipotech.example\r\n"
        b"Subject: Scan\x00 report\r\n"
        b"Date: Fri, 07 Jun 2024 10:00:00 +0000\r\n"
        b"Message-ID: <nul@printer.example.com>\r\n"
        b"Content-Type: text/plain\r\n\r\n"
        b"Page 1\x00\x00 scanned\r\nDone\x00\r\n"
    )


def eight_bit_headers() -> bytes:
    return (
        "From: José Núñez <jose@example.es>\n"
        "To: Soporte Técnico <helpme@omnipotech.example>\n"
        "Subject: Problema con el correo – urgente\n"
        "Date: Fri, 07 Jun 2024 11:00:00 +0200\n"
        "Message-ID: <8bit@example.es>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        "No puedo enviar correos desde esta mañana.\n"
    ).encode()


def eight_bit_latin1_headers() -> bytes:
    return (
        "From: Bj\u00f6rn \u00c5str\u00f6m <bjorn@example.se>\n"
        "To: helpme@omnipotech.example\n"
        "Subject: N\u00e4tverket \u00e4r nere\n"
        "Date: Fri, 07 Jun 2024 11:30:00 +0200\n"
        "Message-ID: <8bit-latin1@example.se>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        "Hela kontoret saknar n\u00e4tverk sedan i morse.\n"
    ).encode("latin-1")


def line_endings(kind: str) -> bytes:
    text = (
        "From: Sam Lee <sam@example.org>\n"
        "To: helpme@omnipotech.example\n"
        "Subject: Same message, different line endings\n"
        "Date: Sat, 08 Jun 2024 09:00:00 -0400\n"
        "Content-Type: text/plain; charset=us-ascii\n\n"
        "Line one\nLine two\n"
    )
    if kind == "crlf":
        text = crlf(text)
    return text.encode("ascii")


def huge_folding() -> bytes:
    references = "\n ".join(
        f"<ref{index:04d}.{index * 7919}@lists.example.org>" for index in range(400)
    )
    to = ",\n ".join(f'"Member {index}" <member{index}@example.org>' for index in range(150))
    words = [f"word{index}" for index in range(120)]
    folded_subject = "\n\t".join(" ".join(words[i : i + 8]) for i in range(0, len(words), 8))
    return (
        "From: Long Thread <thread@example.org>\n"
        f"To: {to}\n"
        f"Subject: {folded_subject}\n"
        "Date: Sat, 08 Jun 2024 10:00:00 +0000\n"
        "Message-ID: <huge-folding@example.org>\n"
        f"In-Reply-To: <ref0399.{399 * 7919}@lists.example.org>\n"
        f"References: {references}\n"
        "Content-Type: text/plain\n\n"
        "Short body.\n"
    ).encode("ascii")


def deep_nesting() -> bytes:
    depth = 40
    head = (
        "From: nested@example.com\nTo: helpme@omnipotech.example\nSubject: Nested\n"
        "Date: Sat, 08 Jun 2024 11:00:00 +0000\nMessage-ID: <nested@example.com>\n"
        "MIME-Version: 1.0\n"
    )
    body = ""
    for level in range(depth):
        body += f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n'
    body += "Content-Type: text/plain\n\ninnermost text\n"
    for level in reversed(range(depth)):
        body += f"--b{level}--\n"
    return (head + body).encode("ascii")


def forwarded_base64() -> bytes:
    inner = crlf(
        """From: Vendor Billing <billing@vendor.example>
To: accounts@customer.example
Subject: Invoice 4711 overdue
Date: Mon, 03 Jun 2024 08:00:00 +0000
Message-ID: <inv4711@vendor.example>
Content-Type: text/plain; charset=utf-8

Your invoice 4711 is overdue.
"""
    ).encode()
    return crlf(
        f"""From: Accounts <accounts@customer.example>
To: helpme@omnipotech.example
Subject: Fwd: Invoice 4711 overdue
Date: Mon, 03 Jun 2024 09:00:00 +0000
Message-ID: <fwd-b64@customer.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain

Is this phishing? Forwarded as attachment.

--outer
Content-Type: message/rfc822; name="Invoice 4711 overdue.eml"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="Invoice 4711 overdue.eml"

{b64(inner)}
--outer--
"""
    ).encode("ascii")


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + content


def _ber(tag: int, *children: bytes) -> bytes:
    return bytes([tag, 0x80]) + b"".join(children) + b"\x00\x00"


def smime_opaque_signed() -> bytes:
    entity = crlf(
        """Content-Type: multipart/mixed; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Please disable the account of j.doe =E2=80=93 he left the company today.

--inner
Content-Type: text/csv; name="accounts.csv"
Content-Disposition: attachment; filename="accounts.csv"

user,action
j.doe,disable

--inner--
"""
    ).encode("ascii")
    oid_data = _der(0x06, bytes.fromhex("2a864886f70d010701"))
    oid_signed = _der(0x06, bytes.fromhex("2a864886f70d010702"))
    octets = _ber(0x24, *(_der(0x04, entity[i : i + 100]) for i in range(0, len(entity), 100)))
    encap = _ber(0x30, oid_data, _ber(0xA0, octets))
    signer_info = _der(0x31, _der(0x30, _der(0x02, b"\x01") + _der(0x04, b"\x00" * 32)))
    signed = _ber(0x30, _der(0x02, b"\x01"), _der(0x31, b""), encap, signer_info)
    cms = _ber(0x30, oid_signed, _ber(0xA0, signed))
    return crlf(
        f"""From: HR Department <hr@securebank.example>
To: helpme@omnipotech.example
Subject: Account deactivation (signed)
Date: Tue, 25 Jun 2024 09:00:00 -0400
Message-ID: <opaque-signed-1@securebank.example>
MIME-Version: 1.0
Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="smime.p7m"

{b64(cms)}"""
    ).encode("ascii")


FILES = {
    "outlook_html_winmail.eml": outlook_winmail,
    "gmail_alternative_inline_cid.eml": gmail_inline_cid,
    "iso2022jp.eml": iso2022jp,
    "shift_jis.eml": shift_jis,
    "koi8r.eml": koi8r,
    "mislabelled_cp1252_as_utf8.eml": cp1252_as_utf8,
    "mislabelled_utf8_as_latin1.eml": utf8_as_latin1,
    "gb2312_with_gbk_chars.eml": gb2312_gbk,
    "nul_bytes.eml": nul_bytes,
    "eight_bit_headers_utf8.eml": eight_bit_headers,
    "eight_bit_headers_latin1.eml": eight_bit_latin1_headers,
    "line_endings_crlf.eml": lambda: line_endings("crlf"),
    "line_endings_bare_lf.eml": lambda: line_endings("lf"),
    "huge_header_folding.eml": huge_folding,
    "deep_nesting.eml": deep_nesting,
    "forwarded_base64_rfc822.eml": forwarded_base64,
    "smime_opaque_signed.eml": smime_opaque_signed,
}


def main() -> None:
    for name, build in FILES.items():
        (CORPUS / name).write_bytes(build())


if __name__ == "__main__":
    main()
