"""Fault suite: real `tracker` processes killed with SIGKILL (or stopped with SIGSTOP) at chosen
points (tracker/faults.py), and the reliability figures that follow.

    python -m benchmarks.bench_faults                    # quick: a few trials of each kind
    python -m benchmarks.bench_faults --trials 20 --rows 500000
    python -m benchmarks.bench_faults --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Trials, each on one database (a fresh SQLite file, or a new schema in the PostgreSQL database
given or in $TRACKER_BENCH_DATABASE_URL, dropped at the end):

- runs: two `tracker run --period P` processes race for a month; the winner is killed with
  SIGKILL at a random point of the run or of its report write; a watchdog (this process)
  takes the month over. Prints runs per month (must be 1), takeover time (from the kill to
  the new claim; lease 1 s, heartbeat 0.2 s) and leftovers in the report set.
- stopped runs: the winner is stopped with SIGSTOP past its lease, the month is taken over,
  then the stopped process resumes: what it wrote after losing the lease (must be nothing).
- values: `tracker import` killed at a random point while `tracker record` processes write
  beside it: values a command acknowledged but the database lost, and imports that left part
  of a file (both must be 0).
- messages: `tracker alerts deliver` killed between the SMTP server's acceptance and the
  outbox's mark (aiosmtpd): copies per resend window (at most 1) and Message-IDs kept; and,
  on the Hainan sample, messages per monthly run against the flips they report (digests).
- import: `tracker record` and `tracker status` called again and again while a big import
  runs: how many failed (must be 0), and the longest wait.
"""

import argparse
import logging
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LEASE = "[schedule]\nheartbeat_seconds = 0.2\nlease_seconds = 1.0\n"
RUN_POINTS = ("run:claimed", "report:locked", "report:generation-written", "report:linked", "report:switched",
              "run:reported", "run:finished")
IMPORT_POINTS = ("import:checked", "import:locked", "import:written", "")  # "": killed at a random moment
TRAININGS = "elderly_care_worker_trainings"  # monthly, reported by 省民政厅


class Env:
    """The database and configuration every child process of the suite uses."""

    def __init__(self, work: Path, url: str, extra: str = "") -> None:
        self.work, self.url = work, url
        self.config = work / "tracker.toml"
        self.config.write_text(f'[tracker]\ntargets_path = "{ROOT / "targets.yaml"}"\n'
                               f'reports_dir = "{work / "reports"}"\n' + LEASE + extra, encoding="utf-8")

    def spawn(self, args: list[str], points: str = "") -> Any:
        from tracker import faults

        return faults.spawn(args, {"TRACKER_DATABASE_URL": self.url, "TRACKER_CONFIG": str(self.config)},
                            points=points, directory=self.work, cwd=self.work)

    def tracker(self) -> Any:
        from tracker.config import load_settings
        from tracker.service import Tracker

        settings = load_settings(self.config)
        settings.database_url = self.url
        return Tracker(settings)


def _months(start_year: int, n: int) -> list[str]:
    return [f"{start_year + i // 12}-{i % 12 + 1:02d}" for i in range(n)]


def _reset(work: Path) -> None:
    for p in work.glob("*.reached"):
        p.unlink()
    for p in work.glob("*.go"):
        p.unlink()


def _wait_any(work: Path, point: str, procs: list[Any], timeout: float = 60) -> int | None:
    """The pid of the child that reached `point`, or None if all exited first."""
    from tracker import faults

    reached = faults.reached_file(work, point)
    deadline = time.monotonic() + timeout
    while not reached.exists():
        if all(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            return None
        time.sleep(0.01)
    time.sleep(0.01)
    return int(reached.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------
# runs


def trial_runs(env: Env, trials: int, rng: random.Random) -> dict[str, Any]:
    from tracker.report.files import CURRENT, GENERATIONS, read_report
    from tracker.store.runs import RUN_JOB, get_run

    tracker = env.tracker()
    periods = _months(2024, trials)
    runs_per_month, takeovers, leftovers = [], [], 0
    for period in periods:
        _reset(env.work)
        point = rng.choice(RUN_POINTS)
        procs = [env.spawn(["run", "--period", period], points=point) for _ in range(2)]
        pid = _wait_any(env.work, point, procs)
        killed = datetime.now(UTC)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        outputs = [p.communicate(timeout=120) for p in procs]
        done = sum("已完成 done" in out for out, _err in outputs)
        while get_run(tracker.engine, RUN_JOB, period)["state"] != "succeeded":
            outcome = tracker.run_month(period)
            if outcome.ran:
                done += outcome.state == "succeeded"
                takeovers.append((get_run(tracker.engine, RUN_JOB, period)["started_at"] - killed).total_seconds())
            else:
                time.sleep(0.05)
        runs_per_month.append(done)
        reports = env.work / "reports"
        assert read_report(reports, period) is not None
        leftovers += sum(1 for p in reports.rglob("*.tmp"))
        current = os.readlink(reports / CURRENT).rsplit("/", 1)[1]
        leftovers += sum(1 for p in (reports / GENERATIONS).iterdir() if p.name > current)  # never switched to
    return {"runs_per_month": runs_per_month, "takeover_s": takeovers, "report_leftovers": leftovers}


def _tree(directory: Path) -> dict[str, Any]:
    return {str(p.relative_to(directory)): (os.readlink(p) if p.is_symlink() else p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*")) if p.is_symlink() or p.is_file()}


def trial_stopped(env: Env, trials: int, rng: random.Random) -> dict[str, Any]:
    from sqlalchemy import func, select

    from tracker import faults
    from tracker.store.runs import RUN_JOB, get_run
    from tracker.store.tables import alert_table

    tracker = env.tracker()
    writes_after_loss = 0
    for period in _months(2023, trials):
        _reset(env.work)
        point = rng.choice(("run:claimed", "run:reported"))
        child = env.spawn(["run", "--period", period], points=point)
        faults.wait_reached(env.work, point, child)
        child.send_signal(signal.SIGSTOP)
        time.sleep(tracker.settings.schedule.lease_seconds + 0.3)
        assert tracker.run_month(period).state == "succeeded"
        with tracker.engine.connect() as conn:
            alerts = conn.execute(select(func.count()).select_from(alert_table)).scalar()
        before = (_tree(env.work / "reports"), get_run(tracker.engine, RUN_JOB, period), alerts)
        faults.release(env.work, point)
        child.send_signal(signal.SIGCONT)
        child.communicate(timeout=120)
        with tracker.engine.connect() as conn:
            alerts = conn.execute(select(func.count()).select_from(alert_table)).scalar()
        after = (_tree(env.work / "reports"), get_run(tracker.engine, RUN_JOB, period), alerts)
        writes_after_loss += sum(a != b for a, b in zip(before, after))
    return {"stopped_trials": trials, "writes_after_lease_lost": writes_after_loss}


# ---------------------------------------------------------------------------------------
# values


def _csv(path: Path, year: int, counties: list[str]) -> Path:
    rows = [f"{TRAININGS},{code},{year}-{m:02d},{10 + n}" for m in range(1, 13) for n, code in enumerate(counties)]
    path.write_text("indicator,region,period,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def trial_values(env: Env, trials: int, rng: random.Random) -> dict[str, Any]:
    from sqlalchemy import func, select

    from tracker import store as db
    from tracker.domain.regions import load_regions

    tracker = env.tracker()
    counties = [r.code for r in load_regions().counties()]
    lost = partial = acknowledged = 0

    def stored(year: int) -> int:
        t = db.observation_table
        with tracker.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(t).where(
                t.c.indicator == TRAININGS, t.c.period.like(f"{year}-%"))).scalar()

    for trial in range(trials):
        _reset(env.work)
        year = 1990 + trial
        path = _csv(env.work / f"import-{trial}.csv", year, counties)
        point = rng.choice(IMPORT_POINTS)
        importer = env.spawn(["import", str(path)], points=point)
        recorders = [(code, env.spawn(["record", TRAININGS, code, f"{1960 + trial}-{k + 1:02d}", "7"]))
                     for k, code in enumerate(rng.sample(counties, 3))]
        if point:
            _wait_any(env.work, point, [importer])
        else:
            time.sleep(rng.uniform(0.3, 2.0))
        importer.send_signal(signal.SIGKILL)
        importer.wait()
        for k, (code, proc) in enumerate(recorders):
            out, _err = proc.communicate(timeout=120)
            if proc.returncode == 0 and "已录入" in out:
                acknowledged += 1
                lost += not db.observation_history(tracker.engine, TRAININGS, code, f"{1960 + trial}-{k + 1:02d}")
        partial += stored(year) not in (0, 12 * len(counties))
        tracker.import_file(path, entered_by="again")  # the file again: whole
        partial += stored(year) != 12 * len(counties)
    return {"values_acknowledged": acknowledged, "values_lost": lost, "partial_imports": partial}


# ---------------------------------------------------------------------------------------
# messages


class SMTPSink:
    """aiosmtpd on a free port, keeping each message's Message-ID."""

    def __init__(self) -> None:
        import email
        import socket

        from aiosmtpd.controller import Controller

        self.ids: list[str] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.ids.append(str(email.message_from_bytes(envelope.original_content or envelope.content)
                                    ["Message-ID"]))
                return "250 OK"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)


def trial_messages(env: Env, trials: int) -> dict[str, Any]:
    from tracker import faults
    from tracker.alerts.outbox import AlertEvent, deliver_pending, enqueue
    from tracker.config import alerts_settings
    from tracker.store.tables import alert_table

    sink = SMTPSink()
    sink.controller.start()
    try:
        window = 10.0
        alerts = alerts_settings({"channels": ["email"], "resend_after_minutes": window,
                                  "email": {"host": "127.0.0.1", "port": sink.port, "security": "none"},
                                  "recipients": {"省民政厅": {"email": ["mzt@example.org"]}}})
        config = env.config.read_text(encoding="utf-8")
        env.config.write_text(config + f'[alerts]\nchannels = ["email"]\nresend_after_minutes = {window}\n'
                              f'[alerts.email]\nhost = "127.0.0.1"\nport = {sink.port}\nsecurity = "none"\n'
                              '[alerts.recipients."省民政厅"]\nemail = ["mzt@example.org"]\n', encoding="utf-8")
        tracker = env.tracker()
        per_window: list[int] = []
        for trial in range(trials):
            _reset(env.work)
            event = AlertEvent("transition", "hainan-6-elderly_care_beds_per_1000_elderly", "", "lagging",
                               "on_track", f"滞后 {trial}", "behind")
            enqueue(tracker.engine, tracker.model, [event], f"2020-{trial % 12 + 1:02d}", alerts, "r.html",
                    now=datetime.now(UTC) - timedelta(seconds=1))
            child = env.spawn(["alerts", "deliver"], points="outbox:accepted")
            faults.wait_reached(env.work, "outbox:accepted", child)
            child.send_signal(signal.SIGKILL)
            child.wait()
            with tracker.engine.connect() as conn:
                claimed = conn.execute(alert_table.select().where(alert_table.c.state == "sending")).first().claimed_at
            sent_before = len(sink.ids)
            for fraction in (0.2, 0.5, 0.99):
                deliver_pending(tracker.engine, alerts, now=claimed + timedelta(minutes=window * fraction))
            per_window.append(len(sink.ids) - sent_before + 1)  # the first copy, and any in its window
            deliver_pending(tracker.engine, alerts, now=claimed + timedelta(minutes=window, seconds=1))
            deliver_pending(tracker.engine, alerts, now=claimed + timedelta(minutes=window * 1.5))
    finally:
        sink.controller.stop()
    copies = {i: sink.ids.count(i) for i in set(sink.ids)}
    return {"message_trials": trials, "copies_per_window_max": max(per_window),
            "duplicates_within_window": sum(n - 1 for n in per_window),
            "message_ids": len(copies), "copies_per_message": sorted(set(copies.values()))}


def trial_digests(url: str, work: Path, months: int) -> dict[str, Any]:
    """The Hainan sample, month after month: flips reported (what was one message each)
    against the messages queued (digests)."""
    from tracker.alerts.outbox import transitions
    from tracker.config import load_settings
    from tracker.service import Tracker
    from tracker.service.runs import period_end
    from tracker.store.runs import previous_snapshot
    from tracker.targets.file import load_targets

    model = load_targets(ROOT / "targets.yaml")
    units = sorted({u.name for task in model.tasks for u in task.units} | {"省发展改革委"})
    recipients = "".join(f'[alerts.recipients."{u}"]\nemail = ["u{n}@example.org"]\n' for n, u in enumerate(units))
    config = work / "digests.toml"
    config.write_text(f'[tracker]\ntargets_path = "{ROOT / "targets.yaml"}"\nreports_dir = "{work / "sample"}"\n'
                      '[alerts]\nchannels = ["email"]\nsupervisors = ["省发展改革委"]\n'
                      '[alerts.email]\nhost = "127.0.0.1"\nport = 9\nsecurity = "none"\n' + recipients,
                      encoding="utf-8")
    settings = load_settings(config)
    settings.database_url = url
    loader = Tracker(settings, clock=lambda: datetime(2026, 12, 20, tzinfo=UTC))
    for name in ("hainan-sample-values.csv", "hainan-sample-progress.csv"):
        loader.import_file(ROOT / "examples" / name, entered_by="示例数据 sample")
    flips, messages = [], []
    for period in _months(2026, months):
        year, month = (int(x) for x in period.split("-"))
        fire = datetime(year + month // 12, month % 12 + 1, 11, 0, 0, tzinfo=UTC)
        tracker = Tracker(settings, clock=lambda fire=fire: fire)
        previous = previous_snapshot(tracker.engine, period)
        outcome = tracker.run_month(period)
        if previous:
            statuses = tracker.covered(tracker.evaluate(period_end(period), known_at=fire).statuses)
            flips.append(len(transitions(previous, statuses, remind_overdue=True)))
            messages.append(outcome.alerts)
    return {"flips_per_run": flips, "messages_per_run": messages}


# ---------------------------------------------------------------------------------------
# commands behind a big import


def trial_import_wait(work: Path, url: str, rows: int) -> dict[str, Any]:
    """On a database of its own (a model of many monthly indicators, bench_import's)."""
    import threading

    from benchmarks.bench_import import MONTHS, bench_model, write_csv
    from tracker.domain.regions import load_regions
    from tracker.targets.file import dump_model

    work.mkdir(parents=True, exist_ok=True)
    regions = [r.name for r in load_regions().all]
    model = bench_model(max(1, -(-rows // (len(regions) * len(MONTHS)))))
    (work / "targets.yaml").write_text(dump_model(model), encoding="utf-8")
    env = Env(work, url)
    env.config.write_text(env.config.read_text(encoding="utf-8").replace(str(ROOT / "targets.yaml"),
                                                                        str(work / "targets.yaml")), encoding="utf-8")
    path = work / "big.csv"
    total = write_csv(path, rows, regions)
    env.tracker().model  # noqa: B018 - synced once, before the clock starts
    started = time.monotonic()
    importer = env.spawn(["import", str(path)])
    done: dict[str, Any] = {}
    reader = threading.Thread(target=lambda: done.update(out=importer.communicate()))  # never let its pipes fill
    reader.start()
    calls: list[tuple[str, float, int, str]] = []
    k = 0
    def call(kind: str, args: list[str]) -> None:
        t = time.monotonic()
        proc = env.spawn(args)
        _out, err = proc.communicate(timeout=600)
        calls.append((kind, time.monotonic() - t, proc.returncode, err))

    while importer.poll() is None:  # a record and a status at once, again and again
        lane = [threading.Thread(target=call, args=("record", ["record", "bench_0000", regions[k % len(regions)],
                                                               f"2014-{k % 12 + 1:02d}", str(k + 1), "--correct"])),
                threading.Thread(target=call, args=("status", ["status", "--json"]))]
        for thread in lane:
            thread.start()
        for thread in lane:
            thread.join()
        k += 1
    reader.join()
    import_s = time.monotonic() - started
    failed = [c for c in calls if c[2] not in (0, 3) or "database is locked" in c[3]]
    waited = [c for c in calls if "waiting for the database" in c[3]]
    return {"import_rows": total, "import_s": import_s, "import_ok": importer.returncode == 0,
            "commands": len(calls), "commands_failed": len(failed),
            "commands_said_waiting": len(waited),
            "record_max_s": max((c[1] for c in calls if c[0] == "record"), default=0.0),
            "status_max_s": max((c[1] for c in calls if c[0] == "status"), default=0.0)}


# ---------------------------------------------------------------------------------------


def _database(args: argparse.Namespace, work: Path, name: str) -> tuple[str, Any]:
    base = args.database_url or os.environ.get("TRACKER_BENCH_DATABASE_URL")
    if not base:
        return f"sqlite:///{work / f'{name}.db'}", lambda: None
    from benchmarks.bench_web import drop_schema, pg_schema_url

    url, schema = pg_schema_url(base)
    return url, lambda: drop_schema(base, schema)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=3, help="trials of each kind (default 3)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the big import (default 100,000)")
    parser.add_argument("--months", type=int, default=2, help="monthly runs of the sample for the digests")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL (a fresh schema is made and dropped)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    logging.getLogger("tracker").setLevel(logging.ERROR)  # takeovers are the point here, not news
    work = Path(tempfile.mkdtemp(prefix="tracker-faults-"))
    url, drop = _database(args, work, "faults")
    import_url, drop_import = _database(args, work, "import")
    os.environ["TRACKER_DATABASE_URL"] = url
    results: dict[str, Any] = {}
    try:
        env = Env(work, url)
        print(f"database: {re.sub(r'options=.*', 'options=…', url)}", flush=True)
        results.update(trial_runs(env, args.trials, rng))
        results.update(trial_stopped(env, max(1, args.trials // 2), rng))
        results.update(trial_values(env, args.trials, rng))
        results.update(trial_messages(env, args.trials))
        results.update(trial_digests(url, work, args.months + 1))
        results.update(trial_import_wait(work / "import", import_url, args.rows))
    finally:
        drop()
        drop_import()
        shutil.rmtree(work, ignore_errors=True)
    takeover = results["takeover_s"]
    print(f"runs per month          : {results['runs_per_month']} (each must be 1; two racing processes, "
          "the winner killed -9 at a random point)")
    print(f"takeover time           : median {statistics.median(takeover) if takeover else 0:.2f} s, max "
          f"{max(takeover, default=0):.2f} s after the kill (lease 1 s, heartbeat 0.2 s; "
          f"{len(takeover)} of {len(results['runs_per_month'])} needed one)")
    print(f"report set leftovers    : {results['report_leftovers']} (temporary files, generations never switched to)")
    print(f"writes after lease lost : {results['writes_after_lease_lost']} in {results['stopped_trials']} runs "
          "stopped with SIGSTOP past their lease and resumed")
    print(f"lost values             : {results['values_lost']} of {results['values_acknowledged']} acknowledged; "
          f"partial imports: {results['partial_imports']} (imports killed -9 at random points)")
    print(f"duplicate messages      : {results['duplicates_within_window']} within a resend window in "
          f"{results['message_trials']} senders killed between SMTP acceptance and the mark; copies per "
          f"Message-ID {results['copies_per_message']} (the copy after the window keeps its Message-ID)")
    print(f"messages per run        : {results['messages_per_run']} for {results['flips_per_run']} flips "
          "(Hainan sample: one digest per unit and the supervisors')")
    print(f"commands behind import  : {results['commands_failed']} of {results['commands']} failed while "
          f"{results['import_rows']:,} rows were imported ({results['import_s']:.1f} s); "
          f"{results['commands_said_waiting']} said they waited; longest record "
          f"{results['record_max_s']:.1f} s, status {results['status_max_s']:.1f} s")
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
