"""Alerts: who hears about a target falling behind, and how the message gets there.

An alert is a recorded *flip* of a status (healthchecks' model): a target that becomes
lagging, overdue or stale, and one that recovers. A steady state sends nothing, except an
optional reminder for items that stay overdue. A run's flips go out as digests (督办通知): one
message per recipient unit listing its items grouped by status, binding targets (约束性) first,
each saying what changed since the last notice; and one digest of everything for the
supervisors. Every message goes through an outbox table: recorded before it is sent,
claimed by a conditional UPDATE so two processes never send the same row at once, retried
with backoff, marked sent as soon as the server has accepted it (before the SMTP QUIT). A
crash between the server's acceptance and that mark leaves the row claimed; it is sent again
after [alerts] resend_after_minutes with the same Message-ID and idempotency key, so a
receiver can drop the copy: at least once, deduplicable, and at most one copy per window.

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

from tracker import faults
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


@dataclass
class Message:
    subject: str
    text: str
    html: str
    markdown: str = ""  # WeCom / DingTalk (default: the text)
    items: list[dict[str, Any]] = field(default_factory=list)  # what a webhook receiver gets as data


# ---------------------------------------------------------------------------------------
# Digests (pure): one notice per recipient per run (督办通知), and the supervisors' digest


@dataclass
class DigestLine:
    """One flip (or reminder) in a digest: the event, the item's title, whether the target is
    binding (约束性), where, and who answers for it."""

    event: AlertEvent
    title: str
    binding: bool
    where: str  # the region's name, "" for the plan's whole area
    units: Recipients


@dataclass
class Digest:
    """What one recipient hears from one run. `summary`: the supervisors' digest of
    everything (to_units: the supervisors)."""

    recipient: str  # the unit (a department's name, or a region's code); "" for the summary
    to_units: list[str]
    lines: list[DigestLine]
    summary: bool = False


MARKDOWN_BYTES = 3800  # WeCom takes 4,096 bytes of markdown; DingTalk about as much in practice


def _binding(model: TargetsModel, item_id: str) -> bool:
    return any(t.id == item_id and t.binding for t in model.targets)


def digests(model: TargetsModel, events: Sequence[AlertEvent], config: AlertsSettings | dict[str, Any],
            region_names: dict[str, str] | None = None) -> list[Digest]:
    """The run's events grouped by recipient: each unit answering for an item (lead, joint,
    participating, or the region's own government) gets one digest of its items; the
    supervisors get one of everything. Who answers comes from `recipients_for`, the one
    place that decides it."""
    config = alerts_settings(config)
    names = region_names or {}
    supervisors = set(config.supervisors)
    per_unit: dict[str, list[DigestLine]] = {}
    everything: list[DigestLine] = []
    for event in events:
        units = recipients_for(model, event.item_id, event.region, config)
        line = DigestLine(event, item_title(model, event.item_id), _binding(model, event.item_id),
                          names.get(event.region, event.region), units)
        everything.append(line)
        for unit in dict.fromkeys(units.to_units + units.cc_units):
            if unit not in supervisors:
                per_unit.setdefault(unit, []).append(line)
    out = [Digest(unit, [unit], lines) for unit, lines in per_unit.items()]
    if everything:
        out.append(Digest("", list(config.supervisors), everything, summary=True))
    return out


def _group(line: DigestLine) -> str:
    return "recovery" if line.event.kind == "recovery" else line.event.code


def _grouped(lines: Sequence[DigestLine]) -> list[tuple[str, list[DigestLine]]]:
    """Groups by status, the worst first and recoveries last; binding targets first in each."""
    groups: dict[str, list[DigestLine]] = {}
    for line in lines:
        groups.setdefault(_group(line), []).append(line)

    def rank(key: str) -> int:
        return 99 if key == "recovery" else STATUS_LABELS.get(key, ("", "", 50))[2]

    return [(key, sorted(groups[key], key=lambda x: (not x.binding, x.title, x.where)))
            for key in sorted(groups, key=rank)]


def _label(code: str, lang: str) -> str:
    zh, en, _ = STATUS_LABELS.get(code, (code, code, 0))
    return zh if lang == "zh" else en


def _group_label(key: str, lang: str) -> str:
    if key == "recovery":
        return "恢复正常" if lang == "zh" else "recovered"
    return _label(key, lang)


def _change(event: AlertEvent, lang: str) -> str:
    """What changed since the last notice."""
    now = _label(event.code, lang)
    if event.kind == "reminder":
        return f"仍为{now}（上次通知后未改善）" if lang == "zh" else f"still {now} since the last notice"
    if event.previous_code:
        before = _label(event.previous_code, lang)
    else:
        before = "首次评估" if lang == "zh" else "first evaluation"
    return f"{before} → {now}"


def _display(unit: str, names: dict[str, str]) -> str:
    return names.get(unit, unit)


def _counts(groups: list[tuple[str, list[DigestLine]]], lang: str) -> str:
    parts = []
    for key, lines in groups:
        binding = sum(1 for x in lines if x.binding)
        if lang == "zh":
            parts.append(f"{_group_label(key, lang)} {len(lines)} 项" + (f"（约束性 {binding} 项）" if binding else ""))
        else:
            parts.append(f"{_group_label(key, lang)} {len(lines)}" + (f" ({binding} binding)" if binding else ""))
    return ("、" if lang == "zh" else ", ").join(parts)


def _who(units: Recipients, names: dict[str, str], lang: str) -> str:
    lead = "、".join(_display(u, names) for u in units.to_units)
    others = [u for u in units.cc_units if u not in units.to_units]
    if lang == "zh":
        return f"牵头：{lead or '—'}" + (f"；参加：{'、'.join(_display(u, names) for u in others)}" if others else "")
    return f"lead: {lead or '-'}" + (f"; with: {', '.join(_display(u, names) for u in others)}" if others else "")


def compose_digest(digest: Digest, period: str, report_link: str, region_names: dict[str, str] | None = None,
                   scope: str = "") -> Message:
    """A digest in words: Chinese first, English below, grouped by status (worst first),
    binding targets (约束性) first in each group and marked, each line saying what changed
    since the last notice; the same content as text, HTML and markdown (group bots).
    `scope`: the plan's area (广东省), named in the subject where several plans send mail."""
    from html import escape

    names = region_names or {}
    groups = _grouped(digest.lines)
    to = _display(digest.recipient, names)
    if digest.summary:
        subject = f"【督办汇总】{scope + ' ' if scope else ''}{period}：{_counts(groups, 'zh')}"
        opening_zh = f"{period} 月度跟踪：以下 {len(digest.lines)} 项目标任务状态有变化或仍需督办（全部责任单位）。"
        opening_en = f"Report {period}: {len(digest.lines)} items changed or still need action (every responsible unit)."
    else:
        subject = f"【督办通知】{scope + ' ' if scope else ''}{period} {to}：{_counts(groups, 'zh')}"
        opening_zh = f"{to}：根据 {period} 月度跟踪报告，贵单位牵头或参加的以下 {len(digest.lines)} 项目标任务状态有变化或仍需督办。"
        opening_en = f"To {to}: {len(digest.lines)} items you lead or take part in changed or still need action (report {period})."
    numerals = "一二三四五六七八九十"
    text = [opening_zh, ""]
    html = [f"<p>{escape(opening_zh)}</p>"]
    md = [f"**{subject}**", ""]
    items: list[dict[str, Any]] = []
    shown = 0
    for g, (key, lines) in enumerate(groups):
        heading = f"{numerals[g] if g < len(numerals) else g + 1}、{_group_label(key, 'zh')}（{len(lines)}）"
        text.append(heading)
        html.append(f"<h3>{escape(heading)}</h3><ol>")
        md.append(f"### {heading}")
        for n, line in enumerate(lines, 1):
            e = line.event
            mark = "【约束性】" if line.binding else ""
            where = f"（{line.where}）" if line.where else ""
            change, who = _change(e, "zh"), _who(line.units, names, "zh")
            text += [f"{n}. {mark}{line.title}{where}", f"   变化：{change}", f"   原因：{e.reason_zh}", f"   {who}"]
            html.append(f"<li>{'<strong>【约束性】</strong>' if line.binding else ''}{escape(line.title + where)}"
                        f"<br>变化：{escape(change)}<br>原因：{escape(e.reason_zh)}<br>{escape(who)}</li>")
            entry = f"{n}. {'**【约束性】**' if line.binding else ''}{line.title}{where}：{change}\n> {e.reason_zh}"
            if len("\n".join(md + [entry]).encode()) < MARKDOWN_BYTES:
                md.append(entry)
                shown += 1
            items.append({"item_id": e.item_id, "region": e.region, "kind": e.kind, "code": e.code,
                          "previous_code": e.previous_code, "binding": line.binding, "title": line.title,
                          "reason": e.reason_zh, "lead_units": line.units.to_units})
        text.append("")
        html.append("</ol>")
    if shown < len(digest.lines):
        md.append(f"……另有 {len(digest.lines) - shown} 项，详见报告")
    text.append(f"报告（{period}）：{report_link}")
    html.append(f"<p>报告（{escape(period)}）：<a href=\"{escape(report_link)}\">{escape(report_link)}</a></p>")
    md.append(f"[查看报告 {period}]({report_link})")
    text += ["", opening_en]
    for key, lines in groups:
        text.append(f"{_group_label(key, 'en')} ({len(lines)})")
        for n, line in enumerate(lines, 1):
            where = f" ({line.where})" if line.where else ""
            text.append(f"{n}. {'[binding] ' if line.binding else ''}{line.title}{where}: {_change(line.event, 'en')}. "
                        f"{line.event.reason_en}")
    text.append(f"report: {report_link}")
    body = "\n".join(text)
    page = "<html><body>" + "".join(html) + "</body></html>"
    return Message(subject, body, page, "\n".join(md), items)


def digest_key(period: str, digest: Digest, channel: str, plan: str = "") -> str:
    """Stable for the same recipient, channel and events: a re-run that finds the same flips
    queues nothing new; one that finds different ones sends the new digest. `plan`: another
    plan than the home one (its 省民政厅 is not the home plan's; the home plan's keys stay as
    they always were)."""
    events = sorted(f"{x.event.kind}|{x.event.item_id}|{x.event.region}|{x.event.previous_code}|{x.event.code}"
                    for x in digest.lines)
    raw = "|".join([period, "summary" if digest.summary else "digest", digest.recipient, channel, *events]
                   + ([f"plan={plan}"] if plan else []))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


# ---------------------------------------------------------------------------------------
# Channels: what each sends (pure), and the sending (I/O)


class DeliveryError(RuntimeError):
    pass


def channel_payload(channel: str, message: Message, key: str, recipients: Recipients, plan: str = "") -> dict[str, Any]:
    """What `channel` is sent for `message`; a webhook's payload names the plan (`plan`) its
    units belong to, so its receiver routes 省民政厅 of each plan apart."""
    if channel == "email":
        return {"to": recipients.email_to, "cc": recipients.email_cc, "subject": message.subject,
                "text": message.text, "html": message.html}
    if channel == "webhook":
        payload = {"idempotency_key": key, "subject": message.subject, "text": message.text,
                   "to_units": recipients.to_units, "cc_units": recipients.cc_units}
        if plan:
            payload["plan"] = plan
        if message.items:
            payload["items"] = message.items
        return payload
    if channel == "wecom":
        if message.markdown:
            return {"msgtype": "markdown", "markdown": {"content": message.markdown}}
        mention = f"\n> 责任单位：{'、'.join(recipients.to_units)}" if recipients.to_units else ""
        return {"msgtype": "markdown", "markdown": {"content": f"**{message.subject}**\n{message.text}{mention}"}}
    if channel == "dingtalk":
        text = message.markdown or f"### {message.subject}\n\n" + message.text.replace("\n", "\n\n")
        return {"msgtype": "markdown", "markdown": {"title": message.subject[:60], "text": text}}
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
         timeout: float = 10.0, accepted: Callable[[], None] | None = None) -> None:
    """Deliver one message; raises DeliveryError with a message free of secrets. `accepted`
    is called the moment the receiver has taken the message (SMTP: the reply to DATA, before
    QUIT), so the outbox marks it sent with as little time as the protocol allows between the
    two."""
    config = alerts_settings(config)
    section = config.channel(channel)
    done = accepted or (lambda: None)
    try:
        if channel == "email":
            _send_email(payload, key, section, timeout, done)
            return
        if channel == "webhook":
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
    faults.point("outbox:accepted")
    done()


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


def _send_email(payload: dict[str, Any], key: str, section: dict[str, Any], timeout: float,
                accepted: Callable[[], None]) -> None:
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
    try:
        if security == "starttls":
            client.starttls(context=context)
        user, password = _env(section.get("username_env")), _env(section.get("password_env"))
        if user:
            client.login(user, password)
        client.send_message(message, to_addrs=to + cc)
        # The server has the message (250 to DATA): mark it now, not after QUIT's round trip.
        faults.point("outbox:accepted")
        accepted()
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


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


BOT_CHANNELS = ("wecom", "dingtalk")  # one group chat each: it gets the supervisors' digest only


def alert_rows(model: TargetsModel, events: Sequence[AlertEvent], period: str, config: AlertsSettings | dict[str, Any],
               report_link: str, region_names: dict[str, str] | None = None, *, now: datetime,
               plan: str = "", keyed: bool = False) -> list[dict[str, Any]]:
    """The outbox rows for one run's events (pure): one digest per recipient and channel, and
    the supervisors' digest. Email goes to each unit's addresses ([alerts.recipients]) and the
    supervisors'; a webhook gets every digest (its receiver routes them by `to_units` and
    `plan`); a WeCom or DingTalk group bot, one chat, gets the supervisors' digest only.
    `config` is the plan's own (AlertsSettings.for_plan); `plan` names it in the webhook's
    payload, and `keyed` puts it in the idempotency keys (every plan but the home one)."""
    config = alerts_settings(config)
    names = region_names or {}
    for event in events:
        log.info("alert %s %s %s region=%s %s->%s", period, event.kind, event.item_id, event.region or "-",
                 event.previous_code or "-", event.code)
    rows = []
    scope = ""
    if keyed and plan:  # not the home plan: say whose plan the mail is about
        found = next((p for p in model.plans if p.id == plan), None)
        scope = (names.get(found.region) or found.title) if found is not None else plan
    for digest in digests(model, events, config, names):
        message = compose_digest(digest, period, report_link, names, scope)
        who = "、".join(_display(u, names) for u in digest.to_units) or ("督办汇总" if digest.summary else "")
        emails: list[str] = []
        for unit in digest.to_units:
            for address in config.emails(unit) or config.emails(_display(unit, names)):
                if address not in emails:
                    emails.append(address)
        worst = min((x.event.code for x in digest.lines), key=lambda c: STATUS_LABELS.get(c, ("", "", 50))[2])
        for channel in enabled_channels(config):
            if channel in BOT_CHANNELS and not digest.summary:
                continue
            if channel == "webhook" and digest.summary and not digest.to_units:
                continue
            if channel == "email" and not emails:
                continue
            key = digest_key(period, digest, channel, plan if keyed else "")
            payload = channel_payload(channel, message, key, Recipients(digest.to_units, [], emails, []), plan)
            rows.append(outbox_row(key, period, "summary" if digest.summary else "digest", channel, who, message,
                                   payload, now, item_id=f"{len(digest.lines)} items", code=worst))
    return rows


def enqueue(bind: Any, model: TargetsModel, events: Sequence[AlertEvent], period: str,
            config: AlertsSettings | dict[str, Any], report_link: str, region_names: dict[str, str] | None = None, *,
            now: datetime) -> int:
    """Record the digests for `events` before anything is sent; returns how many new rows (a
    repeat of the same digest, same key, adds nothing). `bind`: an engine or a connection in
    a write transaction."""
    return insert_alerts(bind, alert_rows(model, events, period, config, report_link, region_names, now=now))


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
                    max_attempts: int = 8, claim_timeout: timedelta | None = None,
                    base_seconds: float = 60.0, clock: Callable[[], datetime] | None = None) -> dict[str, int]:
    """Send what is due; returns counts of sent / retry / dead. A message claimed by a process
    that died before marking it is due again after `claim_timeout` (default: [alerts]
    resend_after_minutes). `clock` gives the moment each message is marked sent (default: `now`)."""
    config = alerts_settings(config)
    if claim_timeout is None:
        claim_timeout = timedelta(minutes=config.resend_after_minutes)
    counts = {"sent": 0, "retry": 0, "dead": 0}
    for row in outbox.due_alerts(engine, now, claim_timeout):
        if not outbox.claim_alert(engine, row.id, now, claim_timeout):
            continue  # another process got there first
        try:
            send(row.channel, json.loads(row.payload), row.key, config, now,
                 accepted=lambda row_id=row.id: outbox.alert_sent(engine, row_id, clock() if clock else now))
        except DeliveryError as exc:
            attempts, dead = outbox.alert_failed(engine, row.id, now, str(exc), max_attempts,
                                                 lambda n: backoff(n, base_seconds))
            counts["dead" if dead else "retry"] += 1
            log.warning("alert %s via %s not delivered (attempt %s): %s", row.id, row.channel, attempts, exc)
            continue
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
