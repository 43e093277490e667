"""The production layout of docs/deploy.md, run as systemd would run it (issue 16.5).

The committed units (deploy/systemd/) and environment file (deploy/supportdesk.env) are parsed
and their ExecStart commands started with the environment systemd gives them — its default
PATH, the unit's Environment= and then its EnvironmentFile= (which wins) — in the unit's
WorkingDirectory, against a PostgreSQL database on loopback. Only what is site-specific is
replaced: the install paths (/opt/supportdesk -> this checkout, its .venv's python -> this
interpreter, /var/lib/supportdesk -> a temporary directory), the secrets and the database URL,
the S3 endpoint (moto's S3 server on loopback), the web instances' ports (free loopback ports
instead of 8001/8002) and a 1-second scheduler tick to keep the test short. Then:

* `supportdesk-migrate.service` exits 0; both web instances answer /api/v1/health;
* the two workers share the `scheduler` lease: one holds it and keeps it, and when it is
  stopped (SIGTERM, as `systemctl stop` sends) it exits 0 and the other takes over;
* deploy/nginx.conf, with a self-signed certificate on loopback ports, passes `nginx -t` and
  serves the app over TLS (health, https links, HSTS, a ticket whose attachment lands in the
  S3 bucket) and redirects plain http;
* `systemd-analyze verify` accepts the units (when the tool is installed);
* every process stops on its KillSignal within its TimeoutStopSec.

PostgreSQL only (the layout's database), on a database of its own made on the server that
TEST_POSTGRES_URL (else DATABASE_URL) names: CI sets TEST_POSTGRES_URL in its SQLite pass, so
both passes run it; skipped only on a machine with no PostgreSQL configured.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOST = "support.example.com"  # PUBLIC_BASE_URL's host in deploy/supportdesk.env

pytestmark = pytest.mark.postgres


def _postgres_url() -> str | None:
    for name in ("TEST_POSTGRES_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return None


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Sections of a unit file as systemd reads them: repeated keys kept, `\\` continues."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    pending = ""
    for raw in path.read_text().splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections.setdefault(current, [])
            continue
        key, _, value = line.partition("=")
        sections[current].append((key.strip(), value.strip()))
    return sections


def values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def parse_env_file(path: Path) -> dict[str, str]:
    """EnvironmentFile= syntax: KEY=VALUE lines, # and ; comments, optional quotes."""
    env = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    tmp: Path
    paths: dict[str, str]
    site: dict[str, str]
    db: str
    admin_url: str
    web_ports: list[str] = field(default_factory=list)
    procs: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    stop_timeout: dict[str, float] = field(default_factory=dict)

    def mapped(self, text: str) -> str:
        for old, new in self.paths.items():
            text = text.replace(old, new)
        return text

    def command(self, unit_name: str, instance: str = "") -> tuple[list[str], dict[str, str], str]:
        """The ExecStart argv, the environment and the working directory systemd would use."""
        unit = parse_unit(UNITS / unit_name)
        env = {"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8", "HOME": str(self.tmp)}
        state = values(unit, "Service", "StateDirectory")
        if state:
            env["STATE_DIRECTORY"] = self.mapped(f"/var/lib/{state[0]}")
        for assignment in values(unit, "Service", "Environment"):
            for item in shlex.split(assignment):
                key, _, value = item.partition("=")
                env[key] = value
        for env_file in values(unit, "Service", "EnvironmentFile"):
            assert env_file == "/etc/supportdesk/supportdesk.env", env_file
            committed = parse_env_file(DEPLOY / "supportdesk.env")
            env.update({k: self.mapped(v) for k, v in committed.items()})
        env.update(self.site)
        (exec_start,) = values(unit, "Service", "ExecStart")
        argv = [self.mapped(a.replace("%i", instance)) for a in shlex.split(exec_start)]
        (workdir,) = values(unit, "Service", "WorkingDirectory")
        return argv, env, self.mapped(workdir)

    def start(self, name: str, unit_name: str, instance: str = "") -> None:
        argv, env, cwd = self.command(unit_name, instance)
        log = (self.tmp / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        unit = parse_unit(UNITS / unit_name)
        (timeout,) = values(unit, "Service", "TimeoutStopSec")
        self.stop_timeout[name] = float(timeout)
        (kill,) = values(unit, "Service", "KillSignal")
        assert kill == "SIGTERM"

    def stop(self, name: str) -> int:
        """KillSignal, then wait (at most the unit's TimeoutStopSec, and 30 s here)."""
        proc = self.procs.pop(name)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=min(self.stop_timeout[name], 30))
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-3000:]

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        import psycopg

        url = urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{self.db}"))
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute(query.encode()).fetchall()


def http_get(port: int, path: str, host: str = "127.0.0.1", tls: bool = False, **kw: Any) -> Any:
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=20, context=ctx
        )
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        headers = {"Host": host, **kw.pop("headers", {})}
        conn.request(kw.pop("method", "GET"), path, body=kw.pop("body", None), headers=headers)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def wait_for(check: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            result = check()
            if result:
                return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    boto3 = pytest.importorskip("boto3")
    server_module = pytest.importorskip("moto.server")
    port = free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        bucket = parse_env_file(DEPLOY / "supportdesk.env")["S3_BUCKET"]
        boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
        ).create_bucket(Bucket=bucket)  # fmt: skip
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str
) -> Iterator[Stack]:
    admin = _postgres_url()
    if admin is None:
        pytest.skip(
            "the deploy layout runs on PostgreSQL, and none is configured: set "
            "TEST_POSTGRES_URL (or DATABASE_URL) to postgres://... (CI sets it in both passes)"
        )
    import psycopg
    from cryptography.fernet import Fernet

    admin_url = urlunsplit(urlsplit(admin)._replace(path="/postgres"))
    tmp = tmp_path_factory.mktemp("deploy")
    db = f"deploy_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"'.encode())
    state = tmp / "state"
    state.mkdir()
    stack = Stack(
        tmp=tmp,
        paths={
            "/opt/supportdesk/.venv/bin/python": sys.executable,
            "/opt/supportdesk": str(ROOT),
            "/var/lib/supportdesk": str(state),
        },
        site={
            "DATABASE_URL": urlunsplit(urlsplit(admin)._replace(path=f"/{db}")),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SECRETS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "MAIL_WEBHOOK_SECRET": secrets.token_hex(16),
            "S3_ENDPOINT_URL": moto_endpoint,
            "S3_ACCESS_KEY_ID": "test",
            "S3_SECRET_ACCESS_KEY": "test",
            "S3_REGION": "us-east-1",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(free_port()),  # nothing listens: mail stays queued, no one is sent
            "SCHEDULER_INTERVAL_SECONDS": "1",
            "LOG_LEVEL": "INFO",
        },
        db=db,
        admin_url=admin_url,
    )
    try:
        yield stack
    finally:
        for name in list(stack.procs):
            stack.stop(name)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'.encode())


def target_instances() -> tuple[list[str], list[str]]:
    wants = " ".join(values(parse_unit(UNITS / "supportdesk.target"), "Unit", "Wants")).split()
    webs = [w.split("@")[1].split(".")[0] for w in wants if w.startswith("supportdesk-web@")]
    workers = [w.split("@")[1].split(".")[0] for w in wants if w.startswith("supportdesk-worker@")]
    return webs, workers


def test_units_run_as_systemd_runs_them_and_workers_share_the_scheduler_lease(stack):
    webs, workers = target_instances()
    assert len(webs) == 2 and len(workers) == 2  # N x web and N x worker, as deploy.md says

    argv, env, cwd = stack.command("supportdesk-migrate.service")
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    # Each web instance is a loopback port: free ones here instead of the target's 8001/8002.
    stack.web_ports = [str(free_port()) for _ in webs]
    for port in stack.web_ports:
        stack.start(f"web-{port}", "supportdesk-web@.service", port)
    for n in workers:
        stack.start(f"worker-{n}", "supportdesk-worker@.service", n)
    for port in stack.web_ports:

        def healthy(port: str = port) -> bool:
            assert stack.procs[f"web-{port}"].poll() is None, stack.log(f"web-{port}")
            status, _, body = http_get(int(port), "/api/v1/health")
            return status == 200 and json.loads(body)["database"] == "ok"

        wait_for(healthy, 60, f"web on {port}")

    pids = {str(stack.procs[f"worker-{n}"].pid): f"worker-{n}" for n in workers}

    def holder() -> str | None:
        rows = stack.sql("SELECT holder FROM core_lease WHERE name = 'scheduler'")
        return rows[0][0].split(":")[1] if rows else None

    first = wait_for(holder, 60, "a worker to take the scheduler lease")
    assert first in pids, (first, pids)
    seen = set()
    for _ in range(15):  # three seconds, three scheduler ticks of each worker
        seen.add(holder())
        time.sleep(0.2)
    assert seen == {first}  # the other worker never held it: only one schedules
    periodic = stack.sql(
        "SELECT task_path, count(*) FROM django_tasks_database_dbtaskresult "
        "WHERE task_path = 'supportdesk.contracts.tasks.contract_expiry_sweep' GROUP BY 1"
    )
    assert periodic == [("supportdesk.contracts.tasks.contract_expiry_sweep", 1)]  # hourly: once

    # systemctl stop of the lease holder: it finishes, exits 0 and hands the lease over.
    assert stack.stop(pids[first]) == 0, stack.log(pids[first])
    second = wait_for(
        lambda: (h := holder()) is not None and h != first and h, 15, "the lease handover"
    )
    assert second in pids and second != first


@pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx is not installed (.ci/system-deps installs it)"
)
def test_nginx_config_serves_the_app_over_tls(stack, moto_endpoint):
    if not stack.web_ports:
        pytest.fail("the units did not start (see the test before)")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    ngx = stack.tmp / "nginx"
    ngx.mkdir()
    (ngx / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (ngx / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    tls_port, http_port = free_port(), free_port()
    site = (DEPLOY / "nginx.conf").read_text()
    replacements = {
        "/etc/ssl/supportdesk/": f"{ngx}/",
        "listen [::]:443 ssl http2;": "",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{tls_port} ssl http2;",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "server 127.0.0.1:8001 ": f"server 127.0.0.1:{stack.web_ports[0]} ",
        "server 127.0.0.1:8002 ": f"server 127.0.0.1:{stack.web_ports[1]} ",
    }
    for old, new in replacements.items():
        assert old in site, old
        site = site.replace(old, new)
    (ngx / "supportdesk.conf").write_text(site)
    # The main file stands in for Debian's /etc/nginx/nginx.conf, which includes conf.d/*.conf.
    (ngx / "nginx.conf").write_text(
        f"pid {ngx}/nginx.pid;\nerror_log {ngx}/error.log;\nevents {{}}\nhttp {{\n"
        f"  access_log {ngx}/access.log;\n  client_body_temp_path {ngx}/body;\n"
        f"  proxy_temp_path {ngx}/proxy;\n  include {ngx}/supportdesk.conf;\n}}\n"
    )
    nginx = shutil.which("nginx")
    assert nginx
    base = [nginx, "-p", str(ngx), "-e", str(ngx / "error.log"), "-c", str(ngx / "nginx.conf")]
    check = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([*base, "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
    try:
        status, headers, body = wait_for(
            lambda: (r := http_get(tls_port, "/api/v1/health", HOST, tls=True))[0] == 200 and r,
            30,
            "nginx over TLS",
        )
        assert json.loads(body)["database"] == "ok"
        # Plain http moves to https; the app, told https by X-Forwarded-Proto, sends HSTS and
        # builds https links.
        status, headers, _ = http_get(http_port, "/console/", HOST)
        assert status == 301 and headers["Location"] == f"https://{HOST}/console/"
        status, headers, _ = http_get(tls_port, "/console/", HOST, tls=True)
        assert status == 302 and headers["Location"].startswith("/login/")
        assert "max-age=31536000" in headers.get("Strict-Transport-Security", "")
        # A ticket with an attachment through the proxy: the file lands in the S3 bucket.
        token = first_run_token(stack)
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        status, _, body = http_get(
            tls_port, "/api/v1/organizations", HOST, tls=True, method="POST", headers=auth,
            body=json.dumps({"name": "Deploy Customer"}),
        )  # fmt: skip
        assert status == 201, body
        org = json.loads(body)["id"]
        ticket = {
            "subject": "Through nginx", "body": "with a file", "organization": org,
            "attachments": [{"filename": "note.txt",
                             "content_base64": base64.b64encode(b"hello s3").decode()}],
        }  # fmt: skip
        status, _, body = http_get(
            tls_port, "/api/v1/tickets", HOST, tls=True, method="POST", headers=auth,
            body=json.dumps(ticket),
        )  # fmt: skip
        assert status == 201, body
        import boto3

        bucket = parse_env_file(DEPLOY / "supportdesk.env")["S3_BUCKET"]
        s3 = boto3.client(
            "s3", endpoint_url=moto_endpoint, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
        )  # fmt: skip
        objects = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        assert [s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in objects] == [
            b"hello s3"
        ]
    finally:
        proc.send_signal(signal.SIGQUIT)  # nginx's graceful stop
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def first_run_token(stack: Stack) -> str:
    """docs/deploy.md's first run: `supportdesk setup --no-input`, then an API token."""
    argv, env, cwd = stack.command("supportdesk-migrate.service")
    python = argv[: argv.index("supportdesk") + 1]
    email = "admin@example.com"
    setup = [
        "setup", "--no-input", "--vendor-name", "Example", "--slug", "example",
        "--timezone", "Europe/Berlin", "--country", "DE", "--support-email",
        "support@example.com", "--admin-email", email, "--admin-password", secrets.token_hex(12),
    ]  # fmt: skip
    for args in (setup, ["token", "create", email]):
        done = subprocess.run(
            [*python, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()[-1]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze absent")
def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    # Install paths replaced by this checkout's, so the ExecStart binaries exist.
    for unit in UNITS.iterdir():
        text = unit.read_text().replace("/opt/supportdesk/.venv/bin/python", sys.executable)
        (tmp_path / unit.name).write_text(text)
    webs, workers = target_instances()
    names = [
        "supportdesk-migrate.service",
        *(f"supportdesk-web@{p}.service" for p in webs),
        *(f"supportdesk-worker@{n}.service" for n in workers),
        "supportdesk.target",
    ]
    done = subprocess.run(
        ["systemd-analyze", "verify", *names], cwd=tmp_path, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stderr


def test_environment_file_passes_django_deploy_checks(stack):
    """deploy/supportdesk.env carries docs/configuration.md's production settings: with it,
    `check --deploy` warns about nothing (the same environment the units get)."""
    argv, env, cwd = stack.command("supportdesk-migrate.service")
    python = argv[: argv.index("-m")]
    done = subprocess.run(
        [*python, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=cwd, env={**env, "DJANGO_SETTINGS_MODULE": "config.base"}, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_every_process_stops_on_its_kill_signal_in_time(stack):
    """Last in the module: what `systemctl stop supportdesk.target` does to what still runs
    (the web instances and the worker that took the lease over)."""
    if not stack.procs:
        pytest.fail("the units did not start (see the first test)")
    for name in list(stack.procs):
        assert stack.stop(name) == 0, stack.log(name)
