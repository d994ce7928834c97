"""Submission reminders in words: a few days before the monthly deadline, each unit and
region that has not reported the expected period is told what is missing (pure; the service
sends them once a month)."""

import hashlib
from datetime import datetime
from html import escape
from typing import Any

from tracker.config import AlertsSettings
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


def reminder_rows(messages: dict[str, str], period: str, config: AlertsSettings, now: datetime,
                  plan: str = "", keyed: bool = False) -> list[dict[str, Any]]:
    """Outbox rows for `messages`, one per recipient and channel, keyed per period: a second
    reminder in the same month to the same recipient is the same message. `config`: the
    plan's own (AlertsSettings.for_plan); `plan` is named in a webhook's payload and, when
    `keyed` (every plan but the home one), in the keys: 省民政厅 of two plans are two units."""
    from tracker.alerts.outbox import Message, Recipients, channel_payload, enabled_channels, outbox_row

    rows = []
    for who, text in messages.items():
        subject = f"【报送提醒】{period} 数据报送 / data submission reminder：{who}"
        for channel in enabled_channels(config) if config.enabled else []:
            emails = config.emails(who)
            if channel == "email" and not emails:
                continue
            raw = f"submission|{period}|{who}|{channel}" + (f"|plan={plan}" if keyed and plan else "")
            key = hashlib.sha256(raw.encode()).hexdigest()[:32]
            message = Message(subject, text, f"<pre>{escape(text)}</pre>")
            payload = channel_payload(channel, message, key, Recipients([who], [], emails, []), plan)
            rows.append(outbox_row(key, period, "submission", channel, who, message, payload, now))
    return rows
