"""Processes and databases for the API benchmarks (bench/api_tickets.py and the peer run in
bench/_peer_helpdesk.py): PostgreSQL administration, a free loopback port, one JSON request, and
starting, watching and stopping a gunicorn server in a session of its own."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _api_tickets_seed import log

PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
PG_BASE_URL = PG_ADMIN_URL.rsplit("/", 1)[0]


class SetupError(RuntimeError):
    pass


@dataclass
class Target:
    db: str  # sqlite | postgres
    env: dict[str, str]
    tmp: Path
    pg_name: str | None = None
    server: subprocess.Popen[bytes] | None = None
    server_log: Path | None = None
    port: int = 0


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def pg_exec(dbname: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_BASE_URL}/{dbname}", autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_json(
    port: int,
    method: str,
    path: str,
    token: str | None = None,
    body: Any = None,
    timeout: float = 30,
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw.decode(errors="replace")
    finally:
        conn.close()


def set_autogroup_nice(pid: int, nice: int) -> None:
    """With the kernel's autogroup scheduling, CPU is shared between sessions first and a
    process's own niceness only counts inside its session; gunicorn runs in a session of its
    own, so --nice also sets the niceness of that session (our own processes only)."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))


def tail(target: Target, lines: int = 30) -> str:
    if not target.server_log or not target.server_log.exists():
        return ""
    text = target.server_log.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def server_problems(target: Target) -> list[str]:
    """Lines of the gunicorn log that are not access-log lines or routine start-up notes."""
    if not target.server_log or not target.server_log.exists():
        return []
    routine = (
        "Starting gunicorn",
        "Listening at",
        "Using worker",
        "Booting worker",
        "Control socket",
    )
    lines = []
    for line in target.server_log.read_text(errors="replace").splitlines():
        if line.startswith("127.0.0.1 - ") or any(r in line for r in routine):
            continue
        lines.append(line)
    return lines


def stop_server(target: Target) -> None:
    proc = target.server
    if proc is None:
        return
    target.server = None
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of master + workers
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    # Anything of that session still alive (our own process group only).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def wait_until_up(target: Target, probe: Callable[[], bool], timeout: float = 60) -> None:
    """Poll `probe` until it answers True; fail if the server exits or the time runs out."""
    assert target.server is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if target.server.poll() is not None:
            raise SetupError(f"gunicorn exited with {target.server.returncode}:\n{tail(target)}")
        try:
            if probe():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SetupError(f"gunicorn did not become healthy within {timeout:g} s:\n{tail(target)}")


def report_server_problems(target: Target) -> None:
    problems = server_problems(target)
    log(f"  gunicorn log: {len(problems)} warning/error lines" + (":" if problems else ""))
    for line in problems[:8]:
        log(f"      {line[:300]}")


@contextlib.contextmanager
def served(target: Target, *, keep: bool, label: str = "") -> Iterator[None]:
    """Around a target's set-up and phases: on an error, the end of its gunicorn log; whatever
    happens, its gunicorn stopped, its PostgreSQL database dropped and its directory removed
    (kept with ``keep``)."""
    try:
        yield
    except Exception:
        if target.server_log:
            log(f"  --- last lines of the {label}gunicorn log ---\n{tail(target)}")
        raise
    finally:
        stop_server(target)
        if target.pg_name:
            try:
                pg_admin(f'DROP DATABASE IF EXISTS "{target.pg_name}" WITH (FORCE)')
            except Exception as exc:  # report, but do not mask the original error
                log(f"  could not drop {target.pg_name}: {exc}")
        if keep:
            log(f"  kept {target.tmp}")
        else:
            shutil.rmtree(target.tmp, ignore_errors=True)
