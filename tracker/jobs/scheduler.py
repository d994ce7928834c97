"""The scheduler: each month's report exactly once, reminders, and alerts after each report.

APScheduler decides *when* (cron triggers in Asia/Shanghai, persisted in its SQLAlchemy job
store on the tracker's database, so next run times survive a restart). The tracker's own
`run` table decides *whether*: a run claims its (job, period) row with an INSERT or a
conditional UPDATE that only one process can win, on SQLite and PostgreSQL alike. So two
schedulers started by mistake produce one report, a crashed run is recorded as failed and
retried, and a run left "running" by a killed process is taken over after a timeout.

A watchdog job runs every few minutes and asks one question: has the latest period that is
due been reported? That one rule covers a month missed while the machine was off (it runs
once, for the latest due period, and the report says it ran late), a failed run's retry,
and pending alert deliveries.
"""

import logging
import signal
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from tracker.config import ScheduleConfig
from tracker.store.runs import RUN_JOB, claim, finish, get_run, list_runs, owner_id, previous_snapshot, save_snapshot  # noqa: F401

log = logging.getLogger("tracker.jobs.scheduler")



# ---------------------------------------------------------------------------------------
# Configuration


def report_trigger(cfg: ScheduleConfig) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(day=cfg.report_day, hour=cfg.report_hour, minute=cfg.report_minute, timezone=cfg.zone)


def reminder_trigger(cfg: ScheduleConfig) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    day = max(1, cfg.submission_day - cfg.reminder_days_before)
    return CronTrigger(day=day, hour=cfg.reminder_hour, minute=0, timezone=cfg.zone)


def previous_fire_time(trigger: Any, now: datetime, lookback: timedelta = timedelta(days=400)) -> datetime | None:
    """The latest fire time of `trigger` at or before `now` (APScheduler 3 only looks ahead)."""
    fire = trigger.get_next_fire_time(None, now - lookback)
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last


def period_for_fire(fire: datetime, zone: ZoneInfo) -> str:
    """A report fired in month M covers month M-1."""
    local = fire.astimezone(zone).date().replace(day=1) - timedelta(days=1)
    return f"{local.year}-{local.month:02d}"


def period_end(period: str) -> date:
    from tracker.domain.periods import parse_period

    return parse_period(period).end


def due_period(cfg: ScheduleConfig, now: datetime) -> tuple[str, datetime] | None:
    """The period the latest report fire time at or before `now` stands for."""
    fire = previous_fire_time(report_trigger(cfg), now)
    return (period_for_fire(fire, cfg.zone), fire) if fire else None


class NotDue(ValueError):
    """A month whose report is not due yet: reporting it now would mark it done before its
    last days' values are in, and the scheduled run would then skip it."""


def check_due(cfg: ScheduleConfig, period: str, now: datetime) -> None:
    due = due_period(cfg, now)
    if due is None or _period_index(period) > _period_index(due[0]):
        year, month = (int(x) for x in period.split("-"))
        start = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=cfg.zone)
        fire = report_trigger(cfg).get_next_fire_time(None, start)
        latest = due[0] if due else "无 none"
        raise NotDue(f"{period} 的月报尚未到期（{fire.astimezone(cfg.zone):%Y-%m-%d %H:%M} 生成），最近到期的月份是 {latest} / "
                     f"the report for {period} is not due until {fire.astimezone(cfg.zone):%Y-%m-%d %H:%M} "
                     f"({cfg.timezone}); the latest month due is {latest}")


# ---------------------------------------------------------------------------------------
# Claims


# ---------------------------------------------------------------------------------------
# Snapshots and the run itself


@dataclass
class RunOutcome:
    period: str
    ran: bool  # False: another process holds or finished it
    state: str
    report_path: str = ""
    alerts: int = 0
    late: bool = False
    error: str = ""


def run_period(settings: Any, period: str, now: datetime | None = None, *, force: bool = False,
               late: bool = False, engine: Engine | None = None,
               pipeline: Callable[..., Any] | None = None) -> RunOutcome:
    """Report, snapshot and alerts for one month, if this process wins the claim."""
    from tracker.store import get_engine

    now = now or datetime.now(UTC)
    cfg = settings.schedule
    check_due(cfg, period, now)
    engine = engine or get_engine(settings.database_url)
    owner = owner_id()
    if not claim(engine, RUN_JOB, period, now, force=force, timeout=timedelta(minutes=cfg.run_timeout_minutes),
                 retry_after=timedelta(minutes=cfg.retry_minutes) if not force else timedelta(0),
                 max_attempts=cfg.max_attempts if not force else 10**6, late=late, owner=owner):
        existing = get_run(engine, RUN_JOB, period) or {}
        return RunOutcome(period, False, existing.get("state", "?"), existing.get("report_path", ""),
                          existing.get("alerts", 0), bool(existing.get("late")))
    log.info("run %s claimed by %s%s", period, owner, " (late)" if late else "")
    started = time.monotonic()

    def clock() -> datetime:  # `now` moved on by the time the run took
        return now + timedelta(seconds=time.monotonic() - started)

    try:
        report_path, statuses, model, regions = (pipeline or report_pipeline)(settings, engine, period, late)
        if regions is not None:
            from tracker.report.build import tracked_statuses

            statuses = tracked_statuses(model, regions, statuses)  # what the report covers
        from tracker.alerts.outbox import flatten

        save_snapshot(engine, period, {key: (s.code, s.reason_zh) for key, s in flatten(statuses).items()}, now)
        alerts_config = settings.alerts
        from tracker.alerts.outbox import deliver_pending, enqueue, transitions

        # Items that stay overdue are re-sent every `remind_overdue_months` months.
        remind = cfg.remind_overdue_months > 0 and _period_index(period) % cfg.remind_overdue_months == 0
        previous = previous_snapshot(engine, period)
        # The first run has nothing to compare with: its report says where everything stands,
        # and alerts start with the first change (no flood of one message per item).
        events = transitions(previous, statuses, remind_overdue=remind) if previous else []
        names = {r.code: r.name for r in regions.all} if regions is not None else {}
        link = alerts_config.report_base_url.rstrip("/")
        link = f"{link}/{Path(report_path).name}" if link else str(Path(report_path).resolve())
        count = enqueue(engine, model, events, period, alerts_config, link, names, now) if alerts_config.enabled else 0
        finish(engine, RUN_JOB, period, "succeeded", clock(), owner, report_path=str(report_path),
               alerts=count)
        if alerts_config.enabled:
            deliver_pending(engine, alerts_config, now=clock())
        return RunOutcome(period, True, "succeeded", str(report_path), count, late)
    except BaseException as exc:  # recorded, then re-raised for KeyboardInterrupt/SystemExit
        state = "interrupted" if isinstance(exc, (KeyboardInterrupt, SystemExit)) else "failed"
        finish(engine, RUN_JOB, period, state, clock(), owner, error=f"{type(exc).__name__}: {exc}"[:2000])
        log.exception("run %s %s", period, state)
        if state == "interrupted":
            raise
        return RunOutcome(period, True, state, error=f"{type(exc).__name__}: {exc}")


def _period_index(period: str) -> int:
    year, month = (int(x) for x in period.split("-"))
    return year * 12 + month - 1


def report_pipeline(settings: Any, engine: Engine, period: str, late: bool) -> tuple[str, Any, Any, Any]:
    """targets -> actuals -> statuses -> report, as of the period's last day."""
    from tracker.domain.regions import load_regions
    from tracker.report.build import report_from_database
    from tracker.targets.file import load_targets

    model = load_targets(settings.targets_path)
    files = report_from_database(settings, period_end(period), engine=engine, model=model, late_run=late)
    return str(files.html), files.statuses, model, load_regions()


def run_due(settings: Any, now: datetime | None = None, engine: Engine | None = None) -> RunOutcome | None:
    """Run the latest due period if it has not succeeded yet (the watchdog's one question)."""
    from tracker.store import get_engine

    now = now or datetime.now(UTC)
    cfg = settings.schedule
    due = due_period(cfg, now)
    if due is None:
        return None
    period, fire = due
    engine = engine or get_engine(settings.database_url)
    existing = get_run(engine, RUN_JOB, period)
    if existing and existing["state"] == "succeeded":
        return None
    late = now - fire > timedelta(minutes=max(cfg.watchdog_minutes * 2, 30))
    return run_period(settings, period, now, late=late, engine=engine)


# ---------------------------------------------------------------------------------------
# APScheduler wiring


def _job_settings(config_path: str | None) -> Any:
    """Jobs run in the scheduler's threads, possibly after a restart: they read the same
    configuration file the scheduler was started with (`tracker --config …`)."""
    from tracker.config import load_settings

    return load_settings(config_path)


def _job_monthly(config_path: str | None = None) -> None:
    run_due(_job_settings(config_path))


def _job_watchdog(config_path: str | None = None) -> None:
    from tracker.alerts.outbox import deliver_pending
    from tracker.store import get_engine

    settings = _job_settings(config_path)
    run_due(settings)
    if settings.alerts.enabled:
        deliver_pending(get_engine(settings.database_url), settings.alerts)


def _job_reminder(config_path: str | None = None) -> None:
    from tracker.jobs.reminders import send_submission_reminders

    send_submission_reminders(_job_settings(config_path))


def build_scheduler(settings: Any) -> Any:
    """A started but paused APScheduler whose jobs live in a persistent job store on the
    tracker's database. Jobs already stored keep their next run time (a run missed while the
    process was down is still due, and runs once on resume); a job is replaced only when its
    schedule or configuration file changed."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    cfg = settings.schedule
    store = SQLAlchemyJobStore(url=settings.database_url, tablename="apscheduler_jobs")
    # misfire_grace_time=None + coalesce: a run missed while down runs once on restart,
    # instead of being skipped (the default grace is one second) or repeated per miss.
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=cfg.zone,
                                    job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1})
    scheduler.start(paused=True)
    kwargs = {"config_path": str(settings.source) if settings.source else None}
    jobs = [("monthly-report", "monthly report", _job_monthly, report_trigger(cfg)),
            ("submission-reminder", "submission reminder", _job_reminder, reminder_trigger(cfg)),
            ("watchdog", "catch-up, retries and alert delivery", _job_watchdog,
             IntervalTrigger(minutes=cfg.watchdog_minutes, timezone=cfg.zone))]
    for job_id, name, func, trigger in jobs:
        stored = scheduler.get_job(job_id)
        if stored is None or repr(stored.trigger) != repr(trigger) or stored.kwargs != kwargs:
            scheduler.add_job(func, trigger, id=job_id, name=name, kwargs=kwargs, replace_existing=True)
    return scheduler


def serve(settings: Any) -> None:
    """Run in the foreground until SIGTERM/SIGINT. The signal only sets a flag: a run in
    flight (the start-up catch-up or a job) finishes and is recorded before the process
    exits; one killed harder is taken over by the next scheduler after the timeout."""
    stopping = threading.Event()

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: finishing the run in flight, then stopping", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    run_due(settings)  # catch up at start-up: the latest due month, once
    if stopping.is_set():
        return
    scheduler = build_scheduler(settings)
    scheduler.resume()
    log.info("scheduler started: %s", ", ".join(f"{j.id} next {j.next_run_time}" for j in scheduler.get_jobs()))
    stopping.wait()
    scheduler.shutdown(wait=True)
