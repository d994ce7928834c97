"""The web app through Starlette's TestClient: sign-in, sessions, CSRF, every permission rule,
all-or-nothing entry with inline errors, corrections as revisions, upload of the Excel
template, milestone progress, reports, completeness and reminders, escaping of user text.
On the test database (SQLite, or PostgreSQL with TRACKER_TEST_DATABASE_URL)."""

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tracker import store as db
from tracker.config import Settings, settings_from_mapping
from tracker.web import auth

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 on 10 March in Asia/Shanghai
PASSWORD = "s3cret-pass"
USERS = {  # username -> (role, department, region)
    "boss": ("supervisor", "", ""),
    "mca": ("reporter", "省民政厅", ""),
    "health": ("reporter", "省卫生健康委", ""),
    "edu": ("reporter", "省教育厅", ""),
    "hk": ("reporter", "", "海口"),
    "sy": ("reporter", "", "三亚"),
    "reader": ("viewer", "", ""),
}


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Site:
    settings: Settings
    engine: Any
    model: Any
    clock: Clock
    app: Any

    def client(self, username: str | None = None) -> Any:
        """A TestClient, signed in as `username` when given."""
        from starlette.testclient import TestClient

        client = TestClient(self.app)
        if username:
            r = sign_in(client, username)
            assert r.status_code == 303, r.text
        return client

    def values(self) -> list[tuple[str, str, str, float, int]]:
        """Every stored observation row: (indicator, region, period, value, revision)."""
        t = db.observation_table
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(select(t.c.indicator, t.c.region, t.c.period, t.c.value,
                                                          t.c.revision).order_by(t.c.id))]

    def count(self, table: Any) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar())


def text_of(html: str) -> str:
    """The page's text with tags as spaces, runs of space as one: what a reader sees, in order."""
    import html as html_module

    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: Any, username: str, password: str = PASSWORD, next_path: str = "/") -> Any:
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password, "csrf": token(page.text),
                                       "next": next_path}, follow_redirects=False)


def post_form(client: Any, page_path: str, action: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """Load `page_path` for its CSRF token, then post `data` to `action`."""
    page = client.get(page_path)
    return client.post(action, data={"csrf": token(page.text), **data}, follow_redirects=False, **kwargs)


def entry(client: Any, region: str, **cells: str) -> Any:
    """Post the entry form: value.<id>=..., period.<id>=..., reason.<id>=... given as
    value__<id>, period__<id>, reason__<id> keyword arguments."""
    data = {"region": region, **{k.replace("__", ".", 1): v for k, v in cells.items()}}
    r = post_form(client, f"/entry?region={region}", "/entry", data)
    if r.status_code == 303 and r.headers["location"].startswith("/entry?"):
        return client.get(r.headers["location"])  # as the browser follows the redirect after a save
    return r


def make_site(db_url: str, engine: Any, tmp_path: Path, model: Any, clock: Clock,
              raw: dict[str, Any] | None = None) -> Site:
    from tracker.targets.file import dump_model
    from tracker.web.app import create_app

    (tmp_path / "targets.yaml").write_text(dump_model(model), encoding="utf-8")
    settings = settings_from_mapping(raw or {}, database_url=db_url, targets_path=tmp_path / "targets.yaml",
                                     reports_dir=tmp_path / "reports")
    for name, (role, department, region) in USERS.items():
        auth.add_user(engine, name, PASSWORD, role, department=department, region=region,
                      display_name=f"{name} 用户", model=model, now=clock())
    return Site(settings, engine, model, clock, create_app(settings, engine=engine, clock=clock))


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Fast argon2id parameters for these tests (test_auth checks the real ones)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(auth, "_DUMMY_HASH", None)  # made again with these parameters


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def site(db_url, engine, tmp_path, small_model, clock) -> Site:
    return make_site(db_url, engine, tmp_path, small_model, clock)


# ---------------------------------------------------------------------------------------
# Signing in, sessions, CSRF


def test_pages_need_signing_in(site):
    client = site.client()
    for path in ("/", "/entry", "/targets", "/reports", "/completeness", "/reports/2026-03.html"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    assert client.get("/healthz").text == "ok"


def test_sign_in_sets_a_signed_httponly_samesite_cookie_and_is_audited(site):
    client = site.client()
    r = sign_in(client, "hk", next_path="/entry")
    assert r.status_code == 303 and r.headers["location"] == "/entry"
    cookie = r.headers["set-cookie"]
    assert "tracker_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Max-Age=28800" in cookie
    assert "海口市" in client.get("/entry").text
    last = auth.list_audit(site.engine)[0]
    assert (last["actor"], last["action"], last["outcome"]) == ("hk", "login", "ok")


def test_a_wrong_password_is_refused_in_chinese(site):
    client = site.client()
    r = sign_in(client, "hk", "wrong-password")
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    assert client.get("/entry", follow_redirects=False).status_code == 303


def test_sign_in_is_rate_limited(site):
    client = site.client()
    for _ in range(5):
        assert sign_in(client, "hk", "wrong-password").status_code == 401
    r = sign_in(client, "hk")
    assert r.status_code == 429 and "该账号登录失败次数过多" in r.text
    assert r.headers["retry-after"] == "900" and "15 分钟" in r.text  # the wait, said and in the header
    assert sign_in(client, "mca").status_code == 303  # the lock holds that account only
    site.clock.advance(minutes=16)
    assert sign_in(client, "hk").status_code == 303


def test_a_sprayed_address_still_lets_the_right_password_in(site):
    client = site.client()
    for i in range(25):
        assert sign_in(client, f"guess{i}", "Summer2026").status_code in (401, 429)
    r = sign_in(client, "guess0", "Winter2026")
    assert r.status_code == 429 and "您所在网络地址" in r.text and 0 < int(r.headers["retry-after"]) <= 300
    assert sign_in(client, "boss").status_code == 303


def test_next_never_leaves_the_site(site):
    client = site.client()
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert sign_in(client, "hk", next_path=target).headers["location"] == "/"


def test_session_expires_after_eight_hours(site):
    client = site.client("hk")
    site.clock.advance(hours=7, minutes=59)
    assert client.get("/entry").status_code == 200
    site.clock.advance(minutes=2)
    r = client.get("/entry", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_an_altered_cookie_signs_nobody_in(site):
    client = site.client("hk")
    value = client.cookies.get("tracker_session")
    client.cookies.set("tracker_session", value[:-3] + "xyz")
    assert client.get("/entry", follow_redirects=False).status_code == 303


def test_a_disabled_account_is_signed_out_at_the_next_request(site):
    client = site.client("hk")
    assert client.get("/entry").status_code == 200
    auth.set_active(site.engine, "hk", False, now=datetime.now(UTC))
    assert client.get("/entry", follow_redirects=False).status_code == 303


def test_signing_out_voids_a_copied_cookie(site):
    client = site.client("hk")
    stolen = client.cookies.get("tracker_session")
    site.clock.advance(minutes=1)
    assert post_form(client, "/", "/logout", {}).status_code == 303
    other = site.client()
    other.cookies.set("tracker_session", stolen)
    assert other.get("/entry", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("csrf", [None, "", "forged-token"])
def test_a_form_without_the_sessions_csrf_token_is_refused_and_saves_nothing(site, csrf):
    client = site.client("mca")
    data = {"region": "460000", "value.elderly_care_beds": "5000", "period.elderly_care_beds": "2025"}
    if csrf is not None:
        data["csrf"] = csrf
    r = client.post("/entry", data=data)
    assert r.status_code == 403 and "CSRF" in r.text
    assert site.values() == []
    assert auth.list_audit(site.engine)[0]["action"] == "csrf"


def test_a_token_from_another_session_is_refused(site):
    mine, theirs = site.client("mca"), site.client("boss")
    their_token = token(theirs.get("/entry").text)
    r = mine.post("/entry", data={"csrf": their_token, "region": "460000", "value.elderly_care_beds": "5000",
                                  "period.elderly_care_beds": "2025"})
    assert r.status_code == 403 and site.values() == []


def test_a_post_from_another_origin_is_refused(site):
    client = site.client("mca")
    r = post_form(client, "/entry", "/entry", {"region": "460000", "value.elderly_care_beds": "5000",
                                               "period.elderly_care_beds": "2025"},
                  headers={"origin": "http://evil.example"})
    assert r.status_code == 403 and site.values() == []


def test_the_sign_in_form_needs_its_token_too(site):
    r = site.client().post("/login", data={"username": "hk", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403


def test_responses_carry_security_headers(site):
    r = site.client().get("/login")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert '<meta charset="utf-8">' in r.text and 'rel="icon" href="data:,"' in r.text
    assert "<script" not in r.text


# ---------------------------------------------------------------------------------------
# Data entry


def test_the_entry_form_lists_the_indicators_due_with_units_last_values_and_deadlines(site):
    db.sync_targets(site.engine, site.model, now=datetime.now(UTC))
    from tracker.actuals.entry import record_value

    record_value(site.engine, site.model, "elderly_care_beds", "460000", "2024", "4800", entered_by="cli",
                 now=NOW - timedelta(days=300))
    page = site.client("mca").get("/entry").text
    assert "数据填报：海南省" in page
    assert 'name="value.elderly_care_beds"' in page and 'name="value.childcare_enrollment_rate"' not in page
    row = re.search(r'<tr id="row-elderly_care_beds".*?</tr>', page, re.DOTALL).group(0)
    assert 'value="2025"' in row  # the yearly period due on 10 March 2026
    assert "2026-01-10" in row  # due on the submission day (10th) of the month after the year ended, as reminded
    assert "2026-01-30" not in row
    assert "2025-12-31" in row  # the target's deadline (beds per 1,000)
    assert "4,800" in row and "张" in row  # last value and unit
    trainees = re.search(r'<tr id="row-elderly_care_trainees".*?</tr>', page, re.DOTALL).group(0)
    assert 'value="2026-02"' in trainees and "人次" in trainees
    assert "2026-03-10" in trainees  # February's figures are due on 10 March


def test_a_region_reporter_enters_its_regions_value(site):
    r = entry(site.client("hk"), "460100", value__senior_universities="3", period__senior_universities="2025")
    assert r.status_code == 200 and "已保存 1 项" in r.text
    assert site.values() == [("senior_universities", "460100", "2025", 3.0, 1)]
    audit = auth.list_audit(site.engine)[0]
    assert audit["actor"] == "hk" and audit["action"] == "entry" and "老年大学数 2025：3" in audit["detail"]


def test_a_saved_form_redirects_so_a_reload_does_not_post_it_again(site):
    client = site.client("hk")
    data = {"region": "460100", "value.senior_universities": "3", "period.senior_universities": "2025"}
    r = post_form(client, "/entry?region=460100", "/entry", data)
    assert r.status_code == 303 and r.headers["location"].startswith("/entry?region=460100&saved=1")
    again = client.get(r.headers["location"])  # a reload of the page after the save is a GET
    assert "已保存 1 项" in again.text and site.values() == [("senior_universities", "460100", "2025", 3.0, 1)]
    assert len([a for a in auth.list_audit(site.engine) if a["action"] == "entry"]) == 1
    forged = client.get("/entry?region=460100&saved=请拨打电话&corrected=0&unchanged=0")
    assert "请拨打电话" not in forged.text and "已保存" not in forged.text  # only counts, never text


def test_a_region_reporter_may_enter_its_cities_districts(site):
    r = entry(site.client("hk"), "460106", value__senior_universities="1", period__senior_universities="2025")
    assert r.status_code == 200 and site.values() == [("senior_universities", "460106", "2025", 1.0, 1)]


def test_a_region_reporter_is_refused_another_regions_cell(site):
    client = site.client("hk")
    assert client.get("/entry?region=460200").status_code == 403
    r = entry(client, "460200", value__senior_universities="3", period__senior_universities="2025")
    assert r.status_code == 403 and "无权操作" in r.text
    assert site.values() == []
    refused = auth.list_audit(site.engine, outcome="refused")
    assert refused[0]["actor"] == "hk" and refused[0]["action"] == "entry"


def test_a_department_reporter_enters_its_indicators_for_any_region(site):
    client = site.client("mca")
    assert entry(client, "460200", value__elderly_care_beds="1.2万", period__elderly_care_beds="2025").status_code == 200
    assert site.values() == [("elderly_care_beds", "460200", "2025", 12000.0, 1)]


def test_a_department_reporter_is_refused_another_departments_indicator(site):
    r = entry(site.client("mca"), "460000", value__elderly_care_beds="5000", period__elderly_care_beds="2025",
              value__childcare_enrollment_rate="30", period__childcare_enrollment_rate="2025")
    assert r.status_code == 403 and site.values() == []


def test_viewers_enter_nothing(site):
    client = site.client("reader")
    for path in ("/entry", "/upload", "/progress"):
        assert client.get(path).status_code == 403, path
    r = post_form(client, "/targets", "/entry", {"region": "460000", "value.elderly_care_beds": "1",
                                                 "period.elderly_care_beds": "2025"})
    assert r.status_code == 403 and site.values() == []
    assert client.get("/targets").status_code == 200 and client.get("/reports").status_code == 200


@pytest.mark.parametrize("path", ["/completeness", "/users", "/audit"])
def test_reporters_do_not_see_the_supervisors_pages(site, path):
    assert site.client("hk").get(path).status_code == 403
    assert site.client("boss").get(path).status_code == 200


@pytest.mark.parametrize("action", ["/reports/generate", "/completeness/remind", "/users", "/users/hk/disable"])
def test_reporters_cannot_do_the_supervisors_writes(site, action):
    r = post_form(site.client("mca"), "/", action, {"username": "x1", "password": PASSWORD, "role": "viewer"})
    assert r.status_code == 403
    assert auth.find_user(site.engine, "hk").active and auth.find_user(site.engine, "x1") is None
    assert not Path(site.settings.reports_dir).exists()


def test_a_bad_value_shows_its_error_inline_and_nothing_is_saved(site):
    r = entry(site.client("mca"), "460000", value__elderly_care_beds="5000", period__elderly_care_beds="2025",
              value__elderly_care_trainees="十二点五万人", period__elderly_care_trainees="2026-02")
    assert r.status_code == 400
    assert "未保存任何数据" in r.text
    row = re.search(r'<tr id="row-elderly_care_trainees".*?</tr>', r.text, re.DOTALL).group(0)
    assert "单位不对" in row and "人次" in row and 'aria-invalid="true"' in row  # 人 is not 人次
    good = re.search(r'<tr id="row-elderly_care_beds".*?</tr>', r.text, re.DOTALL).group(0)
    assert 'value="5000"' in good and "单位不对" not in good  # what was typed is kept
    assert site.values() == []


@pytest.mark.parametrize("cells, message", [
    ({"value__elderly_care_beds": "-5", "period__elderly_care_beds": "2025"}, "不能为负数"),
    ({"value__elderly_care_beds": "5", "period__elderly_care_beds": "2027"}, "期间尚未开始"),
    ({"value__elderly_care_beds": "5", "period__elderly_care_beds": "2025-13"}, "不是有效的期间"),
    ({"value__elderly_care_trainees": "5", "period__elderly_care_trainees": "2025"}, "期间类型与指标报送频率不符"),
])
def test_entry_uses_the_imports_checks(site, cells, message):
    r = entry(site.client("mca"), "460000", **cells)
    assert r.status_code == 400 and message in r.text and site.values() == []


def test_a_correction_needs_a_reason_and_becomes_a_new_revision(site):
    client = site.client("mca")
    entry(client, "460000", value__elderly_care_beds="5000", period__elderly_care_beds="2025")
    site.clock.advance(minutes=5)
    r = entry(client, "460000", value__elderly_care_beds="5200", period__elderly_care_beds="2025")
    assert r.status_code == 400 and "请填写「更正原因」" in r.text and "已有数值 5000" in r.text
    assert site.values() == [("elderly_care_beds", "460000", "2025", 5000.0, 1)]
    r = entry(client, "460000", value__elderly_care_beds="5200", period__elderly_care_beds="2025",
              reason__elderly_care_beds="统计口径调整")
    assert r.status_code == 200 and "其中更正 1 项" in r.text
    assert site.values()[-1] == ("elderly_care_beds", "460000", "2025", 5200.0, 2)
    history = client.get("/history?indicator=elderly_care_beds&region=460000&period=2025").text
    assert "5,000" in history and "5,200" in history and "统计口径调整" in history
    assert re.search(r"填报人 mca 填报时间 2026-03-10 10:0[05]:00", text_of(history))


def test_the_same_value_again_is_not_a_new_revision(site):
    client = site.client("mca")
    entry(client, "460000", value__elderly_care_beds="5000", period__elderly_care_beds="2025")
    r = entry(client, "460000", value__elderly_care_beds="5,000", period__elderly_care_beds="2025")
    assert r.status_code == 200 and "与已有数值相同" in r.text and len(site.values()) == 1


def test_user_text_is_escaped_everywhere_it_is_shown(site):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client = site.client("mca")
    r = entry(client, "460000", value__elderly_care_beds="5000", period__elderly_care_beds="2025",
              note__elderly_care_beds=evil)
    assert r.status_code == 200
    history = client.get("/history?indicator=elderly_care_beds&region=460000&period=2025").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img" in history and "<script" not in history
    r = entry(client, "460000", value__elderly_care_beds=evil, period__elderly_care_beds="2025")
    assert r.status_code == 400 and "<script" not in r.text and "&lt;script&gt;" in r.text
    r = sign_in(site.client(), evil)
    assert "<script" not in r.text
    r = post_form(site.client("boss"), "/users", "/users", {"username": "newbie", "password": PASSWORD,
                                                           "role": "viewer", "display_name": evil})
    assert r.status_code == 200 and "<script" not in r.text and "&lt;script&gt;" in r.text
    assert "<script" not in site.client("boss").get("/audit").text


# ---------------------------------------------------------------------------------------
# Upload: the Excel template, downloaded and sent back


def _filled_template(content: bytes, fill: dict[tuple[str, str], Any]) -> bytes:
    """The downloaded template with cells filled: (region name, indicator id) -> value."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    ws = wb["填报"]
    header = [c.value for c in ws[2]]
    for (region, ind), value in fill.items():
        col = next(i for i, h in enumerate(header, start=1) if h and f"[{ind}]" in h)
        row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value == region)
        ws.cell(row, col).value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client: Any, content: bytes, name: str = "表.xlsx", **data: Any) -> Any:
    page = client.get("/upload")
    return client.post("/upload", data={"csrf": token(page.text), **data}, files={"file": (name, content)},
                       follow_redirects=False)


def test_the_template_downloads_and_uploads_back_through_the_import(site):
    client = site.client("mca")
    r = client.get("/template", params={"unit": "省民政厅", "period": "2025"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    filled = _filled_template(r.content, {("海口市", "elderly_care_beds"): 5000, ("三亚市", "elderly_care_beds"): "1.2万"})
    r = upload(client, filled)
    assert r.status_code == 200 and "已导入 2 个数值" in r.text
    assert sorted(site.values()) == [("elderly_care_beds", "460100", "2025", 5000.0, 1),
                                     ("elderly_care_beds", "460200", "2025", 12000.0, 1)]
    assert auth.list_audit(site.engine)[0]["action"] == "upload"


def test_a_region_reporter_gets_its_own_regions_template(site):
    from openpyxl import load_workbook

    r = site.client("hk").get("/template", params={"unit": "海口", "period": "2025"})
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content))["填报"]
    assert [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)] == ["海口市", "秀英区", "龙华区", "琼山区", "美兰区"]
    assert "海口市" in site.client("hk").get("/upload").text


def test_a_reporter_reads_only_its_own_cells_revisions_and_templates(site):
    entry(site.client("mca"), "460200", value__elderly_care_beds="2000", period__elderly_care_beds="2025")
    entry(site.client("mca"), "460100", value__elderly_care_beds="3000", period__elderly_care_beds="2025")
    for region in ("460100", "460200"):
        entry(site.client("health"), region, value__elderly_population="100000", period__elderly_population="2025")
    hk = site.client("hk")
    assert hk.get("/history?indicator=elderly_care_beds&region=460100&period=2025").status_code == 200
    refused = hk.get("/history?indicator=elderly_care_beds&region=460200&period=2025")
    assert refused.status_code == 403 and "本地区" in refused.text and "2,000" not in refused.text
    assert hk.get("/template", params={"unit": "三亚", "period": "2025"}).status_code == 403
    assert hk.get("/template", params={"unit": "省民政厅", "period": "2025"}).status_code == 403
    assert site.client("edu").get("/template", params={"unit": "省民政厅", "period": "2025"}).status_code == 403
    page = hk.get("/targets/beds_ratio_2025").text
    assert 'id="values-460100"' in page and 'id="values-460200"' not in page and 'id="values-460000"' in page
    # supervisors and viewers read everything
    for who in ("boss", "reader"):
        assert site.client(who).get("/history?indicator=elderly_care_beds&region=460200&period=2025").status_code == 200
        assert 'id="values-460200"' in site.client(who).get("/targets/beds_ratio_2025").text


def test_reporters_read_everything_when_the_settings_say_so(db_url, engine, tmp_path, small_model, clock):
    site = make_site(db_url, engine, tmp_path, small_model, clock, raw={"web": {"reporter_view": "all"}})
    entry(site.client("mca"), "460200", value__elderly_care_beds="2000", period__elderly_care_beds="2025")
    assert site.client("hk").get("/history?indicator=elderly_care_beds&region=460200&period=2025").status_code == 200


def test_an_upload_with_another_regions_row_is_refused_whole(site):
    content = site.client("mca").get("/template", params={"unit": "省民政厅", "period": "2025"}).content
    filled = _filled_template(content, {("海口市", "elderly_care_beds"): 5000, ("三亚市", "elderly_care_beds"): 4000})
    r = upload(site.client("hk"), filled)
    assert r.status_code == 403 and site.values() == []
    assert "无权填报" in auth.list_audit(site.engine, outcome="refused")[0]["detail"]


def test_an_upload_with_another_departments_indicator_is_refused(site):
    content = site.client("health").get("/template", params={"unit": "省卫生健康委", "period": "2025"}).content
    filled = _filled_template(content, {("海南省", "childcare_enrollment_rate"): 30})
    assert upload(site.client("mca"), filled).status_code == 403 and site.values() == []
    assert upload(site.client("health"), filled).status_code == 200


def test_a_bad_upload_lists_its_problems_in_chinese_and_saves_nothing(site):
    client = site.client("mca")
    content = client.get("/template", params={"unit": "省民政厅", "period": "2025"}).content
    filled = _filled_template(content, {("海口市", "elderly_care_beds"): 5000, ("三亚市", "elderly_care_beds"): "很多"})
    r = upload(client, filled)
    assert r.status_code == 400 and "未导入任何数据" in r.text and "不是数字" in r.text
    assert site.values() == []
    assert upload(client, b"hello", name="notes.txt").status_code == 400
    r = upload(client, filled, correct="1")
    assert r.status_code == 400 and "请填写更正原因" in r.text


# ---------------------------------------------------------------------------------------
# Milestone progress


def test_a_department_reports_progress_on_its_milestones(site):
    client = site.client("mca")
    page = client.get("/progress").text
    assert "hainan-m1" in page and "hainan-m2" not in page
    r = post_form(client, "/progress", "/progress", {"milestone": "hainan-m1", "state": "done",
                                                     "evidence": "琼府〔2022〕12号", "note": "已印发"})
    assert r.status_code == 200 and "已保存里程碑进展" in r.text
    progress = db.milestone_progress(site.engine)
    assert [(p.milestone, p.reporter, p.state, p.evidence) for p in progress] == [
        ("hainan-m1", "省民政厅", "done", "琼府〔2022〕12号")]
    assert "已完成" in client.get("/progress").text


def test_progress_on_another_departments_milestone_is_refused(site):
    for user, milestone in (("mca", "hainan-m2"), ("health", "hainan-m1"), ("hk", "hainan-m1")):
        r = post_form(site.client(user), "/", "/progress", {"milestone": milestone, "state": "done"})
        assert r.status_code == 403, user
    assert db.milestone_progress(site.engine) == []


def test_an_unknown_state_is_refused_inline(site):
    r = post_form(site.client("edu"), "/progress", "/progress", {"milestone": "hainan-m2", "state": "差不多"})
    assert r.status_code == 400 and "无法识别的状态" in r.text and db.milestone_progress(site.engine) == []


# ---------------------------------------------------------------------------------------
# Browsing: reports, targets, revisions


def test_the_supervisor_regenerates_the_report_and_everyone_reads_it(site):
    entry(site.client("mca"), "460000", value__elderly_care_beds_per_1000_elderly="31.5",
          period__elderly_care_beds_per_1000_elderly="2025")
    r = post_form(site.client("boss"), "/reports", "/reports/generate", {})
    assert r.status_code == 303 and r.headers["location"] == "/reports/2026-03.html"
    reader = site.client("reader")
    report = reader.get("/reports/2026-03.html")
    assert report.status_code == 200 and "31.5" in report.text
    assert reader.get("/reports/latest", follow_redirects=False).headers["location"] == "/reports/2026-03.html"
    assert reader.get("/reports/2026-03.json").json()["period"] == "2026-03"
    assert "2026-03" in reader.get("/reports").text
    assert next(e["action"] for e in auth.list_audit(site.engine) if e["actor"] == "boss") == "report"


@pytest.mark.parametrize("name", ["..%2Ftracker.db", "tracker.db", "2026-03.txt", "%2Fetc%2Fpasswd"])
def test_only_report_files_are_served(site, name):
    Path(site.settings.reports_dir).mkdir(parents=True, exist_ok=True)
    (Path(site.settings.reports_dir) / "tracker.db").write_text("secret")
    assert site.client("reader").get(f"/reports/{name}").status_code == 404


def test_a_target_page_shows_its_chart_values_by_region_and_revisions(site):
    mca = site.client("mca")
    for region, beds, old in (("460100", "3000", "1000"), ("460200", "2000", "1500")):
        entry(mca, region, value__elderly_care_beds=old, period__elderly_care_beds="2024")
        entry(mca, region, value__elderly_care_beds=beds, period__elderly_care_beds="2025")
    entry(mca, "460100", value__elderly_care_beds="3100", period__elderly_care_beds="2025",
          reason__elderly_care_beds="补报养老机构")
    health = site.client("health")
    for region, people in (("460100", "100000"), ("460200", "80000")):
        entry(health, region, value__elderly_population=people, period__elderly_population="2024")
        entry(health, region, value__elderly_population=people, period__elderly_population="2025")
    page = site.client("reader").get("/targets/beds_ratio_2025").text
    assert "每千名老年人口养老床位数" in page and '<svg class="chart"' in page
    assert "海口市" in page and "三亚市" in page and "2024" in page and "2025" in page
    assert "第2版" not in page  # the ratio is computed; the correction shows on the beds indicator
    beds = site.client("reader").get("/history?indicator=elderly_care_beds&region=460100&period=2025").text
    assert beds.count("<tr>") == 3 and "补报养老机构" in beds
    listing = site.client("reader").get("/targets").text
    row = re.search(r'<tr id="target-beds_ratio_2025">.*?</tr>', listing, re.DOTALL).group(0)
    assert "逾期未完成" in row  # 5,100 beds for 180,000 elderly: 28.3 per 1,000 < 30 at the end of 2025
    assert "每千名老年人口养老床位数" in row and "不低于30张/千人" in row and ">=" not in row


# ---------------------------------------------------------------------------------------
# Completeness and reminders; users


def test_the_supervisor_sees_who_has_not_reported_and_sends_reminders(db_url, engine, tmp_path, small_model, clock):
    from servers import RecordingHTTPServer

    with RecordingHTTPServer() as hook:
        site = make_site(db_url, engine, tmp_path, small_model, clock, raw={"alerts": {"webhook": {"url": hook.url}}})
        entry(site.client("edu"), "460100", value__senior_universities="2", period__senior_universities="2025")
        page = site.client("boss").get("/completeness").text
        assert "老年大学数" in page and "1/19" in page and "三亚市" in page
        r = post_form(site.client("boss"), "/completeness", "/completeness/remind", {})
        assert r.status_code == 303
        sent = int(r.headers["location"].rpartition("sent=")[2])
        assert sent > 0 and len(hook.requests) == sent
        assert any("老年大学数" in str(req["json"]) for req in hook.requests)
        again = post_form(site.client("boss"), "/completeness", "/completeness/remind", {})
        assert again.headers["location"].endswith("sent=0")  # the same reminders are not sent twice
    assert [e["action"] for e in auth.list_audit(site.engine) if e["action"] == "remind"] == ["remind", "remind"]


def test_the_supervisor_adds_and_disables_users(site):
    boss = site.client("boss")
    r = post_form(boss, "/users", "/users", {"username": "wc", "password": PASSWORD, "role": "reporter",
                                             "region": "469005", "department": ""})
    assert r.status_code == 200 and "已添加用户 wc" in r.text
    assert auth.find_user(site.engine, "wc").region == "469005"
    r = post_form(boss, "/users", "/users", {"username": "bad", "password": PASSWORD, "role": "reporter",
                                             "region": "469005", "department": "省民政厅"})
    assert r.status_code == 400 and "二选一" in r.text
    client = site.client("wc")
    assert post_form(boss, "/users", "/users/wc/disable", {}).status_code == 303
    assert client.get("/entry", follow_redirects=False).status_code == 303
    assert sign_in(site.client(), "wc").status_code == 401
    actions = [e["action"] for e in auth.list_audit(site.engine) if e["actor"] == "boss"]
    assert "user_add" in actions and "user_disable" in actions
    assert post_form(boss, "/users", "/users/boss/disable", {}).status_code == 400


# ---------------------------------------------------------------------------------------
# Concurrent writers


def test_concurrent_corrections_of_one_cell_all_land_as_successive_revisions(site):
    """Eight people correcting the same cell at once: none fails (on PostgreSQL the loser of
    a race for a revision number goes again), and the revisions are 1..9 with no gap."""
    import threading

    clients = [site.client("mca") for _ in range(8)]
    entry(clients[0], "460000", value__elderly_care_beds="5000", period__elderly_care_beds="2025")
    tokens = [token(c.get("/entry").text) for c in clients]
    statuses: list[int] = []
    start = threading.Barrier(len(clients))

    def correct(i: int) -> None:
        start.wait()
        r = clients[i].post("/entry", data={"csrf": tokens[i], "region": "460000", "period.elderly_care_beds": "2025",
                                            "value.elderly_care_beds": str(5001 + i), "reason.elderly_care_beds": "复核"})
        statuses.append(r.status_code)

    threads = [threading.Thread(target=correct, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * len(clients)
    assert sorted(rev for *_, rev in site.values()) == list(range(1, len(clients) + 2))


@pytest.mark.parametrize("secret, said", [
    ("", "未设置 $TRACKER_WEB_SECRET：Cookie 签名密钥为首次启动时生成并保存在数据库中"),
    ("a-key-from-the-environment", "Cookie 签名密钥取自环境变量 $TRACKER_WEB_SECRET"),
])
def test_serve_says_where_the_cookie_key_comes_from(db_url, tmp_path, monkeypatch, secret, said):
    import uvicorn
    from click.testing import CliRunner

    from tracker.cli.main import cli

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)  # start-up only, no server
    monkeypatch.chdir(tmp_path)
    if secret:
        monkeypatch.setenv("TRACKER_WEB_SECRET", secret)
    else:
        monkeypatch.delenv("TRACKER_WEB_SECRET", raising=False)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    assert said in result.stderr


def test_the_target_list_flags_binding_targets_and_lists_them_first_within_a_status(db_url, engine, tmp_path,
                                                                                    small_model, clock):
    from dataclasses import replace

    model = replace(small_model, targets=[replace(t, attribute="binding") if t.id == "universities_each" else t
                                          for t in small_model.targets])
    site = make_site(db_url, engine, tmp_path, model, clock)
    page = site.client("reader").get("/targets").text
    rows = re.findall(r'<tr id="target-([^"]+)">(.*?)</tr>', page, re.DOTALL)
    assert [r[0] for r in rows] == ["universities_each", "beds_ratio_2025"]  # both overdue: the binding one first
    assert "约束性" in rows[0][1] and "约束性" not in rows[1][1]
    assert "不低于1所（每个市县（区））" in text_of(rows[0][1]) and "universities_each" not in text_of(page)
