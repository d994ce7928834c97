"""Submission reminders: a few days before the monthly deadline, the units and regions that
have not yet reported for the expected period are told what is missing. Once per period:
the reminder claims its period like a report run does."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from tracker.status.completeness import Gap


def reminder_messages(gaps: list[Gap], region_names: dict[str, str], submission_day: int) -> dict[str, str]:
    """unit or region name -> the text telling it what is missing (pure)."""
    by_reporter: dict[str, list[str]] = {}
    by_region: dict[str, list[str]] = {}
    for gap in gaps:
        if gap.complete:
            continue
        names = "、".join(region_names.get(c, c) for c in gap.missing)
        by_reporter.setdefault(gap.reporter or "未指定报送单位", []).append(
            f"- {gap.name}（{gap.expected_period}）：{len(gap.missing)}/{len(gap.expected)} 个地区未报送：{names}")
        for code in gap.missing:
            by_region.setdefault(region_names.get(code, code), []).append(f"- {gap.name}（{gap.expected_period}）")
    out = {}
    for who, lines in {**by_reporter, **by_region}.items():
        out[who] = (f"请于本月{submission_day}日前报送以下数据 / please report by day {submission_day}:\n"
                    + "\n".join(lines))
    return out


def send_submission_reminders(settings: Any, now: datetime | None = None, engine: Engine | None = None,
                              force: bool = False) -> int:
    """Queue and send this month's reminders once; returns how many messages were queued.
    `force` (the supervisor's button) runs again in a month already done: recipients already
    reminded this month are not messaged twice (the outbox keys are per period)."""
    import hashlib
    from html import escape

    from tracker.alerts.outbox import (
        Message,
        Recipients,
        channel_payload,
        deliver_pending,
        enabled_channels,
        insert_alerts,
        outbox_row,
    )
    from tracker.domain.periods import today_in_plan_tz
    from tracker.domain.regions import load_regions
    from tracker.status.completeness import missing_reports
    from tracker.store import get_engine, latest_reported
    from tracker.store.runs import REMINDER_JOB, claim, finish, owner_id
    from tracker.targets.file import load_targets

    now = now or datetime.now(UTC)
    engine = engine or get_engine(settings.database_url)
    alerts_config = settings.alerts
    cfg = settings.schedule
    today = today_in_plan_tz(now)
    period = f"{today.year}-{today.month:02d}"
    if not claim(engine, REMINDER_JOB, period, now, force=force,
                 timeout=timedelta(minutes=cfg.run_timeout_minutes)):
        return 0
    try:
        model = load_targets(settings.targets_path)
        regions = load_regions()
        plan_region = regions.province.code
        # Before the submission day: the period just closed is the one asked for (no grace).
        gaps = missing_reports(model, latest_reported(engine, today), regions, plan_region, today, grace_days=0)
        names = {r.code: r.name for r in regions.all}
        messages = reminder_messages(gaps, names, cfg.submission_day)
        rows = []
        for who, text in messages.items():
            subject = f"【报送提醒】{period} 数据报送 / data submission reminder：{who}"
            for channel in enabled_channels(alerts_config) if alerts_config.enabled else []:
                emails = alerts_config.emails(who)
                if channel == "email" and not emails:
                    continue
                key = hashlib.sha256(f"submission|{period}|{who}|{channel}".encode()).hexdigest()[:32]
                recipients = Recipients([who], [], emails, [])
                message = Message(subject, text, f"<pre>{escape(text)}</pre>")
                payload = channel_payload(channel, message, key, recipients)
                rows.append(outbox_row(key, period, "submission", channel, who, message, payload, now))
        queued = insert_alerts(engine, rows)
        finish(engine, REMINDER_JOB, period, "succeeded", datetime.now(UTC), owner_id(), alerts=queued)
    except Exception as exc:
        finish(engine, REMINDER_JOB, period, "failed", datetime.now(UTC), owner_id(), error=str(exc)[:2000])
        raise
    if alerts_config.enabled:
        deliver_pending(engine, alerts_config, now=now)
    return queued

