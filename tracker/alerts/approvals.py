"""Approval messages in words: a return (退回) tells the reporter why, a reminder tells
reporters what they have not submitted and approvers what waits for them. Through the same
outbox and channels as alerts and submission reminders, as their own kind ("approval"), so a
per-recipient digest can group them apart (pure, but for the rows' shape)."""

import hashlib
from datetime import datetime
from html import escape
from typing import Any

from tracker.config import AlertsSettings
from tracker.status.approval import Submission

KIND = "approval"


def return_message(submission: Submission, reason: str, by: str) -> tuple[str, str]:
    """(subject, text) telling the reporter its submission came back, and why."""
    what = f"{submission.unit.name} {submission.period}"
    subject = f"【退回】{what} 数据被退回，请修改后重新提交 / returned for correction"
    text = (f"{what} 的数据已被 {by} 退回。\n退回原因：{reason}\n请修改后重新提交。\n\n"
            f"{what} was returned by {by}.\nReason: {reason}\nPlease correct the figures and submit again.")
    return subject, text


def reminder_texts(unsubmitted: dict[str, list[Submission]], waiting: dict[str, list[Submission]],
                   names: dict[str, str]) -> dict[str, tuple[str, str]]:
    """recipient -> (subject, text): reporters' periods not yet submitted (with a return's
    reason when it came back), approvers' submissions waiting for them."""
    out: dict[str, tuple[str, str]] = {}
    for who, items in unsubmitted.items():
        lines = [f"- {s.period}：{s.label()}" + (f"（已退回：{s.note}）" if s.returned and s.note else "")
                 for s in items]
        out[who] = (f"【提交提醒】请提交数据供审核 / please submit for review：{names.get(who, who)}",
                    "以下期间的数据尚未提交审核 / not submitted for review yet:\n" + "\n".join(lines))
    for who, items in waiting.items():
        lines = [f"- {s.unit.name} {s.period}：{s.label()}" for s in items]
        subject, text = out.get(who, ("", ""))
        out[who] = (subject or f"【待审核】{len(items)} 份数据待您审核 / waiting for your review：{names.get(who, who)}",
                    (text + "\n\n" if text else "") + "以下数据待您审核 / waiting for your review:\n" + "\n".join(lines))
    return out


def approval_rows(messages: dict[str, tuple[str, str]], key: str, period: str, config: AlertsSettings,
                  now: datetime, names: dict[str, str] | None = None, item: str = "",
                  plan: str = "") -> list[dict[str, Any]]:
    """Outbox rows for `messages` (recipient -> (subject, text)), one per recipient and enabled
    channel, with idempotency keys from `key` (a return: its history id; a reminder: the month),
    so the same message is never queued twice. `config`: the plan's own
    (AlertsSettings.for_plan); `plan` is named in a webhook's payload."""
    from tracker.alerts.outbox import Message, Recipients, channel_payload, enabled_channels, outbox_row

    names = names or {}
    rows = []
    for who, (subject, text) in messages.items():
        label = names.get(who, who)
        for channel in enabled_channels(config) if config.enabled else []:
            emails = config.emails(label) or config.emails(who)
            if channel == "email" and not emails:
                continue
            digest = hashlib.sha256(f"{KIND}|{key}|{who}|{channel}".encode()).hexdigest()[:32]
            message = Message(subject, text, f"<pre>{escape(text)}</pre>")
            payload = channel_payload(channel, message, digest, Recipients([label], [], emails, []), plan)
            rows.append(outbox_row(digest, period, KIND, channel, label, message, payload, now, item_id=item))
    return rows

