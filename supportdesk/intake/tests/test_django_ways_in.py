"""The ways in: signed webhook, `supportdesk ingest`, SMTP and IMAP (real dovecot) (T-2, T-5)."""

from __future__ import annotations

import mailbox
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from supportdesk.intake.hooks import SIGNATURE_HEADER, signature_for
from supportdesk.intake.models import InboundEmail, InboundState
from supportdesk.intake.tests.test_django_ingest import mail
from supportdesk.tickets.models import Ticket

SECRET = "hook-secret"


@pytest.mark.django_db
def test_webhook_valid_signature_creates_ticket_T2(world: Any, client: Any, settings: Any) -> None:
    settings.MAIL_WEBHOOK_SECRET = SECRET
    raw = mail()
    response = client.post(
        "/hooks/mail/inbound",
        raw,
        content_type="message/rfc822",
        headers={SIGNATURE_HEADER: signature_for(raw, SECRET)},
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == InboundState.TICKET_CREATED
    assert Ticket.objects.get().requester == world.alice


@pytest.mark.django_db
def test_webhook_bad_or_missing_signature_403(world: Any, client: Any, settings: Any) -> None:
    settings.MAIL_WEBHOOK_SECRET = SECRET
    raw = mail()
    for headers in ({SIGNATURE_HEADER: signature_for(raw, "wrong")}, {}):
        response = client.post(
            "/hooks/mail/inbound", raw, content_type="message/rfc822", headers=headers
        )
        assert response.status_code == 403
    settings.MAIL_WEBHOOK_SECRET = ""  # no secret configured: the hook is closed
    response = client.post(
        "/hooks/mail/inbound",
        raw,
        content_type="message/rfc822",
        headers={SIGNATURE_HEADER: signature_for(raw, "")},
    )
    assert response.status_code == 403
    assert InboundEmail.objects.count() == 0


@pytest.mark.django_db
def test_webhook_signature_covers_the_vendor_parameter(
    world: Any, client: Any, settings: Any
) -> None:
    """Issue 17.3: a message signed for one vendor cannot be replayed into another."""
    settings.MAIL_WEBHOOK_SECRET = SECRET
    raw = mail()
    body_only = {SIGNATURE_HEADER: signature_for(raw, SECRET)}
    for_vendor = {SIGNATURE_HEADER: signature_for(raw, SECRET, "vendor")}
    for url, headers in (
        ("/hooks/mail/inbound?vendor=rival", body_only),  # signed without a vendor: no vendor
        ("/hooks/mail/inbound?vendor=rival", for_vendor),  # signed for another vendor
        ("/hooks/mail/inbound", for_vendor),  # the vendor stripped off
    ):
        response = client.post(url, raw, content_type="message/rfc822", headers=headers)
        assert response.status_code == 403, url
    assert InboundEmail.objects.count() == 0
    response = client.post(
        "/hooks/mail/inbound?vendor=vendor", raw, content_type="message/rfc822", headers=for_vendor
    )
    assert response.status_code == 200 and response.json()["state"] == "ticket_created"


@pytest.mark.django_db
def test_webhook_oversized_message_is_refused_with_413(
    world: Any, client: Any, settings: Any
) -> None:
    settings.MAIL_WEBHOOK_SECRET = SECRET
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    raw = mail(body="x" * 20_000)
    response = client.post(
        "/hooks/mail/inbound",
        raw,
        content_type="message/rfc822",
        headers={SIGNATURE_HEADER: signature_for(raw, SECRET)},
    )
    assert response.status_code == 413 and "larger than 10000" in response.json()["detail"]
    assert InboundEmail.objects.count() == 0


@pytest.mark.django_db
def test_ingest_command_maildir_and_mbox_summary_T5(world: Any, tmp_path: Path) -> None:
    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    maildir.add(mail(message_id="<a@acme.example>"))
    maildir.add(mail(sender="stranger@gmail.com", message_id="<b@gmail.com>"))
    box = mailbox.mbox(tmp_path / "old.mbox", create=True)
    box.add(mail(message_id="<a@acme.example>"))  # the same message again
    box.add(
        mail(
            subject="Re: x",
            message_id="<c@acme.example>",
            headers={"In-Reply-To": "<a@acme.example>"},
        )
    )
    box.add(mail(message_id="<d@acme.example>", headers={"Auto-Submitted": "auto-replied"}))
    box.flush()
    eml = tmp_path / "one.eml"
    eml.write_bytes(mail(sender="gina@globex.example", message_id="<e@globex.example>"))
    out = StringIO()
    call_command(
        "ingest", str(tmp_path / "Maildir"), str(tmp_path / "old.mbox"), str(eml),
        no_progress=True, stdout=out,
    )  # fmt: skip
    assert out.getvalue().strip() == (
        "ingested 6 messages: created=2 threaded=1 quarantined=1 duplicate=1 failed=0 "
        "bounce=0 auto=1"
    )
    assert InboundEmail.objects.count() == 5
    out = StringIO()
    call_command("ingest", str(tmp_path / "Maildir"), no_progress=True, stdout=out)
    assert "duplicate=2" in out.getvalue()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.django_db(transaction=True)
def test_smtpd_answers_250_after_commit_T5(world: Any) -> None:
    from supportdesk.intake.smtp import make_controller

    port = _free_port()
    controller = make_controller(host="127.0.0.1", port=port, workers=1)
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            refused = smtp.sendmail(
                "alice@acme.example", ["support@vendor.example"], mail(message_id="<smtp@x>")
            )
            assert refused == {}
            # sendmail returned: the server said 250, so the row is committed and visible
            row = InboundEmail.objects.get(message_id="<smtp@x>")
            assert row.state == InboundState.TICKET_CREATED and row.source == "smtp"
    finally:
        controller.stop()


def test_smtpd_answers_451_when_not_stored(monkeypatch: Any) -> None:
    from supportdesk.intake import smtp as smtp_module

    def broken(raw: bytes, recipients: list[str]) -> None:
        raise RuntimeError("database is down")

    monkeypatch.setattr(smtp_module, "deliver", broken)
    port = _free_port()
    controller = smtp_module.make_controller(host="127.0.0.1", port=port, workers=1)
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            with pytest.raises(smtplib.SMTPDataError) as info:
                smtp.sendmail("a@b.example", ["support@vendor.example"], mail())
            assert info.value.smtp_code == 451
    finally:
        controller.stop()


DOVECOT = "/usr/sbin/dovecot"

DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@pytest.fixture
def dovecot() -> Any:
    """A throw-away dovecot on a free loopback port: user `support@vendor.example`."""
    if not Path(DOVECOT).exists():
        pytest.fail("dovecot is not installed at /usr/sbin/dovecot (apt-get install dovecot-imapd)")
    # dovecot's auth and mail processes run as other users: pytest's tmp_path (0700) is closed
    root = Path(tempfile.mkdtemp(prefix="supportdesk-dovecot-"))
    (root / "mail").mkdir(parents=True)
    root.chmod(0o755)
    shutil.chown(root / "mail", "nobody", "nogroup")
    (root / "passwd").write_text("support@vendor.example:{PLAIN}imap-pw\n")
    port = _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(root=root, port=port))
    subprocess.run([DOVECOT, "-c", str(conf)], check=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield {
            "host": "127.0.0.1", "port": port, "ssl": False,
            "user": "support@vendor.example", "password": "imap-pw",
        }  # fmt: skip
    finally:
        subprocess.run([DOVECOT, "-c", str(conf), "stop"], check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.django_db
def test_fetchmail_real_imap_flags_only_after_commit_T5(
    world: Any, dovecot: dict[str, Any], settings: Any, monkeypatch: Any
) -> None:
    from imapclient import IMAPClient

    with IMAPClient(dovecot["host"], port=dovecot["port"], ssl=False) as imap:
        imap.login(dovecot["user"], dovecot["password"])
        imap.append("INBOX", mail(message_id="<imap1@acme.example>"))
        imap.append("INBOX", mail(sender="stranger@gmail.com", message_id="<imap2@gmail.com>"))
        imap.logout()
    settings.IMAP_MAILBOXES = [dovecot]
    out = StringIO()
    call_command("fetchmail", once=True, stdout=out)
    assert "quarantined=1" in out.getvalue() and "ticket_created=1" in out.getvalue()
    assert Ticket.objects.get().requester == world.alice
    with IMAPClient(dovecot["host"], port=dovecot["port"], ssl=False) as imap:
        imap.login(dovecot["user"], dovecot["password"])
        imap.select_folder("INBOX")
        assert imap.search(["UNSEEN"]) == [] and len(imap.search(["SEEN"])) == 2
        imap.append("INBOX", mail(message_id="<imap3@acme.example>", subject="third"))
        imap.append("INBOX", mail(message_id="<imap4@acme.example>", subject="fourth"))
        imap.logout()
    # a message that cannot be stored stays unseen, to be fetched again; the others of its
    # batch are stored (one by one once the batch failed) and flagged
    from supportdesk.intake import imap as imap_module

    real = imap_module.email_ingest_many

    def down_for_third(raws: Any, **kwargs: Any) -> Any:
        if any(b"third" in raw for raw in raws):
            raise RuntimeError("database is down")
        return real(raws, **kwargs)

    monkeypatch.setattr(imap_module, "email_ingest_many", down_for_third)
    out = StringIO()
    call_command("fetchmail", once=True, stdout=out)
    assert "not_stored=1" in out.getvalue()  # counted, the pass goes on
    assert "ticket_created=1" in out.getvalue()  # the fourth
    monkeypatch.setattr(imap_module, "email_ingest_many", real)
    with IMAPClient(dovecot["host"], port=dovecot["port"], ssl=False) as imap:
        imap.login(dovecot["user"], dovecot["password"])
        imap.select_folder("INBOX")
        assert len(imap.search(["UNSEEN"])) == 1
        imap.logout()
    call_command("fetchmail", once=True, stdout=StringIO())
    assert Ticket.objects.count() == 3


def test_cli_has_the_mail_commands() -> None:
    from supportdesk.cli import build_parser, cmd_mail

    parser = build_parser()
    args = parser.parse_args(["ingest", "a.eml", "box.mbox", "--vendor", "v", "--no-progress"])
    assert args.func is cmd_mail and args.paths == ["a.eml", "box.mbox"] and args.vendor == "v"
    assert parser.parse_args(["fetchmail", "--once"]).once is True
    assert parser.parse_args(["smtpd", "--port", "2526"]).port == 2526
