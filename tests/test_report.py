"""The monthly report: order, escaping, atomic writes, the index, JSON = HTML, no external URL.

Built from a small hand-made targets model and hand-made statuses, so these tests pin the
report's behaviour independently of the status engine (an end-to-end test with `evaluate`
sits at the end).
"""

import json
import os
import re
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tracker.domain.model import Indicator, Milestone, Observation, Plan, ResponsibleUnit, Target, TargetsModel, Task
from tracker.domain.periods import period_containing
from tracker.domain.regions import load_regions
from tracker.report import build as report
from tracker.report import files, render
from tracker.status.engine import Status

AS_OF = date(2026, 3, 31)
PLAN = "hainan"
UTC = timezone.utc


def make_model() -> TargetsModel:
    lead = lambda n: ResponsibleUnit(n, "lead")  # noqa: E731
    joint = lambda n: ResponsibleUnit(n, "joint")  # noqa: E731
    local = ResponsibleUnit("各市县政府", "local")
    return TargetsModel(
        plans=[Plan(PLAN, "海南省促进养老托育服务健康发展实施方案", "海南省人民政府", "province", "460000",
                    date(2021, 1, 1), date(2025, 12, 31), "sources/hainan-task-table.txt")],
        indicators=[
            Indicator("elderly_beds", "养老床位数", "bed", "count", "monthly", "省民政厅"),
            Indicator("elderly_population", "老年人口数", "kiloperson", "count", "yearly", "省民政厅"),
            Indicator("beds_per_1000_elderly", "每千名老年人口养老床位数", "bed / kiloperson", "ratio",
                      "monthly", "省民政厅", numerator="elderly_beds", denominator="elderly_population"),
            Indicator("senior_universities", "老年大学数", "institution", "count", "yearly", "省教育厅"),
            Indicator("care_trainees", "养老护理人员培训人次", "person_time", "flow", "monthly", "省民政厅"),
            Indicator("childcare_places_per_1000", "每千人口托位数", "place / kiloperson", "ratio",
                      "quarterly", "省卫生健康委"),
        ],
        tasks=[
            Task(PLAN, 6, "到2025年底，全省每千名老年人口拥有养老床位数达到32张。", (lead("省民政厅"), local)),
            Task(PLAN, 15, "到2022年底，全省每个市县（区）至少建成并运营1所老年大学。", (lead("省教育厅"), local)),
            Task(PLAN, 17, "到2025年底，全省培训养老护理人员1.5万人次。", (lead("省民政厅"), local)),
            Task(PLAN, 19, "到2022年底，全面建立特殊困难老年人居家探访制度。",
                 (lead("省民政厅"), lead("省卫生健康委"), joint("省住房城乡建设厅"), local)),
            Task(PLAN, 22, "到2025年底，全省达到每千名常住人口拥有3个托位数。",
                 (lead("省卫生健康委"), ResponsibleUnit("省发展改革委", "participating"), local)),
        ],
        targets=[
            Target("beds-2025", PLAN, 6, "beds_per_1000_elderly", ">=", 32, "bed / kiloperson",
                   date(2026, 12, 31), quote="到2025年底，全省每千名老年人口拥有养老床位数达到32张。"),
            Target("universities-2022", PLAN, 15, "senior_universities", ">=", 1, "institution",
                   date(2022, 12, 31), scope="each_region",
                   quote="到2022年底，全省每个市县（区）至少建成并运营1所老年大学。"),
            Target("trainees-2025", PLAN, 17, "care_trainees", ">=", 15000, "person_time",
                   date(2026, 6, 30), cumulative=True, quote="到2025年底，全省培训养老护理人员1.5万人次。"),
            Target("places-2025", PLAN, 22, "childcare_places_per_1000", ">=", 3, "place / kiloperson",
                   date(2027, 12, 31), quote="到2025年底，全省达到每千名常住人口拥有3个托位数。"),
        ],
        milestones=[Milestone("home-visits-2022", PLAN, 19, "全面建立特殊困难老年人居家探访制度",
                              date(2022, 12, 31), quote="到2022年底，全面建立特殊困难老年人居家探访制度。")],
    )


def make_statuses(as_of: date = AS_OF, universities_code: str = "overdue") -> list[Status]:
    iso = as_of.isoformat()
    regions = load_regions()
    judged = regions.judged_regions()
    per_region = [Status("universities-2022", "target", "achieved" if i % 5 else "overdue",
                         "已建成", "built", iso, region=r.code, figures={"latest": 1 if i % 5 else 0})
                  for i, r in enumerate(judged)]
    return [
        Status("places-2025", "target", "on_track", "按轨迹推进。", "On the trajectory.", iso,
               figures={"latest": 2.1, "latest_period": "2025Q4"}),
        Status("beds-2025", "target", "lagging", "最新值 28.4张/千人，低于轨迹值 30.1。",
               "Latest 28.4, below the trajectory 30.1.", iso, figures={"latest": 28.4, "latest_period": "2026-02"}),
        Status("universities-2022", "target", universities_code, "6/25 个地区未达标。",
               "6 of 25 regions miss it.", iso, regions=per_region),
        Status("trainees-2025", "target", "due_soon", "期限将至，尚差 3,000 人次。", "Due soon.", iso,
               figures={"latest": 12000}),
        Status("home-visits-2022", "milestone", "overdue", "期限已过，仍在推进。", "Deadline passed.", iso,
               figures={"latest_report": "2026-03-01", "note": "<script>alert(1)</script> 文件待印发",
                        "evidence": "琼民发〔2022〕5号", "states": {"省民政厅": "in_progress"}}),
    ]


def make_observations() -> list[Observation]:
    regions = load_regions()
    out = []
    entered = datetime(2026, 1, 5, tzinfo=UTC)
    for i, r in enumerate(regions.counties()):
        for month in range(1, 13):
            end = period_containing(date(2025, month, 1), "month").end
            out.append(Observation("elderly_beds", r.code, end, 1000 + 10 * month + i, entered, f"2025-{month:02d}"))
        out.append(Observation("elderly_population", r.code, date(2025, 12, 31), 40 + i, entered, "2025"))
        for month in range(1, 13):
            out.append(Observation("care_trainees", r.code, period_containing(date(2025, month, 1), "month").end, 50, entered, f"2025-{month:02d}"))
    # a value entered after last month's report, with a hostile note
    out.append(Observation("elderly_beds", "460100", date(2026, 2, 28), 1500,
                           datetime(2026, 3, 10, tzinfo=UTC), "2026-02", note="<script>alert('x')</script>"))
    return out


def build(previous=None, lang="zh", **kw):
    return report.build_context(make_model(), make_statuses(kw.pop("as_of", AS_OF)), make_observations(),
                                load_regions(), kw.pop("as_of_date", AS_OF), previous, lang=lang,
                                generated_at="2026-04-01T08:00:00+08:00", **kw)


class Collector(HTMLParser):
    """Text of every element carrying data-json, and every src/href/url() reference."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None, list[str]]] = []
        self.values: dict[str, str] = {}
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href", "action", "srcset", "poster", "data"):
            if a.get(key):
                self.refs.append(a[key])
        if tag in ("meta", "link", "br", "img", "input", "circle", "line", "polyline"):
            return
        self.stack.append((tag, a.get("data-json"), []))

    def handle_endtag(self, tag):
        while self.stack:
            t, path, text = self.stack.pop()
            joined = "".join(text)
            if path is not None:
                self.values[path] = joined
            if self.stack:
                self.stack[-1][2].append(joined)
            if t == tag:
                break

    def handle_data(self, data):
        if self.stack:
            self.stack[-1][2].append(data)


def collect(html: str) -> Collector:
    c = Collector()
    c.feed(html)
    return c


def resolve(context, path: str):
    node = context
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def shown(value) -> str:
    if isinstance(value, list):
        return "、".join(value)
    return str(value)


# ---------------------------------------------------------------------------------------------


def test_it_lists_overdue_first_then_lagging_and_due_soon():
    ctx = build()
    keys = [s["key"] for s in ctx["sections"]]
    assert keys == ["overdue", "attention", "rest"]
    overdue = [it["id"] for it in ctx["sections"][0]["items"]]
    assert set(overdue) == {"universities-2022", "home-visits-2022"}
    assert [it["id"] for it in ctx["sections"][1]["items"]] == ["beds-2025", "trainees-2025"]
    assert [it["id"] for it in ctx["sections"][2]["items"]] == ["places-2025"]
    html = render.render_report(ctx)
    positions = [html.index(f'id="item-{i}"') for i in
                 ("universities-2022", "home-visits-2022", "beds-2025", "trainees-2025", "places-2025")]
    assert positions[0] < positions[2] and positions[1] < positions[2] < positions[3] < positions[4]
    assert html.index('id="sec-overdue"') < html.index('id="sec-attention"') < html.index('id="sec-rest"')


def test_overdue_items_name_their_units_and_distance():
    ctx = build()
    uni = next(it for it in ctx["sections"][0]["items"] if it["id"] == "universities-2022")
    assert uni["units"]["lead"] == ["省教育厅"]
    assert uni["units"]["local"] == ["各市县政府"]
    assert uni["gap_text"].endswith("个地区未达标")
    assert "秀英区" in uni["failing_regions"]  # region 0 of the judged list fails
    visits = next(it for it in ctx["sections"][0]["items"] if it["id"] == "home-visits-2022")
    assert visits["units"]["lead"] == ["省民政厅", "省卫生健康委"]
    assert visits["units"]["joint"] == ["省住房城乡建设厅"]
    assert "已逾期" in visits["deadline_text"]
    beds = ctx["sections"][1]["items"][0]
    assert beds["gap_text"] == "差3.6张/千人"
    assert beds["latest_text"] == "28.4张/千人（2026-02）"
    assert beds["target_text"] == "不低于32张/千人（2026-12-31前）"


def test_counts_and_lights_add_up():
    ctx = build()
    assert ctx["total"] == 5
    lights = {x["light"]: x["count"] for x in ctx["lights"]}
    assert lights == {"red": 2, "yellow": 2, "grey": 0, "green": 1}
    assert [c["status"] for c in ctx["counts"]] == ["overdue", "lagging", "due_soon", "on_track"]
    assert ctx["counts"][0]["count"] == 2


def test_it_escapes_user_text():
    ctx = build(previous={"period": "2026-02", "as_of": "2026-02-28", "sections": []})
    html = render.render_report(ctx)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 文件待印发" in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    # and the JSON keeps the text as entered
    assert ctx["changes"]["new_values"][0]["note"] == "<script>alert('x')</script>"


def test_the_json_equals_what_the_html_shows():
    ctx = build(previous={"period": "2026-02", "as_of": "2026-02-28",
                          "sections": [{"items": [{"id": "beds-2025", "region": None, "status": "on_track"}]}]})
    ctx = json.loads(files.to_json(ctx))  # what a machine reads back
    html = render.render_report(ctx)
    found = collect(html).values
    assert len(found) > 60
    for path, text in found.items():
        assert text.strip() == shown(resolve(ctx, path)).strip(), path
    # and every item's key facts are on the page
    for si, sec in enumerate(ctx["sections"]):
        for ii, it in enumerate(sec["items"]):
            for field in ("title", "status_label", "latest_text", "reason", "deadline_text"):
                assert f"sections.{si}.items.{ii}.{field}" in found
    assert found["lights.0.count"] == "2"
    assert found["changes.status_changes.0.to_label"] == "进度滞后"


def test_there_is_no_external_url_in_the_html():
    ctx = build()
    for html in (render.render_report(ctx), files.render_index([files.headline(ctx)])):
        assert "http://" not in html and "https://" not in html
        for ref in collect(html).refs:
            assert ref.startswith(("#", "data:")) or re.fullmatch(r"\d{4}-\d{2}\.html", ref), ref
        assert not re.search(r"url\(\s*['\"]?(?!data:|#)", html)
        assert "@import" not in html
        assert '<meta charset="utf-8">' in html and '<link rel="icon" href="data:,">' in html


def test_the_chart_draws_values_trajectory_and_target():
    ctx = build()
    beds = ctx["sections"][1]["items"][0]
    chart = beds["chart"]
    assert chart["target"] == 32 and chart["deadline"] == "2026-12-31"
    # the series the status engine judges: the ratio recomputed from summed components,
    # sum(beds) / sum(elderly), never a mean of ratios, on the days both are reported
    beds = sum(1000 + 10 * 12 + i for i in range(19))
    elderly = sum(40 + i for i in range(19))
    whole = [p for p in chart["points"] if not p["partial"]]
    assert whole == [{"date": "2025-12-31", "value": round(beds / elderly, 4), "period": "2025-12", "partial": False}]
    trainees = ctx["sections"][1]["items"][1]["chart"]
    assert trainees["points"][-1]["value"] == 12 * 50 * 19  # cumulative sum of monthly flows over 19 市县
    svg = str(render.environment().globals["sparkline"](trainees, title="t"))
    assert 'class="values"' in svg and 'class="trajectory"' in svg and 'class="goal"' in svg
    assert svg.count('class="point') == len(trainees["points"])  # every point drawn


def test_a_figure_over_part_of_the_regions_is_drawn_hollow_and_said_as_the_reasons_say_it():
    model = make_model()
    model.targets.append(Target("beds-count", PLAN, 6, "elderly_beds", ">=", 30000, "bed", date(2026, 12, 31)))
    statuses = [*make_statuses(), Status("beds-count", "target", "no_data", "", "", AS_OF.isoformat(), figures={
        "latest": 1500, "latest_period": "2026-02", "partial": True, "coverage": "1/19"})]
    for lang, latest in (("zh", "1/19 市县合计 1,500张（2026-02）"), ("en", "1,500 beds (2026-02), sum of 1 of 19 regions")):
        ctx = report.build_context(model, statuses, make_observations(), load_regions(), AS_OF, lang=lang)
        item = next(it for sec in ctx["sections"] for it in sec["items"] if it["id"] == "beds-count")
        assert item["latest_text"] == latest
        points = item["chart"]["points"]
        assert len(points) == 13  # every month of 2025, and February 2026 …
        assert points[-1]["partial"] and points[-1]["coverage"] == "1/19" and points[-1]["period"] == "2026-02"
        assert not any(p["partial"] for p in points[:-1])
        assert item["chart"]["legend"]["partial"]  # … which the chart's own legend explains
        svg = str(render.environment().globals["sparkline"](item["chart"], title="t", lang=lang))
        assert svg.count('class="point partial"') == 1 and svg.count('class="point"') == 12
        assert "2026-02" in svg and "2025-01" in svg  # the first and the latest period under the axis
        assert ">1,500<" in svg and ">19,361<" in svg  # the first and the latest value beside their points


def test_the_region_matrix_has_a_row_per_region():
    ctx = build()
    matrix = ctx["by_region"]
    assert [c["id"] for c in matrix["columns"]] == ["universities-2022"]
    assert len(matrix["rows"]) == len(load_regions().judged_regions())
    assert matrix["rows"][0]["name"] == "海口市秀英区" and matrix["rows"][0]["cells"][0]["status"] == "overdue"


def test_the_unit_view_sums_up_each_organisation_with_its_items_behind_a_disclosure():
    ctx = build()
    units = {u["unit"]: u for u in ctx["by_unit"]}
    edu = units["省教育厅"]
    assert edu["counts"] == {"red": 1, "yellow": 0, "grey": 0, "green": 0} and edu["roles"]["lead"] == 1
    assert [(r["title"], r["role"]) for r in edu["items"]] == [("老年大学数", "lead")]
    assert units["省民政厅"]["roles"]["lead"] == 3 and units["省民政厅"]["total"] == 3
    assert units["省发展改革委"]["roles"]["participating"] == 1 and units["省发展改革委"]["roles_text"] == "参加 1"
    assert ctx["by_unit"][0]["counts"]["red"]  # departments with overdue items come first
    assert ctx["by_unit"][-1]["unit"] == "各市县政府" and ctx["by_unit"][-1]["local"]
    html = render.render_report(ctx)
    section = html.split('id="by-unit"', 1)[1].split("</section>", 1)[0]
    assert section.count('<details class="unit"') == len(ctx["by_unit"]) and "<table" not in section


def test_an_organisation_written_two_ways_is_one_unit():
    model = make_model()
    task = model.tasks[0]
    model.tasks[0] = Task(task.plan, task.number, task.text,
                          (*task.units[:-1], ResponsibleUnit("各市县人民政府", "local")))
    ctx = report.build_context(model, make_statuses(), make_observations(), load_regions(), AS_OF)
    local = [u for u in ctx["by_unit"] if u["local"]]
    assert [u["unit"] for u in local] == ["各市县政府"] and local[0]["total"] == 5


def test_completeness_names_who_has_not_reported():
    ctx = build()
    rows = {r["indicator"]: r for u in ctx["completeness"]["by_unit"] for r in u["rows"]}
    # the ratio is entered as components, each checked against its own frequency:
    # monthly beds are expected for 2026-02 (30 days' grace before 2026-03-31), only Haikou sent it
    assert rows["养老床位数"]["expected_period"] == "2026-02"
    assert rows["养老床位数"]["reported"] == "1/19"
    assert "海口市" not in rows["养老床位数"]["missing"] and "儋州市" in rows["养老床位数"]["missing"]
    assert rows["老年人口数"]["expected_period"] == "2025"
    assert rows["老年人口数"]["complete"] and rows["老年人口数"]["reported"] == "19/19"
    assert rows["老年大学数"]["reported"] == "0/19"
    assert rows["每千人口托位数"]["expected_period"] == "2025Q4"
    assert ctx["completeness"]["by_region"][0]["count"] >= 1


def test_english_report():
    ctx = build(lang="en")
    assert ctx["sections"][0]["title"] == "1. Overdue"
    beds = ctx["sections"][1]["items"][0]
    assert beds["target_text"] == "at least 32 beds per 1,000 by 2026-12-31"
    html = render.render_report(ctx)
    assert '<html lang="en">' in html


def test_changes_since_the_previous_report():
    prev = build()
    prev["sections"][1]["items"][0]["status"] = "on_track"  # beds was on track last month
    prev["as_of"] = "2026-02-28"
    prev["period"] = "2026-02"
    ctx = build(previous=json.loads(files.to_json(prev)))
    ch = ctx["changes"]
    assert ch["previous"] == "2026-02"
    assert [(c["id"], c["from"], c["to"], c["direction"]) for c in ch["status_changes"]] == [
        ("beds-2025", "on_track", "lagging", "worse")]
    assert ch["new_values_total"] == 1
    assert ch["new_values"][0]["region_name"] == "海口市"
    assert ch["new_values"][0]["value_text"] == "1,500张"


# ---------------------------------------------------------------------------------------------
# files


def write(tmp_path: Path, as_of: date, **kw) -> report.ReportFiles:
    statuses = make_statuses(as_of)
    return files.generate_report(make_model(), statuses, make_observations(), load_regions(), as_of,
                                  tmp_path, generated_at=datetime(2026, 4, 1, tzinfo=UTC), **kw)


def test_it_writes_html_json_and_index(tmp_path):
    files = write(tmp_path, AS_OF)
    assert files.html == tmp_path / "2026-03.html"
    assert json.loads(files.json.read_text(encoding="utf-8"))["as_of"] == "2026-03-31"
    assert "2026-03.html" in files.index.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "2026-03.html", "2026-03.json", "index.html"]


def test_the_index_after_several_months(tmp_path):
    for month in (1, 2, 3, 4):
        write(tmp_path, date(2026, month, 28))
    write(tmp_path, date(2026, 2, 28), late_run=True, note="补发")  # a re-run of February
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    periods = re.findall(r'id="report-(\d{4}-\d{2})"', index)
    assert periods == ["2026-04", "2026-03", "2026-02", "2026-01"]
    row = re.search(r'id="report-2026-02".*?</tr>', index, re.S).group(0)
    assert "补发" in row or "late" in row.lower() or "定时任务延迟" in row
    assert re.search(r'class="n-red">.*?<span class="v">2<', row)
    # each month compares with the one before
    april = json.loads((tmp_path / "2026-04.json").read_text(encoding="utf-8"))
    assert april["changes"]["previous"] == "2026-03"
    feb = (tmp_path / "2026-02.html").read_text(encoding="utf-8")
    assert 'id="late-run"' in feb and "补发" in feb


def snapshot(directory: Path) -> dict[str, bytes | str]:
    """Everything under the report directory: files' bytes, symlinks' targets."""
    return {str(p.relative_to(directory)): (os.readlink(p) if p.is_symlink() else p.read_bytes())
            for p in sorted(directory.rglob("*")) if p.is_symlink() or p.is_file()}


def test_a_crash_while_rendering_leaves_everything_as_it_was(tmp_path, monkeypatch):
    write(tmp_path, date(2026, 1, 31))
    write(tmp_path, date(2026, 2, 28))
    before = snapshot(tmp_path)

    def boom(*a, **k):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(files, "render_index", boom)
    with pytest.raises(RuntimeError):
        write(tmp_path, AS_OF)
    assert snapshot(tmp_path) == before


def test_a_crash_while_renaming_leaves_no_partial_file(tmp_path, monkeypatch):
    write(tmp_path, date(2026, 1, 31))
    before = snapshot(tmp_path)
    real_replace = files.os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", flaky)
    with pytest.raises(OSError):
        write(tmp_path, date(2026, 2, 28))
    assert calls
    assert snapshot(tmp_path) == before  # no temporary file left behind either
    monkeypatch.setattr(files.os, "replace", real_replace)
    write(tmp_path, date(2026, 2, 28))
    assert (tmp_path / "2026-02.html").exists()


def test_a_crash_while_writing_a_temp_file_leaves_no_partial_file(tmp_path, monkeypatch):
    write(tmp_path, date(2026, 1, 31))
    before = snapshot(tmp_path)
    real = files.os.fsync
    count = {"n": 0}

    def fail_second(fd):
        count["n"] += 1
        if count["n"] == 2:
            raise OSError("I/O error")
        return real(fd)

    monkeypatch.setattr(files.os, "fsync", fail_second)
    with pytest.raises(OSError):
        write(tmp_path, date(2026, 2, 28))
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------------------------------------
# end to end: the sample data, the database, the status engine, the command


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TARGETS = Path(__file__).resolve().parent.parent / "targets.yaml"


def load_sample(engine):
    from tracker.actuals.entry import import_file
    from tracker.targets.file import load_targets

    model = load_targets(TARGETS)
    import_file(engine, EXAMPLES / "hainan-sample-values.csv", model, entered_by="test",
                now=datetime(2026, 10, 20, tzinfo=UTC), allow_sample=True)
    import_file(engine, EXAMPLES / "hainan-sample-progress.csv", model, entered_by="test",
                now=datetime(2026, 10, 20, tzinfo=UTC), allow_sample=True)
    return model


def test_the_sample_data_makes_a_report_with_the_status_engine(engine, tmp_path):
    from tracker.config import Settings
    from tracker.service import Tracker

    model = load_sample(engine)
    settings = Settings(database_url="", targets_path=TARGETS, reports_dir=tmp_path)
    tracker = Tracker(settings, engine=engine, model=model, clock=lambda: datetime(2026, 11, 1, tzinfo=UTC))
    files = tracker.write_report(date(2026, 10, 31))
    ctx = json.loads(files.json.read_text(encoding="utf-8"))
    assert files.html == tmp_path / "2026-10.html"
    assert ctx["sample"] is True and ctx["plan"]["id"] == "hainan"
    overdue = {it["id"] for it in ctx["sections"][0]["items"]}
    assert "hainan-15-senior_universities" in overdue  # two regions still without one
    assert all(it["status"] == "overdue" for it in ctx["sections"][0]["items"])
    ids = {it["id"] for sec in ctx["sections"] for it in sec["items"]}
    assert not any(i.startswith("national-") for i in ids)  # the province's own plan only
    html = files.html.read_text(encoding="utf-8")
    assert 'id="sample"' in html
    assert "http://" not in html and "https://" not in html
    for path, text in collect(html).values.items():
        assert text.strip() == shown(resolve(ctx, path)).strip(), path


def test_the_report_command_prints_the_path(engine, db_url, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from tracker.cli.main import cli

    load_sample(engine)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", "--as-of", "2026-10-31", "--lang", "en", "--out", str(out),
                                      "--targets", str(TARGETS)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out / "2026-10.html")
    assert '<html lang="en">' in (out / "2026-10.html").read_text(encoding="utf-8")
    assert (out / "index.html").exists()


def test_a_met_deadline_is_not_counted_as_days_overdue():
    statuses = make_statuses()
    statuses[0] = Status("places-2025", "target", "achieved", "已达到。", "Met.", AS_OF.isoformat(),
                         figures={"latest": 3.2})
    model = make_model()
    ctx = report.build_context(model, statuses, make_observations(), load_regions(), date(2028, 3, 1))
    places = next(it for sec in ctx["sections"] for it in sec["items"] if it["id"] == "places-2025")
    assert places["deadline_text"] == "2027-12-31"


def test_english_report_goes_beside_the_chinese_one_not_over_it(engine, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from tracker.cli.main import cli

    root = Path(__file__).resolve().parent.parent
    config = tmp_path / "tracker.toml"
    config.write_text(f'[tracker]\ntargets_path = "{root / "targets.yaml"}"\nreports_dir = "{tmp_path / "reports"}"\n',
                      encoding="utf-8")
    monkeypatch.setenv("TRACKER_CONFIG", str(config))
    runner = CliRunner()
    zh = runner.invoke(cli, ["report", "--as-of", "2026-11-26"])
    en = runner.invoke(cli, ["report", "--as-of", "2026-11-26", "--lang", "en"])
    assert zh.exit_code == 0 and en.exit_code == 0, (zh.output, en.output)
    assert '<html lang="zh' in (tmp_path / "reports" / "2026-11.html").read_text(encoding="utf-8")
    assert '<html lang="en' in (tmp_path / "reports" / "en" / "2026-11.html").read_text(encoding="utf-8")


def test_report_files_are_readable_by_others_as_the_umask_allows(tmp_path):
    import os
    import stat

    from tracker.report.files import _write_temp

    old = os.umask(0o022)
    try:
        path = _write_temp(tmp_path, "x.html", "<p>")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


# ---------------------------------------------------------------------------------------------
# what the issue about circulating the report fixed


def test_every_card_pairs_each_label_with_its_own_value_even_when_missing():
    ctx = build()
    html = render.render_report(ctx)
    visits = html.split('id="item-home-visits-2022"', 1)[1].split("</article>", 1)[0]
    rows = re.findall(r'<div class="row"><dt>(.*?)</dt><dd[^>]*>(.*?)</dd></div>', visits, re.DOTALL)
    labels = [label for label, _ in rows]
    assert labels[:4] == ["目标", "最新值", "期限", "判断依据"]  # a milestone has no gap row
    latest = dict(rows)["最新值"]
    assert "2026-03-01" in latest
    # a milestone with no report: 最新值 shows the empty marker, and 期限 keeps its own value
    statuses = make_statuses()
    statuses[-1] = Status("home-visits-2022", "milestone", "overdue", "无进展。", "No progress.", AS_OF.isoformat(),
                          figures={})
    html = render.render_report(report.build_context(make_model(), statuses, make_observations(), load_regions(), AS_OF))
    visits = html.split('id="item-home-visits-2022"', 1)[1].split("</article>", 1)[0]
    rows = dict(re.findall(r'<div class="row"><dt>(.*?)</dt><dd[^>]*>(.*?)</dd></div>', visits, re.DOTALL))
    assert '<span class="empty">—</span>' in rows["最新值"]
    assert "2022-12-31（已逾期" in rows["期限"] and "无进展" in rows["判断依据"]


def test_binding_targets_are_flagged_and_come_first_within_their_status():
    from dataclasses import replace

    model = make_model()
    model.targets[:] = [replace(t, attribute="binding") if t.id == "trainees-2025" else t for t in model.targets]
    statuses = make_statuses()
    statuses[3] = Status("trainees-2025", "target", "lagging", "落后。", "Behind.", AS_OF.isoformat(),
                         figures={"latest": 12000})
    for lang, badge in (("zh", "约束性"), ("en", "binding")):
        ctx = report.build_context(model, statuses, make_observations(), load_regions(), AS_OF, lang=lang)
        attention = ctx["sections"][1]["items"]
        assert [it["id"] for it in attention] == ["trainees-2025", "beds-2025"]  # both lagging: the binding first
        assert attention[0]["binding"] and attention[0]["attribute_label"] == badge and not attention[1]["binding"]
        html = render.render_report(ctx)
        card = html.split('id="item-trainees-2025"', 1)[1].split("</article>", 1)[0]
        assert f'<span class="badge binding" data-json="sections.1.items.0.attribute_label">{badge}</span>' in card


def test_the_english_report_names_units_indicators_and_the_plan_in_english():
    model = make_model()
    from dataclasses import replace

    model.indicators[:] = [replace(i, name_en="Senior universities") if i.id == "senior_universities" else i
                           for i in model.indicators]
    model.plans[:] = [replace(model.plans[0], title_en="Hainan's plan")]
    ctx = report.build_context(model, make_statuses(), make_observations(), load_regions(), AS_OF, lang="en",
                               generated_at=datetime(2026, 4, 1, 0, 5, tzinfo=UTC))
    uni = next(it for it in ctx["sections"][0]["items"] if it["id"] == "universities-2022")
    assert uni["title"] == "Senior universities" and uni["units"]["lead"] == ["Provincial Department of Education"]
    assert uni["units"]["local"] == ["city and county governments"]
    assert ctx["plan"]["title"] == "Hainan's plan" and ctx["generated_text"] == "1 April 2026, 08:05 (Beijing time)"
    visits = next(it for it in ctx["sections"][0]["items"] if it["id"] == "home-visits-2022")
    assert "in_progress" not in visits["latest_text"]
    assert [u["unit"] for u in ctx["by_unit"]][-1] == "city and county governments"
    assert ctx["completeness"]["by_unit"][0]["unit"].startswith("Provincial")


def test_the_index_labels_each_report_with_its_date_and_kind(tmp_path):
    write(tmp_path, date(2026, 2, 28), kind="scheduled")
    write(tmp_path, date(2026, 3, 5))  # `tracker report` early in March
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    feb = re.search(r'id="report-2026-02".*?</tr>', index, re.DOTALL).group(0)
    march = re.search(r'id="report-2026-03".*?</tr>', index, re.DOTALL).group(0)
    assert "2026-02-28" in feb and "定时月报" in feb
    assert "2026-03-05" in march and "按需生成" in march
    assert 'id="sample"' not in index  # these are not samples


def test_the_monthly_run_writes_a_scheduled_report_and_tracker_report_an_on_demand_one(engine, tmp_path):
    from tracker.config import Settings
    from tracker.service import Tracker

    model = load_sample(engine)
    settings = Settings(database_url="", targets_path=TARGETS, reports_dir=tmp_path)
    # November's report is due after its figures are: on the 11th (submission_day 10)
    tracker = Tracker(settings, engine=engine, model=model, clock=lambda: datetime(2026, 12, 11, 4, 19, tzinfo=UTC))
    assert tracker.run_month("2026-11").state == "succeeded"
    tracker.write_report()
    november = json.loads((tmp_path / "2026-11.json").read_text(encoding="utf-8"))
    december = json.loads((tmp_path / "2026-12.json").read_text(encoding="utf-8"))
    assert (november["as_of"], november["run"]["kind"]) == ("2026-11-30", "scheduled")
    assert (december["as_of"], december["run"]["kind"]) == ("2026-12-11", "on_demand")
    assert december["generated_text"] == "2026年12月11日 12:19（北京时间）"
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "示例报告" in index  # the sample data makes sample reports, and the index says so


def test_templates_read_a_dicts_keys_and_keep_its_methods():
    """The environment looks a dict's key up first (speed), but a dict's own methods stay
    methods whatever its keys: a posted form field named `get` does not break form.get()."""
    from tracker.report.render import environment

    page = environment().from_string("{{ d.title }}|{{ d.get('x', 'none') }}|{{ d['get'] }}|"
                                     "{% for k, v in d.items() %}{{ k }}{% endfor %}")
    assert page.render(d={"title": "T", "get": "g", "items": "i"}) == "T|none|g|titlegetitems"
