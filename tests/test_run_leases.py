"""Run leases with real processes: a run killed with SIGKILL is taken over within its lease; a
run stopped with SIGSTOP past its lease and resumed writes nothing (no report set, no alert,
no finish); `tracker run --force` takes over a live run and says so."""

import os
import signal
import threading
import time
from datetime import UTC, datetime

import pytest
from faultrun import LEASE, finish, kill9, run, start, tree, write_config
from sqlalchemy import func, select

from tracker import faults
from tracker.config import load_settings
from tracker.report.files import CURRENT, GENERATIONS, read_report
from tracker.service import Tracker
from tracker.store.runs import RUN_JOB, get_run
from tracker.store.tables import alert_table

PERIOD = "2026-10"  # due since 11 November 08:00 (Asia/Shanghai) by the default schedule
ALERTS = '[alerts]\nchannels = ["webhook"]\n[alerts.webhook]\nurl = "http://127.0.0.1:9/unused"\n'


def _alerts(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(alert_table)).scalar()


def _take_over(tracker: Tracker, timeout: float = 20.0):
    """Try the month again and again, as a second scheduler's watchdog would, until it runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = tracker.run_month(PERIOD)
        if outcome.ran:
            return outcome
        time.sleep(0.05)
    raise AssertionError("the run was never taken over")


@pytest.mark.parametrize("point", ["run:claimed", "report:generation-written", "run:reported"])
def test_a_run_killed_with_sigkill_is_taken_over_within_its_lease(tmp_path, db_url, engine, point):
    config = write_config(tmp_path, LEASE)
    child = start(["run", "--period", PERIOD], config, db_url, points=point)
    faults.wait_reached(tmp_path, point, child)
    assert get_run(engine, RUN_JOB, PERIOD)["state"] == "running"
    kill9(child)
    killed = datetime.now(UTC)
    tracker = Tracker(load_settings(config), engine=engine)
    taken = _take_over(tracker)
    run_row = get_run(engine, RUN_JOB, PERIOD)
    takeover = (run_row["started_at"] - killed).total_seconds()
    lease = tracker.settings.schedule.lease_seconds
    assert taken.state == "succeeded" and taken.taken_over["token"] == 1
    assert takeover <= lease + 0.5, takeover  # within the lease of the last heartbeat, not an hour
    assert run_row["state"] == "succeeded" and run_row["token"] == 2 and run_row["attempt"] == 2
    # the killed writer's half-made generation is gone; the set is whole
    reports = tmp_path / "reports"
    current = os.readlink(reports / CURRENT).rsplit("/", 1)[1]
    assert max(p.name for p in (reports / GENERATIONS).iterdir()) == current  # no generation never switched to
    assert not [p for p in reports.iterdir() if p.name.endswith(".tmp")]
    assert read_report(reports, PERIOD)["period"] == PERIOD


@pytest.mark.parametrize("point", ["run:claimed", "run:reported"])
def test_a_run_stopped_past_its_lease_writes_nothing_when_it_resumes(tmp_path, db_url, engine, point):
    config = write_config(tmp_path, LEASE + ALERTS)
    child = start(["run", "--period", PERIOD], config, db_url, points=point)
    faults.wait_reached(tmp_path, point, child)
    child.send_signal(signal.SIGSTOP)
    try:
        time.sleep(load_settings(config).schedule.lease_seconds + 0.3)
        taken = Tracker(load_settings(config), engine=engine).run_month(PERIOD)
        assert taken.ran and taken.state == "succeeded"
        after_taker = (tree(tmp_path / "reports"), get_run(engine, RUN_JOB, PERIOD), _alerts(engine))
    finally:
        faults.release(tmp_path, point)
        child.send_signal(signal.SIGCONT)
    code, _out, err = finish(child)
    assert code == 1 and "lost its lease" in err, err
    # not one byte of the report set, no alert, no finish from the resumed process
    assert (tree(tmp_path / "reports"), get_run(engine, RUN_JOB, PERIOD), _alerts(engine)) == after_taker


def test_a_run_stopped_inside_the_report_write_is_fenced_before_the_switch(tmp_path, db_url, engine):
    """Stopped holding the report set's lock: the taker waits for the lock; the resumed
    process finds its token gone before switching and leaves the set to the taker."""
    config = write_config(tmp_path, LEASE)
    point = "report:generation-written"
    child = start(["run", "--period", PERIOD], config, db_url, points=point)
    faults.wait_reached(tmp_path, point, child)
    child.send_signal(signal.SIGSTOP)
    outcome = {}
    try:
        time.sleep(load_settings(config).schedule.lease_seconds + 0.3)
        taker = threading.Thread(target=lambda: outcome.update(
            run=Tracker(load_settings(config), engine=engine).run_month(PERIOD)))
        taker.start()
        deadline = time.monotonic() + 20
        while get_run(engine, RUN_JOB, PERIOD)["token"] != 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert get_run(engine, RUN_JOB, PERIOD)["token"] == 2  # claimed; now waiting for the set's lock
    finally:
        faults.release(tmp_path, point)
        child.send_signal(signal.SIGCONT)
    code, _out, err = finish(child)
    taker.join(timeout=60)
    assert code == 1 and "lost its lease" in err, err
    assert outcome["run"].state == "succeeded"
    written = read_report(tmp_path / "reports", PERIOD)
    taker_row = get_run(engine, RUN_JOB, PERIOD)
    assert taker_row["state"] == "succeeded" and taker_row["token"] == 2
    assert datetime.fromisoformat(written["generated_at"]) >= taker_row["started_at"].replace(microsecond=0)


def test_force_takes_over_a_live_run_and_says_so(tmp_path, db_url, engine):
    config = write_config(tmp_path, LEASE)
    child = start(["run", "--period", PERIOD], config, db_url, points="run:claimed")
    faults.wait_reached(tmp_path, "run:claimed", child)
    try:
        polite = run(["run", "--period", PERIOD], config, db_url)
        assert polite.returncode == 0
        assert "running in" in polite.stdout and f":{child.pid}" in polite.stdout
        assert "--force takes it over" in polite.stdout and "use --force to run it again" not in polite.stdout
        forced = run(["run", "--period", PERIOD, "--force"], config, db_url)
        assert forced.returncode == 0, forced.stderr
        assert "took over the run of" in forced.stderr and f":{child.pid}" in forced.stderr
        assert "已完成 done" in forced.stdout
    finally:
        faults.release(tmp_path, "run:claimed")
    code, _out, err = finish(child)
    assert code == 1 and "lost its lease" in err
    row = get_run(engine, RUN_JOB, PERIOD)
    assert row["state"] == "succeeded" and row["forced"] and row["token"] == 2
    assert not row["owner"].endswith(f":{child.pid}")


def test_a_lease_that_ran_out_is_not_renewed_even_if_nobody_took_it(tmp_path, engine):
    from datetime import timedelta

    from tracker.store.runs import claim, holds, renew

    start_at = datetime(2026, 12, 11, 0, 0, tzinfo=UTC)
    lease = timedelta(seconds=1)
    won = claim(engine, RUN_JOB, PERIOD, start_at, lease=lease, owner="a:1")
    assert renew(engine, RUN_JOB, PERIOD, won.token, start_at + timedelta(seconds=0.5), lease)
    assert not renew(engine, RUN_JOB, PERIOD, won.token, start_at + timedelta(seconds=2), lease)
    with engine.begin() as conn:
        assert holds(conn, RUN_JOB, PERIOD, won.token, start_at + timedelta(seconds=1.4))
        assert not holds(conn, RUN_JOB, PERIOD, won.token, start_at + timedelta(seconds=1.6))
    assert os.environ.get(faults.POINT_ENV) is None
