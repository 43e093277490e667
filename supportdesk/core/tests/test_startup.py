"""Servers refuse to start with the public demo key, no key, or no PUBLIC_BASE_URL (issue 17.2,
issue 11.6); `supportdesk demo` keeps a random key of its own under the var directory."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from config.base import demo_secret_key
from supportdesk.core.collector import YOUNG_THRESHOLD
from supportdesk.core.startup import PUBLIC_SECRET_KEYS, configuration_problems

ROOT = Path(__file__).resolve().parents[3]
DEMO_KEY = next(iter(PUBLIC_SECRET_KEYS))
GOOD_KEY = "k" + "x7Qp2vLm9ZrT4wYh8NcB3dFg6JsK1aE5uVoXiW0yRtHnMbCqPz"


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "PUBLIC_BASE_URL"}}
    environ.pop("SUPPORTDESK_DEMO", None)
    environ.pop("DATABASE_URL", None)  # a fresh SQLite file under the var directory
    environ.update(SUPPORTDESK_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="config.base")
    environ.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("command", ["web", "serve", "worker"])
def test_servers_refuse_to_start_without_a_secret_key(tmp_path, command):
    done = run(["-m", "supportdesk", command], tmp_path, PUBLIC_BASE_URL="https://sd.example")
    assert done.returncode == 2
    assert "refuses to start: SECRET_KEY is not set" in done.stderr
    assert "secrets.token_urlsafe" in done.stderr  # says how to make one


def test_web_refuses_the_public_demo_key_and_a_missing_public_base_url(tmp_path):
    done = run(["-m", "supportdesk", "web"], tmp_path, SECRET_KEY=DEMO_KEY)
    assert done.returncode == 2
    assert "SECRET_KEY is the public demo key" in done.stderr
    assert "PUBLIC_BASE_URL is not set" in done.stderr


def test_any_wsgi_server_loading_config_wsgi_refuses_the_demo_key(tmp_path):
    done = run(
        ["-c", "import config.wsgi"], tmp_path, SECRET_KEY=DEMO_KEY, PUBLIC_BASE_URL="https://x.io"
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "public demo key" in done.stderr
    done = run(["-c", "import config.wsgi"], tmp_path, SECRET_KEY=GOOD_KEY)
    assert done.returncode != 0 and "PUBLIC_BASE_URL is not set" in done.stderr
    done = run(
        ["-c", "import config.wsgi"], tmp_path, SECRET_KEY=GOOD_KEY, PUBLIC_BASE_URL="https://x.io"
    )
    assert done.returncode == 0, done.stderr


def test_a_server_loading_config_wsgi_has_its_views_loaded_and_kept_out_of_collections_N2(
    tmp_path,
):
    probe = (
        "import gc, sys; import config.wsgi; "
        "print(gc.get_freeze_count(), gc.get_threshold()[0], 'supportdesk.api.api' in sys.modules)"
    )
    done = run(["-c", probe], tmp_path, SECRET_KEY=GOOD_KEY, PUBLIC_BASE_URL="https://x.io")
    assert done.returncode == 0, done.stderr
    frozen, young, views = done.stdout.split()
    assert int(frozen) > 50_000  # the modules, models and URL patterns of the application
    assert int(young) == YOUNG_THRESHOLD
    assert views == "True"
    done = run(["-c", probe.replace("import config.wsgi; ", "")], tmp_path)
    assert done.stdout.split() == ["0", "700", "False"]  # a plain interpreter: Python's own


def test_problems_in_process(settings):
    settings.DEMO = False
    settings.DEBUG = False
    settings.SECRET_KEY, settings.SECRET_KEY_SOURCE = GOOD_KEY, "environment"
    settings.PUBLIC_BASE_URL = "https://support.example.com"
    assert configuration_problems() == []
    settings.PUBLIC_BASE_URL = ""
    assert [p.split(":")[0] for p in configuration_problems()] == ["PUBLIC_BASE_URL is not set"]
    settings.DEBUG = True  # a developer's machine may run without it
    assert configuration_problems() == []
    settings.SECRET_KEY = DEMO_KEY
    assert configuration_problems()[0].startswith("SECRET_KEY is the public demo key")
    settings.DEMO = True  # `supportdesk demo` is exempt
    assert configuration_problems() == []


def test_demo_key_is_random_per_installation_kept_private_and_stable(tmp_path):
    first = demo_secret_key(tmp_path / "a")
    assert first == demo_secret_key(tmp_path / "a")
    assert first != demo_secret_key(tmp_path / "b")
    assert len(first) >= 50 and first not in PUBLIC_SECRET_KEYS
    mode = stat.S_IMODE((tmp_path / "a" / "demo-secret-key").stat().st_mode)
    assert mode == 0o600


def test_demo_runs_without_secret_key_using_its_own(tmp_path):
    """`supportdesk demo --no-serve` on a fresh SQLite file needs no SECRET_KEY at all."""
    done = run(["-m", "supportdesk", "demo", "--no-serve"], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "var" / "demo-secret-key").exists()
