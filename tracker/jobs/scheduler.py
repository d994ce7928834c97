"""The scheduler: APScheduler fires the monthly report, the submission reminder and a watchdog;
each job asks the service (tracker.service) to do its work, and the service's run claims make
each month run exactly once however many schedulers are running.

APScheduler decides *when* (cron triggers in Asia/Shanghai, persisted in its SQLAlchemy job
store on the tracker's database, so next run times survive a restart). A watchdog job runs
every few minutes and asks one question: has the latest period that is due been reported?
That one rule covers a month missed while the machine was off (it runs once, for the latest
due period, and the report says it ran late), a failed run's retry, and pending alert
deliveries. A month held by another process's lease is tried again the moment that lease
runs out, so a crashed run is taken over within the lease, not at the next watchdog tick.
"""

import logging
import signal
import threading
from typing import Any

from tracker.service import Tracker
from tracker.service.runs import reminder_trigger, report_trigger

log = logging.getLogger("tracker.jobs.scheduler")


def _tracker(config_path: str | None) -> Tracker:
    """Jobs run in the scheduler's threads, possibly after a restart: they read the same
    configuration file the scheduler was started with (`tracker --config …`)."""
    return Tracker.open(config_path)


def run_due_waiting(tracker: Tracker, stopping: threading.Event | None = None) -> Any:
    """The latest month due; when another process's live lease holds it, try again as soon
    as that lease would run out (it is taken over if the holder died), until it has run or
    the holder finished it."""
    stopping = stopping or threading.Event()
    outcome = tracker.run_due()
    for _ in range(100):
        retry_at = outcome.retry_at if outcome is not None else None
        if retry_at is None:
            break
        delay = (retry_at - tracker.now()).total_seconds() + 0.2
        if stopping.wait(min(max(delay, 0.1), tracker.settings.schedule.lease_seconds)):
            break
        outcome = tracker.run_due()
    return outcome


def _job_monthly(config_path: str | None = None) -> None:
    run_due_waiting(_tracker(config_path))


def _job_watchdog(config_path: str | None = None) -> None:
    tracker = _tracker(config_path)
    run_due_waiting(tracker)
    if tracker.settings.alerts.enabled:
        tracker.deliver_alerts()


def _job_reminder(config_path: str | None = None) -> None:
    _tracker(config_path).remind()


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
    exits; one killed harder is taken over by the next scheduler once its lease runs out."""
    stopping = threading.Event()

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: finishing the run in flight, then stopping", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    run_due_waiting(Tracker(settings), stopping)  # catch up at start-up: the latest due month, once
    if stopping.is_set():
        return
    scheduler = build_scheduler(settings)
    scheduler.resume()
    log.info("scheduler started: %s", ", ".join(f"{j.id} next {j.next_run_time}" for j in scheduler.get_jobs()))
    stopping.wait()
    scheduler.shutdown(wait=True)
