"""Plans as data: several plans in one database, each with its own regions (coverage), periods
and successors (follows), read from targets.yaml and the files it includes."""

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from tracker.config import Settings
from tracker.domain.regions import Coverage
from tracker.service import Tracker
from tracker.targets.file import TargetsFileError, dump_model, model_to_data, parse_targets

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
NOW = datetime(2025, 3, 1, 4, 0, tzinfo=UTC)


def with_guangdong(model) -> str:
    """targets.yaml text of `model` with the Guangdong fixture plan merged into it."""
    data = model_to_data(model)
    extra = yaml.safe_load((FIXTURES / "guangdong.yaml").read_text(encoding="utf-8"))
    for key, items in extra.items():
        data.setdefault(key, []).extend(items)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def make(db_url, engine, tmp_path: Path, text: str, now: datetime = NOW) -> Tracker:
    (tmp_path / "targets.yaml").write_text(text, encoding="utf-8")
    settings = Settings(database_url=db_url, targets_path=tmp_path / "targets.yaml", reports_dir=tmp_path / "reports")
    return Tracker(settings, engine=engine, clock=lambda: now)


def test_coverage_and_follows_are_read_and_written_back_unchanged(small_model):
    model = parse_targets(with_guangdong(small_model))
    gd = model.plan("guangdong")
    assert gd.coverage == Coverage("440000", "children", (), (), "units")
    assert model.plan("hainan").coverage is None and gd.follows == ""
    text = dump_model(model)
    assert "coverage:\n    region: 440000 广东省\n    each_region: units\n" in text
    assert "follows" not in text  # left out when unset
    again = parse_targets(text)
    assert again == model
    later = yaml.safe_load(text)
    later["plans"].append({**later["plans"][1], "id": "guangdong-15", "start": "2026-01-01", "end": "2030-12-31",
                           "follows": "guangdong"})
    successor = parse_targets(yaml.safe_dump(later, allow_unicode=True)).plan("guangdong-15")
    assert successor.follows == "guangdong" and parse_targets(dump_model(parse_targets(
        yaml.safe_dump(later, allow_unicode=True)))).plan("guangdong-15") == successor


def test_check_names_the_line_and_field_of_a_bad_coverage_or_follows(small_model):
    text = with_guangdong(small_model).replace("each_region: units", "each_region: units\n    exclude: [440399]")
    data = yaml.safe_load(text)
    data["plans"].append({**data["plans"][0], "id": "hainan-15", "start": "2025-06-01", "end": "2030-12-31",
                          "follows": "hainan"})
    data["plans"].append({**data["plans"][0], "id": "hainan-16", "start": "2031-01-01", "end": "2035-12-31",
                          "follows": "hainan-14"})
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    with pytest.raises(TargetsFileError) as info:
        parse_targets(text)
    lines = text.splitlines()
    problems = info.value.problems
    exclude = next(p for p in problems if "coverage.exclude[0]" in p)
    assert "no division has the code 440399" in exclude
    assert "exclude:" in lines[int(exclude.split()[1].rstrip(":")) - 1]  # the line of the field itself
    follows = [p for p in problems if "follows:" in p]
    assert any("plan 'hainan' ends 2025-12-31, not before this plan starts 2025-06-01" in p for p in follows)
    assert any("plan 'hainan-14' does not exist" in p and "known plans: guangdong, hainan, hainan-15" in p
               for p in follows)
    assert all(lines[int(p.split()[1].rstrip(":")) - 1].strip().startswith("follows:") for p in follows)


def test_each_plan_is_judged_with_its_own_regions(db_url, engine, tmp_path, small_model):
    tracker = make(db_url, engine, tmp_path, with_guangdong(small_model))
    assert tracker.plan_regions("hainan") is tracker.regions  # the home plan: today's regions
    gd = tracker.plan_regions("guangdong")
    assert gd.province.name == "广东省" and len(gd.counties()) == 21
    assert {r.name for r in gd.judged_regions()} >= {"广州市", "深圳市", "东莞市"} and len(gd.judged_regions()) == 21
    assert tracker.plan_regions("guangdong") is gd  # made once per content of targets.yaml
    assert [p.id for p in tracker.plans_on(date(2025, 6, 30))] == ["hainan", "guangdong"]
    assert tracker.plans_on(date(2020, 12, 31)) == []
    evaluation = tracker.evaluate(date(2025, 3, 1))
    assert evaluation.regions_of("guangdong") is gd and evaluation.regions_of("hainan") is tracker.regions
    assert evaluation.resolver_of("guangdong").regions is gd and evaluation.resolver is evaluation.resolver_of("hainan")
    each = evaluation.status("gd-universities-each-2025")
    assert each.figures["judged"] == 21 and {r.region for r in each.regions} >= {"440100", "441900"}
    assert evaluation.status("universities_each").figures["judged"] == len(tracker.regions.judged_regions())
    # The home scope is unchanged: Hainan's items are what reports and alerts cover.
    assert [p.id for p in tracker.tracked_plans()] == ["hainan"]
    assert {s.item_id for s in tracker.statuses(date(2025, 3, 1))} == {"beds_ratio_2025", "universities_each",
                                                                       "hainan-m1", "hainan-m2"}
    assert {s.item_id for s in tracker.statuses(date(2025, 3, 1), plans=["guangdong"])} == {
        "gd-beds-ratio-2025", "gd-universities-each-2025", "gd-m1"}


def write_with_include(tmp_path: Path, model, fixture: str = "guangdong.yaml") -> Path:
    """targets.yaml of `model` including plans/<fixture> (copied beside it), as a project would."""
    (tmp_path / "plans").mkdir(exist_ok=True)
    (tmp_path / "plans" / fixture).write_text((FIXTURES / fixture).read_text(encoding="utf-8"), encoding="utf-8")
    text = dump_model(model).replace("version: 1\n", f"version: 1\ninclude:\n- plans/{fixture}  # 广东省\n", 1)
    (tmp_path / "targets.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "targets.yaml"


def test_included_plan_files_are_merged_into_the_model(tmp_path, small_model):
    from tracker.targets.file import load_targets

    path = write_with_include(tmp_path, small_model)
    model = load_targets(path)
    assert [p.id for p in model.plans] == ["hainan", "guangdong"]
    assert {t.id for t in model.targets} >= {"gd-beds-ratio-2025", "gd-universities-each-2025"}
    assert model.task("guangdong", 2).units_in("local") == ["各地级以上市政府"]
    assert model == parse_targets(with_guangdong(small_model))  # the same model as one file


def test_problems_of_an_included_file_name_the_file_and_its_line(tmp_path, small_model):
    from tracker.targets.file import load_targets

    path = write_with_include(tmp_path, small_model)
    included = tmp_path / "plans" / "guangdong.yaml"
    text = included.read_text(encoding="utf-8")
    bad = text.replace("indicator: senior_universities", "indicator: senior_universitie").replace(
        "id: gd-m1", "id: beds_ratio_2025") + "include: [more.yaml]\n"
    included.write_text(bad, encoding="utf-8")
    lines = bad.splitlines()
    with pytest.raises(TargetsFileError) as info:
        load_targets(path)
    problems = info.value.problems
    assert len(problems) == 3, problems

    def line_of(problem: str) -> str:
        assert problem.startswith("plans/guangdong.yaml line "), problem
        return lines[int(problem.split()[2].rstrip(":")) - 1]

    unknown = next(p for p in problems if "senior_universitie'" in p)
    assert "did you mean senior_universities?" in unknown and "senior_universitie" in line_of(unknown)
    dup = next(p for p in problems if "duplicate" in p)
    assert "(first at line " in dup and "id: beds_ratio_2025" in line_of(dup)  # first in targets.yaml itself
    nested = next(p for p in problems if "include: unknown field" in p)
    assert "cannot include others" in nested and line_of(nested).startswith("include:")
    (tmp_path / "plans" / "guangdong.yaml").unlink()
    with pytest.raises(TargetsFileError) as info:
        load_targets(path)
    [missing] = info.value.problems
    assert "include: include[0]: plans/guangdong.yaml cannot be read (No such file or directory" in missing
    assert path.read_text(encoding="utf-8").splitlines()[int(missing.split()[1].rstrip(":")) - 1] == "include:"


def test_a_change_of_an_included_file_is_seen_and_synced(db_url, engine, tmp_path, small_model):
    from tracker import store

    write_with_include(tmp_path, small_model)
    settings = Settings(database_url=db_url, targets_path=tmp_path / "targets.yaml", reports_dir=tmp_path / "reports")
    tracker = Tracker(settings, engine=engine, clock=lambda: NOW)
    assert tracker.model.targets[-1].value == 1.0
    digest = store.synced_digest(engine)
    included = tmp_path / "plans" / "guangdong.yaml"
    included.write_text(included.read_text(encoding="utf-8").replace("  value: 1\n", "  value: 2\n"), encoding="utf-8")
    assert [t.value for t in tracker.model.targets if t.id == "gd-universities-each-2025"] == [2.0]
    assert store.synced_digest(engine) != digest  # the database has the new definition
    fresh = Tracker(settings, engine=engine, clock=lambda: NOW)  # another process: the cache is not stale
    assert [t.value for t in fresh.model.targets if t.id == "gd-universities-each-2025"] == [2.0]


GD_CITIES = ["440100", "440200", "440300", "440400", "440500", "440600", "440700", "440800", "440900", "441200",
             "441300", "441400", "441500", "441600", "441700", "441800", "441900", "442000", "445100", "445200",
             "445300"]


@pytest.fixture
def two_provinces(db_url, engine, tmp_path, small_model) -> Tracker:
    """Hainan's small model and the Guangdong fixture plan (included) in one database."""
    write_with_include(tmp_path, small_model)
    settings = Settings(database_url=db_url, targets_path=tmp_path / "targets.yaml", reports_dir=tmp_path / "reports")
    return Tracker(settings, engine=engine, clock=lambda: NOW)


def test_a_second_provinces_plan_is_judged_on_its_own_units_beside_hainans(two_provinces, tmp_path):
    tracker = two_provinces
    assert [r.code for r in tracker.plan_regions("guangdong").counties()] == GD_CITIES
    rows = ["地区,期间,养老床位数,老年人口数,老年大学数"]
    for i, code in enumerate(GD_CITIES):
        rows.append(f"{code},2024,{200 + 10 * i},{10000 + 100 * i},{0 if code == '441900' else 1}")
    (tmp_path / "gd.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    tracker.import_file(tmp_path / "gd.csv", entered_by="省民政厅")
    tracker.record("senior_universities", "儋州", "2024", 2, entered_by="儋州")
    evaluation = tracker.evaluate(date(2025, 3, 1))

    ratio = evaluation.status("gd-beds-ratio-2025")
    beds, people = sum(200 + 10 * i for i in range(21)), sum(10000 + 100 * i for i in range(21))
    assert ratio.figures["source"] == "ratio" and ratio.figures["coverage"] == "21/21"
    assert ratio.figures["latest"] == pytest.approx(beds / people * 1000)  # summed components, not a mean
    assert not ratio.met and ratio.figures["target"] == 35 \
        and ratio.figures["gap"] == pytest.approx(35 - beds / people * 1000)
    each = evaluation.status("gd-universities-each-2025")
    assert each.figures["met"] == "20/21" and each.figures["not_met"] == ["441900"]  # 东莞市
    assert "东莞市" in each.reason("zh") and "Dongguan" in each.reason("en")  # worded with Guangdong's names
    # Hainan's targets see none of Guangdong's figures.
    assert evaluation.status("beds_ratio_2025").code == "no_data"
    hainan_each = evaluation.status("universities_each")
    assert hainan_each.figures["met_count"] == 1 and hainan_each.figures["judged"] == len(
        tracker.regions.judged_regions())
    # The figures people see come from the plan's own resolver.
    series, how = evaluation.resolver_of("guangdong").province_series(
        evaluation.resolver.indicators["elderly_care_beds"])
    assert how == "summed" and series.values[-1] == beds and series.covered[-1] == 21
    assert evaluation.resolver.province_series(evaluation.resolver.indicators["elderly_care_beds"])[0] is None
    figures = tracker.values("elderly_care_beds", date(2025, 3, 1), plan="guangdong")
    [total] = [f for f in figures if f.region == "440000"]
    assert (total.value, total.source, total.coverage) == (beds, "derived", "21/21")
    assert {f.region for f in figures} == {"440000", *GD_CITIES}  # Guangdong's regions only
    assert not [f for f in tracker.values("elderly_care_beds", date(2025, 3, 1)) if f.region.startswith("44")]


def test_a_value_for_a_region_outside_every_loaded_plan_is_refused_naming_the_plans(two_provinces, tmp_path):
    from tracker.actuals.entry import CellEntry, EntryError

    tracker = two_provinces
    with pytest.raises(EntryError) as info:
        tracker.record("senior_universities", "杭州", "2024", 1, entered_by="x")
    text = info.value.format("zh")
    assert "浙江省 杭州市 (330100)" in text and "浙江省规划未载入" in text
    assert "已载入的规划：hainan 海南省、guangdong 广东省" in text
    assert "Zhejiang" in info.value.format("en") and "loaded plans: hainan (Hainan), guangdong (Guangdong)" in \
        info.value.format("en")
    (tmp_path / "zj.csv").write_text("指标,地区,期间,数值\n老年大学数,广州,2024,1\n老年大学数,西湖区,2024,1\n",
                                     encoding="utf-8")
    with pytest.raises(EntryError) as info:
        tracker.import_file(tmp_path / "zj.csv", entered_by="x")
    text = info.value.format("zh")
    assert "第3行" in text and "西湖区" in text and "浙江省 杭州市 西湖区 (330106)" in text, text
    assert "hainan 海南省、guangdong 广东省" in text and "广州" not in text.split("西湖区")[0]
    with pytest.raises(EntryError, match="outside every loaded plan"):
        tracker.record_values([CellEntry("senior_universities", "杭州", "2024", 1)], entered_by="web")
    assert tracker.values("senior_universities") == []  # nothing was stored, not even Guangzhou's
    # Within the loaded plans: Hainan's names as before, Guangdong's cities, the excluded still refused.
    assert [o.region for o in tracker.record("senior_universities", "广州", "2024", 1, entered_by="x").recorded] == [
        "440100"]
    with pytest.raises(EntryError, match="region not covered by the plan"):
        tracker.record("senior_universities", "三沙", "2024", 1, entered_by="x")


@pytest.fixture
def successor(db_url, engine, tmp_path, small_model):
    """Hainan's small 十四五 model with the 十五五 fixture plan following it; the clock set by
    each test (the tracker's `now`)."""
    write_with_include(tmp_path, small_model, "hainan-15.yaml")
    settings = Settings(database_url=db_url, targets_path=tmp_path / "targets.yaml", reports_dir=tmp_path / "reports")
    now = {"at": datetime(2027, 3, 1, 4, 0, tzinfo=UTC)}
    return Tracker(settings, engine=engine, clock=lambda: now["at"]), now


def test_the_plans_in_force_on_a_date_are_tracked(successor, db_url, engine, tmp_path, small_model):
    tracker, _ = successor
    assert tracker.model.plan("hainan-15").follows == "hainan"
    assert [p.id for p in tracker.tracked_plans(as_of=date(2025, 6, 30))] == ["hainan"]
    assert [p.id for p in tracker.tracked_plans(as_of=date(2026, 6, 30))] == ["hainan-15"]
    assert [p.id for p in tracker.plans_on(date(2026, 1, 1))] == ["hainan-15"]
    assert {s.item_id for s in tracker.statuses(date(2025, 6, 30))} == {
        "beds_ratio_2025", "universities_each", "hainan-m1", "hainan-m2"}
    assert {s.item_id for s in tracker.statuses(date(2026, 6, 30))} == {
        "h15-beds-ratio-2030", "h15-universities-each-2030", "h15-beds-stated-2030", "h15-m1"}
    assert [p.id for p in tracker.evaluate(date(2026, 6, 30)).plans] == ["hainan-15"]
    every = tracker.evaluate(date(2025, 6, 30)).statuses  # what a run's pipeline hands back: all plans' items
    assert {s.item_id for s in tracker.covered(every)} == {"beds_ratio_2025", "universities_each", "hainan-m1",
                                                           "hainan-m2"}
    assert [p.id for p in tracker.tracked_plans()] == ["hainan-15"]  # today (2027-03-01)
    # The successor's regions are Hainan's own (no coverage declared, region 460000).
    assert tracker.plan_regions("hainan-15") is tracker.regions
    # Hainan's packaged coverage written out on a plan is the same regions, not a copy of them.
    from tracker.domain.regions import hainan_coverage

    later = dataclasses.replace(tracker.model, plans=[dataclasses.replace(p, coverage=hainan_coverage())
                                                      for p in tracker.model.plans])
    (tmp_path / "written").mkdir()
    written = make(db_url, engine, tmp_path / "written", dump_model(later))
    assert "each_region:\n      parts_of:\n      - 460100 海口市" in dump_model(later)
    assert written.plan_regions("hainan") is written.regions
    # No successor in the model: the 十四五 plan stays tracked after its end, its targets overdue.
    (tmp_path / "alone").mkdir()
    alone = make(db_url, engine, tmp_path / "alone", dump_model(small_model), now=datetime(2026, 7, 1, tzinfo=UTC))
    assert [p.id for p in alone.tracked_plans(as_of=date(2026, 6, 30))] == ["hainan"]
    assert {s.item_id: s.code for s in alone.statuses(date(2026, 6, 30))}["beds_ratio_2025"] == "overdue"


def test_a_successors_baseline_is_the_predecessors_final_value(successor, engine):
    from tracker import store

    tracker, _ = successor
    for year, beds in (("2024", 29000), ("2025", 30000), ("2026", 31000)):
        tracker.record("elderly_care_beds", "海南省", year, beds, entered_by="省民政厅")
        tracker.record("elderly_population", "海南省", year, 1_000_000, entered_by="省卫生健康委")
    status = tracker.evaluate(date(2027, 3, 1)).status("h15-beds-ratio-2030")
    f = status.figures
    assert f["latest"] == pytest.approx(31.0) and f["latest_period"] == "2026"
    assert (f["baseline"], f["baseline_from"], f["baseline_plan"], f["baseline_period"], f["baseline_date"]) == (
        pytest.approx(30.0), "predecessor", "hainan", "2025", "2025-12-31")
    share = (date(2026, 12, 31).toordinal() - date(2025, 12, 31).toordinal()) / (
        date(2030, 12, 31).toordinal() - date(2025, 12, 31).toordinal())
    assert f["expected"] == pytest.approx(30 + 10 * share)  # the straight line starts at the carried 基期值
    assert "基期值 30张/千人（2025，上一期规划的期末值）" in status.reason("zh")
    assert "the baseline is 30 beds per 1,000 (2025), the final value of the preceding plan" in status.reason("en")
    stated = tracker.evaluate(date(2027, 3, 1)).status("h15-beds-stated-2030").figures
    assert (stated["baseline"], stated["baseline_from"]) == (28, "stated") and "baseline_plan" not in stated
    # Carried at evaluation only: the stored definition has no baseline.
    assert store.target_history(engine, "h15-beds-ratio-2030")[-1]["definition"]["baseline"] is None


def test_no_final_value_of_the_predecessor_leaves_the_usual_baseline(successor):
    tracker, _ = successor
    for year, beds in (("2024", 29000), ("2026", 31000)):  # 2025, the 十四五 plan's last year, missing
        tracker.record("elderly_care_beds", "海南省", year, beds, entered_by="省民政厅")
        tracker.record("elderly_population", "海南省", year, 1_000_000, entered_by="省卫生健康委")
    f = tracker.evaluate(date(2027, 3, 1)).status("h15-beds-ratio-2030").figures
    assert (f["baseline"], f["baseline_from"], f["baseline_date"]) == (pytest.approx(29.0), "plan_start", "2024-12-31")
    assert "baseline_plan" not in f


def test_the_plans_command_lists_each_plan_in_chinese_english_and_json(db_url, tmp_path, small_model, cli_model):
    import json

    from click.testing import CliRunner

    from tracker.cli.main import cli
    from tracker.targets.file import load_targets

    write_with_include(tmp_path, small_model, "hainan-15.yaml")
    (tmp_path / "plans" / "guangdong.yaml").write_text((FIXTURES / "guangdong.yaml").read_text(encoding="utf-8"),
                                                       encoding="utf-8")
    text = (tmp_path / "targets.yaml").read_text(encoding="utf-8")
    (tmp_path / "targets.yaml").write_text(text.replace("include:\n", "include:\n- plans/guangdong.yaml\n", 1),
                                           encoding="utf-8")
    cli_model(load_targets(tmp_path / "targets.yaml"))
    runner = CliRunner()
    out = runner.invoke(cli, ["plans", "--as-of", "2026-06-30"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert "截至 2026-06-30" in lines[0]
    assert lines[1].split() == ["编号", "级别", "地区", "期间", "接续", "目标", "里程碑", "填报单位", "跟踪"]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert rows["hainan"] == ["hainan", "省级", "海南省", "2021-01-01", "至", "2025-12-31", "—", "2", "2", "19"]
    assert rows["hainan-15"] == ["hainan-15", "省级", "海南省", "2026-01-01", "至", "2030-12-31", "hainan", "3", "1",
                                 "19", "是"]
    assert rows["guangdong"][:3] == ["guangdong", "省级", "广东省"] and rows["guangdong"][7:] == ["2", "1", "21"]
    en = runner.invoke(cli, ["plans", "--as-of", "2025-06-30", "--lang", "en"]).output
    assert "Hainan" in en and "广东" not in en and "海南" not in en
    assert [line.split()[-1] for line in en.splitlines()[2:] if line.startswith("hainan ")] == ["yes"]
    data = json.loads(runner.invoke(cli, ["plans", "--as-of", "2026-06-30", "--json"]).output)
    by_id = {p["id"]: p for p in data["plans"]}
    assert by_id["hainan"]["followed_by"] == ["hainan-15"] and by_id["hainan-15"]["follows"] == "hainan"
    assert by_id["guangdong"]["coverage_declared"] and by_id["guangdong"]["area_en"] == "Guangdong"
    assert [p["id"] for p in data["plans"] if p["tracked"]] == ["hainan-15"]
    # status for a date covers the plans in force then
    status = json.loads(runner.invoke(cli, ["status", "--as-of", "2025-06-30", "--json"]).output)
    assert [p["id"] for p in status["plans"]] == ["hainan"]
    status = json.loads(runner.invoke(cli, ["status", "--as-of", "2026-06-30", "--json"]).output)
    assert [p["id"] for p in status["plans"]] == ["hainan-15"] and status["items"] == 4


def test_the_report_for_a_date_covers_the_plans_in_force_then(successor, tmp_path):
    tracker, now = successor
    now["at"] = datetime(2026, 7, 10, 4, 0, tzinfo=UTC)
    files = tracker.write_report(date(2026, 6, 30), reports_dir=tmp_path / "r15")
    assert {s.item_id for s in files.statuses} == {"h15-beds-ratio-2030", "h15-universities-each-2030",
                                                   "h15-beds-stated-2030", "h15-m1"}
    html = Path(files.html).read_text(encoding="utf-8")
    assert "海南省“十五五”养老托育服务发展规划（测试用）" in html
    files = tracker.write_report(date(2025, 6, 30), reports_dir=tmp_path / "r14")
    assert {s.item_id for s in files.statuses} == {"beds_ratio_2025", "universities_each", "hainan-m1", "hainan-m2"}


def test_status_shows_one_region_of_any_loaded_plan(two_provinces, tmp_path, cli_model):
    import json

    from click.testing import CliRunner

    from tracker.cli.main import cli

    tracker = two_provinces
    tracker.record("senior_universities", "东莞", "2024", 0, entered_by="东莞")
    cli_model(tracker.model)
    out = CliRunner().invoke(cli, ["status", "--as-of", "2025-03-01", "--plan", "guangdong", "--region", "东莞",
                                   "--json"])
    rows = json.loads(out.output)["statuses"]
    assert [(r["item_id"], r["region"]) for r in rows] == [("gd-universities-each-2025", "441900")]
    out = CliRunner().invoke(cli, ["status", "--region", "杭州"])
    assert out.exit_code == 2 and "outside every loaded plan" in out.output


def test_a_plan_of_milestones_alone_gets_its_regions_when_asked(db_url, engine, tmp_path, small_model):
    from tracker.domain.regions import NATION_CODE

    national = small_model.plans[0].__class__("national", "国务院办公厅关于促进养老托育服务健康发展的意见", "国务院办公厅",
                                              "national", "", date(2021, 1, 1), date(2025, 12, 31), "")
    small_model.plans.insert(0, national)
    tracker = make(db_url, engine, tmp_path, dump_model(small_model))
    evaluation = tracker.evaluate(date(2025, 3, 1))
    assert "national" not in evaluation.plan_regions  # no targets: not made for the evaluation
    country = evaluation.regions_of("national")
    assert country.province.code == NATION_CODE and len(country.counties()) == 31
    assert evaluation.resolver_of("national").regions is country
    assert evaluation.resolver_of("hainan") is evaluation.resolver
    assert evaluation.regions_of("nope") is tracker.regions


def test_a_region_its_provinces_loaded_plan_leaves_out_is_refused_naming_that_plan(db_url, engine, tmp_path,
                                                                                 small_model):
    from tracker.actuals.entry import EntryError

    write_with_include(tmp_path, small_model)
    included = tmp_path / "plans" / "guangdong.yaml"
    included.write_text(included.read_text(encoding="utf-8").replace(
        "    each_region: units\n", "    each_region: units\n    exclude: [441900 东莞市]\n"), encoding="utf-8")
    tracker = make(db_url, engine, tmp_path, (tmp_path / "targets.yaml").read_text(encoding="utf-8"))
    assert len(tracker.plan_regions("guangdong").counties()) == 20
    with pytest.raises(EntryError) as info:
        tracker.record("senior_universities", "莞城街道", "2024", 1, entered_by="x")  # no such division: unknown
    assert "未知地区" in info.value.format("zh")
    with pytest.raises(EntryError) as info:
        tracker.record("senior_universities", "东莞", "2024", 1, entered_by="x")
    text = info.value.format("zh")
    assert "它是广东省 东莞市 (441900)；guangdong（广东省）的覆盖范围不含该地区" in text, text
    assert "guangdong (Guangdong) does not cover it" in info.value.format("en")


def test_an_export_names_and_filters_any_loaded_plans_regions(two_provinces, tmp_path):
    tracker = two_provinces
    tracker.record("senior_universities", "广州", "2024", 3, entered_by="广州")
    tracker.record("senior_universities", "越秀区", "2024", 1, entered_by="越秀")  # a part of Guangzhou
    tracker.record("senior_universities", "儋州", "2024", 2, entered_by="儋州")
    tracker.export(tmp_path / "all.csv")
    text = (tmp_path / "all.csv").read_text(encoding="utf-8-sig")
    assert "广州市" in text and "广州市越秀区" in text and "儋州市" in text and "440100" in text
    tracker.export(tmp_path / "gz.csv", regions=["广州"])  # the city and its districts
    rows = (tmp_path / "gz.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    assert len(rows) == 2 and all("广州市" in r for r in rows)


def test_with_the_national_plan_loaded_a_provinces_own_figure_is_taken_but_not_its_cities(db_url, engine, tmp_path,
                                                                                       small_model):
    from tracker.actuals.entry import EntryError

    national = dataclasses.replace(small_model.plans[0], id="national", title="国务院办公厅意见", level="national",
                                   region="")
    model = dataclasses.replace(small_model, plans=[national, *small_model.plans])
    tracker = make(db_url, engine, tmp_path, dump_model(model))
    assert [o.region for o in tracker.record("senior_universities", "全国", "2024", 9000, entered_by="x").recorded] == [
        "100000"]
    assert [o.region for o in tracker.record("senior_universities", "浙江", "2024", 300, entered_by="x").recorded] == [
        "330000"]  # a unit of the national plan
    assert [o.region for o in tracker.record("senior_universities", "海口", "2024", 3, entered_by="x").recorded] == [
        "460100"]  # Hainan's names first, as before
    with pytest.raises(EntryError) as info:
        tracker.record("senior_universities", "杭州", "2024", 1, entered_by="x")
    text = info.value.format("zh")
    assert "可覆盖它的浙江省规划未载入" in text and "已载入的规划：national 全国、hainan 海南省" in text, text


def test_what_is_accepted_for_a_region_names_each_plans_own_kind(two_provinces, tmp_path):
    """An unknown region's message gives examples of the plan the value was for: Hainan's and
    Guangdong's where both are loaded, Guangdong's alone in Guangdong's own regions."""
    from tracker.actuals.entry import EntryError
    from tracker.domain.regions import RegionError

    tracker = two_provinces
    (tmp_path / "bad.csv").write_text("指标,地区,期间,数值\n老年大学数,火星,2024,1\n", encoding="utf-8")
    with pytest.raises(EntryError) as info:
        tracker.import_file(tmp_path / "bad.csv", entered_by="x")
    text = info.value.format("zh")
    assert "第2行" in text and "火星" in text and "名称(海口市)" in text and "如 广州" in text, text
    assert "Guangzhou" in info.value.format("en")
    with pytest.raises(RegionError) as refused:
        tracker.plan_regions("guangdong").lookup("火星")
    assert "名称(广州市)、简称(广州)或英文名(Guangzhou)" in refused.value.zh and "海口" not in refused.value.zh


def test_the_home_plans_own_coverage_is_the_trackers_regions(db_url, engine, tmp_path, small_model):
    """targets.yaml giving Hainan's plan a coverage of its own (三沙 in, 洋浦 left out) is what
    value entry, the web's forms and the reports use, not the packaged file."""
    from tracker.domain.regions import RegionError

    data = model_to_data(small_model)
    data["plans"][0]["coverage"] = {"region": "460000 海南省", "units": "children", "each_region": "units"}
    tracker = make(db_url, engine, tmp_path, yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    codes = {r.code for r in tracker.regions.all}
    assert "460300" in codes  # 三沙市: the packaged coverage leaves it out
    assert tracker.plan_regions("hainan") is tracker.regions
    with pytest.raises(RegionError):
        tracker.regions.lookup("洋浦")  # added by the packaged coverage only
    tracker.record("senior_universities", "三沙", "2024", 1, entered_by="x")
    assert "460300" in [v.region for v in tracker.values("senior_universities")]
