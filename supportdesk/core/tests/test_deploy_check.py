"""`manage.py check --deploy` prints no warning with the production settings documented in
docs/configuration.md (issue 17.2), and does warn without them (so this test can fail)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def documented_production_env() -> dict[str, str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    block = text.split("## Production settings", 1)[1]
    body = re.search(r"```sh\n(.*?)```", block, re.S)
    assert body is not None, "docs/configuration.md lost its production settings block"
    pairs = (line.split("=", 1) for line in body.group(1).splitlines() if "=" in line)
    env = {name.strip(): value.strip() for name, value in pairs}
    env["SECRET_KEY"] = secrets.token_urlsafe(50)  # the docs show how to make one
    return env


def check_deploy(tmp_path: Path, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "SESSION_", "CSRF_")) and k not in {"DEBUG", "SECRET_KEY"}
    }
    env.update(SUPPORTDESK_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.base", **extra)
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    env = documented_production_env()
    assert {"SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "PUBLIC_BASE_URL"} <= set(env)
    done = check_deploy(tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNINGS" not in done.stderr


def test_check_deploy_warns_without_them(tmp_path):
    done = check_deploy(tmp_path, {"SECRET_KEY": secrets.token_urlsafe(50)})
    assert done.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stderr
    assert "supportdesk.E001" in done.stderr and "PUBLIC_BASE_URL is not set" in done.stderr
