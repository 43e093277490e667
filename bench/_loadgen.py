"""Load generation for bench/api_tickets.py: keep-alive HTTP client threads, CPU accounting
from /proc, latency percentiles and the per-phase report."""

from __future__ import annotations

import http.client
import json
import math
import os
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from _api_tickets_seed import SUBJECTS, log

if TYPE_CHECKING:
    from _api_server import Target


@dataclass
class PhaseResult:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, successful and failed
    ok: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    wall: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # cores used, by whom
    background: float = 0.0  # cores busy before the phases started

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        k = max(0, min(len(xs) - 1, math.ceil(p / 100 * len(xs)) - 1))
        return xs[k] * 1000

    @property
    def rate(self) -> float:
        return self.ok / self.wall if self.wall else 0.0

    @property
    def cpu_ms(self) -> float:
        """Server-side CPU per request (gunicorn + PostgreSQL backends), in ms.

        Close to independent of what else runs on the machine, unlike latency.
        """
        n = len(self.latencies)
        used = self.cpu.get("server", 0.0) + self.cpu.get("database", 0.0)
        return used * self.wall / n * 1000 if n else float("nan")


class Client:
    """One keep-alive connection; reconnects after a failure."""

    def __init__(self, port: int, token: str, timeout: float = 60) -> None:
        self.port = port
        self.timeout = timeout
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, bytes, float]:
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            elapsed = time.perf_counter() - t0
            self.close()
            return 599, f"{exc.__class__.__name__}: {exc}".encode(), elapsed
        elapsed = time.perf_counter() - t0
        if resp.will_close:
            self.close()
        return resp.status, data, elapsed

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_table() -> dict[int, tuple[int, float, str]]:
    """pid -> (ppid, cpu seconds, cmdline) for every process we can read (Linux /proc)."""
    return {pid: (ppid, cpu, cmd) for pid, (ppid, cpu, _, cmd) in _proc_times().items()}


def _proc_times() -> dict[int, tuple[int, float, float, str]]:
    """pid -> (ppid, cpu seconds, cpu seconds of its reaped children, cmdline)."""
    table: dict[int, tuple[int, float, float, str]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
        reaped = (int(fields[13]) + int(fields[14])) / CLK_TCK
        table[int(entry)] = (int(fields[1]), cpu, reaped, cmd)
    return table


def _machine_ticks() -> tuple[float, float]:
    try:
        with open("/proc/stat") as f:
            parts = [float(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0.0)
    return sum(parts[:8]) - idle, idle


@dataclass
class CpuSample:
    client: float
    server: dict[int, float]
    database: dict[int, float]
    busy: float
    idle: float


def cpu_sample(server_pid: int | None, db_marker: str | None) -> CpuSample:
    """CPU seconds so far of this process, the gunicorn tree, our PostgreSQL backends.

    Django closes a connection older than CONN_MAX_AGE and the next request opens another,
    so backends end during a phase: their CPU is counted from the postmaster's reaped
    children (key -1), which also holds any other database's ended backends (none on a
    machine kept for the benchmark)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    table = _proc_times()
    server: dict[int, float] = {}
    database: dict[int, float] = {}
    if server_pid is not None:
        server = {p: c for p, (pp, c, _, _) in table.items() if p == server_pid or pp == server_pid}
    if db_marker:
        database = {
            p: c
            for p, (_, c, _, cmd) in table.items()
            if cmd.startswith("postgres:") and db_marker in cmd
        }
        postmasters = {pp for pp, _, _, cmd in table.values() if cmd.startswith("postgres:")}
        database[-1] = sum(table[p][2] for p in postmasters if p in table)
    busy, idle = _machine_ticks()
    return CpuSample(ru.ru_utime + ru.ru_stime, server, database, busy, idle)


def cpu_split(a: CpuSample, b: CpuSample, wall: float) -> dict[str, float]:
    """Cores used during [a, b] by: client, server, database, other (everything else)."""

    def delta(x: dict[int, float], y: dict[int, float]) -> float:
        return sum(c - x.get(p, 0.0) for p, c in y.items())

    ticks = (b.busy - a.busy) + (b.idle - a.idle)
    ncpu = os.cpu_count() or 1
    busy = ncpu * (b.busy - a.busy) / ticks if ticks else 0.0
    split = {
        "client": (b.client - a.client) / wall,
        "server": delta(a.server, b.server) / wall,
        # a backend that ended between the samples is in a's and, by the postmaster, in b's
        "database": (sum(b.database.values()) - sum(a.database.values())) / wall,
    }
    split["other"] = max(0.0, busy - sum(split.values()))
    split["busy"] = busy
    return split


def background_load(seconds: float = 1.0) -> float:
    """Cores busy machine-wide over a short idle wait, before we put any load on."""
    busy0, idle0 = _machine_ticks()
    time.sleep(seconds)
    busy1, idle1 = _machine_ticks()
    ticks = (busy1 - busy0) + (idle1 - idle0)
    return (os.cpu_count() or 1) * (busy1 - busy0) / ticks if ticks else 0.0


# An iteration does one or more requests through `record(status, data, latency)`, which
# returns the body for the next step (cursor walk).
Iteration = Callable[[Client, int, Callable[[int, bytes, float], bytes]], None]


def run_phase(
    name: str,
    target: Target,
    token: str,
    clients: int,
    seconds: float,
    max_requests: int,
    iteration: Iteration,
    warmup: int,
    timeout: float = 60,
) -> PhaseResult:
    port = target.port
    result = PhaseResult(name=name)
    lock = threading.Lock()
    stop = threading.Event()
    counter = [0]

    def worker(idx: int) -> None:
        client = Client(port, token, timeout)
        seq = 0
        local: list[float] = []
        ok = errors = 0
        samples: list[str] = []

        def record(status: int, data: bytes, latency: float) -> bytes:
            nonlocal ok, errors
            local.append(latency)
            if 200 <= status < 300:
                ok += 1
            else:
                errors += 1
                if len(samples) < 3:
                    samples.append(f"HTTP {status}: {data[:300].decode(errors='replace')}")
            with lock:
                counter[0] += 1
                if counter[0] >= max_requests:
                    stop.set()
            return data if 200 <= status < 300 else b""

        try:
            while not stop.is_set() and time.monotonic() < deadline:
                iteration(client, idx * 1_000_000 + seq, record)
                seq += 1
        finally:
            client.close()
            with lock:
                result.latencies.extend(local)
                result.ok += ok
                result.errors += errors
                for s in samples:
                    if len(result.error_samples) < 3:
                        result.error_samples.append(s)

    # Warm-up (not recorded): each worker process imports lazily on its first requests. As
    # many threads as clients, each opening a new connection per request, so that every
    # gunicorn worker accepts some (one keep-alive connection would warm a single worker and
    # leave the others' first requests inside the measured phase).
    def warm(idx: int) -> None:
        for i in range(idx, warmup, clients):
            client = Client(port, token, timeout)
            iteration(client, -1 - i, lambda s, d, lat: d if 200 <= s < 300 else b"")
            client.close()

    warmers = [threading.Thread(target=warm, args=(i,), daemon=True) for i in range(clients)]
    for t in warmers:
        t.start()
    for t in warmers:
        t.join()

    server_pid = target.server.pid if target.server else None
    cpu0 = cpu_sample(server_pid, target.pg_name)
    t0 = time.perf_counter()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.wall = time.perf_counter() - t0
    result.cpu = cpu_split(cpu0, cpu_sample(server_pid, target.pg_name), result.wall)
    return result


def list_iteration(path: str, pages: int = 1) -> Iteration:
    def it(client: Client, seq: int, record: Callable[[int, bytes, float], bytes]) -> None:
        url = path
        for _ in range(pages):
            data = record(*client.request("GET", url))
            if pages == 1 or not data:
                return
            cursor = json.loads(data).get("next_cursor")
            if not cursor:
                return
            url = f"{path}&cursor={cursor}"

    return it


def create_iteration(org_id: int, requester_id: int) -> Iteration:
    prios = ("P1", "P2", "P3", "P3", "P4")

    def it(client: Client, seq: int, record: Callable[[int, bytes, float], bytes]) -> None:
        body = {
            "subject": f"Bench ticket {seq}: {SUBJECTS[seq % len(SUBJECTS)]}",
            "body": "Created by bench/api_tickets.py.\nSteps to reproduce: none, a load test.",
            "priority": prios[seq % len(prios)],
            "channel": "api",
            "organization": org_id,
            "requester": requester_id,
        }
        record(*client.request("POST", "/api/v1/tickets", json.dumps(body).encode()))

    return it


def print_phase(r: PhaseResult) -> None:
    log(
        f"  {r.name:<34} {r.rate:8.1f} req/s  p50 {r.pct(50):7.1f}  p90 {r.pct(90):7.1f}  "
        f"p99 {r.pct(99):7.1f}  max {r.pct(100):7.1f} ms  ok {r.ok:>6}  err {r.errors:>4}"
    )
    c = r.cpu
    log(
        f"      cores used: client {c['client']:.2f}, gunicorn {c['server']:.2f}, "
        f"postgres {c['database']:.2f}, other processes {c['other']:.2f}  "
        f"(machine {c['busy']:.2f}/{os.cpu_count()} busy); server CPU {r.cpu_ms:.1f} ms/request"
    )
    for s in r.error_samples:
        log(f"      error body: {s}")
