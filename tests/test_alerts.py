"""Alerts: transitions, recipients, and delivery through real SMTP and HTTP servers."""

import email
import email.policy
import json
import logging
import ssl
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from servers import RecordingHTTPServer, RecordingSMTPServer
from sqlalchemy import select

from tracker.alerts.outbox import (
    AlertEvent,
    backoff,
    deliver_pending,
    dingtalk_signed_url,
    enqueue,
    recipients_for,
    send_test_messages,
    transitions,
)
from tracker.status.engine import Status
from tracker.store.tables import alert_table
from tracker.targets.file import load_targets

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
BEDS = "hainan-6-elderly_care_beds_per_1000_elderly"
UNIVERSITIES = "hainan-15-senior_universities"


@pytest.fixture(scope="module")
def model():
    return load_targets(ROOT / "targets.yaml")


def status(item: str, code: str, region: str | None = None, subs: list[Status] | None = None) -> Status:
    return Status(item, "target", code, f"原因 {code}", f"reason {code}", "2026-11-30", region, {}, subs or [])


def test_becoming_lagging_fires_once_and_steady_state_fires_nothing():
    first = transitions({}, [status(BEDS, "lagging")])
    assert [(e.kind, e.code, e.previous_code) for e in first] == [("transition", "lagging", "")]
    again = transitions({(BEDS, ""): "lagging"}, [status(BEDS, "lagging")])
    assert again == []


def test_recovery_fires_and_first_seen_good_status_does_not():
    assert [e.kind for e in transitions({(BEDS, ""): "overdue"}, [status(BEDS, "achieved_late")])] == ["recovery"]
    assert transitions({}, [status(BEDS, "on_track")]) == []
    assert transitions({(BEDS, ""): "on_track"}, [status(BEDS, "achieved")]) == []


def test_overdue_that_stays_overdue_is_reminded_only_when_reminders_are_due():
    prev = {(BEDS, ""): "overdue"}
    assert transitions(prev, [status(BEDS, "overdue")], remind_overdue=False) == []
    assert [e.kind for e in transitions(prev, [status(BEDS, "overdue")], remind_overdue=True)] == ["reminder"]


def test_per_region_rows_flip_on_their_own():
    current = [status(UNIVERSITIES, "overdue", subs=[status(UNIVERSITIES, "achieved", "469001"),
                                                      status(UNIVERSITIES, "overdue", "469002")])]
    prev = {(UNIVERSITIES, ""): "overdue", (UNIVERSITIES, "469001"): "overdue", (UNIVERSITIES, "469002"): "lagging"}
    events = {(e.region, e.kind) for e in transitions(prev, current)}
    assert events == {("469001", "recovery"), ("469002", "transition")}


def test_recipients_lead_first_participating_copied(model):
    config = {"supervisors": ["省发展改革委"], "recipients": {
        "省民政厅": {"email": ["mzt@example.org"]}, "省发展改革委": {"email": ["fgw@example.org"]},
        "省财政厅": {"email": ["czt@example.org"]}}}
    r = recipients_for(model, "hainan-20-county_care_homes", "", config)
    assert r.to_units == ["省民政厅"]
    assert r.cc_units[:4] == ["省发展改革委", "省财政厅", "省卫生健康委", "省住房城乡建设厅"]
    assert r.email_to == ["mzt@example.org"] and r.email_cc == ["fgw@example.org", "czt@example.org"]
    region_row = recipients_for(model, UNIVERSITIES, "469002", config)
    assert region_row.to_units == ["省教育厅", "469002"]


def _event(kind: str = "transition", code: str = "lagging") -> AlertEvent:
    return AlertEvent(kind, BEDS, "", code, "on_track", "最新值 28张/千人，低于轨迹", "behind the trajectory")


def _rows(engine):
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(alert_table).order_by(alert_table.c.id))]


def test_email_over_real_smtp_server(engine, model):
    with RecordingSMTPServer() as smtp:
        config = {"channels": ["email"], "email": {"host": "127.0.0.1", "port": smtp.port, "security": "none",
                                                   "sender": "tracker@example.org"},
                  "recipients": {"省民政厅": {"email": ["mzt@example.org"]}},
                  "supervisors": ["省发展改革委"]}
        config["recipients"]["省发展改革委"] = {"email": ["fgw@example.org"]}
        # one flip: the lead unit's digest and the supervisors' digest
        assert enqueue(engine, model, [_event()], "2026-11", config, "reports/2026-11.html", now=NOW) == 2
        assert deliver_pending(engine, config, now=NOW) == {"sent": 2, "retry": 0, "dead": 0}
    assert len(smtp.messages) == 2
    by_rcpt = {tuple(rcpts): email.message_from_bytes(raw, policy=email.policy.default) for rcpts, raw in smtp.messages}
    assert set(by_rcpt) == {("mzt@example.org",), ("fgw@example.org",)}
    msg = by_rcpt[("mzt@example.org",)]
    assert msg["Subject"].startswith("【督办通知】2026-11 省民政厅") and "进度滞后 1 项" in msg["Subject"]
    assert msg["To"] == "mzt@example.org" and msg["Cc"] is None
    rows = {r["recipient"]: r for r in _rows(engine)}
    assert msg["X-Tracker-Idempotency-Key"] == rows["省民政厅"]["key"]
    assert msg["Message-ID"] == f"<{rows['省民政厅']['key']}@tracker>"
    body = msg.get_body(("plain",)).get_content()
    assert "reports/2026-11.html" in body and "原因" in body and "进展正常 → 进度滞后" in body
    assert by_rcpt[("fgw@example.org",)]["Subject"].startswith("【督办汇总】2026-11")
    assert {r["state"] for r in _rows(engine)} == {"sent"}


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def test_email_with_starttls_and_login_credentials_from_environment(engine, model, tmp_path, monkeypatch):
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    monkeypatch.setenv("SMTP_TEST_USER", "")
    with RecordingSMTPServer(tls_context=server_tls, require_starttls=True) as smtp:
        config = {"channels": ["email"], "email": {"host": "127.0.0.1", "port": smtp.port, "security": "starttls",
                                                   "ca_file": str(cert), "username_env": "SMTP_TEST_USER"},
                  "recipients": {"省民政厅": {"email": ["mzt@example.org"]}}}
        enqueue(engine, model, [_event()], "2026-11", config, "r.html", now=NOW)
        assert deliver_pending(engine, config, now=NOW)["sent"] == 1
    assert len(smtp.messages) == 1


def test_webhook_that_fails_twice_then_accepts_is_retried_with_backoff(engine, model):
    with RecordingHTTPServer(fail_first=2) as hook:
        config = {"channels": ["webhook"], "webhook": {"url": hook.url}}
        enqueue(engine, model, [_event()], "2026-11", config, "r.html", now=NOW)
        assert deliver_pending(engine, config, now=NOW) == {"sent": 0, "retry": 1, "dead": 0}
        row = _rows(engine)[0]
        assert row["state"] == "pending" and row["attempts"] == 1 and "HTTP 500" in row["last_error"]
        # not due yet: nothing is sent before the backoff has passed
        assert deliver_pending(engine, config, now=NOW + timedelta(seconds=30)) == {"sent": 0, "retry": 0, "dead": 0}
        assert deliver_pending(engine, config, now=NOW + backoff(1) + timedelta(seconds=1))["retry"] == 1
        later = NOW + backoff(1) + backoff(2) + timedelta(seconds=2)
        assert deliver_pending(engine, config, now=later)["sent"] == 1
    assert len(hook.requests) == 3
    keys = {r["headers"]["Idempotency-Key"] for r in hook.requests}
    assert keys == {_rows(engine)[0]["key"]}
    assert hook.requests[-1]["json"]["idempotency_key"] == _rows(engine)[0]["key"]
    assert _rows(engine)[0]["state"] == "sent" and _rows(engine)[0]["attempts"] == 3


def test_same_event_queued_twice_is_one_message(engine, model):
    config = {"channels": ["webhook"], "webhook": {"url": "http://127.0.0.1:9/unused"}}
    assert enqueue(engine, model, [_event()], "2026-11", config, "r.html", now=NOW) == 1
    assert enqueue(engine, model, [_event()], "2026-11", config, "r.html", now=NOW) == 0


def test_crash_between_send_and_mark_is_resent_with_same_key_after_timeout(engine, model):
    with RecordingHTTPServer() as hook:
        config = {"channels": ["webhook"], "webhook": {"url": hook.url}}
        enqueue(engine, model, [_event()], "2026-11", config, "r.html", now=NOW)
        # a process claimed it and died before marking it sent
        with engine.begin() as conn:
            conn.execute(alert_table.update().values(state="sending", claimed_at=NOW, attempts=1))
        assert deliver_pending(engine, config, now=NOW + timedelta(minutes=5))["sent"] == 0  # still claimed
        assert deliver_pending(engine, config, now=NOW + timedelta(minutes=11))["sent"] == 1
    assert len(hook.requests) == 1 and _rows(engine)[0]["state"] == "sent"


def test_wecom_and_dingtalk_group_bot_formats(engine, model, monkeypatch):
    with RecordingHTTPServer(reply={"errcode": 0, "errmsg": "ok"}) as bot:
        monkeypatch.setenv("WECOM_URL", bot.url + "?key=wecom-secret-key")
        monkeypatch.setenv("DING_URL", bot.url + "?access_token=ding-token")
        monkeypatch.setenv("DING_SECRET", "SECabc")
        config = {"channels": ["wecom", "dingtalk"], "wecom": {"url_env": "WECOM_URL"},
                  "dingtalk": {"url_env": "DING_URL", "secret_env": "DING_SECRET"}}
        enqueue(engine, model, [_event()], "2026-11", config, "r.html", now=NOW)
        assert deliver_pending(engine, config, now=NOW)["sent"] == 2
    wecom, ding = sorted(bot.requests, key=lambda r: "access_token" in r["path"])
    assert wecom["json"]["msgtype"] == "markdown" and "进度滞后" in wecom["json"]["markdown"]["content"]
    # a group bot is one chat: it gets the supervisors' digest of the run, once
    assert len(bot.requests) == 2
    assert ding["json"]["msgtype"] == "markdown" and ding["json"]["markdown"]["title"].startswith("【督办汇总】")
    assert "timestamp=" in ding["path"] and "sign=" in ding["path"]


def test_dingtalk_signature_is_hmac_of_timestamp_and_secret():
    url = dingtalk_signed_url("https://oapi.example/robot/send?access_token=t", "SECxyz", 1700000000000)
    import base64
    import hashlib
    import hmac
    import urllib.parse

    sign = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["sign"][0]
    expected = base64.b64encode(hmac.new(b"SECxyz", b"1700000000000\nSECxyz", hashlib.sha256).digest()).decode()
    assert sign == expected


def test_bot_errcode_is_a_failure_to_retry(engine, model, monkeypatch):
    with RecordingHTTPServer(reply={"errcode": 93000, "errmsg": "invalid webhook url"}) as bot:
        monkeypatch.setenv("WECOM_URL", bot.url)
        config = {"channels": ["wecom"], "wecom": {"url_env": "WECOM_URL"}}
        enqueue(engine, model, [_event()], "2026-11", config, "r.html", now=NOW)
        assert deliver_pending(engine, config, now=NOW)["retry"] == 1
    assert "93000" in _rows(engine)[0]["last_error"]


def test_nothing_secret_in_logs_or_outbox(engine, model, monkeypatch, caplog):
    """A server whose errors repeat the URL and the credentials: what reaches the log and
    the outbox has them scrubbed; the unit and status still read plainly."""
    with RecordingHTTPServer(echo_secrets=True) as bad:
        monkeypatch.setenv("SMTP_USER", "u")
        monkeypatch.setenv("SMTP_PW", "hunter2-smtp")
        monkeypatch.setenv("HOOK_TOKEN", "tok-9f8e7d")
        monkeypatch.setenv("WECOM_URL", bad.url + "?key=wecom-key-0000")
        config = {"channels": ["email", "webhook", "wecom"],
                  "email": {"host": "127.0.0.1", "port": 9, "security": "none", "username_env": "SMTP_USER",
                            "password_env": "SMTP_PW"},
                  "webhook": {"url": bad.url, "token_env": "HOOK_TOKEN"},
                  "wecom": {"url_env": "WECOM_URL"},
                  "recipients": {"省民政厅": {"email": ["mzt@example.org"]}}}
        caplog.set_level(logging.DEBUG)
        enqueue(engine, model, [_event()], "2026-11", config, "r.html", now=NOW)
        counts = deliver_pending(engine, config, now=NOW)
    assert counts["retry"] == 3
    assert len(bad.requests) == 2  # the webhook and the bot reached the server and got its echo
    stored = json.dumps(_rows(engine), default=str, ensure_ascii=False)
    for secret in ("hunter2-smtp", "tok-9f8e7d", "wecom-key-0000"):
        assert secret not in caplog.text
        assert secret not in stored
    assert "***" in stored and "Connection refused" in stored  # a one-letter user name mangles nothing


def test_alerts_test_sends_through_each_channel(monkeypatch):
    with RecordingHTTPServer(reply={"errcode": 0}) as hook:
        results = send_test_messages({"channels": ["webhook", "wecom"], "webhook": {"url": hook.url},
                                 "wecom": {"url": hook.url}}, now=datetime.now(UTC))
    assert results == [("webhook", "ok"), ("wecom", "ok")]
    assert len(hook.requests) == 2 and "测试" in json.dumps(hook.requests[0]["json"], ensure_ascii=False)


# ---------------------------------------------------------------------------------------
# Digests: one notice per recipient per run, and the supervisors' digest of everything

CARE_HOMES = "hainan-20-county_care_homes"  # lead 省民政厅, participating 省发展改革委, 省财政厅 …
ENROLMENT = "hainan-7-childcare_enrollment_rate"  # lead 省卫生健康委


def _binding(model, item_id):
    import dataclasses

    return dataclasses.replace(model, targets=[dataclasses.replace(t, attribute="binding") if t.id == item_id else t
                                               for t in model.targets])


def _flips():
    return [AlertEvent("transition", BEDS, "", "lagging", "on_track", "床位滞后", "beds behind"),
            AlertEvent("reminder", CARE_HOMES, "469002", "overdue", "overdue", "仍未建成", "still not built"),
            AlertEvent("transition", ENROLMENT, "", "overdue", "lagging", "在托率逾期", "enrolment overdue"),
            AlertEvent("recovery", UNIVERSITIES, "469001", "achieved", "overdue", "已建成", "built"),
            AlertEvent("transition", "hainan-17-elderly_care_worker_trainings", "", "overdue", "on_track",
                       "培训逾期", "training overdue")]


def test_one_digest_per_recipient_and_one_for_the_supervisors(model):
    from tracker.alerts.outbox import digests, recipients_for

    config = {"supervisors": ["省发展改革委"]}
    found = digests(model, _flips(), config, {"469001": "五指山市", "469002": "文昌市"})
    recipients = [d.recipient for d in found]
    assert len(recipients) == len(set(recipients))  # one each
    expected = set()
    for e in _flips():
        r = recipients_for(model, e.item_id, e.region, config)
        expected |= {u for u in r.to_units + r.cc_units if u != "省发展改革委"}
    assert set(recipients) == expected | {""}  # every unit answering for an item, and the summary
    summary = next(d for d in found if d.summary)
    assert summary.to_units == ["省发展改革委"] and len(summary.lines) == len(_flips())
    mzt = next(d for d in found if d.recipient == "省民政厅")
    assert {x.event.item_id for x in mzt.lines} == {BEDS, CARE_HOMES, "hainan-17-elderly_care_worker_trainings"}


def test_a_digest_groups_by_status_lists_binding_targets_first_and_says_what_changed(model):
    from tracker.alerts.outbox import compose_digest, digests

    model = _binding(model, "hainan-17-elderly_care_worker_trainings")
    names = {"469001": "五指山市", "469002": "文昌市"}
    mzt = next(d for d in digests(model, _flips(), {}, names) if d.recipient == "省民政厅")
    message = compose_digest(mzt, "2026-11", "https://r/2026-11.html", names)
    assert message.subject == "【督办通知】2026-11 省民政厅：逾期未完成 2 项（约束性 1 项）、进度滞后 1 项"
    text = message.text
    overdue, lagging = text.index("一、逾期未完成（2）"), text.index("二、进度滞后（1）")
    assert overdue < lagging
    first = text[overdue:lagging].splitlines()[1]
    assert first.startswith("1. 【约束性】培训养老护理人员")  # binding first, marked
    assert "变化：进展正常 → 逾期未完成" in text  # what changed since the last notice
    assert "变化：仍为逾期未完成（上次通知后未改善）" in text and "（文昌市）" in text
    assert "牵头：省民政厅、文昌市；参加：省发展改革委、省财政厅" in text  # a region's row: its government leads too
    assert "[binding] " in text and "on track → overdue" in text  # English below
    assert "**【约束性】**" in message.markdown and "### 一、逾期未完成（2）" in message.markdown
    assert "<strong>【约束性】</strong>" in message.html
    assert [i["binding"] for i in message.items][:1] == [True]


def test_a_long_digest_fits_a_group_bot_and_says_what_it_left_out(model):
    from tracker.alerts.outbox import MARKDOWN_BYTES, Digest, DigestLine, Recipients, compose_digest

    lines = [DigestLine(AlertEvent("transition", BEDS, f"46{n:04d}", "overdue", "on_track", "原因" * 20, "r"),
                        "每千名老年人口养老床位数" * 2, False, f"地区{n}", Recipients(["省民政厅"], []))
             for n in range(200)]
    message = compose_digest(Digest("", [], lines, summary=True), "2026-11", "https://r")
    assert len(message.markdown.encode()) <= MARKDOWN_BYTES + 200
    assert "另有" in message.markdown and "详见报告" in message.markdown
    assert message.text.count("变化：") == 200  # email keeps every item


def test_a_run_sends_each_address_one_message_however_many_items_flipped(tmp_path, engine, model):
    from tracker.config import settings_from_mapping
    from tracker.service import Tracker

    model = _binding(model, BEDS)
    codes = iter([{}, {BEDS: "lagging", ENROLMENT: "overdue", "hainan-21-township_elderly_care_coverage": "stale",
                       "hainan-17-elderly_care_worker_trainings": "overdue"}])

    def pipeline(tracker, period, late, lease):
        chosen = next(codes)
        items = [BEDS, ENROLMENT, "hainan-21-township_elderly_care_coverage", "hainan-17-elderly_care_worker_trainings"]
        return (str(tmp_path / f"{period}.html"),
                [Status(i, "target", chosen.get(i, "on_track"), f"原因{i}", f"reason {i}", period, None) for i in items])

    with RecordingSMTPServer() as smtp:
        recipients = {u: {"email": [f"{n}@example.org"]} for n, u in enumerate(
            ["省民政厅", "省卫生健康委", "省发展改革委", "省财政厅"])}
        settings = settings_from_mapping({"alerts": {
            "channels": ["email"], "supervisors": ["省发展改革委"], "recipients": recipients,
            "email": {"host": "127.0.0.1", "port": smtp.port, "security": "none"}}},
            database_url=str(engine.url), reports_dir=tmp_path / "reports")
        for period in ("2026-09", "2026-10"):
            tracker = Tracker(settings, engine=engine, model=model, clock=lambda: datetime(2026, 12, 12, tzinfo=UTC))
            tracker.run_month(period, pipeline=pipeline)
    addresses = [rcpts[0] for rcpts, _raw in smtp.messages]
    assert len(addresses) == len(set(addresses)) == 4  # one each: three units and the supervisors
    by_address = {rcpts[0]: email.message_from_bytes(raw, policy=email.policy.default) for rcpts, raw in smtp.messages}
    mzt = by_address["0@example.org"]
    assert "约束性 1 项" in mzt["Subject"]
    assert by_address["2@example.org"]["Subject"].startswith("【督办汇总】2026-10")


# ---------------------------------------------------------------------------------------
# At least once, deduplicable: the window between the server's acceptance and the mark


def test_the_message_is_marked_sent_before_the_smtp_quit(engine, model):
    states = []

    def at_quit():
        states.append(_rows(engine)[0]["state"])

    with RecordingSMTPServer(on_quit=at_quit) as smtp:
        config = {"channels": ["email"], "email": {"host": "127.0.0.1", "port": smtp.port, "security": "none"},
                  "recipients": {"省民政厅": {"email": ["mzt@example.org"]}}}
        enqueue(engine, model, [_event()], "2026-11", config, "r.html", now=NOW)
        assert deliver_pending(engine, config, now=NOW)["sent"] == 1
    assert states == ["sent"]  # the QUIT round trip is outside the window


def test_a_sender_killed_between_acceptance_and_mark_sends_one_copy_per_resend_window(tmp_path, db_url, engine, model):
    from faultrun import kill9, start, write_config

    from tracker import faults
    from tracker.config import load_settings

    with RecordingSMTPServer() as smtp:
        config = write_config(tmp_path, '[alerts]\nchannels = ["email"]\nresend_after_minutes = 3\n'
                                        f'[alerts.email]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
                                        '[alerts.recipients."省民政厅"]\nemail = ["mzt@example.org"]\n')
        alerts = load_settings(config).alerts
        enqueue(engine, model, [_event()], "2026-11", alerts, "r.html", now=datetime.now(UTC) - timedelta(seconds=1))
        child = start(["alerts", "deliver"], config, db_url, points="outbox:accepted")
        faults.wait_reached(tmp_path, "outbox:accepted", child)
        assert len(smtp.messages) == 1  # the server has it; the outbox does not know yet
        kill9(child)
        row = _rows(engine)[0]
        assert row["state"] == "sending"
        claimed = row["claimed_at"]
        for minutes in (1, 2, 2.9):  # within the window: no copy
            assert deliver_pending(engine, alerts, now=claimed + timedelta(minutes=minutes))["sent"] == 0
        assert len(smtp.messages) == 1
        assert deliver_pending(engine, alerts, now=claimed + timedelta(minutes=3, seconds=1))["sent"] == 1
        assert deliver_pending(engine, alerts, now=claimed + timedelta(minutes=30))["sent"] == 0
    ids = [email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"] for _r, raw in smtp.messages]
    assert len(ids) == 2 and len(set(ids)) == 1 and ids[0] == f"<{row['key']}@tracker>"  # a receiver can drop it
    assert _rows(engine)[0]["state"] == "sent"
