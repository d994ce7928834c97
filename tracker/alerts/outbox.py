"""Alerts: who hears about a target falling behind, and how the message gets there.

An alert is a recorded *flip* of a status (healthchecks' model): a target that becomes
lagging, overdue or stale, and one that recovers. A steady state sends nothing, except an
optional reminder for items that stay overdue. Every message goes through an outbox table:
recorded before it is sent, claimed by a conditional UPDATE so two processes never send the
same row at once, retried with backoff, marked sent once. A crash between sending and
marking leaves the row claimed; it is sent again after a timeout with the same idempotency
key, so a receiver can drop the repeat (at-least-once delivery, never zero).

Channels: email over SMTP, a generic JSON webhook, WeCom (企业微信) and DingTalk (钉钉) group
bots. Secrets (SMTP password, bot URLs with their keys, DingTalk signing secret) come from
environment variables named in the configuration and never reach a report, a log or the
outbox's error column.
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import smtplib
import ssl
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Engine

from tracker.config import CHANNELS, AlertsSettings, alerts_settings
from tracker.domain.model import COMPARATOR_LABELS, TargetsModel
from tracker.status.engine import STATUS_LABELS, Status
from tracker.store import outbox
from tracker.store.outbox import insert_alerts, list_alerts  # noqa: F401  (re-exported for callers)

log = logging.getLogger("tracker.alerts.outbox")

BAD = ("lagging", "overdue", "stale", "no_data")
FIRES_ON = ("lagging", "overdue", "stale")  # becoming one of these sends an alert
GOOD = ("on_track", "achieved", "achieved_late", "done", "in_progress", "due_soon")


# ---------------------------------------------------------------------------------------
# Outbox table (created by migration 0002_runs_alerts)


# ---------------------------------------------------------------------------------------
# Transitions (pure)


@dataclass(frozen=True)
class AlertEvent:
    """A status flip worth telling someone about."""

    kind: str  # transition | recovery | reminder
    item_id: str
    region: str  # "" for the plan's whole area
    code: str
    previous_code: str
    reason_zh: str
    reason_en: str
    figures: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def flatten(statuses: Iterable[Status]) -> dict[tuple[str, str], Status]:
    """(item, region) -> status, including each region of a per-region target."""
    out: dict[tuple[str, str], Status] = {}
    for s in statuses:
        out[(s.item_id, s.region or "")] = s
        for sub in s.regions:
            out[(sub.item_id or s.item_id, sub.region or "")] = sub
    return out


def transitions(previous: dict[tuple[str, str], str], current: Iterable[Status],
                remind_overdue: bool = False) -> list[AlertEvent]:
    """Events from the previous run's codes to this run's statuses.

    Becoming lagging/overdue/stale fires; moving from a bad state to a good one is a
    recovery; the same status again fires nothing, except overdue items when reminders are
    due. An item seen for the first time fires only when it is already bad.
    """
    events = []
    for (item, region), s in flatten(current).items():
        before = previous.get((item, region), "")
        if s.code == before:
            if s.code == "overdue" and remind_overdue:
                events.append(AlertEvent("reminder", item, region, s.code, before, s.reason_zh, s.reason_en, s.figures))
            continue
        if s.code in FIRES_ON:
            events.append(AlertEvent("transition", item, region, s.code, before, s.reason_zh, s.reason_en, s.figures))
        elif before in BAD and s.code in GOOD:
            events.append(AlertEvent("recovery", item, region, s.code, before, s.reason_zh, s.reason_en, s.figures))
    return events


# ---------------------------------------------------------------------------------------
# Recipients and messages (pure)


@dataclass
class Recipients:
    to_units: list[str]  # the lead unit(s) first
    cc_units: list[str]  # participating units, supervisors
    email_to: list[str] = field(default_factory=list)
    email_cc: list[str] = field(default_factory=list)


def recipients_for(model: TargetsModel, item_id: str, region: str, config: AlertsSettings | dict[str, Any]) -> Recipients:
    """The units answering for an item (lead first; joint when no lead), participating units
    and the configured supervisors copied; a region's own government for its own row."""
    plan, number = _task_key(model, item_id)
    to_units: list[str] = []
    cc_units: list[str] = []
    if plan:
        task = model.task(plan, number)
        to_units = task.units_in("lead") or task.units_in("joint")
        cc_units = task.units_in("participating") + (task.units_in("joint") if task.units_in("lead") else [])
    if region:
        to_units = to_units + [region]
    config = alerts_settings(config)
    cc_units += [u for u in config.supervisors if u not in to_units and u not in cc_units]

    def emails(units: list[str]) -> list[str]:
        found: list[str] = []
        for unit in units:
            for address in config.emails(unit):
                if address not in found:
                    found.append(address)
        return found

    to_email = emails(to_units)
    cc_email = [a for a in emails(cc_units) if a not in to_email]
    return Recipients(to_units, cc_units, to_email, cc_email)


def _task_key(model: TargetsModel, item_id: str) -> tuple[str, int]:
    for t in model.targets:
        if t.id == item_id:
            return t.plan, t.task
    for m in model.milestones:
        if m.id == item_id:
            return m.plan, m.task
    return "", 0


def item_title(model: TargetsModel, item_id: str) -> str:
    from tracker.domain.units import label

    for t in model.targets:
        if t.id == item_id:
            ind = model.indicator(t.indicator)
            return f"{ind.name}{COMPARATOR_LABELS[t.comparator]}{t.value:g}{label(t.unit)}（{t.plan}#{t.task}）"
    for m in model.milestones:
        if m.id == item_id:
            return f"{m.text[:40]}{'…' if len(m.text) > 40 else ''}（{m.plan}#{m.task}）"
    return item_id


KIND_WORDS = {"transition": ("状态变化", "status change"), "recovery": ("恢复正常", "recovered"),
              "reminder": ("逾期提醒", "still overdue"), "test": ("测试消息", "test message"),
              "submission": ("报送提醒", "submission reminder")}


@dataclass
class Message:
    subject: str
    text: str
    html: str


def compose(event: AlertEvent, title: str, region_name: str, report_link: str, period: str) -> Message:
    """The alert in words: Chinese first, English below, with the report's link."""
    zh_kind, en_kind = KIND_WORDS[event.kind]
    label_zh, label_en, _ = STATUS_LABELS.get(event.code, (event.code, event.code, 0))
    before = STATUS_LABELS.get(event.previous_code, ("首次评估", "first evaluation", 0))
    where = f"（{region_name}）" if region_name else ""
    subject = f"【{zh_kind}】{label_zh}：{title}{where}"
    lines = [
        f"{zh_kind}：{title}{where}",
        f"状态：{before[0]} → {label_zh}" if event.kind != "reminder" else f"状态：{label_zh}（持续）",
        f"原因：{event.reason_zh}",
        f"报告（{period}）：{report_link}",
        "",
        f"{en_kind}: {title}{where}",
        f"status: {before[1]} -> {label_en}",
        f"reason: {event.reason_en}",
        f"report: {report_link}",
    ]
    text = "\n".join(lines)
    from html import escape

    html = "<html><body>" + "".join(f"<p>{escape(line)}</p>" for line in lines if line) + "</body></html>"
    return Message(subject, text, html)


def event_key(period: str, event: AlertEvent, channel: str, recipient: str) -> str:
    """Stable for the same flip of the same item to the same place: a repeat is a repeat."""
    raw = "|".join([period, event.kind, event.item_id, event.region, event.previous_code, event.code, channel, recipient])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


# ---------------------------------------------------------------------------------------
# Channels: what each sends (pure), and the sending (I/O)


class DeliveryError(RuntimeError):
    pass


def channel_payload(channel: str, message: Message, key: str, recipients: Recipients) -> dict[str, Any]:
    if channel == "email":
        return {"to": recipients.email_to, "cc": recipients.email_cc, "subject": message.subject,
                "text": message.text, "html": message.html}
    if channel == "webhook":
        return {"idempotency_key": key, "subject": message.subject, "text": message.text,
                "to_units": recipients.to_units, "cc_units": recipients.cc_units}
    if channel == "wecom":
        mention = f"\n> 责任单位：{'、'.join(recipients.to_units)}" if recipients.to_units else ""
        return {"msgtype": "markdown", "markdown": {"content": f"**{message.subject}**\n{message.text}{mention}"}}
    if channel == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": message.subject[:60],
                                                    "text": f"### {message.subject}\n\n" + message.text.replace("\n", "\n\n")}}
    raise ValueError(f"unknown channel {channel!r}; accepted: {', '.join(CHANNELS)}")


def _env(name: str | None) -> str:
    return os.environ.get(name, "") if name else ""


SECRET_KEYS = ("password_env", "token_env", "url_env", "secret_env")  # not username_env: a name is no secret


def _secrets(config: AlertsSettings | dict[str, Any]) -> list[str]:
    """Every secret value the configuration points at, to scrub from errors (values too
    short to be a secret would mangle every message they happen to occur in)."""
    config = alerts_settings(config)
    out = []
    for section in CHANNELS:
        for key, value in config.channel(section).items():
            secret = _env(value) if key in SECRET_KEYS else ""
            if len(secret) >= 6:
                out.append(secret)
                out.extend(part for part in urllib.parse.urlsplit(secret).query.split("&") if len(part) >= 6)
    return out


def scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def send(channel: str, payload: dict[str, Any], key: str, config: AlertsSettings | dict[str, Any], now: datetime,
         timeout: float = 10.0) -> None:
    """Deliver one message; raises DeliveryError with a message free of secrets."""
    config = alerts_settings(config)
    section = config.channel(channel)
    try:
        if channel == "email":
            _send_email(payload, key, section, timeout)
        elif channel == "webhook":
            url = section.get("url") or _env(section.get("url_env"))
            headers = {"Idempotency-Key": key}
            token = _env(section.get("token_env"))
            if token:
                headers["Authorization"] = f"Bearer {token}"
            _post_json(url, payload, headers, timeout)
        elif channel == "wecom":
            _check_bot_reply(_post_json(_env(section.get("url_env")) or section.get("url", ""), payload,
                                        {"Idempotency-Key": key}, timeout))
        elif channel == "dingtalk":
            url = _env(section.get("url_env")) or section.get("url", "")
            secret = _env(section.get("secret_env"))
            if secret:
                url = dingtalk_signed_url(url, secret, int(now.timestamp() * 1000))
            _check_bot_reply(_post_json(url, payload, {"Idempotency-Key": key}, timeout))
        else:
            raise DeliveryError(f"unknown channel {channel!r}")
    except DeliveryError as exc:
        raise DeliveryError(scrub(str(exc), _secrets(config))) from None
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        raise DeliveryError(scrub(f"{channel}: {type(exc).__name__}: {exc}", _secrets(config))) from None


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """DingTalk's signed-bot URL: HMAC-SHA256 of "timestamp\\nsecret", base64, URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}timestamp={timestamp_ms}&sign={sign}"


def _post_json(url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float) -> bytes:
    if not url:
        raise DeliveryError("no URL configured (set the environment variable the configuration names)")
    if not url.startswith(("http://", "https://")):
        raise DeliveryError("the URL must start with http:// or https://")
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked above
            return response.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"cannot reach the server: {exc.reason}") from None


def _check_bot_reply(body: bytes) -> None:
    """WeCom and DingTalk answer 200 with {"errcode": N}; only 0 is delivered."""
    try:
        reply = json.loads(body.decode("utf-8") or "{}")
    except ValueError:
        return
    if isinstance(reply, dict) and reply.get("errcode", 0) != 0:
        raise DeliveryError(f"the bot refused the message: errcode {reply.get('errcode')} {reply.get('errmsg', '')}")


def _send_email(payload: dict[str, Any], key: str, section: dict[str, Any], timeout: float) -> None:
    to, cc = payload.get("to") or [], payload.get("cc") or []
    if not to and not cc:
        raise DeliveryError("email: no addresses for these units in [recipients]")
    host = section.get("host", "localhost")
    port = int(section.get("port", 25))
    security = section.get("security", "starttls")
    message = EmailMessage()
    message["Subject"] = payload["subject"]
    message["From"] = section.get("sender", "tracker@localhost")
    if to:
        message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Message-ID"] = f"<{key}@tracker>"
    message["X-Tracker-Idempotency-Key"] = key
    message.set_content(payload["text"])
    message.add_alternative(payload["html"], subtype="html")
    context = ssl.create_default_context()
    if section.get("ca_file"):
        context.load_verify_locations(section["ca_file"])
    if security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if security == "starttls":
            client.starttls(context=context)
        user, password = _env(section.get("username_env")), _env(section.get("password_env"))
        if user:
            client.login(user, password)
        client.send_message(message, to_addrs=to + cc)


# ---------------------------------------------------------------------------------------
# Outbox (I/O)


def enabled_channels(config: AlertsSettings | dict[str, Any]) -> list[str]:
    config = alerts_settings(config)
    chosen = config.channels
    if chosen is None:
        chosen = [c for c in CHANNELS if config.channel(c)]
    unknown = [c for c in chosen if c not in CHANNELS]
    if unknown:
        raise ValueError(f"[alerts] channels: unknown {unknown}; accepted: {', '.join(CHANNELS)}")
    return list(chosen)


def enqueue(engine: Engine, model: TargetsModel, events: Sequence[AlertEvent], period: str, config: AlertsSettings | dict[str, Any],
            report_link: str, region_names: dict[str, str] | None = None, *, now: datetime) -> int:
    """Record the messages for `events` (one per channel), before anything is sent.
    Returns how many new rows; a repeat of the same event (same key) adds nothing."""
    names = region_names or {}
    rows = []
    for event in events:
        recipients = recipients_for(model, event.item_id, event.region, config)
        message = compose(event, item_title(model, event.item_id), names.get(event.region, event.region),
                          report_link, period)
        log.info("alert %s %s %s region=%s %s->%s to=%s", period, event.kind, event.item_id, event.region or "-",
                 event.previous_code or "-", event.code, "、".join(recipients.to_units))
        for channel in enabled_channels(config):
            if channel == "email" and not (recipients.email_to or recipients.email_cc):
                continue
            who = "、".join(recipients.to_units) + (f"（抄送 {'、'.join(recipients.cc_units)}）" if recipients.cc_units else "")
            key = event_key(period, event, channel, who)
            payload = channel_payload(channel, message, key, recipients)
            rows.append(outbox_row(key, period, event.kind, channel, who, message, payload, now, item_id=event.item_id,
                                   region=event.region, code=event.code, previous_code=event.previous_code))
    return insert_alerts(engine, rows)


def outbox_row(key: str, period: str, kind: str, channel: str, recipient: str, message: Message,
               payload: dict[str, Any], now: datetime, **about: str) -> dict[str, Any]:
    """A pending outbox row; `about` names the item, region and codes it concerns."""
    return {"key": key, "period": period, "kind": kind, "channel": channel, "recipient": recipient,
            "subject": message.subject, "body": message.text, "payload": json.dumps(payload, ensure_ascii=False),
            "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now, "last_error": "",
            "item_id": about.get("item_id", ""), "region": about.get("region", ""), "code": about.get("code", ""),
            "previous_code": about.get("previous_code", "")}


def backoff(attempts: int, base_seconds: float = 60.0, cap_seconds: float = 6 * 3600) -> timedelta:
    """1 min, 2, 4, 8 … capped at 6 hours."""
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1)))


def deliver_pending(engine: Engine, config: AlertsSettings | dict[str, Any], now: datetime,
                    max_attempts: int = 8, claim_timeout: timedelta = timedelta(minutes=10),
                    base_seconds: float = 60.0, clock: Callable[[], datetime] | None = None) -> dict[str, int]:
    """Send what is due; returns counts of sent / retry / dead. `clock` gives the moment each
    message is marked sent (default: `now`)."""
    counts = {"sent": 0, "retry": 0, "dead": 0}
    for row in outbox.due_alerts(engine, now, claim_timeout):
        if not outbox.claim_alert(engine, row.id, now, claim_timeout):
            continue  # another process got there first
        try:
            send(row.channel, json.loads(row.payload), row.key, config, now)
        except DeliveryError as exc:
            attempts, dead = outbox.alert_failed(engine, row.id, now, str(exc), max_attempts,
                                                 lambda n: backoff(n, base_seconds))
            counts["dead" if dead else "retry"] += 1
            log.warning("alert %s via %s not delivered (attempt %s): %s", row.id, row.channel, attempts, exc)
            continue
        outbox.alert_sent(engine, row.id, clock() if clock else now)
        counts["sent"] += 1
    return counts


def send_test_messages(config: AlertsSettings | dict[str, Any], now: datetime) -> list[tuple[str, str]]:
    """Send one test message through every configured channel, directly (not the outbox):
    returns (channel, 'ok' or the error)."""
    message = Message("【测试消息】tracker 告警通道测试 / alert channel test",
                      f"这是一条测试消息，发送时间 {now.isoformat(timespec='seconds')}。\nThis is a test message.",
                      "<p>这是一条测试消息。This is a test message.</p>")
    config = alerts_settings(config)
    supervisors = list(config.supervisors)
    emails = [a for unit in (supervisors or list(config.recipients)) for a in config.emails(unit)]
    recipients = Recipients(supervisors, [], emails[:5], [])
    out = []
    for channel in enabled_channels(config):
        key = hashlib.sha256(f"test|{channel}|{now.isoformat()}".encode()).hexdigest()[:32]
        try:
            send(channel, channel_payload(channel, message, key, recipients), key, config, now)
            out.append((channel, "ok"))
        except DeliveryError as exc:
            out.append((channel, str(exc)))
    return out
