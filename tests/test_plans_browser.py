"""The report of a successor plan in Chromium: Hainan's 十五五 fixture plan, its baseline carried
from the 十四五 plan's final value, in Chinese and English at a phone's and a desk's width."""

import re
from datetime import UTC, date, datetime

import pytest
from test_plans import write_with_include

from tracker.config import Settings
from tracker.service import Tracker



def test_a_successor_plans_report_says_where_its_baseline_came_from(browser, db_url, engine, tmp_path, small_model):
    from pages import WIDTHS, Shots, check_layout, chinese_runs, page_text

    write_with_include(tmp_path, small_model, "hainan-15.yaml")
    settings = Settings(database_url=db_url, targets_path=tmp_path / "targets.yaml", reports_dir=tmp_path / "reports")
    tracker = Tracker(settings, engine=engine, clock=lambda: datetime(2027, 3, 1, 4, 0, tzinfo=UTC))
    for year, beds in (("2024", 29000), ("2025", 30000), ("2026", 31000)):
        tracker.record("elderly_care_beds", "海南省", year, beds, entered_by="省民政厅")
        tracker.record("elderly_population", "海南省", year, 1_000_000, entered_by="省卫生健康委")
    shots = Shots(tmp_path)
    allowed = {i.name for i in tracker.model.indicators} | {u.name for t in tracker.model.tasks for u in t.units} | {
        m.label("zh") for m in tracker.model.milestones}
    for lang, words in (("zh", "基期值 30张/千人（2025，上一期规划的期末值）"),
                        ("en", "the baseline is 30 beds per 1,000 (2025), the final value of the preceding plan")):
        files = tracker.write_report(date(2027, 3, 1), lang=lang, reports_dir=tmp_path / lang)
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(files.html.as_uri())
            where = f"十五五 report ({lang}) at {width}px"
            check_layout(page, where)
            text = page_text(page)
            assert words in " ".join(text.split()), where
            if lang == "zh":
                assert "海南省“十五五”养老托育服务发展规划（测试用）" in text
                assert set(re.findall(r"[A-Za-z]{2,}", text)) == set(), where
            else:
                assert "Hainan 15th Five-Year plan" in text
                stray = [run for run in chinese_runs(text) if not any(run in name for name in allowed)]
                assert stray == [], f"{where}: {stray[:10]}"
            shots.take(page, f"report-15-{lang}")
            page.close()
    print("screenshots:", *shots.paths, sep="\n  ")
