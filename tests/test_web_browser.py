"""The web app in a real browser: Debian's Chromium, headless, through Playwright, against
the app served by uvicorn on a free loopback port, on the test database (SQLite, or
PostgreSQL with TRACKER_TEST_DATABASE_URL).

A reporter signs in, enters a value and the supervisor sees it in the regenerated report; a
reporter trying another region's cell is refused; a bad value shows its error next to the
field and nothing is saved. Every page loads with no console error and no request leaving
the server.

Set TRACKER_SKIP_BROWSER=1 to skip on a machine without a browser; otherwise a missing
Chromium or Playwright fails the test with what to install.
"""

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_web import NOW, PASSWORD, Clock, make_site


pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app under uvicorn in a thread, on a socket bound to port 0; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def served(db_url, engine, tmp_path, small_model) -> Iterator[tuple[str, Any]]:
    """(base URL, site): the app served (see serving)."""
    site = make_site(db_url, engine, tmp_path, small_model, Clock(NOW))
    with serving(site.app) as base:
        yield base, site


class Watch:
    """A browser page that records console errors, failed requests and requests elsewhere."""

    def __init__(self, browser: Any, base: str) -> None:
        self.context = browser.new_context(locale="zh-CN")
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        self.page.on("request", lambda r: None if r.url.startswith(base) else self.errors.append(f"outside: {r.url}"))

    def sign_in(self, username: str) -> None:
        self.page.goto(f"{self.base}/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{self.base}/")

    def close(self) -> None:
        self.context.close()

    def clean(self, allowed: tuple[str, ...] = ()) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in allowed)]


def test_a_reporter_enters_a_value_and_sees_it_in_the_regenerated_report(browser, served):
    base, site = served
    reporter = Watch(browser, base)
    reporter.sign_in("mca")
    page = reporter.page
    page.click("text=数据填报")
    assert page.locator("h1").inner_text() == "数据填报：海南省"
    page.fill("input[name='value.elderly_care_beds_per_1000_elderly']", "31.5")
    page.click("button:has-text('保存')")
    assert "已保存 1 项" in page.locator("#entry-message").inner_text()
    assert site.values() == [("elderly_care_beds_per_1000_elderly", "460000", "2025", 31.5, 1)]
    assert reporter.clean() == []
    reporter.close()

    supervisor = Watch(browser, base)
    supervisor.sign_in("boss")
    page = supervisor.page
    page.click("text=月度报告")
    page.click("button:has-text('生成本月报告')")
    page.wait_for_url(f"{base}/reports/2026-03.html")
    latest = page.locator("#item-beds_ratio_2025 [data-json$='.latest_text']")
    assert "31.5" in latest.inner_text()
    assert supervisor.clean() == []
    supervisor.close()


def test_a_reporter_trying_another_regions_cell_is_refused(browser, served):
    base, site = served
    watch = Watch(browser, base)
    watch.sign_in("hk")
    page = watch.page
    page.click("text=数据填报")
    assert page.locator("h1").inner_text() == "数据填报：海口市"
    # the form offers Haikou and its districts only; asking for Sanya by address is refused
    assert "三亚" not in page.locator("#region-select").inner_text()
    response = page.goto(f"{base}/entry?region=460200")
    assert response.status == 403 and "无权操作" in page.content()
    # and so is a form whose hidden region was changed to Sanya's
    page.goto(f"{base}/entry")
    page.locator("input[name=region]").evaluate("e => e.value = '460200'")
    page.fill("input[name='value.senior_universities']", "2")
    with page.expect_response(lambda r: r.url == f"{base}/entry" and r.request.method == "POST") as posted:
        page.click("button:has-text('保存')")
    assert posted.value.status == 403 and "您没有权限执行此操作" in page.content()
    assert site.values() == []
    # 403 responses show up as console errors; nothing else may
    assert watch.clean(allowed=("403",)) == []
    watch.close()


def test_a_bad_value_shows_its_error_inline_and_saves_nothing(browser, served):
    base, site = served
    watch = Watch(browser, base)
    watch.sign_in("mca")
    page = watch.page
    page.goto(f"{base}/entry")
    page.fill("input[name='value.elderly_care_beds']", "5000")
    page.fill("input[name='value.elderly_care_trainees']", "很多")
    page.click("button:has-text('保存')")
    assert "未保存任何数据" in page.locator("#entry-error").inner_text()
    error = page.locator("#error-elderly_care_trainees")
    assert "不是数字" in error.inner_text()
    field = page.locator("input[name='value.elderly_care_trainees']")
    assert field.get_attribute("aria-invalid") == "true" and field.input_value() == "很多"
    # the error sits in the same table row as its field
    assert page.locator("#row-elderly_care_trainees #error-elderly_care_trainees").count() == 1
    assert page.locator("input[name='value.elderly_care_beds']").input_value() == "5000"
    assert site.values() == []
    if os.environ.get("TRACKER_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["TRACKER_SCREENSHOTS"], "entry-errors.png"), full_page=True)
    assert watch.clean(allowed=("400",)) == []
    watch.close()


# ---------------------------------------------------------------------------------------------
# Every page at a phone's and a desk's width, with the sample data and with an empty database


SAMPLE_NOW = datetime(2026, 12, 2, 4, 19, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
ENGLISH_OK = {"Excel", "CSV", "JSON", "tracker", "import", "xlsx", "csv", "SAMPLE"}  # names of files and commands


@pytest.fixture
def hainan_site(db_url, engine, tmp_path):
    """The Hainan plan's site, empty at first: `fill()` loads the sample data and writes the
    month's report as the supervisor's button would."""
    from tracker.targets.file import load_targets

    site = make_site(db_url, engine, tmp_path, load_targets(ROOT / "targets.yaml"), Clock(SAMPLE_NOW))

    def fill() -> None:
        tracker = site.app.state.web.tracker
        for name in ("hainan-sample-values.csv", "hainan-sample-progress.csv"):
            tracker.import_file(ROOT / "examples" / name, entered_by="示例数据 sample", allow_sample=True)
        tracker.write_report()

    with serving(site.app) as base:
        yield base, site, fill


# With an empty database the pages whose content comes from the data (the others look the same).
EMPTY_PAGES = {"boss": ["/", "/entry", "/reports", "/targets", "/targets/hainan-22-childcare_places_per_1000_residents",
                        "/completeness"],
               "hk": ["/entry", "/targets/hainan-22-childcare_places_per_1000_residents"]}
PAGES = {  # who -> the pages they use
    "boss": ["/", "/entry", "/upload", "/progress", "/reports", "/targets",
             "/targets/hainan-22-childcare_places_per_1000_residents",
             "/history?indicator=childcare_places&region=460100&period=2026Q3", "/completeness", "/users", "/audit"],
    "hk": ["/entry", "/progress", "/upload", "/targets/hainan-22-childcare_places_per_1000_residents", "/completeness"],
    "mca": ["/entry", "/progress"],
}


def look_at_every_page(browser, base: str, shots: Any, data: str) -> None:
    from pages import WIDTHS, check_layout, page_text

    for who, paths in (EMPTY_PAGES if data == "empty" else PAGES).items():
        for width in WIDTHS:
            context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
            page = context.new_page()
            if who == "boss":
                page.goto(f"{base}/login")
                check_layout(page, f"login at {width}px")
                shots.take(page, f"web-{data}-login")
            page.goto(f"{base}/login")
            page.fill("#username", who)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            for path in paths:
                response = page.goto(base + path)
                where = f"{path} as {who} ({data}) at {width}px"
                assert response.status == (403 if (who, path) == ("hk", "/completeness") else 200), where
                check_layout(page, where)
                english = set(re.findall(r"[A-Za-z]{2,}", page_text(page))) - ENGLISH_OK
                assert english == set(), f"{where}: English on a Chinese page: {sorted(english)[:10]}"
                name = re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].lower()).strip("-") or "home"
                shots.take(page, f"web-{data}-{who}-{name}")
            context.close()


def test_every_page_fits_a_phone_and_a_desk_with_data_and_without(browser, hainan_site, tmp_path):
    from pages import Shots

    base, _site, fill = hainan_site
    shots = Shots(tmp_path)
    look_at_every_page(browser, base, shots, "empty")
    fill()
    look_at_every_page(browser, base, shots, "sample")
    print("screenshots:", *shots.paths, sep="\n  ")


def test_the_region_reporter_sees_its_own_work_first(browser, hainan_site, tmp_path):
    base, _site, fill = hainan_site
    fill()
    watch = Watch(browser, base)
    watch.sign_in("hk")
    page = watch.page
    # progress: the province's plan before the national table, each milestone by its title
    page.goto(f"{base}/progress")
    headings = page.locator("main h2").all_inner_texts()
    assert headings[0].startswith("海南省") and "国务院" in headings[-1]
    assert page.locator("legend").first.inner_text() == "制定基本养老服务清单和政府购买服务指南"
    assert "hainan-1-m" not in page.inner_text("main")
    # the upload page offers Haikou's own template, and nothing else
    page.goto(f"{base}/upload")
    assert page.locator("#unit option").all_inner_texts() == ["海口市"]
    with page.expect_download() as download:
        page.click("button:has-text('下载模板')")
    from openpyxl import load_workbook

    download.value.save_as(tmp_path / "haikou.xlsx")
    sheet = load_workbook(tmp_path / "haikou.xlsx")["填报"]
    assert [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)] == ["海口市", "秀英区", "龙华区", "琼山区", "美兰区"]
    # the target page lists the province and Haikou's own cells only
    page.goto(f"{base}/targets/hainan-22-childcare_places_per_1000_residents")
    codes = [i.removeprefix("values-") for i in page.locator("table.values tbody tr").evaluate_all("rs => rs.map(r => r.id)")]
    assert codes[0] == "460000" and len(codes) > 1
    assert set(codes[1:]) <= {"460100", "460105", "460106", "460107", "460108"}, codes
    assert watch.clean(allowed=("/template?",)) == []  # a download ends its navigation: "failed"
    watch.close()
