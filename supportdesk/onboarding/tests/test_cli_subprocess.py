"""The real `supportdesk` command on a fresh SQLite file: setup, then import (A-1, A-4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _supportdesk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "SUPPORTDESK_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "config.base",
    }
    return subprocess.run(
        [sys.executable, "-m", "supportdesk", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_setup_then_import_on_a_fresh_database_through_the_cli_A1_A4(tmp_path):
    options = [
        "--no-input", "--vendor-name", "Fjord Support", "--slug", "fjord",
        "--timezone", "Europe/Oslo", "--country", "NO", "--support-email", "help@fjord.example",
        "--admin-email", "admin@fjord.example", "--admin-password", "first-admin-passphrase",
    ]  # fmt: skip
    first = _supportdesk(tmp_path, "setup", *options)
    assert first.returncode == 0, first.stderr
    assert (
        "vendor fjord: vendor, queue Support, calendar 'Business hours' with NO holidays"
        in first.stdout
    )
    again = _supportdesk(tmp_path, "setup", *options)
    assert again.returncode == 0 and "nothing new (already set up)" in again.stdout
    no_password = _supportdesk(tmp_path, "setup", *options[:-2], "--admin-password", "")
    assert no_password.returncode == 0  # the admin exists: its password is not needed again
    wrong = _supportdesk(tmp_path, "setup", *[o if o != "NO" else "ZZ" for o in options])
    assert wrong.returncode == 2 and "'ZZ' is not a country code" in wrong.stderr

    orgs = tmp_path / "orgs.csv"
    orgs.write_text("name,external_id\nBergen Shipping,B-1\n,B-2\n", encoding="utf-8")
    result = _supportdesk(tmp_path, "import", "organizations", str(orgs), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "line 3: refused id:B-2: empty name" in result.stdout
    assert "organizations: 1 created, 0 updated, 0 unchanged, 1 refused" in result.stdout
    missing = _supportdesk(tmp_path, "import", "contacts", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "no file" in missing.stderr
