"""The monthly job: report, status snapshot and alerts for one month, exactly once.

The `run` table (tracker.store.runs) decides *whether* a month runs: a run claims its (job,
period) row with an INSERT or a conditional UPDATE that only one process can win, on SQLite and
PostgreSQL alike. The claim is a lease with a fencing token: the run renews the lease by a
heartbeat thread ([schedule] heartbeat_seconds), a run whose process died is taken over once
its lease ([schedule] lease_seconds) has run out, and a run that lost its lease (paused past
it, or taken over with --force) writes nothing more: the token is checked before the report
set is switched, and in the one transaction that saves the snapshot, queues the alerts and
marks the run finished. *When* is the schedule's business (cron triggers in the plan's zone,
below; APScheduler fires them in tracker.jobs.scheduler): by default the day after monthly
figures are due, with the figures known at that moment.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Self
from zoneinfo import ZoneInfo

from tracker import faults
from tracker.config import ScheduleConfig
from tracker.service.plans import followed
from tracker.store.engine import write_transaction
from tracker.store.runs import (
    RUN_JOB,
    Claim,
    claim,
    finish,
    get_run,
    holds,
    lease_live,
    owner_id,
    previous_snapshot,
    renew,
    save_snapshot,
)

log = logging.getLogger("tracker.service.runs")


# ---------------------------------------------------------------------------------------
# The schedule's arithmetic (pure): which month is due at a moment


def report_trigger(cfg: ScheduleConfig) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(day=cfg.report_day_of_month, hour=cfg.report_hour, minute=cfg.report_minute, timezone=cfg.zone)


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


class LeaseLost(RuntimeError):
    """This process no longer holds its run: another process took it over, or its lease ran
    out while it was stopped. It must write nothing more."""


class Lease:
    """A won claim kept alive: a daemon thread renews it every `heartbeat_seconds`; `check()`
    and `guard(conn)` raise LeaseLost once it is gone. Use as a context manager (the thread
    stops at exit)."""

    def __init__(self, engine: Any, job: str, period: str, won: Claim, cfg: ScheduleConfig,
                 clock: Callable[[], datetime]) -> None:
        self.engine, self.job, self.period, self.token = engine, job, period, won.token
        self.clock = clock
        self.length = timedelta(seconds=cfg.lease_seconds)
        self.heartbeat = cfg.heartbeat_seconds
        self.until = clock() + self.length
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease {job} {period}", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            now = self.clock()
            try:
                renewed = renew(self.engine, self.job, self.period, self.token, now, self.length)
            except Exception:  # the database is away: the local deadline still fences
                log.warning("run %s: could not renew the lease", self.period, exc_info=True)
                continue
            if not renewed:
                self._lost.set()
                log.warning("run %s: lease lost (token %s); stopping without writing", self.period, self.token)
                return
            self.until = now + self.length

    def _raise(self) -> None:
        self._lost.set()
        raise LeaseLost(f"{self.period}: 本进程已失去运行租约（令牌 {self.token}），不再写入任何内容 / this process "
                        f"lost its lease on the run (token {self.token}): another process took it over or the "
                        "lease ran out; nothing more is written")

    def check(self) -> None:
        """Raise LeaseLost if the lease is known lost or has run out by this process's clock."""
        if self._lost.is_set() or self.clock() > self.until:
            self._raise()

    def guard(self, conn: Any) -> None:
        """Inside a write transaction: raise LeaseLost unless the token still holds a live
        lease in the database (the writes that follow in the transaction are then fenced)."""
        self.check()
        if not holds(conn, self.job, self.period, self.token, self.clock()):
            self._raise()

    def fence(self) -> None:
        """Before a file is put in place: the lease, checked locally and in the database (a
        read, which never waits behind a writer)."""
        self.check()
        with self.engine.connect() as conn:
            if not holds(conn, self.job, self.period, self.token, self.clock(), lock=False):
                self._raise()


@dataclass
class RunOutcome:
    period: str
    ran: bool  # False: another process holds or finished it
    state: str  # succeeded | failed | interrupted | lost_lease; when not ran, the row's state
    report_path: str = ""
    alerts: int = 0
    late: bool = False
    error: str = ""
    holder: dict[str, Any] | None = None  # not ran: the run row (owner, lease_until, attempt …)
    taken_over: dict[str, Any] | None = None  # ran over a run still marked running: that row

    @property
    def retry_at(self) -> datetime | None:
        """When a run held by another process's live lease can be taken over if that lease
        is not renewed."""
        if not self.ran and self.holder and self.holder.get("state") == "running":
            return self.holder.get("lease_until")
        return None


def _period_index(period: str) -> int:
    year, month = (int(x) for x in period.split("-"))
    return year * 12 + month - 1


def _report(tracker: Any, period: str, late: bool, lease: Lease) -> tuple[str, list[Any]]:
    """targets -> actuals -> statuses -> report: statuses as of the period's last day, with
    the figures known at the run (values for the month arrive until the submission day).
    The home plans' report in reports/, each other plan followed its own in
    reports/plans/<plan-id>/ (tracker.service.plans); returns the home report's path and the
    statuses of every plan reported."""
    from tracker.service.plans import other_plans

    known_at = lease.clock()
    files = tracker.write_report(period_end(period), late=late, kind="scheduled", known_at=known_at, fence=lease.fence)
    statuses = list(files.statuses)
    for plan in other_plans(tracker, period_end(period), above=True):
        lease.check()
        statuses += tracker.write_report(period_end(period), late=late, kind="scheduled", known_at=known_at,
                                         fence=lease.fence, plan=plan.id).statuses
    return str(files.html), statuses


def run_month(tracker: Any, period: str | None = None, *, force: bool = False, late: bool | None = None,
              pipeline: Callable[[Any, str, bool, Lease], tuple[str, list[Any]]] | None = None) -> RunOutcome:
    """Report, snapshot and alerts for one month, if this process wins the claim. `period`
    defaults to the latest month due; one not due yet raises NotDue. `force` runs it again
    whatever its state, taking over a live run (which then stops without writing).
    `pipeline` replaces the report step (tests: a crash, chosen statuses)."""
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
    won = claim(engine, RUN_JOB, period, now, force=force, lease=timedelta(seconds=cfg.lease_seconds),
                retry_after=timedelta(minutes=cfg.retry_minutes) if not force else timedelta(0),
                max_attempts=cfg.max_attempts if not force else 10**6, late=late, owner=owner)
    if won is None:
        existing = get_run(engine, RUN_JOB, period) or {}
        return RunOutcome(period, False, existing.get("state", "?"), existing.get("report_path", ""),
                          existing.get("alerts", 0), bool(existing.get("late")), holder=existing or None)
    if won.taken_from:
        was = won.taken_from
        log.warning("run %s: took over the run of %s (token %s, lease until %s)%s", period, was["owner"],
                    was["token"], was.get("lease_until"), " while it was live" if lease_live(was, now) else "")
    log.info("run %s claimed by %s (token %s)%s", period, owner, won.token, " (late)" if late else "")
    clock = tracker.now  # the moments the run finishes at: the tracker's clock, not the process's

    count = 0
    report_path = ""
    with Lease(engine, RUN_JOB, period, won, cfg, clock) as lease:
        try:
            faults.point("run:claimed")
            report_path, statuses = (pipeline or _report)(tracker, period, late, lease)
            # what the reports cover, whatever the pipeline said
            statuses = tracker.covered(statuses, [p.id for g in followed(tracker, period_end(period), above=True)
                                                  for p in g])
            lease.check()
            faults.point("run:reported")
            count = _record_and_queue(tracker, period, str(report_path), statuses, lease, now)
            faults.point("run:finished")
        except LeaseLost as exc:
            log.warning("%s", exc)
            return RunOutcome(period, True, "lost_lease", error=str(exc), late=late, taken_over=won.taken_from)
        except BaseException as exc:  # recorded, then re-raised for KeyboardInterrupt/SystemExit
            state = "interrupted" if isinstance(exc, (KeyboardInterrupt, SystemExit)) else "failed"
            fenced = not finish(engine, RUN_JOB, period, won.token, state, clock(),
                                error=f"{type(exc).__name__}: {exc}"[:2000])
            log.exception("run %s %s%s", period, state, " (lease already lost: not recorded)" if fenced else "")
            if state == "interrupted":
                raise
            return RunOutcome(period, True, state, error=f"{type(exc).__name__}: {exc}", late=late,
                              taken_over=won.taken_from)
    if settings.alerts.enabled:
        tracker.deliver_alerts()
    return RunOutcome(period, True, "succeeded", str(report_path), count, late, taken_over=won.taken_from)


def _record_and_queue(tracker: Any, period: str, report_path: str, statuses: list[Any], lease: Lease,
                      now: datetime) -> int:
    """The snapshot, the alert digests and the run's finish, in one transaction under the
    lease: all of them or none."""
    from tracker.alerts.outbox import flatten
    from tracker.store.outbox import insert_alerts

    codes = {key: (s.code, s.reason_zh) for key, s in flatten(statuses).items()}
    rows = _alert_rows(tracker, period, report_path, statuses, now)
    with write_transaction(tracker.engine) as conn:
        lease.guard(conn)
        save_snapshot(conn, period, codes, now)
        count = insert_alerts(conn, rows)
        finish(conn, RUN_JOB, period, lease.token, "succeeded", lease.clock(), report_path=report_path, alerts=count)
    return count


def _alert_rows(tracker: Any, period: str, report_path: str, statuses: list[Any], now: datetime) -> list[dict[str, Any]]:
    """Each followed plan's digests, addressed to its own units and regions with its own
    settings (tracker.service.plans: the home plans' as always, another plan's from
    [alerts.plans."<plan-id>"]) and linking its own report."""
    from tracker.alerts.outbox import alert_rows, flatten, transitions
    import tracker.service.plans as per_plan

    cfg = tracker.settings.schedule
    # Items that stay overdue are re-sent every `remind_overdue_months` months.
    remind = cfg.remind_overdue_months > 0 and _period_index(period) % cfg.remind_overdue_months == 0
    previous = previous_snapshot(tracker.engine, period)
    rows: list[dict[str, Any]] = []
    for group in per_plan.followed(tracker, period_end(period), above=True):
        plan = group[0].id
        home = per_plan.is_home(tracker, plan)
        alerts = per_plan.alert_settings(tracker, plan)
        mine = tracker.covered(statuses, [p.id for p in group])
        # The first run (for this plan) has nothing to compare with: its report says where
        # everything stands, and alerts start with the first change (no flood of one message
        # per item).
        known = bool(previous) if home else any(key in previous for key in flatten(mine))
        events = transitions(previous, mine, remind_overdue=remind) if known else []
        if not alerts.enabled or not events:
            continue
        names = {r.code: r.name for r in per_plan.regions_of(tracker, plan).all}
        path = Path(report_path) if home else tracker.reports_dir(plan=plan) / Path(report_path).name
        link = alerts.report_base_url.rstrip("/")
        link = f"{link}/{path.name}" if link else str(path.resolve())
        rows += alert_rows(tracker.model, events, period, alerts, link, names, now=now,
                           plan="" if home else plan, keyed=not home)
    return rows


def run_due(tracker: Any) -> RunOutcome | None:
    """Run the latest due period if it has not succeeded yet (the watchdog's one question)."""
    due = due_period(tracker.settings.schedule, tracker.now())
    if due is None:
        return None
    existing = get_run(tracker.engine, RUN_JOB, due[0])
    if existing and existing["state"] == "succeeded":
        return None
    return run_month(tracker)
