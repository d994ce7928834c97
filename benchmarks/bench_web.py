"""Benchmark: concurrent reporters submitting the web entry form.

    python benchmarks/bench_web.py                          # SQLite (a fresh file), 60 s
    python benchmarks/bench_web.py --seconds 20 --reporters 50
    python benchmarks/bench_web.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Starts `tracker serve` in a child process on a free loopback port, on a fresh database (a
temporary SQLite file, or a new schema in the PostgreSQL database given, dropped at the
end), with the repository's targets.yaml. Creates one region reporter per simulated person
(cycling over the 市县 and districts, so several people share a region and correct the same
cells), signs each in, then for --seconds every reporter submits its entry form again and
again: three indicators of its region for the period due, each submission a correction with
a reason, so every request writes new revisions.

Prints p50/p95/max latency, requests/s and errors for the form posts, and, measured in the
same run as a baseline, the same figures for GET /healthz (no database, no template) and
GET /login (a rendered page). A request fails if it does not return 200 with the saved
message; "database is locked" anywhere (responses or the server's log) is counted apart.
Goal: no lock errors and p95 < 300 ms with 50 reporters on SQLite.
"""

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password"
CELLS_PER_FORM = 3


@dataclass
class Figures:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def line(self, baseline: "Figures | None" = None) -> str:
        lat = sorted(self.latencies)
        if not lat:
            return f"{self.name:<26} no successful requests; errors {self.errors}"
        p50, p95 = statistics.median(lat), lat[int(0.95 * (len(lat) - 1))]
        rps = len(lat) / self.seconds if self.seconds else 0.0
        text = (f"{self.name:<26} n={len(lat):>6}  p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
                f"max {lat[-1] * 1000:7.1f} ms  {rps:7.1f} req/s  errors {sum(self.errors.values())}")
        if baseline and baseline.latencies:
            b50 = statistics.median(baseline.latencies)
            text += f"  (p50 = {p50 / b50:.1f}x {baseline.name})"
        if self.errors:
            text += f" {self.errors}"
        return text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_schema_url(base: str) -> tuple[str, str]:
    """A new schema in the database `base` names, and a URL that puts it first on the path."""
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    admin.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", schema


def drop_schema(base: str, schema: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


def prepare(url: str, work: Path, reporters: int, threads: int) -> tuple[Path, list[tuple[str, str, list[str]]]]:
    """tracker.toml for the server, and the reporters: (username, region code, indicator ids)."""
    from tracker import store as db
    from tracker.domain.regions import load_regions
    from tracker.targets.file import load_targets
    from tracker.web import auth

    model = load_targets(ROOT / "targets.yaml")
    engine = db.get_engine(url)
    db.sync_targets(engine, model, now=datetime.now(UTC))
    regions = [r for r in load_regions().all if r.level != "province"]
    indicators = [i.id for i in model.indicators if i.kind in ("count", "flow")]
    people = []
    for n in range(reporters):
        region = regions[n % len(regions)]
        start = (n * CELLS_PER_FORM) % len(indicators)
        mine = [indicators[(start + k) % len(indicators)] for k in range(CELLS_PER_FORM)]
        auth.add_user(engine, f"r{n:03d}", PASSWORD, "reporter", region=region.code, model=model, now=datetime.now(UTC))
        people.append((f"r{n:03d}", region.code, mine))
    db.dispose_engine(url)
    config = work / "tracker.toml"
    config.write_text(
        "[tracker]\n"
        f"database_url = {url!r}\n".replace("'", '"') +
        f'targets_path = "{ROOT / "targets.yaml"}"\nreports_dir = "{work / "reports"}"\n'
        f"[web]\nlogin_max_failures = 1000\nlogin_ip_max_failures = 100000\nthreads = {threads}\n", encoding="utf-8")
    return config, people


def start_server(config: Path, port: int, log: Path, workers: int) -> subprocess.Popen:
    env = {**os.environ, "TRACKER_CONFIG": str(config)}
    env.pop("TRACKER_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "serve", "--port", str(port), "--workers", str(workers)],
                            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start in 30 s")


class Client:
    """One simulated person: a keep-alive HTTP/1.1 connection and the session cookie. A
    few lines of asyncio instead of a full HTTP client, so the load generator, which
    shares the machine's CPUs with the server, costs little of them."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""
        self.reader: Any = None
        self.writer: Any = None

    async def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        body = urlencode(form).encode() if form is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        if self.cookie:
            head.append(f"Cookie: tracker_session={self.cookie}")
        if form is not None:
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            self.writer = None
            raise ConnectionError("the server closed the connection")
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie" and value.startswith("tracker_session="):
                self.cookie = value.split(";", 1)[0].split("=", 1)[1]
            headers[name] = value
        if headers.get("transfer-encoding") == "chunked":
            chunks = []
            while (size := int((await self.reader.readline()).strip() or b"0", 16)):
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            await self.reader.readline()
            data = b"".join(chunks)
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return int(status_line.split()[1]), headers, data.decode("utf-8", errors="replace")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def sign_in(client: Client, username: str) -> tuple[str, str]:
    """Sign in; returns the session's CSRF token and the entry page."""
    _, _, page = await client.request("GET", "/login")
    status, _, _ = await client.request("POST", "/login", {"username": username, "password": PASSWORD,
                                                           "csrf": CSRF.search(page).group(1), "next": "/entry"})
    if status != 303:
        raise SystemExit(f"{username} could not sign in: HTTP {status}")
    _, _, page = await client.request("GET", "/entry")
    return CSRF.search(page).group(1), page


async def run_for(seconds: float, workers: int, request: Callable[[int, int], Awaitable[str | None]],
                  figures: Figures, think: float = 0.0) -> None:
    """`workers` loops calling request(worker, i) until time is up, pausing about `think`
    seconds between requests (0: back to back); each returns None on success or an error
    kind."""
    stop = time.monotonic() + seconds

    async def loop(w: int) -> None:
        i = 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                err = await request(w, i)
            except Exception as exc:  # noqa: BLE001 - every failure is a figure here
                err = type(exc).__name__
            if err is None:
                figures.latencies.append(time.perf_counter() - t0)
            else:
                figures.error(err)
            i += 1
            if think:
                await asyncio.sleep(random.uniform(0.5, 1.5) * think)

    start = time.monotonic()
    await asyncio.gather(*(loop(w) for w in range(workers)))
    figures.seconds = time.monotonic() - start


async def bench(port: int, people: list[tuple[str, str, list[str]]], seconds: float,
                baseline_seconds: float, think: float) -> list[Figures]:
    clients = [Client(port) for _ in people]
    try:
        signed = await asyncio.gather(*(sign_in(c, name) for c, (name, _, _) in zip(clients, people)))
        forms = []
        for (csrf, page), (_name, region, indicators) in zip(signed, people):
            periods = {ind: re.search(rf'name="period\.{ind}" value="([^"]+)"', page).group(1) for ind in indicators}
            forms.append((csrf, region, indicators, periods))

        async def get(path: str, w: int, _i: int) -> str | None:
            status, _, _ = await clients[w].request("GET", path)
            return None if status == 200 else f"HTTP {status}"

        async def submit(w: int, i: int, follow: bool = False) -> str | None:
            csrf, region, indicators, periods = forms[w]
            data = {"csrf": csrf, "region": region}
            for k, ind in enumerate(indicators):
                data[f"value.{ind}"] = str(1 + (w * 7 + i * 3 + k) % 90)  # plausible for every kind
                data[f"period.{ind}"] = periods[ind]
                data[f"reason.{ind}"] = f"复核第{i}次"
            status, headers, text = await clients[w].request("POST", "/entry", data)
            if "database is locked" in text:
                return "database is locked"
            if status == 303:  # saved: redirected to the form again (redirect after POST)
                if not follow:
                    return None
                status, _, text = await clients[w].request("GET", headers.get("location", "/entry"))
            if status != 200 or "已保存" not in text:
                return f"HTTP {status}"
            return None

        out = []
        for name, fn, secs, pause in (
                ("GET /healthz (baseline)", lambda w, i: get("/healthz", w, i), baseline_seconds, 0.0),
                ("GET /login (template)", lambda w, i: get("/login", w, i), baseline_seconds, 0.0),
                ("POST /entry (3 values)", submit, seconds, think),
                ("POST /entry + GET it redirects to", lambda w, i: submit(w, i, True), seconds, think)):
            figures = Figures(name)
            await run_for(secs, len(people), fn, figures, pause)
            out.append(figures)
        return out
    finally:
        await asyncio.gather(*(c.close() for c in clients))


def rows_written(url: str) -> int:
    from sqlalchemy import func, select

    from tracker import store as db
    engine = db.get_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(select(func.count()).select_from(db.observation_table)).scalar())
    db.dispose_engine(url)
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the reporters submit (default 60)")
    parser.add_argument("--reporters", type=int, default=50, help="concurrent simulated reporters (default 50)")
    parser.add_argument("--baseline-seconds", type=float, default=None,
                        help="how long each baseline GET runs (default: a sixth of --seconds, at least 3)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean pause in seconds between one reporter's submissions (default 0: back to back, "
                             "the hardest case; people take far longer)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    parser.add_argument("--threads", type=int, default=4, help="handler threads per server process (default 4)")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL URL (a fresh schema is made in it and dropped); default: a new SQLite file")
    args = parser.parse_args(argv)
    baseline_seconds = args.baseline_seconds or max(3.0, args.seconds / 6)
    with tempfile.TemporaryDirectory(prefix="tracker-bench-web-") as tmp:
        work = Path(tmp)
        schema = None
        if args.database_url:
            url, schema = pg_schema_url(args.database_url)
            label = "PostgreSQL"
        else:
            url, label = f"sqlite:///{work / 'tracker.db'}", "SQLite (WAL)"
        try:
            config, people = prepare(url, work, args.reporters, args.threads)
            port = free_port()
            log = work / "server.log"
            server = start_server(config, port, log, args.workers)
            try:
                figures = asyncio.run(bench(port, people, args.seconds, baseline_seconds, args.think))
            finally:
                server.terminate()
                server.wait(timeout=30)
            server_log = log.read_text(errors="replace")
            written = rows_written(url)
        finally:
            if schema:
                drop_schema(args.database_url, schema)
    locks = server_log.count("database is locked")
    tracebacks = server_log.count("Traceback")
    print(f"tracker web benchmark: {label}, {args.reporters} concurrent reporters "
          f"({'back to back' if not args.think else f'~{args.think:g} s between submissions'}), loopback, "
          f"{args.workers} server process(es) x {args.threads} threads, {os.cpu_count()} CPUs shared with the "
          "load generator")
    baseline = figures[0]
    for f in figures:
        print("  " + f.line(None if f is baseline else baseline))
    print(f"  observation rows written: {written}; server log: {locks} 'database is locked', {tracebacks} tracebacks")
    entry = figures[-2]  # the POST; the last line adds the page it redirects to, as a browser loads it
    lat = sorted(entry.latencies)
    p95 = lat[int(0.95 * (len(lat) - 1))] if lat else float("inf")
    ok = not entry.errors and not figures[-1].errors and locks == 0 and p95 < 0.300
    print(f"  goal (no errors, no lock errors, POST p95 ≤ 300 ms): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
