"""The national report's data completeness, as a national supervisor reads it: per province with
a plan loaded, what that plan's own regions have not reported for that plan's indicators
(Guangdong's 3 of 21 cities, Zhejiang's none, Hainan's every 市县 on beds but none on senior
universities), and the 28 provinces with no plan named once as 无规划, not listed as missing
every indicator. In Chromium at a phone's and a desk's width, in Chinese and English."""

import json
import re

import pytest
from test_rollup_service import AS_OF, tracker  # noqa: F401  (the fixture)


def _completeness(tracker, lang):  # noqa: F811
    files = tracker.write_report(AS_OF, plan="national", lang=lang)
    return files, json.loads(files.json.read_text(encoding="utf-8"))["completeness"]


def test_each_province_says_what_its_own_plan_misses(tracker):  # noqa: F811
    _, c = _completeness(tracker, "zh")
    units = {u["region"]: u for u in c["by_unit"]}
    assert list(units) == ["440000", "330000", "460000"]  # the most missing first
    gd = {r["indicator"]: r for r in units["440000"]["rows"]}
    assert gd["养老床位数"]["reported"] == "3/21" and "韶关市" in gd["养老床位数"]["missing"]
    assert "广州市" not in gd["养老床位数"]["missing"]  # it reported
    assert units["440000"]["plan"] == "guangdong" and units["440000"]["summary"] == "0/3 项指标已报齐"
    zj = {r["indicator"]: r["reported"] for r in units["330000"]["rows"]}
    assert zj == {"养老床位数": "0/11", "老年人口数": "0/11"}  # Zhejiang's own target's components only
    hn = {r["indicator"]: r for r in units["460000"]["rows"]}
    assert hn["养老床位数"]["complete"] and hn["养老床位数"]["reported"] == "19/19"
    assert units["460000"]["summary"] == "2/3 项指标已报齐"
    assert [(r["name"], r["missing"]) for r in c["by_region"]] == [
        ("广东省", "养老床位数（3/21）、老年人口数（3/21）、老年大学数（0/21）"),
        ("浙江省", "养老床位数（0/11）、老年人口数（0/11）"),
        ("海南省", "老年大学数（0/19）")]
    # no plan: said once, by name, not as missing every indicator
    assert len(c["no_plan"]) == 28 and "山西省" in c["no_plan"] and "海南省" not in c["no_plan"]
    assert c["no_plan_text"].startswith("无规划（28 个，未载入其规划）：北京市、天津市")
    assert not any(r["name"] in c["no_plan"] for r in c["by_region"])
    _, en = _completeness(tracker, "en")
    assert en["no_plan_text"].startswith("No plan loaded (28): Beijing, Tianjin")
    assert en["by_unit"][0]["unit"] == "Guangdong" and en["by_unit"][0]["summary"] == "0 of 3 indicators complete"


def test_hainans_own_report_keeps_its_completeness(tracker):  # noqa: F811
    own = json.loads(tracker.write_report(AS_OF, lang="zh").json.read_text(encoding="utf-8"))["completeness"]
    assert "no_plan" not in own and all("summary" not in u for u in own["by_unit"])
    assert {r["indicator"] for u in own["by_unit"] for r in u["rows"]} >= {"养老床位数", "老年人口数"}


def test_the_completeness_reads_right_on_a_phone_and_a_desk(browser, tracker, tmp_path):  # noqa: F811
    from pages import WIDTHS, Shots, check_layout

    shots = Shots(tmp_path)
    for lang in ("zh", "en"):
        files, c = _completeness(tracker, lang)
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(files.html.as_uri() + "#completeness")
            where = f"national completeness ({lang}) at {width}px"
            check_layout(page, where)
            section = page.locator("#completeness")
            text = section.inner_text()
            assert c["no_plan_text"] in text, where
            assert text.count("北京市" if lang == "zh" else "Beijing") == 1, where  # named once
            for el in section.locator("[data-json]").all():
                path = el.get_attribute("data-json").split(".")
                value: object = {"completeness": c}
                for key in path:
                    value = value[int(key)] if isinstance(value, list) else value[key]  # type: ignore[index]
                assert el.inner_text().strip() == str(value).strip(), f"{where}: {'.'.join(path)}"
            box = section.bounding_box()
            assert box["x"] >= 0 and box["width"] <= width, where
            if lang == "en":  # the words are English (names of indicators come from the model)
                stray = set(re.findall(r"[\u4e00-\u9fff]+", page.inner_text("#completeness h2, #completeness h3, "
                                                                           "#completeness-no-plan")))
                assert stray == set(), f"{where}: {stray}"
            shot = tmp_path / f"national-completeness-{lang}-{width}.png"
            section.screenshot(path=str(shot))  # the section itself: it lies below the page's first 8000 px
            shots.paths.append(shot)
            page.close()
    print("screenshots:", *shots.paths, sep="\n  ")


def test_the_national_report_says_what_each_provinces_own_report_says(tracker, engine):  # noqa: F811
    """A scheduled run knows the month's figures at the run (known_at, after the submission
    day): a city that reported after the as-of day counts as reported in Guangdong's own report
    and in the national report's line for Guangdong alike."""
    from datetime import UTC, date, datetime

    from tracker.store.observations import insert_observations

    as_of = date(2025, 3, 31)
    with engine.begin() as conn:  # 韶关 reports on 4 April, after the month it is for
        insert_observations(conn, [{"indicator": ind, "region": "440200", "period": "2024",
                                    "period_end": date(2024, 12, 31), "value": v, "revision": 1, "note": "",
                                    "source": "test", "entered_by": "test",
                                    "entered_at": datetime(2025, 4, 4, 2, tzinfo=UTC), "batch_id": None}
                                   for ind, v in (("elderly_care_beds", 9_000.0), ("elderly_population", 400_000.0))])
    known_at = datetime(2025, 4, 12, 2, tzinfo=UTC)

    def reported(plan: str) -> dict[str, str]:
        files = tracker.write_report(as_of, plan=plan, known_at=known_at, kind="scheduled")
        c = json.loads(files.json.read_text(encoding="utf-8"))["completeness"]
        units = c["by_unit"]
        if plan == "national":
            units = [u for u in units if u["region"] == "440000"]
        return {r["indicator"]: r["reported"] for u in units for r in u["rows"]}

    national, own = reported("national"), reported("guangdong")
    assert own["养老床位数"] == "4/21" and national == own
