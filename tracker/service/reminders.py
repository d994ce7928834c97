"""Submission reminders, once a month: the units and regions that have not reported the period
just closed are told what is missing, through the same outbox as alerts; where approval is
required, reporters also hear of periods not submitted and approvers of submissions waiting."""

from datetime import timedelta
from typing import Any


def remind(tracker: Any, *, force: bool = False) -> int:  # tracker: tracker.service.Tracker
    """Queue and send this month's reminders once; returns how many messages were queued.
    `force` (the supervisor's button) runs again in a month already done: recipients already
    reminded this month are not messaged twice (the outbox keys are per period)."""
    from tracker.alerts.reminders import reminder_messages, reminder_rows
    from tracker.service.approvals import reminder_rows as approval_reminder_rows
    from tracker.store.outbox import insert_alerts
    from tracker.store.runs import REMINDER_JOB, claim, finish, owner_id

    settings, engine = tracker.settings, tracker.engine
    now, today = tracker.now(), tracker.today()
    period = f"{today.year}-{today.month:02d}"
    owner = owner_id()
    if not claim(engine, REMINDER_JOB, period, now, force=force,
                 timeout=timedelta(minutes=settings.schedule.run_timeout_minutes), owner=owner):
        return 0
    try:
        # Before the submission day: the period just closed is the one asked for (no grace).
        gaps = tracker.completeness(today, grace_days=0)
        names = {r.code: r.name for r in tracker.regions.all}
        messages = reminder_messages(gaps, names, settings.schedule.submission_day)
        queued = insert_alerts(engine, reminder_rows(messages, period, settings.alerts, now))
        queued += insert_alerts(engine, approval_reminder_rows(tracker, period))  # where approval is required
        finish(engine, REMINDER_JOB, period, "succeeded", tracker.now(), owner, alerts=queued)
    except Exception as exc:
        finish(engine, REMINDER_JOB, period, "failed", tracker.now(), owner, error=str(exc)[:2000])
        raise
    if settings.alerts.enabled:
        tracker.deliver_alerts()
    return queued
