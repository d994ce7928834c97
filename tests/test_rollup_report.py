"""The national plan's report with its roll-up section, in a real Chromium at a phone's and a
desk's width, in Chinese and English: the figures on the page are the JSON's (which are the
hand sums of test_rollup_service), one chart per shared indicator, one self-contained file;
and Hainan's own report names the national task each of its tasks carries out."""

import json
import re

import pytest
from test_rollup_service import AS_OF, hand_sums, tracker  # noqa: F401  (the fixture)


def test_the_national_report_holds_the_rollup_with_the_hand_sums(tracker):  # noqa: F811
    files = tracker.write_report(AS_OF, plan="national", lang="zh")
    assert files.html.parent.name == "national"
    ctx = json.loads(files.json.read_text(encoding="utf-8"))
    section = ctx["rollup"]
    beds = next(i for i in section["indicators"] if i["id"] == "elderly_care_beds_per_1000_elderly")
    beds_sum, elderly_sum = hand_sums()
    assert beds["whole"]["value"] == pytest.approx(beds_sum / elderly_sum * 1000)
    assert beds["whole"]["value_text"] == "24.9张/千人" and beds["whole"]["units_text"] == "3/31 个省份有数据"
    shown = [beds["rows"][i]["name"] for i in beds["shown"]]
    assert shown == ["山西省", "浙江省", "广东省", "海南省"]  # with a plan or a figure; the rest named in a line
    assert beds["absent_text"].startswith("无规划、无数据（27 个）：北京市、天津市")
    html = files.html.read_text(encoding="utf-8")
    assert html.count('<svg class="chart rollup"') == len(section["indicators"]) == 2
    assert "<script" not in html and "http" not in html.split("</head>")[1]  # one self-contained file
    link = section["tasks"][0]
    assert link["id"] == "national#1" and [b["id"] for b in link["implemented_by"]] == ["hainan#1", "guangdong#1"]
    # the province's own report: no roll-up (no plan below it), and each task names the national one
    own = json.loads(tracker.write_report(AS_OF, lang="zh").json.read_text(encoding="utf-8"))
    assert "rollup" not in own
    items = [it for sec in own["sections"] for it in sec["items"]]
    beds_item = next(it for it in items if it["id"] == "beds_ratio_2025")
    assert beds_item["implements"] == ["national#1"] and beds_item["implements_text"] == "国务院办公厅 第1项"
    en = json.loads(tracker.write_report(AS_OF, lang="en").json.read_text(encoding="utf-8"))
    beds_en = next(it for sec in en["sections"] for it in sec["items"] if it["id"] == "beds_ratio_2025")
    assert beds_en["implements_text"] == "General Office of the State Council No. 1"


def test_the_rollup_reads_right_on_a_phone_and_a_desk_in_both_languages(browser, tracker, tmp_path):  # noqa: F811
    from pages import WIDTHS, Shots, check_layout, chinese_runs

    shots = Shots(tmp_path)
    for lang in ("zh", "en"):
        files = tracker.write_report(AS_OF, plan="national", lang=lang)
        ctx = json.loads(files.json.read_text(encoding="utf-8"))
        section = ctx["rollup"]
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(files.html.as_uri())
            where = f"national report ({lang}) at {width}px"
            check_layout(page, where)
            # every value the roll-up shows is the JSON's
            for el in page.locator('#rollup [data-json]').all():
                path = el.get_attribute("data-json").split(".")
                value = ctx
                for key in path:
                    value = value[int(key)] if isinstance(value, list) else value[key]
                assert el.inner_text().strip() == str(value).strip(), f"{where}: {'.'.join(path)}"
            charts = page.locator("#rollup svg.chart.rollup")
            assert charts.count() == 2
            beds = next(i for i, ind in enumerate(section["indicators"]) if ind["id"] ==
                        "elderly_care_beds_per_1000_elderly")
            chart = charts.nth(beds)
            assert chart.locator("circle").count() == 3  # 山西, 广东 (hollow: 3 of 21), 海南; 浙江 has none
            assert chart.locator("circle.partial").count() == 1
            assert chart.locator("line.tick").count() == 3  # 浙江, 广东, 海南: their own targets
            box = chart.bounding_box()
            assert box["width"] <= width and box["x"] >= 0, where
            if lang == "zh":
                assert set(re.findall(r"[A-Za-z]{2,}", page.inner_text("#rollup"))) == set(), where
            else:
                rollup_text = page.evaluate("""() => { const c = document.querySelector('#rollup').cloneNode(true);
                    c.querySelectorAll('.src').forEach(e => e.remove()); document.body.appendChild(c);
                    const t = c.innerText; c.remove(); return t; }""")
                allowed = {"老年大学数", "每千名老年人口养老床位数", "海南省一老一小整体解决方案"}
                stray = [run for run in chinese_runs(rollup_text) if not any(run in a for a in allowed)]
                assert stray == [], f"{where}: {stray[:10]}"
            shots.take(page, f"rollup-{lang}")
            page.close()
    print("screenshots:", *shots.paths, sep="\n  ")


def test_the_national_cards_say_the_rollups_figure(tracker):  # noqa: F811
    files = tracker.write_report(AS_OF, plan="national", lang="zh")
    ctx = json.loads(files.json.read_text(encoding="utf-8"))
    card = next(it for sec in ctx["sections"] for it in sec["items"] if it["id"] == "national-beds-2025")
    beds = next(i for i in ctx["rollup"]["indicators"] if i["id"] == "elderly_care_beds_per_1000_elderly")
    assert card["status"] == beds["whole"]["status"] == "no_data"  # 23 of 79 regions: partial, so unjudged
    assert "24.9张/千人" in card["latest_text"] and "23/79" in card["latest_text"]
    assert card["chart"]["points"][-1]["value"] == pytest.approx(beds["whole"]["value"], abs=1e-3)  # rounded
    assert "北京市" in card["reason"]  # the provinces with nothing in the figure are named, by name


def test_the_rollup_chart_draws_each_unit_against_its_own_target():
    from tracker.report.svg import rollup_chart

    chart = {"title": "床位<数>", "whole": 24.9, "whole_label": "全国", "rows": [
        {"label": "海南", "value": 20.0, "target": 30.0, "partial": False, "light": "green", "note": ""},
        {"label": "广东", "value": 26.15, "target": 35.0, "partial": True, "light": "grey", "note": ""},
        {"label": "浙江", "value": None, "target": 33.0, "partial": False, "light": "grey", "note": "无数据"},
        {"label": "山西", "value": 25.0, "target": None, "partial": False, "light": "none", "note": ""}]}
    svg = str(rollup_chart(chart))
    assert svg.count("<circle") == 3 and svg.count('class="point grey partial"') == 1
    assert svg.count('class="target tick"') == 3 and svg.count('class="whole"') == 1
    assert ">无数据<" in svg and ">全国 24.9<" in svg and ">26.15<" in svg
    assert "床位&lt;数&gt;" in svg and "<数>" not in svg  # the title escaped
    assert ">50<" in svg  # the axis ends at a round number above the largest target (35)
    assert str(rollup_chart({"rows": []})) == "" and str(rollup_chart(None)) == ""
    nothing = {"rows": [{"label": "甲", "value": None, "target": None, "partial": False, "note": "无规划"}]}
    assert str(rollup_chart(nothing)) == ""  # nothing to place on a scale
