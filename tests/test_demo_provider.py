"""`supportdesk demo` starts the local fake SMS/voice provider and its pages reach it, and an
`ACK` replied from the fake phone acknowledges (issue 15.6, O-2, O-4, O-5). One real demo
process on a fresh SQLite file, every wait bounded."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 420  # migrate + three presets on a busy 2-core machine
PAGE_TIMEOUT = 90
MSP_NUMBER = "+12817684800"  # seed 001's helpdesk number, the MSP preset's line
ERIN = "+17135550301"  # a contact of the MSP preset


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - local test server
        return str(answer.read().decode())


def _post(url: str, form: dict[str, str]) -> str:
    data = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(url, data=data, timeout=60) as answer:  # noqa: S310
        return str(answer.read().decode())


def _wait(what: str, timeout: float, check: Any, proc: subprocess.Popen[bytes], log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"demo exited while waiting for {what}:\n{log.read_text()[-3000:]}"
            )
        try:
            found = check()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")


def _sms(provider: str) -> list[dict[str, str]]:
    rows = json.loads(_get(f"{provider}/messages.json"))
    return [r for r in rows if r["resource"] == "Messages.json"]


def test_demo_starts_the_fake_provider_and_pages_and_acks_flow_through_it(tmp_path):
    port, provider_port = _free_port(), _free_port()
    provider = f"http://127.0.0.1:{provider_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SECRET_KEY"))}
    for key in ("DATABASE_URL", "PUBLIC_BASE_URL", "SUPPORTDESK_DEMO"):
        env.pop(key, None)
    env.update(SUPPORTDESK_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="config.base")
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "supportdesk", "demo", "--port", str(port),
             "--provider-port", str(provider_port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        _wait("the provider line", 60, lambda: provider in log.read_text(), proc, log)
        assert "Fake SMS/voice provider" in _get(f"{provider}/")
        _wait("the web server", START_TIMEOUT, lambda: "Serving on" in log.read_text(), proc, log)
        _wait("a login page", 60, lambda: _get(f"http://127.0.0.1:{port}/login/"), proc, log)
        # the presets' own page (the phones preset's outage) went out through the fake
        assert any("Reply ACK" in m["Body"] for m in _sms(provider))
        assert "must be set to send" not in log.read_text()  # no red provider errors
        before = len(_sms(provider))
        answer = _post(f"{provider}/voicemail", {"From": ERIN, "To": MSP_NUMBER,
                                                 "TranscriptionText": "Server down"})  # fmt: skip
        assert "supportdesk answered 200" in answer, answer
        new = _wait(
            "the voicemail's pages",
            PAGE_TIMEOUT,
            lambda: [m for m in _sms(provider)[before:] if "Bayou Dental" in m["Body"]],
            proc,
            log,
        )
        page = new[0]
        code = re.search(r"Reply ACK (\d{4})", page["Body"])
        assert code, page["Body"]
        reply = _post(
            f"{provider}/reply",
            {"From": page["To"], "To": page["From"], "Body": f"ACK {code.group(1)}"},
        )
        assert "supportdesk answered 200" in reply and "Acknowledged: ticket #" in reply, reply
        # the provider reported the pages delivered, signed, and supportdesk took it
        delivered = '/hooks/sms/status HTTP/1.1" 204'
        _wait("a status callback", 30, lambda: delivered in log.read_text(), proc, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
