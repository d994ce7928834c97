"""The scheduler: when the monthly job fires, exactly-once runs, catch-up, retries, alerts."""

import os
import pickle
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from servers import RecordingHTTPServer
from sqlalchemy import func, select

from tracker.config import ScheduleConfig, load_settings
from tracker.domain.regions import load_regions
from tracker.jobs.scheduler import build_scheduler
from tracker.service import Tracker
from tracker.service.runs import NotDue, due_period, report_trigger
from tracker.status.engine import Status
from tracker.store.runs import RUN_JOB, claim, get_run, run_table
from tracker.store.tables import alert_table
from tracker.targets.file import load_targets

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
BEDS = "hainan-6-elderly_care_beds_per_1000_elderly"


def write_config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "tracker.toml"
    config.write_text(f'[tracker]\ntargets_path = "{ROOT / "targets.yaml"}"\nreports_dir = "{tmp_path / "reports"}"\n'
                      + extra, encoding="utf-8")
    return config


@pytest.fixture
def settings(tmp_path, engine):
    return load_settings(write_config(tmp_path))


def at(settings, engine, now: datetime) -> Tracker:
    """The service with its clock stopped at `now`."""
    return Tracker(settings, engine=engine, clock=lambda: now)


def run_due(settings, now, engine):
    return at(settings, engine, now).run_due()


def run_period(settings, period, now, *, engine, force=False, pipeline=None):
    return at(settings, engine, now).run_month(period, force=force, pipeline=pipeline)


def test_monthly_job_fires_the_day_after_the_submission_day_at_0800_shanghai_not_utc():
    trigger = report_trigger(ScheduleConfig())  # figures due by the 10th: the report on the 11th
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 15, tzinfo=UTC))
    assert fire.astimezone(SHANGHAI) == datetime(2026, 12, 11, 8, 0, tzinfo=SHANGHAI)
    assert fire.astimezone(UTC) == datetime(2026, 12, 11, 0, 0, tzinfo=UTC)  # not 08:00 UTC
    year_end = trigger.get_next_fire_time(None, datetime(2026, 12, 12, tzinfo=UTC))
    assert year_end.astimezone(UTC) == datetime(2027, 1, 11, 0, 0, tzinfo=UTC)
    moved = report_trigger(ScheduleConfig(submission_day=5))
    assert moved.get_next_fire_time(None, datetime(2026, 11, 15, tzinfo=UTC)).astimezone(SHANGHAI).day == 6
    first = report_trigger(ScheduleConfig(report_day=1))  # an explicit day is kept
    assert first.get_next_fire_time(None, datetime(2026, 11, 15, tzinfo=UTC)).astimezone(SHANGHAI).day == 1


@pytest.mark.parametrize("moment, period", [
    ("2026-12-11T07:59:59+08:00", "2026-10"),  # 23:59 UTC on Dec 10: November is not due yet
    ("2026-12-11T08:00:00+08:00", "2026-11"),
    ("2027-01-11T07:59:00+08:00", "2026-11"),  # year end
    ("2027-01-11T08:00:00+08:00", "2026-12"),
    ("2024-03-11T08:00:00+08:00", "2024-02"),  # after a leap February
])
def test_due_period_at_its_edges(moment, period):
    with freeze_time(moment):
        assert due_period(ScheduleConfig(), datetime.now(UTC))[0] == period


def test_missed_months_run_once_on_restart_and_the_report_says_late(settings, engine):
    # The machine was off over Oct 1 and Nov 1; it comes back on Nov 15.
    now = datetime(2026, 11, 15, 10, 0, tzinfo=SHANGHAI)
    outcome = run_due(settings, now, engine)
    assert (outcome.period, outcome.state, outcome.late) == ("2026-10", "succeeded", True)
    assert run_due(settings, now + timedelta(minutes=10), engine) is None
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(run_table)).scalar() == 1
    html = Path(outcome.report_path).read_text(encoding="utf-8")
    assert "补发" in html


def test_on_time_run_is_not_late(settings, engine):
    outcome = run_due(settings, datetime(2026, 12, 11, 8, 0, 30, tzinfo=SHANGHAI), engine)
    assert (outcome.period, outcome.late) == ("2026-11", False)


def test_two_scheduler_processes_on_one_database_give_one_run(tmp_path, db_url, engine):
    config = write_config(tmp_path)
    env = {**os.environ, "TRACKER_DATABASE_URL": db_url, "TRACKER_CONFIG": str(config)}
    cmd = [sys.executable, "-m", "tracker", "run", "--period", "2026-10"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    done = [out for out, _ in outputs if "已完成" in out]
    skipped = [out for out, _ in outputs if "未运行" in out]
    assert len(done) == 1 and len(skipped) == 1, outputs
    run = get_run(engine, RUN_JOB, "2026-10")
    assert run["state"] == "succeeded" and run["attempt"] == 1
    assert sorted(p.name for p in (tmp_path / "reports").iterdir() if not p.name.startswith(".")) == [
        "2026-10.html", "2026-10.json", "index.html"]


def _crashing(*_args):  # a pipeline: (tracker, period, late, lease)
    raise RuntimeError("disk full")


def test_failed_run_is_recorded_and_retried_after_the_retry_delay(settings, engine):
    now = datetime(2026, 12, 11, 8, 0, tzinfo=SHANGHAI)
    first = run_period(settings, "2026-11", now, engine=engine, pipeline=_crashing)
    assert first.state == "failed" and "disk full" in first.error
    assert get_run(engine, RUN_JOB, "2026-11")["state"] == "failed"
    too_soon = run_period(settings, "2026-11", now + timedelta(minutes=5), engine=engine)
    assert not too_soon.ran
    with freeze_time(now + timedelta(minutes=31)):
        retry = run_due(settings, datetime.now(UTC), engine)
    assert retry.state == "succeeded" and get_run(engine, RUN_JOB, "2026-11")["attempt"] == 2


def test_run_left_running_by_a_killed_process_is_taken_over_once_its_lease_runs_out(settings, engine):
    start = datetime(2026, 12, 11, 8, 0, tzinfo=SHANGHAI)
    lease = timedelta(seconds=settings.schedule.lease_seconds)
    assert claim(engine, RUN_JOB, "2026-11", start, owner="dead-host:1", lease=lease).token == 1
    held = run_period(settings, "2026-11", start + lease - timedelta(seconds=1), engine=engine)
    assert not held.ran and held.retry_at == start + lease
    taken = run_period(settings, "2026-11", start + lease + timedelta(seconds=1), engine=engine)  # not an hour
    assert taken.ran and taken.state == "succeeded" and taken.taken_over["owner"] == "dead-host:1"
    assert get_run(engine, RUN_JOB, "2026-11")["token"] == 2


def test_finished_period_is_not_run_again_unless_forced(settings, engine):
    now = datetime(2026, 12, 11, 8, 0, tzinfo=SHANGHAI)
    assert run_period(settings, "2026-11", now, engine=engine).ran
    assert not run_period(settings, "2026-11", now + timedelta(days=1), engine=engine).ran
    forced = run_period(settings, "2026-11", now + timedelta(days=1), engine=engine, force=True)
    assert forced.ran and forced.state == "succeeded"
    assert get_run(engine, RUN_JOB, "2026-11")["forced"]


def test_transitions_send_one_alert_and_steady_states_none(tmp_path, engine):
    load_targets(ROOT / "targets.yaml")
    load_regions()
    codes = iter(["on_track", "lagging", "lagging", "on_track"])

    def pipeline(tracker, period, late, lease):
        code = next(codes)
        return (str(tmp_path / f"{period}.html"),
                [Status(BEDS, "target", code, f"原因{code}", f"reason {code}", period, None)])

    with RecordingHTTPServer() as hook:
        settings = load_settings(write_config(tmp_path, f'[alerts]\nchannels = ["webhook"]\n[alerts.webhook]\nurl = "{hook.url}"\n'))
        counts = [run_period(settings, p, datetime(2026, 12, 12, tzinfo=UTC), engine=engine, pipeline=pipeline).alerts
                  for p in ("2026-08", "2026-09", "2026-10", "2026-11")]
    assert counts == [0, 1, 0, 1]
    kinds = [r["json"]["subject"] for r in hook.requests]
    assert len(kinds) == 2 and "进度滞后" in kinds[0] and "恢复正常" in kinds[1]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(alert_table).where(alert_table.c.state == "sent")).scalar() == 2


def test_the_first_run_alerts_nothing_and_national_items_never(tmp_path, engine):
    model = load_targets(ROOT / "targets.yaml")
    load_regions()
    national = next(m.id for m in model.milestones if m.plan == "national")
    codes = iter([("overdue", "overdue"), ("overdue", "on_track")])

    def pipeline(tracker, period, late, lease):
        beds, other = next(codes)
        return (str(tmp_path / f"{period}.html"),
                [Status(BEDS, "target", beds, "r", "r", period, None),
                 Status(national, "milestone", other, "r", "r", period, None)])

    with RecordingHTTPServer() as hook:
        settings = load_settings(write_config(tmp_path, f'[alerts]\nchannels = ["webhook"]\n[alerts.webhook]\nurl = "{hook.url}"\n'
                                                        '[schedule]\nremind_overdue_months = 0\n'))
        counts = [run_period(settings, p, datetime(2026, 12, 12, tzinfo=UTC), engine=engine, pipeline=pipeline).alerts
                  for p in ("2026-10", "2026-11")]
    assert counts == [0, 0]  # overdue from the start: the report says so; the national milestone is not tracked
    assert hook.requests == []


def test_jobs_and_next_run_times_survive_a_restart(settings, engine):
    first = build_scheduler(settings)
    assert {j.id for j in first.get_jobs()} == {"monthly-report", "submission-reminder", "watchdog"}
    first.shutdown(wait=False)
    # The machine was off over the 1st: the stored next run time is now in the past.
    missed = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    from sqlalchemy import text

    with engine.begin() as conn:
        state = pickle.loads(conn.execute(text("SELECT job_state FROM apscheduler_jobs WHERE id = 'monthly-report'"))
                             .scalar())
        state["next_run_time"] = missed
        conn.execute(text("UPDATE apscheduler_jobs SET next_run_time = :t, job_state = :s WHERE id = 'monthly-report'"),
                     {"t": missed.timestamp(), "s": pickle.dumps(state)})
    second = build_scheduler(settings)  # paused: nothing runs yet
    jobs = {j.id: j for j in second.get_jobs()}
    second.shutdown(wait=False)
    assert set(jobs) == {"monthly-report", "submission-reminder", "watchdog"}
    assert jobs["monthly-report"].next_run_time == missed  # kept, not recomputed: it runs once on resume
    assert jobs["monthly-report"].kwargs == {"config_path": str(settings.source)}


def test_a_changed_schedule_replaces_the_stored_job(tmp_path, engine):
    build_scheduler(load_settings(write_config(tmp_path))).shutdown(wait=False)
    moved = build_scheduler(load_settings(write_config(tmp_path, "[schedule]\nreport_day = 3\n")))
    fire = moved.get_job("monthly-report").next_run_time
    moved.shutdown(wait=False)
    assert fire.astimezone(SHANGHAI).day == 3 and fire.astimezone(SHANGHAI).hour == 8


def test_a_month_not_yet_due_is_refused_even_when_forced(settings, engine):
    with pytest.raises(NotDue, match="2026-12-11 08:00"):
        run_period(settings, "2026-11", datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI), engine=engine, force=True)
    assert get_run(engine, RUN_JOB, "2026-11") is None


def test_sigterm_stops_the_scheduler_cleanly_after_catching_up(tmp_path, db_url, engine):
    config = write_config(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "TRACKER_CONFIG"}
    env["TRACKER_DATABASE_URL"] = db_url
    # --config, not $TRACKER_CONFIG: the jobs must read the file the scheduler was started with
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "--config", str(config), "schedule"], env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (tmp_path / "reports" / "index.html").exists():
        time.sleep(0.2)
    time.sleep(1.0)  # let it reach the running scheduler
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    run = get_run(engine, RUN_JOB, due_period(ScheduleConfig(), datetime.now(UTC))[0])
    assert run and run["state"] == "succeeded"
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT job_state FROM apscheduler_jobs WHERE id = 'monthly-report'").scalar()
    assert pickle.loads(stored)["kwargs"] == {"config_path": str(config)}


TRAININGS = "elderly_care_worker_trainings"  # monthly, due by the 10th of the following month


def test_the_monthly_report_holds_the_figures_known_at_the_run_and_names_those_that_came_late(settings, engine):
    from tracker.report.files import read_report

    def moment(day: str) -> datetime:
        return datetime.fromisoformat(day).replace(tzinfo=SHANGHAI)

    assert run_period(settings, "2026-10", moment("2026-11-11T08:00"), engine=engine).state == "succeeded"
    at(settings, engine, moment("2026-11-20T10:00")).record(TRAININGS, "海口", "2026-10", 40, entered_by="x")
    at(settings, engine, moment("2026-12-05T10:00")).record(TRAININGS, "海口", "2026-11", 50, entered_by="x")
    at(settings, engine, moment("2026-12-05T10:00")).record(TRAININGS, "三亚", "2026-11", 20, entered_by="x")
    november = run_due(settings, moment("2026-12-11T08:00"), engine)
    assert (november.period, november.state, november.late) == ("2026-11", "succeeded", False)
    report = read_report(settings.reports_dir, "2026-11")
    assert report["as_of"] == "2026-11-30" and report["known_at"].startswith("2026-12-11T08:00")
    # November's own figures, entered before the 10th, are in November's report …
    new = {(v["region_name"], v["period"]) for v in report["changes"]["new_values"]}
    assert {("海口市", "2026-11"), ("三亚市", "2026-11"), ("海口市", "2026-10")} <= new
    # … and October's, entered after its deadline, is named as late
    late = report["late_values"]
    assert late["total"] == 1
    assert {k: late["rows"][0][k] for k in ("region_name", "period", "due", "entered", "days_late")} == {
        "region_name": "海口市", "period": "2026-10", "due": "2026-11-10", "entered": "2026-11-20", "days_late": 10}
    html = Path(november.report_path).read_text(encoding="utf-8")
    assert 'id="late-values"' in html and "迟报数值" in html
