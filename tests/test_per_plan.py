"""Every plan on its own: two province plans in one database (Hainan's, the home plan, and the
Guangdong fixture plan), each with its own report, its own alerts and reminders addressed to
its own units and regions (through a real SMTP server), and nothing of one reaching the other."""

import email
import email.policy
import io
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from servers import RecordingHTTPServer, RecordingSMTPServer
from test_plans import with_guangdong

from tracker.actuals.entry import import_file
from tracker.config import ConfigError, settings_from_mapping
from tracker.service import Tracker
from tracker.targets.file import parse_targets

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Hainan's units (the top-level [alerts] recipients, as before) and Guangdong's (its own
# [alerts.plans.guangdong] table): the same names, other people.
HAINAN = {"省民政厅": "hn-mzt@hainan.example", "省卫生健康委": "hn-wjw@hainan.example",
          "省教育厅": "hn-jyt@hainan.example", "省发展改革委": "hn-fgw@hainan.example",
          "海口市": "haikou@hainan.example", "琼中黎族苗族自治县": "qiongzhong@hainan.example"}
GUANGDONG = {"省民政厅": "gd-mzt@guangdong.example", "省教育厅": "gd-jyt@guangdong.example",
             "省发展改革委": "gd-fgw@guangdong.example", "广州市": "guangzhou@guangdong.example",
             "深圳市": "shenzhen@guangdong.example"}


def _settings(tmp_path: Path, db_url: str, smtp_port: int, hook_url: str = "", **extra):
    targets = tmp_path / "targets.yaml"
    channels = ["email"] + (["webhook"] if hook_url else [])
    alerts = {"channels": channels, "supervisors": ["省发展改革委"],
              "recipients": {u: {"email": [a]} for u, a in HAINAN.items()},
              "email": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
              "plans": {"guangdong": {"supervisors": ["省发展改革委"],
                                      "recipients": {u: {"email": [a]} for u, a in GUANGDONG.items()}}},
              **extra}
    if hook_url:
        alerts["webhook"] = {"url": hook_url}
    return settings_from_mapping({"alerts": alerts}, database_url=db_url, targets_path=targets,
                                 reports_dir=tmp_path / "reports")


def _tracker(settings, engine, moment: datetime) -> Tracker:
    return Tracker(settings, engine=engine, clock=lambda: moment)


def _messages(smtp) -> list[tuple[list[str], email.message.EmailMessage]]:
    return [(rcpts, email.message_from_bytes(raw, policy=email.policy.default)) for rcpts, raw in smtp.messages]


def _body(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def two_plans(tmp_path, small_model):
    (tmp_path / "targets.yaml").write_text(with_guangdong(small_model), encoding="utf-8")
    return parse_targets(with_guangdong(small_model))


def _regions(tracker: Tracker, plan: str) -> set[str]:
    return {r.name for r in tracker.plan_regions(plan).all} - {tracker.plan_regions(plan).province.name}


def test_the_monthly_run_reports_and_alerts_each_plan_to_its_own_units(tmp_path, db_url, engine, two_plans):
    with RecordingSMTPServer() as smtp, RecordingHTTPServer() as hook:
        settings = _settings(tmp_path, db_url, smtp.port, hook.url)
        # June: the first run for both plans, nothing to compare with, no alert.
        first = _tracker(settings, engine, datetime(2025, 7, 12, 2, tzinfo=UTC)).run_month("2025-06")
        assert first.state == "succeeded" and first.alerts == 0
        # July: the milestones still overdue are in the notices again, each plan's to its own.
        tracker = _tracker(settings, engine, datetime(2025, 8, 12, 2, tzinfo=UTC))
        outcome = tracker.run_month("2025-07")
    assert outcome.state == "succeeded" and outcome.alerts > 0
    reports = tmp_path / "reports"
    assert Path(outcome.report_path) == reports / "2025-07.html"  # Hainan's stays where it was
    gd_report = reports / "plans" / "guangdong" / "2025-07.html"
    assert gd_report.exists() and (reports / "plans" / "guangdong" / "index.html").exists()
    gd_json = json.loads((reports / "plans" / "guangdong" / "2025-07.json").read_text(encoding="utf-8"))
    hn_json = json.loads((reports / "2025-07.json").read_text(encoding="utf-8"))
    assert gd_json["plan"]["id"] == "guangdong" and hn_json["plan"]["id"] == "hainan"
    gd_items = {it["id"] for s in gd_json["sections"] for it in s["items"]}
    hn_items = {it["id"] for s in hn_json["sections"] for it in s["items"]}
    assert gd_items == {"gd-beds-ratio-2025", "gd-universities-each-2025", "gd-m1"}
    assert hn_items == {"beds_ratio_2025", "universities_each", "hainan-m1", "hainan-m2"}
    gd_regions, hn_regions = _regions(tracker, "guangdong"), _regions(tracker, "hainan")
    assert {r["name"] for r in gd_json["completeness"]["by_region"]} <= gd_regions

    messages = _messages(smtp)
    by_address: dict[str, list[email.message.EmailMessage]] = {}
    for rcpts, message in messages:
        for address in rcpts:
            by_address.setdefault(address, []).append(message)
    assert len(messages) == len({tuple(r) for r, _ in messages})  # one message per recipient
    # Hainan's and Guangdong's 省民政厅 each hear of their own plan's overdue milestone only.
    (hn_mzt,), (gd_mzt,) = by_address[HAINAN["省民政厅"]], by_address[GUANGDONG["省民政厅"]]
    assert "hainan#1" in _body(hn_mzt) and "guangdong#" not in _body(hn_mzt)
    assert "guangdong#1" in _body(gd_mzt) and "hainan#" not in _body(gd_mzt)
    # Each supervisor's digest: its own plan's items, its own report linked.
    (hn_sum,), (gd_sum,) = by_address[HAINAN["省发展改革委"]], by_address[GUANGDONG["省发展改革委"]]
    # the home plan's subject as before; another plan's names its area, so a reader of both knows which
    assert hn_sum["Subject"].startswith("【督办汇总】2025-07") and gd_sum["Subject"].startswith("【督办汇总】广东省 2025-07")
    assert gd_mzt["Subject"].startswith("【督办通知】广东省 2025-07 省民政厅")
    assert "guangdong#" not in _body(hn_sum) and "hainan#" not in _body(gd_sum)
    assert str(gd_report.resolve()) in _body(gd_sum) and str((reports / "2025-07.html").resolve()) in _body(hn_sum)
    for address, got in by_address.items():
        text = "\n".join(_body(m) for m in got)
        if address.endswith("@hainan.example"):
            assert not any(name in text for name in gd_regions - hn_regions), address
            assert "guangdong#" not in text and "广东" not in text, address
        else:
            assert address.endswith("@guangdong.example"), address
            assert not any(name in text for name in hn_regions - gd_regions), address
            assert "hainan#" not in text and "海南" not in text, address
    # The webhook gets every digest, each naming the plan its units belong to.
    payloads = [r["json"] for r in hook.requests]
    gd_payloads = [p for p in payloads if p.get("plan") == "guangdong"]
    assert gd_payloads and all("guangdong#" in p["text"] and "hainan#" not in p["text"] for p in gd_payloads)
    assert all("guangdong#" not in p["text"] for p in payloads if "plan" not in p)


def test_reminders_ask_each_plans_own_regions_and_units(tmp_path, db_url, engine, two_plans):
    tracker0 = _tracker(_settings(tmp_path, db_url, 1), engine, datetime(2025, 12, 1, tzinfo=UTC))
    hainan, guangdong = tracker0.plan_regions("hainan"), tracker0.plan_regions("guangdong")
    # 2024's senior universities: every Hainan 市县 but 琼中, and Guangdong's cities but 深圳 and 广州.
    rows = [f"senior_universities,{r.code},2024,2" for r in hainan.counties() if r.name != "琼中黎族苗族自治县"]
    (tmp_path / "hn.csv").write_text("indicator,region,period,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    import_file(engine, tmp_path / "hn.csv", two_plans, entered_by="省教育厅", now=datetime(2025, 1, 5, tzinfo=UTC),
                regions=hainan)
    rows = [f"senior_universities,{r.code},2024,3" for r in guangdong.counties() if r.name not in ("深圳市", "广州市")]
    (tmp_path / "gd.csv").write_text("indicator,region,period,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    import_file(engine, tmp_path / "gd.csv", two_plans, entered_by="省教育厅", now=datetime(2025, 1, 5, tzinfo=UTC),
                regions=guangdong)
    with RecordingSMTPServer() as smtp:
        settings = _settings(tmp_path, db_url, smtp.port)
        tracker = _tracker(settings, engine, datetime(2025, 12, 7, 9, tzinfo=SHANGHAI))
        gaps = {g.indicator: g for g in tracker.completeness(grace_days=0, plan="guangdong")}
        assert sorted(guangdong.get(c).name for c in gaps["senior_universities"].missing) == ["广州市", "深圳市"]
        assert len(gaps["senior_universities"].expected) == 21
        home = {g.indicator: g for g in tracker.completeness(grace_days=0)}
        assert [hainan.get(c).name for c in home["senior_universities"].missing] == ["琼中黎族苗族自治县"]
        queued = tracker.remind()
    assert queued == len(smtp.messages) > 0
    got = {tuple(rcpts): message for rcpts, message in _messages(smtp)}
    assert len(got) == len(smtp.messages)  # one message per recipient
    hn_jyt = _body(got[(HAINAN["省教育厅"],)])
    assert "1/19 个地区未报送：琼中黎族苗族自治县" in hn_jyt and "深圳" not in hn_jyt
    gd_jyt = _body(got[(GUANGDONG["省教育厅"],)])
    assert "2/21 个地区未报送：" in gd_jyt and "广州市" in gd_jyt and "深圳市" in gd_jyt and "琼中" not in gd_jyt
    assert "老年大学数（2024）" in _body(got[(GUANGDONG["深圳市"],)])
    assert "老年大学数（2024）" in _body(got[(HAINAN["琼中黎族苗族自治县"],)])
    assert "老年大学数" not in _body(got[(HAINAN["海口市"],)])  # Haikou reported its universities
    gd_mzt, hn_mzt = _body(got[(GUANGDONG["省民政厅"],)]), _body(got[(HAINAN["省民政厅"],)])
    assert "21/21 个地区未报送" in gd_mzt and "19/19 个地区未报送" in hn_mzt  # beds per 1,000: nobody yet
    hn_only, gd_only = _regions(tracker, "hainan") - _regions(tracker, "guangdong"), \
        _regions(tracker, "guangdong") - _regions(tracker, "hainan")
    for rcpts, message in got.items():
        text = _body(message)
        mine, theirs = (hn_only, gd_only) if rcpts[0].endswith("@hainan.example") else (gd_only, hn_only)
        assert not any(name in text for name in theirs), rcpts


def test_a_plan_without_its_own_table_reaches_none_of_the_home_plans_units(tmp_path, db_url, engine, two_plans):
    with RecordingSMTPServer() as smtp:
        settings = _settings(tmp_path, db_url, smtp.port, plans={})
        for month, moment in (("2025-06", datetime(2025, 7, 12, 2, tzinfo=UTC)),
                              ("2025-07", datetime(2025, 8, 12, 2, tzinfo=UTC))):
            _tracker(settings, engine, moment).run_month(month)
    addresses = {a for rcpts, _ in smtp.messages for a in rcpts}
    assert addresses and all(a.endswith("@hainan.example") for a in addresses)
    assert all("guangdong#" not in _body(m) for _, m in _messages(smtp))


def test_per_plan_alert_settings_are_checked_with_the_key_and_what_is_accepted(tmp_path):
    with pytest.raises(ConfigError, match=r"plans.guangdong has no setting 'recipient'; accepted: supervisors, "
                                          r"recipients"):
        settings_from_mapping({"alerts": {"plans": {"guangdong": {"recipient": {}}}}})
    with pytest.raises(ConfigError, match=r"plans.guangdong.supervisors = '省发展改革委': expected a list"):
        settings_from_mapping({"alerts": {"plans": {"guangdong": {"supervisors": "省发展改革委"}}}})
    alerts = settings_from_mapping({"alerts": {"channels": ["email", "wecom"], "wecom": {"url_env": "HN_BOT"},
                                               "report_base_url": "https://t.example/reports",
                                               "recipients": {"省民政厅": {"email": ["hn@x"]}},
                                               "plans": {"guangdong": {"recipients": {"省民政厅": {"email": ["gd@x"]}}}}}}
                                   ).alerts
    home, gd = alerts.for_plan("hainan", True), alerts.for_plan("guangdong", False)
    assert home.emails("省民政厅") == ["hn@x"] and gd.emails("省民政厅") == ["gd@x"]
    assert home.channels == ["email", "wecom"] and gd.channels == ["email"]  # Hainan's group chat is Hainan's
    assert gd.report_base_url == "https://t.example/reports/plans/guangdong"
    assert alerts.for_plan("zhejiang", False).emails("省民政厅") == []


def test_a_report_for_one_plan_on_demand(tmp_path, db_url, engine, two_plans):
    tracker = _tracker(_settings(tmp_path, db_url, 1), engine, datetime(2025, 8, 12, 2, tzinfo=UTC))
    files = tracker.write_report(date(2025, 7, 31), plan="guangdong")
    assert Path(files.html) == tmp_path / "reports" / "plans" / "guangdong" / "2025-07.html"
    assert {s.item_id for s in files.statuses} == {"gd-beds-ratio-2025", "gd-universities-each-2025", "gd-m1"}
    english = tracker.write_report(date(2025, 7, 31), plan="guangdong", lang="en")
    assert Path(english.html) == tmp_path / "reports" / "en" / "plans" / "guangdong" / "2025-07.html"
    assert "广东省" in Path(files.html).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------
# Templates, approvals and web entry: a region's reporter works in the plan holding its region


def test_a_regions_template_is_the_form_of_the_plan_holding_it(tmp_path, db_url, engine, two_plans):
    from openpyxl import load_workbook

    tracker = _tracker(_settings(tmp_path, db_url, 1), engine, datetime(2025, 3, 1, tzinfo=UTC))
    counts = tracker.write_template(tmp_path / "gz.xlsx", "广州", "2024")
    sheet = load_workbook(tmp_path / "gz.xlsx")["填报"]
    names = [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert names[0] == "广州市" and "天河区" in names and counts["regions"] == len(names) == 12
    header = [c.value for c in sheet[2]]
    assert any("[senior_universities]" in h for h in header if h)
    assert not any("[childcare_enrollment_rate]" in h for h in header if h)  # no Guangdong target needs it
    tracker.write_template(tmp_path / "mzt.xlsx", "省民政厅", "2024", plan="guangdong")
    rows = [row[0] for row in load_workbook(tmp_path / "mzt.xlsx")["填报"].iter_rows(min_row=3, values_only=True)]
    assert rows[0] == "广东省" and "深圳市" in rows and "海口市" not in rows
    hainan = [row[0] for row in (lambda p: (tracker.write_template(p, "省民政厅", "2024"), load_workbook(p))[1])(
        tmp_path / "hn.xlsx")["填报"].iter_rows(min_row=3, values_only=True)]
    assert hainan[0] == "海南省" and "深圳市" not in hainan  # the home plan's unit, as before
    # The filled form imports back: Guangzhou's cells are Guangdong's plan's regions.
    book = load_workbook(tmp_path / "gz.xlsx")
    col = next(i for i, c in enumerate(book["填报"][2], 1) if "[senior_universities]" in (c.value or ""))
    book["填报"].cell(row=3, column=col, value=4)
    book.save(tmp_path / "gz.xlsx")
    assert tracker.import_file(tmp_path / "gz.xlsx", entered_by="gz").written == 1


def test_approvals_follow_the_plans_own_region_hierarchy(tmp_path, db_url, engine, two_plans):
    tracker = _tracker(_settings(tmp_path, db_url, 1), engine, datetime(2025, 3, 1, tzinfo=UTC))
    tracker.record("senior_universities", "广州", "2024", "4", entered_by="gz")
    submitted = tracker.submit("广州", "2024", actor=tracker.actor("gz", "广州", plan="guangdong"), plan="guangdong")
    assert submitted.state == "submitted" and submitted.unit.name == "广州市"
    assert submitted.approvers == ["440000"]  # a city of Guangdong's plan: its province approves
    waiting = tracker.approvals("guangdong", waiting_for=tracker.actor("gd", "广东省", plan="guangdong"))
    assert [s.unit.name for s in waiting] == ["广州市"]


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_a_reporter_of_another_plans_region_enters_and_downloads_in_that_plan(tmp_path, db_url, engine, two_plans,
                                                                              monkeypatch):
    from argon2 import PasswordHasher
    from openpyxl import load_workbook
    from starlette.testclient import TestClient
    from test_web import PASSWORD, entry, post_form, sign_in, text_of

    from tracker.web import auth
    from tracker.web.app import create_app

    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(auth, "_DUMMY_HASH", None)
    moment = datetime(2025, 3, 10, 2, tzinfo=UTC)
    settings = _settings(tmp_path, db_url, 1)
    app = create_app(settings, engine=engine, clock=lambda: moment)
    auth.add_user(engine, "boss", PASSWORD, "supervisor", now=moment)
    boss = TestClient(app)
    assert sign_in(boss, "boss").status_code == 303
    # The supervisor adds a reporter for Guangzhou: a region of Guangdong's plan, not Hainan's.
    r = post_form(boss, "/users", "/users", {"username": "gz", "password": PASSWORD, "role": "reporter",
                                             "region": "广州", "department": ""})
    assert r.status_code == 200 and "已添加用户 gz" in r.text
    assert auth.find_user(engine, "gz").region == "440100"
    gz = TestClient(app)
    assert sign_in(gz, "gz").status_code == 303
    page = gz.get("/entry")
    assert page.status_code == 200 and "数据填报：广州市" in text_of(page.text)
    assert 'name="value.senior_universities"' in page.text
    assert 'name="value.childcare_enrollment_rate"' not in page.text  # no Guangdong target needs it
    assert "海口" not in text_of(page.text)
    saved = entry(gz, "440106", value__senior_universities="2", period__senior_universities="2024")  # 天河区
    assert saved.status_code == 200 and "已保存 1 项" in saved.text
    refused = entry(gz, "460100", value__senior_universities="2", period__senior_universities="2024")  # 海口
    assert refused.status_code == 403
    # Its template is Guangzhou's, in Guangdong's plan.
    r = gz.get("/template", params={"unit": "广州", "period": "2024"})
    assert r.status_code == 200
    rows = [row[0] for row in load_workbook(io.BytesIO(r.content))["填报"].iter_rows(min_row=3, values_only=True)]
    assert rows[0] == "广州市" and "天河区" in rows
    assert gz.get("/template", params={"unit": "海口", "period": "2024"}).status_code == 403
    # Its submission is one of Guangdong's plan, for Guangdong's province to approve.
    assert "已保存 1 项" in entry(gz, "440100", value__senior_universities="9", period__senior_universities="2024").text
    r = post_form(gz, "/approvals", "/approvals/submit", {"period": "2024"})
    assert r.status_code == 200 and "已提交：广州市 2024，等待广东省审核" in text_of(r.text)
    # The supervisor's completeness page: the home plan's by default, each other plan's a click away.
    home = text_of(boss.get("/completeness").text)
    assert "广东省促进养老托育服务健康发展实施方案（测试用）" in home and "/19" in home and "深圳" not in home
    gd = text_of(boss.get("/completeness", params={"plan": "guangdong"}).text)
    assert "1/21" in gd and "深圳市" in gd and "海口" not in gd and "琼中" not in gd


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_a_department_account_names_its_plan(tmp_path, db_url, engine, two_plans, monkeypatch):
    """省民政厅 is a unit of both plans: an account naming plan guangdong is Guangdong's (its
    regions, its indicators, its submissions), one naming none is Hainan's as before."""
    from argon2 import PasswordHasher
    from click.testing import CliRunner
    from starlette.testclient import TestClient
    from test_web import PASSWORD, entry, post_form, sign_in, text_of

    from tracker.cli.main import cli
    from tracker.web import auth
    from tracker.web.app import create_app

    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(auth, "_DUMMY_HASH", None)
    moment = datetime(2025, 3, 10, 2, tzinfo=UTC)
    settings = _settings(tmp_path, db_url, 1)
    app = create_app(settings, engine=engine, clock=lambda: moment)
    auth.add_user(engine, "boss", PASSWORD, "supervisor", now=moment)
    boss = TestClient(app)
    assert sign_in(boss, "boss").status_code == 303
    form = boss.get("/users").text
    assert 'name="plan"' in form and "广东省促进养老托育服务健康发展实施方案（测试用）" in form
    assert '<option value="440100">广州市</option>' in form and '<option value="460100">海口市</option>' in form
    r = post_form(boss, "/users", "/users", {"username": "gd-mca", "password": PASSWORD, "role": "reporter",
                                             "department": "省民政厅", "region": "", "plan": "guangdong"})
    assert r.status_code == 200 and "已添加用户 gd-mca" in r.text
    assert auth.find_user(engine, "gd-mca").plan == "guangdong"
    refused = post_form(boss, "/users", "/users", {"username": "gd-x", "password": PASSWORD, "role": "reporter",
                                                   "department": "", "region": "海口", "plan": "guangdong"})
    assert refused.status_code == 400 and "不在规划「guangdong」的范围内；含该地区的规划：hainan" in text_of(refused.text)
    # the command line too, with what is accepted
    config = tmp_path / "tracker.toml"
    config.write_text(f'[tracker]\ndatabase_url = "{db_url}"\ntargets_path = "{settings.targets_path}"\n',
                      encoding="utf-8")
    out = CliRunner().invoke(cli, ["--config", str(config), "users", "add", "hn-mca", "--role", "reporter",
                                   "--department", "省民政厅", "--plan", "nowhere", "--password-stdin"],
                             input=PASSWORD + "\n")
    assert out.exit_code != 0 and "未知规划「nowhere」；可选：hainan、guangdong" in out.output
    out = CliRunner().invoke(cli, ["--config", str(config), "users", "add", "hn-mca", "--role", "reporter",
                                   "--department", "省民政厅", "--password-stdin"], input=PASSWORD + "\n")
    assert out.exit_code == 0, out.output

    gd, hn = TestClient(app), TestClient(app)
    assert sign_in(gd, "gd-mca").status_code == 303 and sign_in(hn, "hn-mca").status_code == 303
    page = text_of(gd.get("/entry?region=440100").text)
    assert "广州市" in page and "海口" not in page
    assert "已保存 1 项" in entry(gd, "440100", value__elderly_care_beds="60000", period__elderly_care_beds="2024").text
    assert entry(gd, "460100", value__elderly_care_beds="1", period__elderly_care_beds="2024").status_code == 403
    assert entry(hn, "440100", value__elderly_care_beds="1", period__elderly_care_beds="2024").status_code == 403
    assert "已保存 1 项" in entry(hn, "460100", value__elderly_care_beds="5000", period__elderly_care_beds="2024").text
    from sqlalchemy import select

    from tracker.store.tables import observation_table as t

    with engine.connect() as conn:
        stored = set(conn.execute(select(t.c.region, t.c.entered_by).where(t.c.indicator == "elderly_care_beds")))
    assert stored == {("440100", "gd-mca"), ("460100", "hn-mca")}
    # its submission is one of Guangdong's plan
    r = post_form(gd, "/approvals", "/approvals/submit", {"period": "2024"})
    assert r.status_code == 200 and "已提交：省民政厅 2024" in text_of(r.text)
    tracker = Tracker(settings, engine=engine, clock=lambda: moment)
    (submitted,) = tracker.approvals("guangdong", count=True)
    assert (submitted.unit.key, submitted.state, submitted.figures) == ("省民政厅", "submitted", 1)  # Guangdong's value only
    assert tracker.approvals("hainan", unit="省民政厅", count=True)[0].state != "submitted"


def test_another_plans_report_reads_right_on_a_phone_and_a_desk(browser, tmp_path, db_url, engine, two_plans):
    from pages import WIDTHS, Shots, check_layout, page_text

    tracker = _tracker(_settings(tmp_path, db_url, 1), engine, datetime(2025, 8, 12, 2, tzinfo=UTC))
    tracker.record("senior_universities", "广州", "2024", "4", entered_by="gz")
    shots = Shots(tmp_path)
    for lang in ("zh", "en"):
        path = Path(tracker.write_report(date(2025, 7, 31), plan="guangdong", lang=lang).html)
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(path.as_uri())
            where = f"Guangdong's report ({lang}) at {width}px"
            assert check_layout(page, where) > 10, where
            text = page_text(page)
            if lang == "zh":
                assert "广东省" in text and "广州市" in text and "海口" not in text, where
                assert {w for w in re.findall(r"[A-Za-z]{2,}", text)} <= {"SAMPLE"}, where
            else:
                assert "Guangdong" in text and "Haikou" not in text, where
            shots.take(page, f"report-guangdong-{lang}")
            page.close()


def test_a_return_and_the_approval_reminders_reach_the_plans_own_regions(tmp_path, db_url, engine, two_plans):
    with RecordingSMTPServer() as smtp:
        settings = _settings(tmp_path, db_url, smtp.port)
        settings.approval.required, settings.approval.plans = True, ["guangdong"]
        tracker = _tracker(settings, engine, datetime(2025, 3, 3, 2, tzinfo=UTC))
        tracker.record("senior_universities", "广州", "2024", "4", entered_by="gz")
        tracker.submit("广州", "2024", actor=tracker.actor("gz", "广州", plan="guangdong"), plan="guangdong")
        tracker.return_("广州", "2024", actor=tracker.actor("gd", "广东省", plan="guangdong"), reason="与统计不符",
                        plan="guangdong")
        tracker.deliver_alerts()
        (rcpts, returned), = _messages(smtp)
        assert rcpts == [GUANGDONG["广州市"]] and "与统计不符" in _body(returned)
        smtp.messages.clear()
        tracker.remind()
    got = {tuple(r): m for r, m in _messages(smtp)}
    assert "2024" in _body(got[(GUANGDONG["深圳市"],)]) and "提交" in got[(GUANGDONG["深圳市"],)]["Subject"]
    assert "与统计不符" in _body(got[(GUANGDONG["广州市"],)])  # still to submit again, with the reason
    # Hainan's plan requires no approval: none of its regions hears of submitting.
    assert not [m for r, m in got.items() if r[0].endswith("@hainan.example") and "提交提醒" in m["Subject"]]


def test_the_template_command_makes_another_plans_form(tmp_path, engine, cli_model, small_model):
    from click.testing import CliRunner
    from openpyxl import load_workbook

    from tracker.cli.main import cli

    cli_model(parse_targets(with_guangdong(small_model)))
    runner = CliRunner()
    out = tmp_path / "gz.xlsx"
    done = runner.invoke(cli, ["template", "--unit", "广州", "--period", "2024", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert "12 个地区" in done.output
    assert next(load_workbook(out)["填报"].iter_rows(min_row=3, values_only=True))[0] == "广州市"
    unit = runner.invoke(cli, ["template", "--unit", "省教育厅", "--plan", "guangdong", "--period", "2024",
                               "-o", str(tmp_path / "jyt.xlsx")])
    assert unit.exit_code == 0 and "144 个地区" in unit.output, unit.output  # 广东省, its 21 cities and their parts
    wrong = runner.invoke(cli, ["template", "--unit", "省教育厅", "--plan", "zhejiang", "--period", "2024"])
    assert wrong.exit_code == 2 and "没有规划「zhejiang」；可选：hainan, guangdong" in wrong.output


GUANGZHOU_PLAN = """
plans:
- id: guangzhou
  title: 广州市促进养老托育服务健康发展实施方案（测试用）
  issuer: 广州市人民政府
  level: city
  region: '440100'
  start: 2021-01-01
  end: 2025-12-31
  source: tests/test_per_plan.py
  coverage: {region: 440100 广州市, units: children}
tasks:
- {plan: guangzhou, number: 1, text: 婴幼儿在托率达到60%, units_text: 市卫生健康委, lead: [市卫生健康委]}
targets:
- {id: gz-enrolment-2025, plan: guangzhou, task: 1, indicator: childcare_enrollment_rate, comparator: '>=',
   value: 60, unit: percent, deadline: 2025-12-31}
"""


def test_a_district_in_a_province_and_a_city_plan_works_in_both(tmp_path, db_url, engine, small_model):
    import yaml
    from openpyxl import load_workbook

    data = yaml.safe_load(with_guangdong(small_model))
    for key, items in yaml.safe_load(GUANGZHOU_PLAN).items():
        data[key].extend(items)
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with RecordingSMTPServer() as smtp:
        settings = _settings(tmp_path, db_url, smtp.port)
        tracker = _tracker(settings, engine, datetime(2025, 8, 12, 2, tzinfo=UTC))
        tracker.write_template(tmp_path / "th.xlsx", "天河区", "2024")
        header = " ".join(c.value or "" for c in load_workbook(tmp_path / "th.xlsx")["填报"][2])
        # 天河区: a district of Guangzhou in Guangdong's plan, a unit of Guangzhou's own plan
        assert "[senior_universities]" in header and "[childcare_enrollment_rate]" in header
        assert tracker.run_month("2025-07").state == "succeeded"
    gz = json.loads((tmp_path / "reports" / "plans" / "guangzhou" / "2025-07.json").read_text(encoding="utf-8"))
    assert {it["id"] for s in gz["sections"] for it in s["items"]} == {"gz-enrolment-2025"}
    assert (tmp_path / "reports" / "plans" / "guangdong" / "2025-07.json").exists()


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_the_web_serves_each_plans_reports(tmp_path, db_url, engine, two_plans, monkeypatch):
    from argon2 import PasswordHasher
    from starlette.testclient import TestClient
    from test_web import PASSWORD, sign_in, text_of

    from tracker.web import auth
    from tracker.web.app import create_app

    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    moment = datetime(2025, 8, 12, 2, tzinfo=UTC)
    settings = _settings(tmp_path, db_url, 1)
    assert _tracker(settings, engine, moment).run_month("2025-07").state == "succeeded"
    auth.add_user(engine, "reader", PASSWORD, "viewer", now=moment)
    client = TestClient(create_app(settings, engine=engine, clock=lambda: moment))
    assert sign_in(client, "reader").status_code == 303
    listing = client.get("/reports").text
    assert 'href="/reports/plans/guangdong/2025-07.html"' in listing and "广东省促进养老托育" in text_of(listing)
    page = client.get("/reports/plans/guangdong/2025-07.html")
    assert page.status_code == 200 and "广东省" in page.text and "海口" not in page.text
    assert client.get("/reports/plans/guangdong/index.html").status_code == 200
    latest = client.get("/reports/plans/guangdong/latest", follow_redirects=False)
    assert latest.headers["location"] == "/reports/plans/guangdong/2025-07.html"
    for bad in ("hainan", "zhejiang", "..%2F..", "guangdong%2F..%2F.."):
        assert client.get(f"/reports/plans/{bad}/2025-07.html").status_code == 404, bad
    assert client.get("/reports/plans/guangdong/tracker.db").status_code == 404


def test_the_accounts_page_with_plans_reads_right_on_a_phone_and_a_desk(browser, tmp_path, db_url, engine, two_plans,
                                                                        monkeypatch):
    """The supervisor's 用户管理 with two plans: each account's plan in its own column (a label
    beside its value on a phone), the form's plan choice level with its label."""
    from argon2 import PasswordHasher
    from pages import WIDTHS, Shots, check_layout, page_text
    from test_web import PASSWORD
    from test_web_browser import serving

    from tracker.web import auth
    from tracker.web.app import create_app

    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(auth, "_DUMMY_HASH", None)
    moment = datetime(2025, 3, 10, 2, tzinfo=UTC)
    settings = _settings(tmp_path, db_url, 1)
    app = create_app(settings, engine=engine, clock=lambda: moment)
    model = Tracker(settings, engine=engine, clock=lambda: moment).model
    auth.add_user(engine, "boss", PASSWORD, "supervisor", now=moment)
    auth.add_user(engine, "gd-mca", PASSWORD, "reporter", department="省民政厅", plan="guangdong", model=model,
                  now=moment)
    auth.add_user(engine, "hn-mca", PASSWORD, "reporter", department="省民政厅", model=model, now=moment)
    shots = Shots(tmp_path)
    with serving(app) as base:
        for width in WIDTHS:
            context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
            page = context.new_page()
            page.goto(f"{base}/login")
            page.fill("#username", "boss")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/users")
            where = f"/users with two plans at {width}px"
            shots.take(page, "web-users-plans")
            pairs = check_layout(page, where)  # fits; on a phone each cell's label sits beside its value
            assert pairs > 5 if width < 1000 else pairs >= 0, where
            row = page.locator("tr", has=page.locator("th", has_text="gd-mca"))
            assert "广东省促进养老托育服务健康发展实施方案（测试用）" in row.inner_text(), where
            assert "—" in page.locator("tr", has=page.locator("th", has_text="hn-mca")).inner_text(), where
            label, select = page.locator("label[for=new-plan]").bounding_box(), page.locator("#new-plan").bounding_box()
            if width >= 1000:  # beside its label on a desk, as every field of the form
                assert abs((label["y"] + label["height"] / 2) - (select["y"] + select["height"] / 2)) < 8, where
            else:  # right under it on a phone, as every field of the form
                assert 0 <= select["y"] - (label["y"] + label["height"]) < 12 and abs(label["x"] - select["x"]) < 2, where
            assert select["x"] + select["width"] <= width, where
            assert {w for w in re.findall(r"[A-Za-z]{2,}", page_text(page))} <= {"boss"}, where
            context.close()
    print("screenshots:", *shots.paths, sep="\n  ")


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_an_account_whose_plan_left_targets_yaml_cannot_sign_in(tmp_path, db_url, engine, two_plans, small_model,
                                                                   monkeypatch):
    """Guangdong's plan taken out of targets.yaml: Guangdong's 省民政厅 is refused at sign-in
    with the reason, instead of working as Hainan's department of the same name."""
    from argon2 import PasswordHasher
    from starlette.testclient import TestClient
    from test_web import PASSWORD, sign_in, text_of

    from tracker.targets.file import dump_model
    from tracker.web import auth
    from tracker.web.app import create_app

    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(auth, "_DUMMY_HASH", None)
    moment = datetime(2025, 3, 10, 2, tzinfo=UTC)
    settings = _settings(tmp_path, db_url, 1)
    model = Tracker(settings, engine=engine, clock=lambda: moment).model
    auth.add_user(engine, "gd-mca", PASSWORD, "reporter", department="省民政厅", plan="guangdong", model=model,
                  now=moment)
    client = TestClient(create_app(settings, engine=engine, clock=lambda: moment))
    assert sign_in(client, "gd-mca").status_code == 303  # signed in while its plan is loaded
    (tmp_path / "targets.yaml").write_text(dump_model(small_model), encoding="utf-8")  # Hainan's alone
    assert client.get("/entry", follow_redirects=False).status_code == 303  # its session no longer signs it in
    r = sign_in(client, "gd-mca")
    assert r.status_code == 403 and "该账号所在规划「guangdong」已不在目标文件中" in text_of(r.text)
    assert client.get("/entry", follow_redirects=False).status_code in (302, 303)  # not signed in
