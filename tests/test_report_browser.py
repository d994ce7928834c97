"""The report in a real browser: Debian's Chromium, headless, through Playwright.

Served over HTTP (where a missing charset or favicon shows up), the page must load without a
console error, a failed request or a request to anywhere else, must not run the `<script>`
a user typed into a note, must fit a phone's width, and must print to A4. A value is read
back from the rendered page and compared with the report's JSON.

Set TRACKER_SKIP_BROWSER=1 to skip on a machine without a browser; otherwise a missing
Chromium or Playwright fails the test with what to install, so CI cannot skip it silently.
"""

import functools
import http.server
import json
import re
import threading
from datetime import UTC, datetime, timezone

import pytest
from test_report import AS_OF, make_model, make_observations, make_statuses

from tracker.domain.regions import load_regions
from tracker.report import files


@pytest.fixture
def served(tmp_path):
    """Two months of reports in tmp_path, served on 127.0.0.1 at a free port."""
    for as_of in (AS_OF.replace(month=2, day=28), AS_OF):
        files.generate_report(make_model(), make_statuses(as_of), make_observations(), load_regions(), as_of,
                               tmp_path, generated_at=datetime(2026, 4, 1, tzinfo=timezone.utc))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()


def open_page(browser, url, **context_args):
    """A page with its console errors, failed requests, requests and dialogs recorded."""
    ctx = browser.new_context(**context_args)
    page = ctx.new_page()
    seen = {"errors": [], "failed": [], "requests": [], "dialogs": []}
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("requestfailed", lambda r: seen["failed"].append(r.url))
    page.on("response", lambda r: seen["failed"].append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("request", lambda r: seen["requests"].append(r.url))

    def on_dialog(d):
        seen["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url, wait_until="load")
    return page, seen


def test_the_report_renders_cleanly_and_shows_the_json_values(browser, served):
    base, directory = served
    ctx = json.loads((directory / "2026-03.json").read_text(encoding="utf-8"))
    page, seen = open_page(browser, f"{base}/2026-03.html")
    assert seen["errors"] == [] and seen["failed"] == [] and seen["dialogs"] == []
    assert seen["requests"] == [f"{base}/2026-03.html"]  # nothing else fetched, nowhere else
    # values read back from the rendered page equal the JSON
    assert page.inner_text('[data-json="lights.0.count"]') == str(ctx["lights"][0]["count"]) == "2"
    first = ctx["sections"][0]["items"][0]
    assert page.inner_text('[data-json="sections.0.items.0.status_label"]') == first["status_label"] == "逾期未完成"
    assert page.inner_text('[data-json="sections.0.items.0.title"]') == first["title"]
    # the note with a <script> shows as text and did not run
    note = page.locator('[data-json$=".note"]').first.inner_text()
    assert note.startswith("<script>alert(1)</script>")
    assert page.locator("script").count() == 0
    # the chart is drawn
    box = page.locator("svg.chart").first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 40
    page.context.close()


def test_the_report_fits_a_phone_and_prints_on_a4(browser, served):
    base, _ = served
    page, seen = open_page(browser, f"{base}/2026-03.html", viewport={"width": 390, "height": 844},
                           device_scale_factor=2, is_mobile=True)
    assert seen["errors"] == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than a phone screen"
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    page.context.close()


def test_the_index_links_every_month(browser, served):
    base, _ = served
    page, seen = open_page(browser, f"{base}/index.html")
    assert seen["errors"] == [] and seen["failed"] == []
    assert page.locator("#reports tbody tr").count() == 2
    assert page.inner_text("#report-2026-03 .n-red") == "2"
    page.click("#report-2026-02 a")
    page.wait_for_load_state("load")
    assert page.url.endswith("/2026-02.html")
    assert seen["errors"] == [] and seen["failed"] == []
    page.context.close()


# ---------------------------------------------------------------------------------------------
# The sample report (and one from an empty database), zh and en, at a phone's and a desk's width


SAMPLE_NOW = datetime(2026, 12, 2, 4, 19, 17, tzinfo=UTC)  # 12:19 in Beijing


@pytest.fixture
def sample_reports(engine, tmp_path):
    """{(data, lang): report path} for the sample data and for an empty database, made through
    the service as `tracker demo` makes them."""
    from pathlib import Path

    from tracker.config import Settings
    from tracker.service import Tracker
    from tracker.targets.file import load_targets

    root = Path(__file__).resolve().parent.parent
    model = load_targets(root / "targets.yaml")
    tracker = Tracker(Settings(database_url="", targets_path=root / "targets.yaml", reports_dir=tmp_path),
                      engine=engine, model=model, clock=lambda: SAMPLE_NOW)
    out = {}
    for data in ("empty", "sample"):
        if data == "sample":
            for name in ("hainan-sample-values.csv", "hainan-sample-progress.csv"):
                tracker.import_file(root / "examples" / name, entered_by="示例数据 sample", allow_sample=True)
        for lang in ("zh", "en"):
            out[(data, lang)] = tracker.write_report(lang=lang, reports_dir=tmp_path / data / lang).html
    return model, out


def names_without_english(model) -> set[str]:
    """The names the English report may show in Chinese: those the model gives no English form."""
    from tracker.domain.organisations import english_name

    names = {u.name for t in model.tasks for u in t.units if not english_name(u.name)}
    names |= {i.name for i in model.indicators if not i.name_en}
    names |= {m.label("zh") for m in model.milestones if not m.title_en}
    return names


def test_the_sample_report_reads_right_in_both_languages_on_a_phone_and_a_desk(browser, sample_reports, tmp_path):
    from pages import WIDTHS, Shots, check_layout, chinese_runs, page_text

    model, reports = sample_reports
    shots = Shots(tmp_path)
    allowed = names_without_english(model)
    for (data, lang), path in reports.items():
        context = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        ids = {it["id"] for sec in context["sections"] for it in sec["items"]} | {i.id for i in model.indicators}
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(path.as_uri())
            where = f"{data} report ({lang}) at {width}px"
            pairs = check_layout(page, where)
            assert pairs > 100, where  # the cards were measured, not skipped
            text = page_text(page)
            if lang == "en":
                assert not [i for i in ids if i in page.inner_text("body")], where  # no raw ids
                assert re.findall(r"\b\d{6}\b", text) == [], where  # regions by name, never by code
                assert re.findall(r"\b[a-z]+_[a-z0-9_]+\b|kiloperson|\bin_progress\b", text) == [], where
                stray = [run for run in chinese_runs(text) if not any(run in name for name in allowed)]
                assert stray == [], f"{where}: Chinese outside quotes and names without an English form: {stray[:10]}"
                assert "2 December 2026, 12:19 (Beijing time)" in text
            else:
                assert set(re.findall(r"[A-Za-z]{2,}", text)) <= {"SAMPLE"}, where
                assert "2026年12月2日 12:19（北京时间）" in text
            if data == "sample" and width == WIDTHS[0]:
                # a phone shows each card's fields one under the other, never one character a line
                assert page.locator("#by-unit").bounding_box()["height"] < 6000, where
            shots.take(page, f"report-{data}-{lang}")
            page.close()
    print("screenshots:", *shots.paths, sep="\n  ")


def test_the_index_of_sample_reports_says_they_are_samples_with_their_date_and_kind(browser, sample_reports, tmp_path):
    from pages import WIDTHS, Shots, check_layout

    _, reports = sample_reports
    index = reports[("sample", "zh")].parent / "index.html"
    shots = Shots(tmp_path)
    for width in WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 700})
        page.goto(index.as_uri())
        check_layout(page, f"index at {width}px")
        assert "示例报告" in page.inner_text("#sample")
        row = page.inner_text("#report-2026-12")
        assert "2026-12-02" in row and "按需生成" in row and "示例" in row
        shots.take(page, "index-sample")
        page.close()
