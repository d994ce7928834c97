"""The monthly job: report, status snapshot and alerts for one month, exactly once.

The `run` table (tracker.store.runs) decides *whether* a month runs: a run claims its (job,
period) row with an INSERT or a conditional UPDATE that only one process can win, on SQLite and
PostgreSQL alike. So two schedulers started by mistake produce one report, a crashed run is
recorded as failed and retried, and a run left "running" by a killed process is taken over
after a timeout. *When* is the schedule's business (cron triggers in the plan's zone, below;
APScheduler fires them in tracker.jobs.scheduler).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tracker.config import ScheduleConfig
from tracker.store.runs import RUN_JOB, claim, finish, get_run, owner_id, previous_snapshot, save_snapshot

log = logging.getLogger("tracker.service.runs")


# ---------------------------------------------------------------------------------------
# The schedule's arithmetic (pure): which month is due at a moment


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
# The run


@dataclass
class RunOutcome:
    period: str
    ran: bool  # False: another process holds or finished it
    state: str
    report_path: str = ""
    alerts: int = 0
    late: bool = False
    error: str = ""


def _period_index(period: str) -> int:
    year, month = (int(x) for x in period.split("-"))
    return year * 12 + month - 1


def _report(tracker: Any, period: str, late: bool) -> tuple[str, list[Any]]:
    """targets -> actuals -> statuses -> report, as of the period's last day."""
    files = tracker.write_report(period_end(period), late=late, kind="scheduled")
    return str(files.html), files.statuses


def run_month(tracker: Any, period: str | None = None, *, force: bool = False, late: bool | None = None,
              pipeline: Callable[[Any, str, bool], tuple[str, list[Any]]] | None = None) -> RunOutcome:
    """Report, snapshot and alerts for one month, if this process wins the claim. `period`
    defaults to the latest month due; one not due yet raises NotDue. `pipeline` replaces
    the report step (tests: a crash, chosen statuses)."""
    settings, cfg = tracker.settings, tracker.settings.schedule
    now = tracker.now()
    if period is None:
        due = due_period(cfg, now)
        if due is None:
            raise NotDue("还没有到期的月份 / no month is due yet")
        period, fire = due
        if late is None:
            late = now - fire > timedelta(minutes=max(cfg.watchdog_minutes * 2, 30))
    check_due(cfg, period, now)
    late = bool(late)
    engine = tracker.engine
    owner = owner_id()
    if not claim(engine, RUN_JOB, period, now, force=force, timeout=timedelta(minutes=cfg.run_timeout_minutes),
                 retry_after=timedelta(minutes=cfg.retry_minutes) if not force else timedelta(0),
                 max_attempts=cfg.max_attempts if not force else 10**6, late=late, owner=owner):
        existing = get_run(engine, RUN_JOB, period) or {}
        return RunOutcome(period, False, existing.get("state", "?"), existing.get("report_path", ""),
                          existing.get("alerts", 0), bool(existing.get("late")))
    log.info("run %s claimed by %s%s", period, owner, " (late)" if late else "")
    clock = tracker.now  # the moments the run finishes at: the tracker's clock, not the process's

    try:
        report_path, statuses = (pipeline or _report)(tracker, period, late)
        statuses = tracker.covered(statuses)  # what the report covers, whatever the pipeline said
        from tracker.alerts.outbox import enqueue, flatten, transitions

        save_snapshot(engine, period, {key: (s.code, s.reason_zh) for key, s in flatten(statuses).items()}, now)
        alerts = settings.alerts
        # Items that stay overdue are re-sent every `remind_overdue_months` months.
        remind = cfg.remind_overdue_months > 0 and _period_index(period) % cfg.remind_overdue_months == 0
        previous = previous_snapshot(engine, period)
        # The first run has nothing to compare with: its report says where everything stands,
        # and alerts start with the first change (no flood of one message per item).
        events = transitions(previous, statuses, remind_overdue=remind) if previous else []
        names = {r.code: r.name for r in tracker.regions.all}
        link = alerts.report_base_url.rstrip("/")
        link = f"{link}/{Path(report_path).name}" if link else str(Path(report_path).resolve())
        count = enqueue(engine, tracker.model, events, period, alerts, link, names, now=now) if alerts.enabled else 0
        finish(engine, RUN_JOB, period, "succeeded", clock(), owner, report_path=str(report_path), alerts=count)
        if alerts.enabled:
            tracker.deliver_alerts()
        return RunOutcome(period, True, "succeeded", str(report_path), count, late)
    except BaseException as exc:  # recorded, then re-raised for KeyboardInterrupt/SystemExit
        state = "interrupted" if isinstance(exc, (KeyboardInterrupt, SystemExit)) else "failed"
        finish(engine, RUN_JOB, period, state, clock(), owner, error=f"{type(exc).__name__}: {exc}"[:2000])
        log.exception("run %s %s", period, state)
        if state == "interrupted":
            raise
        return RunOutcome(period, True, state, error=f"{type(exc).__name__}: {exc}")


def run_due(tracker: Any) -> RunOutcome | None:
    """Run the latest due period if it has not succeeded yet (the watchdog's one question)."""
    due = due_period(tracker.settings.schedule, tracker.now())
    if due is None:
        return None
    existing = get_run(tracker.engine, RUN_JOB, due[0])
    if existing and existing["state"] == "succeeded":
        return None
    return run_month(tracker)
