"""Submission reminders, once a month: the units and regions that have not reported the period
just closed are told what is missing, through the same outbox as alerts; where approval is
required, reporters also hear of periods not submitted and approvers of submissions waiting."""

from datetime import timedelta
from typing import Any


def remind(tracker: Any, *, force: bool = False) -> int:  # tracker: tracker.service.Tracker
    """Queue and send this month's reminders once; returns how many messages were queued.
    `force` (the supervisor's button) runs again in a month already done: recipients already
    reminded this month are not messaged twice (the outbox keys are per period)."""
    from tracker.service.approvals import reminder_rows as approval_reminder_rows
    from tracker.service.runs import Lease, LeaseLost
    from tracker.store.engine import write_transaction
    from tracker.store.outbox import insert_alerts
    from tracker.store.runs import REMINDER_JOB, claim, finish

    settings, engine = tracker.settings, tracker.engine
    now, today = tracker.now(), tracker.today()
    period = f"{today.year}-{today.month:02d}"
    cfg = settings.schedule
    won = claim(engine, REMINDER_JOB, period, now, force=force, lease=timedelta(seconds=cfg.lease_seconds))
    if won is None:
        return 0
    with Lease(engine, REMINDER_JOB, period, won, cfg, tracker.now) as lease:
        try:
            rows = plan_reminder_rows(tracker, period)
            rows += approval_reminder_rows(tracker, period)  # where approval is required
            with write_transaction(engine) as conn:
                lease.guard(conn)
                queued = insert_alerts(conn, rows)
                finish(conn, REMINDER_JOB, period, won.token, "succeeded", tracker.now(), alerts=queued)
        except LeaseLost:
            return 0
        except Exception as exc:
            finish(engine, REMINDER_JOB, period, won.token, "failed", tracker.now(), error=str(exc)[:2000])
            raise
    if settings.alerts.enabled:
        tracker.deliver_alerts()
    return queued


def plan_reminder_rows(tracker: Any, period: str) -> list[dict[str, Any]]:
    """Each followed plan's reminders (tracker.service.plans): its own regions and reporting
    units asked for what its own targets need, addressed with its own settings; nobody of one
    plan hears about another plan's regions."""
    from tracker.alerts.reminders import reminder_messages, reminder_rows
    import tracker.service.plans as per_plan
    import tracker.service.since as since

    today, now = tracker.today(), tracker.now()
    latest = since.latest_reported(tracker, today)
    rows: list[dict[str, Any]] = []
    for group in per_plan.followed(tracker, today):
        plan = group[0].id
        home = per_plan.is_home(tracker, plan)
        # Before the submission day: the period just closed is the one asked for (no grace).
        gaps = tracker.completeness(today, grace_days=0, plan=plan, latest=latest)
        names = {r.code: r.name for r in per_plan.regions_of(tracker, plan).all}
        messages = reminder_messages(gaps, names, tracker.settings.schedule.submission_day)
        rows += reminder_rows(messages, period, per_plan.alert_settings(tracker, plan), now,
                              plan="" if home else plan, keyed=not home)
    return rows
