"""Entering values: tracker record, tracker import (CSV, Excel, long and wide), templates,
corrections and history, refusals with their messages, milestone progress, aggregation."""

from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from freezegun import freeze_time
from openpyxl import Workbook, load_workbook

from tracker import store as db
from tracker.actuals.entry import import_file, record_value
from tracker.actuals.problems import EntryError
from tracker.actuals.progress import record_progress
from tracker.actuals.templates import write_template
from tracker.domain.model import Observation
from tracker.domain.regions import load_regions
from tracker.status.figures import derive_values

NOW = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Hainan


@pytest.fixture
def model(engine, small_model):
    db.sync_targets(engine, small_model, now=datetime.now(UTC))
    return small_model


def imp(engine, model, path, **kw):
    kw.setdefault("entered_by", "省民政厅-张三")
    kw.setdefault("now", NOW)
    return import_file(engine, path, model, **kw)


def values(engine):
    return {(o.indicator, o.region, o.period): o.value for o in db.latest_observations(engine)}


def write_csv(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def refused(engine, model, path, **kw) -> str:
    """Import `path` expecting a refusal; returns the Chinese and English messages, and
    checks that nothing was written."""
    before = values(engine)
    with pytest.raises(EntryError) as info:
        imp(engine, model, path, **kw)
    assert values(engine) == before
    return info.value.format("zh") + "\n" + info.value.format("en")


LONG = "指标,地区,期间,数值,单位,备注\n养老床位数,海口,2024,1.5万,,初报\n老年人口数,海口市,2024,\"500,000\",人,\n"


# -- formats and shapes ---------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_it_reads_csv_in_the_encodings_chinese_excel_writes(engine, model, tmp_path, encoding):
    path = write_csv(tmp_path / "values.csv", LONG, encoding)
    result = imp(engine, model, path)
    assert result.written == 2
    assert values(engine) == {("elderly_care_beds", "460100", "2024"): 15000.0,
                              ("elderly_population", "460100", "2024"): 500000.0}


def test_the_file_records_who_when_and_where_each_value_came_from(engine, model, tmp_path):
    imp(engine, model, write_csv(tmp_path / "values.csv", LONG, "gbk"))
    [h] = db.observation_history(engine, "elderly_care_beds", "460100", "2024")
    assert h["entered_by"] == "省民政厅-张三" and h["entered_at"] == NOW
    assert h["source"] == "values.csv:2:D" and h["note"] == "初报" and h["batch_id"]


def test_it_reads_an_excel_file_in_long_shape_with_a_title_row(engine, model, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["2024年养老服务统计表"])
    ws.append(["指标", "市县", "时间", "数值"])
    ws.append(["elderly_care_beds", "三亚", 2024, 321])
    ws.append(["婴幼儿在托率", 469002, "2024年", "30%"])
    wb.save(tmp_path / "long.xlsx")
    assert imp(engine, model, tmp_path / "long.xlsx").written == 2
    assert values(engine) == {("elderly_care_beds", "460200", "2024"): 321.0,
                              ("childcare_enrollment_rate", "469002", "2024"): 30.0}


def test_it_reads_the_wide_shape_with_indicators_as_columns_and_units_in_headers(engine, model, tmp_path):
    text = "地区,期间,养老床位数（万张）,老年人口数(人),备注\n海口,2024,1.5,\"200,000\",\n三亚,2024,,80000,床位未报\n"
    path = write_csv(tmp_path / "wide.csv", text, "gbk")
    assert imp(engine, model, path).written == 3
    assert values(engine) == {("elderly_care_beds", "460100", "2024"): 15000.0,
                              ("elderly_population", "460100", "2024"): 200000.0,
                              ("elderly_population", "460200", "2024"): 80000.0}


def test_it_reads_the_wide_shape_with_months_as_columns(engine, model, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["地区", "指标", "2025-01", "2025年2月", datetime(2025, 3, 1)])  # Excel turns 2025-03 into a date
    ws.append(["海口", "养老护理员培训人次", 120, "１３０", 140])
    ws.append(["Sanya", "elderly_care_trainees", 50, None, 70])
    wb.save(tmp_path / "months.xlsx")
    assert imp(engine, model, tmp_path / "months.xlsx").written == 5
    got = values(engine)
    assert got[("elderly_care_trainees", "460100", "2025-02")] == 130.0
    assert got[("elderly_care_trainees", "460100", "2025-03")] == 140.0
    assert ("elderly_care_trainees", "460200", "2025-02") not in got  # blank is "not reported", not 0


def test_a_wide_sheet_without_a_period_column_takes_the_period_option(engine, model, tmp_path):
    path = write_csv(tmp_path / "w.csv", "地区,老年大学数\n儋州,2\n")
    assert "期间" in refused(engine, model, path)
    assert imp(engine, model, path, period="2024").written == 1


@pytest.mark.parametrize("cell,unit,expected", [
    ("1.5万", "", 15000.0), ("15,000", "", 15000.0), ("１５０００", "", 15000.0), ("一万五千", "", 15000.0),
    ("1.5", "万张", 15000.0)])
def test_count_value_forms(engine, model, tmp_path, cell, unit, expected):
    path = write_csv(tmp_path / "v.csv", f'指标,地区,期间,数值,单位\n养老床位数,海口,2024,"{cell}",{unit}\n')
    imp(engine, model, path)
    assert values(engine)[("elderly_care_beds", "460100", "2024")] == pytest.approx(expected)


@pytest.mark.parametrize("cell,unit,expected", [
    ("30%", "", 30.0), ("30", "%", 30.0), ("0.3", "小数", 30.0), ("300‰", "", 30.0), ("百分之三十", "", 30.0)])
def test_percentage_value_forms(engine, model, tmp_path, cell, unit, expected):
    path = write_csv(tmp_path / "v.csv", f"指标,地区,期间,数值,单位\n婴幼儿在托率,海口,2024,{cell},{unit}\n")
    imp(engine, model, path)
    assert values(engine)[("childcare_enrollment_rate", "460100", "2024")] == pytest.approx(expected)


def test_a_bare_fraction_for_a_percentage_is_kept_but_warned_about(engine, model, tmp_path):
    result = imp(engine, model, write_csv(tmp_path / "v.csv", "指标,地区,期间,数值\n婴幼儿在托率,海口,2024,0.3\n"))
    assert values(engine)[("childcare_enrollment_rate", "460100", "2024")] == 0.3
    assert "30%" in result.warnings[0].format("zh")


# -- refusals: nothing written, every problem listed ----------------------------------


def test_one_bad_row_among_many_writes_nothing_and_names_the_row(engine, model, tmp_path):
    regions = [r.name for r in load_regions().all]
    lines = ["指标,地区,期间,数值"]
    for year in range(2015, 2025):
        lines += [f"老年人口数,{name},{year},{1000 + year}" for name in regions]
    bad_row = 150
    lines[bad_row - 1] = lines[bad_row - 1].rsplit(",", 1)[0] + ",一千二百x"
    message = refused(engine, model, write_csv(tmp_path / "many.csv", "\n".join(lines) + "\n"))
    assert f"第{bad_row}行 D（数值）列：「一千二百x」不是数字" in message
    assert values(engine) == {}


def test_every_problem_is_listed_not_just_the_first(engine, model, tmp_path):
    text = ("指标,地区,期间,数值,单位\n"
            "养老床位,海口,2024,10,\n"          # near-miss indicator
            "养老床位数,琼海x,2024,10,\n"        # near-miss region
            "养老床位数,三沙,2024,10,\n"         # excluded region
            "养老床位数,海口,2024,10,人\n"       # wrong dimension
            "养老床位数,三亚,2024,-5,\n"         # negative count
            "婴幼儿在托率,三亚,2024,130,\n"      # percentage above 100
            "养老床位数,儋州,2024-11,10,\n"      # month for a yearly indicator
            "养老床位数,文昌,2024,abc,\n"        # text for a number
            "养老床位数,万宁,2024,10,\n"
            "养老床位数,Wanning,2024,11,\n")     # the same cell twice
    message = refused(engine, model, write_csv(tmp_path / "bad.csv", text, "gbk"))
    expected = [
        "第2行 A（指标）列：「养老床位」未知指标", "是否应为「养老床位数」",
        "第3行 B（地区）列：「琼海x」未知地区", "是否应为「琼海市」",
        "第4行 B（地区）列：「三沙」不在本规划范围内的地区",
        "第5行 E（单位）列：「人」单位不对", "unit '人' cannot be converted",
        "第6行 D（数值）列：「-5」不能为负数",
        "第7行 D（数值）列：「130」超出合理范围：应在 0–100% 之间（占比不超过100%）",
        "第8行 C（期间）列：「2024-11」期间类型与指标报送频率不符", "可填：年份，如 2025",
        "第9行 D（数值）列：「abc」不是数字", "可填：数字，如 32、3.5、15,000、1.5万",
        "第11行 D（数值）列", "同一单元格在本文件中重复出现（首次出现在第10行）",
        "bad.csv, row 3, column B（地区）: '琼海x': unknown region",
    ]
    for part in expected:
        assert part in message, part


def test_the_same_problem_on_many_rows_is_listed_once_with_the_rows(engine, model, tmp_path):
    text = "指标,地区,期间,数值\n" + "".join(f"bogus,海口,{y},1\n" for y in range(2010, 2020))
    message = refused(engine, model, write_csv(tmp_path / "b.csv", text))
    assert message.count("未知指标") == 1 and "另有9行相同" in message


@pytest.mark.parametrize("name,content,expect", [
    ("empty.csv", b"", "文件是空的"),
    ("header_only.csv", "指标,地区,期间,数值\n".encode(), "文件中没有任何数值"),
    ("report.pdf", b"%PDF-1.4", "不是 CSV 或 Excel 文件"),
    ("old.xls", b"\xd0\xcf\x11\xe0", "另存为 .xlsx"),
    ("fake.xlsx", b"not a zip", "不是有效的 Excel"),
    ("binary.csv", b"\x00\x01\x02\x03abc", "不是文本 CSV"),
    ("noheader.csv", "a,b\n1,2\n".encode(), "找不到表头"),
])
def test_files_that_are_not_value_tables_are_refused(engine, model, tmp_path, name, content, expect):
    path = tmp_path / name
    path.write_bytes(content)
    assert expect in refused(engine, model, path)


def test_an_unknown_column_is_refused_rather_than_dropped(engine, model, tmp_path):
    path = write_csv(tmp_path / "w.csv", "地区,期间,养老床位数（张）,老年大学\n海口,2024,10,1\n")
    message = refused(engine, model, path)
    assert "D（老年大学）列：「老年大学」列标题不是已知指标" in message and "是否应为「老年大学数」" in message


def test_a_header_unit_of_the_wrong_dimension_is_refused(engine, model, tmp_path):
    path = write_csv(tmp_path / "w.csv", "地区,期间,养老床位数（人）\n海口,2024,10\n")
    assert "列标题中的单位不对" in refused(engine, model, path)


def test_the_cli_names_every_problem_in_chinese_or_english(engine, model, tmp_path, cli_model):
    from tracker.cli.main import cli

    cli_model(model)
    path = write_csv(tmp_path / "bad.csv", "指标,地区,期间,数值\n养老床位数,海口,2024,x\n养老床位数,三亚,2024,-1\n")
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 1
    assert "未写入任何数据，发现 2 处问题" in result.output and "不能为负数" in result.output
    result = CliRunner().invoke(cli, ["import", str(path), "--lang", "en"])
    assert "nothing was written; 2 problem(s)" in result.output and "cannot be negative" in result.output


# -- the clock: future periods in Asia/Shanghai ---------------------------------------


def test_next_year_is_refused_one_minute_before_midnight_in_hainan(engine, model):
    with freeze_time("2025-12-31T23:59:00+08:00"):
        with pytest.raises(EntryError) as info:
            record_value(engine, model, "老年大学数", "海口", "2026", "3", entered_by="x", now=datetime.now(UTC))
    assert "期间尚未开始（今天是2025-12-31，北京时间）" in info.value.format("zh")


def test_next_year_is_open_one_minute_after_midnight_in_hainan_while_utc_is_still_in_2025(engine, model):
    with freeze_time("2026-01-01T00:01:00+08:00"):  # 2025-12-31 16:01 UTC
        result = record_value(engine, model, "老年大学数", "海口", "2026", "3", entered_by="x", now=datetime.now(UTC))
    assert result.written == 1
    assert "尚未结束" in result.warnings[0].format("zh")  # 2026 has only just begun


def test_a_month_not_yet_started_is_refused_for_a_monthly_flow(engine, model):
    with freeze_time("2025-06-30T23:00:00+08:00"):
        with pytest.raises(EntryError, match="future"):
            record_value(engine, model, "elderly_care_trainees", "海口", "2025-07", "10", entered_by="x", now=datetime.now(UTC))
        with pytest.raises(EntryError, match="reported by month"):
            record_value(engine, model, "elderly_care_trainees", "海口", "2025-06-15", "10", entered_by="x", now=datetime.now(UTC))


# -- corrections, revisions and history -----------------------------------------------


def test_a_second_value_for_a_cell_is_refused_unless_it_is_a_correction(engine, model):
    record_value(engine, model, "老年大学数", "海口", "2024", "3", entered_by="甲", now=NOW)
    with pytest.raises(EntryError) as info:
        record_value(engine, model, "老年大学数", "海口", "2024", "4", entered_by="乙", now=NOW)
    assert "该单元格已有数值 3（第1版），更正需明确指定 --correct" in info.value.format("zh")
    later = datetime(2025, 7, 1, tzinfo=UTC)
    result = record_value(engine, model, "老年大学数", "海口", "2024", "4", entered_by="乙", note="统计口径调整",
                          correct=True, now=later)
    assert result.corrections == 1
    history = db.observation_history(engine, "senior_universities", "460100", "2024")
    assert [(h["revision"], h["value"], h["entered_by"], h["note"]) for h in history] == [
        (1, 3.0, "甲", ""), (2, 4.0, "乙", "统计口径调整")]
    assert values(engine)[("senior_universities", "460100", "2024")] == 4.0
    assert db.latest_observations(engine, as_of=NOW)[0].value == 3.0


def test_reimporting_the_same_file_changes_nothing(engine, model, tmp_path):
    path = write_csv(tmp_path / "v.csv", LONG)
    imp(engine, model, path)
    again = imp(engine, model, path)
    assert (again.written, again.unchanged) == (0, 2)
    assert len(db.observation_history(engine, "elderly_care_beds", "460100", "2024")) == 1


def test_a_file_correcting_values_needs_correct_and_then_adds_revisions(engine, model, tmp_path):
    imp(engine, model, write_csv(tmp_path / "v.csv", LONG))
    fixed = write_csv(tmp_path / "fixed.csv", LONG.replace("1.5万", "1.6万"))
    assert "--correct" in refused(engine, model, fixed)
    result = imp(engine, model, fixed, correct=True)
    assert (result.written, result.corrections, result.unchanged) == (1, 1, 1)
    history = db.observation_history(engine, "elderly_care_beds", "460100", "2024")
    assert [(h["revision"], h["value"], h["source"]) for h in history] == [
        (1, 15000.0, "v.csv:2:D"), (2, 16000.0, "fixed.csv:2:D")]


def test_the_history_command_shows_every_revision(engine, model, cli_model):
    from tracker.cli.main import cli

    cli_model(model)
    runner = CliRunner()
    assert runner.invoke(cli, ["record", "老年大学数", "海口", "2024", "3", "--by", "甲"]).exit_code == 0
    refusal = runner.invoke(cli, ["record", "老年大学数", "海口", "2024", "5", "--by", "乙"])
    assert refusal.exit_code == 1 and "--correct" in refusal.output
    ok = runner.invoke(cli, ["record", "老年大学数", "海口", "2024", "5", "--by", "乙", "--correct", "--note", "更正"])
    assert ok.exit_code == 0 and "已更正" in ok.output
    out = runner.invoke(cli, ["history", "senior_universities", "Haikou", "2024"]).output
    assert "第1版  3  甲" in out and "第2版  5  乙" in out and "更正" in out and "command" in out
    assert "+0800" in out  # entry times on the officials' clock, whatever the server's zone


# -- outliers ---------------------------------------------------------------------------


def test_a_value_far_from_the_regions_earlier_ones_is_accepted_with_a_warning(engine, model):
    for year, value in ((2021, 100), (2022, 110), (2023, 120)):
        record_value(engine, model, "养老床位数", "海口", str(year), str(value), entered_by="x", now=NOW)
    result = record_value(engine, model, "养老床位数", "海口", "2024", "1300", entered_by="x", now=NOW)
    assert result.written == 1
    assert "与该地区以往数值（100–120）相差超过3倍" in result.warnings[0].format("zh")
    normal = record_value(engine, model, "养老床位数", "三亚", "2024", "1300", entered_by="x", now=NOW)
    assert normal.warnings == []


# -- templates --------------------------------------------------------------------------


def test_the_template_round_trips_through_import(engine, model, tmp_path):
    path = tmp_path / "form.xlsx"
    counts = write_template(path, model, "省民政厅", "2024")
    assert counts["indicators"] == 2 and counts["milestones"] == 1  # beds and the ratio; task 1's milestone
    wb = load_workbook(path)
    ws = wb["填报"]
    header = [c.value for c in ws[2]]
    assert header[:3] == ["地区", "期间", "养老床位数（张）[elderly_care_beds]"]
    assert ws.data_validations.dataValidation, "value cells are validated"
    rows = {ws.cell(r, 1).value: r for r in range(3, ws.max_row + 1)}
    assert "海南省" in rows and "秀英区" in rows and "洋浦经济开发区" in rows
    ws.cell(rows["海口市"], 3, 15000)
    ws.cell(rows["琼中黎族苗族自治县"], 4, 28.5)
    ms = wb["里程碑进展"]
    ms.cell(2, 4, "已完成")
    ms.cell(2, 5, "琼府〔2022〕12号")
    wb.save(path)
    result = imp(engine, model, path)
    assert (result.written, result.progress_written) == (2, 1)
    assert values(engine) == {("elderly_care_beds", "460100", "2024"): 15000.0,
                              ("elderly_care_beds_per_1000_elderly", "469030", "2024"): 28.5}
    [progress] = db.milestone_progress(engine)
    assert (progress.milestone, progress.state, progress.reporter, progress.evidence) == (
        "hainan-m1", "done", "省民政厅", "琼府〔2022〕12号")


def test_a_template_for_a_unit_with_nothing_to_report_says_who_reports(model, tmp_path):
    with pytest.raises(EntryError) as info:
        write_template(tmp_path / "f.xlsx", model, "省财政厅", "2024")
    assert "省民政厅" in info.value.format("zh")


# -- milestone progress ---------------------------------------------------------------


def test_milestone_progress_is_recorded_and_bad_states_refused(engine, model):
    record_progress(engine, model, "hainan-m1", "推进中", reporter="省民政厅", entered_by="x", now=NOW)
    result = record_progress(engine, model, "hainan-m1", "已完成", reporter="省民政厅", entered_by="x", now=NOW)
    assert "未提供依据" in result.warnings[0].format("zh")
    assert [p.state for p in db.milestone_progress(engine)] == ["done"]
    with pytest.raises(EntryError) as info:
        record_progress(engine, model, "hainan-m9", "差不多了", reporter="省民政厅", entered_by="x", now=NOW)
    message = info.value.format("zh")
    assert "未知里程碑" in message and "无法识别的状态" in message and "未启动、推进中、已完成" in message


def test_a_progress_file_imported_twice_adds_no_repeated_reports(engine, model, tmp_path):
    path = write_csv(tmp_path / "p.csv", "里程碑,状态,报告单位,报告日期,佐证\n"
                                         "hainan-m1,推进中,省民政厅,2024-06-30,琼民〔2024〕1号\n")
    assert imp(engine, model, path).progress_written == 1
    again = imp(engine, model, path)
    assert (again.progress_written, again.unchanged) == (0, 1)
    assert len(db.progress_history(engine, "hainan-m1")) == 1
    changed = write_csv(tmp_path / "p2.csv", "里程碑,状态,报告单位,报告日期,佐证\n"
                                             "hainan-m1,已完成,省民政厅,2024-09-30,琼民〔2024〕9号\n")
    assert imp(engine, model, changed).progress_written == 1
    assert [p["state"] for p in db.progress_history(engine, "hainan-m1")] == ["in_progress", "done"]


def test_the_progress_command_records_and_lists(engine, model, cli_model):
    from tracker.cli.main import cli

    cli_model(model)
    runner = CliRunner()
    done = runner.invoke(cli, ["progress", "hainan-m2", "已完成", "--reporter", "海口", "--evidence", "海府〔2024〕3号"])
    assert done.exit_code == 0, done.output
    listed = runner.invoke(cli, ["progress"]).output
    assert "hainan-m2  460100  已完成" in listed and "海府〔2024〕3号" in listed


# -- ratios entered as components, and aggregation to the province --------------------


def test_the_province_ratio_comes_from_summed_components_not_averaged_ratios(engine, model, tmp_path):
    text = ("地区,期间,养老床位数,老年人口数\n"
            "海口,2024,3000,100000\n"      # 30 per 1,000
            "琼中,2024,100,2000\n")       # 50 per 1,000; the mean of ratios would say 40
    imp(engine, model, write_csv(tmp_path / "c.csv", text))
    derived = {(o.indicator, o.region): o for o in derive_values(model, db.latest_observations(engine), load_regions())}
    ratio = "elderly_care_beds_per_1000_elderly"
    assert derived[(ratio, "460100")].value == pytest.approx(30.0)
    assert derived[(ratio, "469030")].value == pytest.approx(50.0)
    province = derived[(ratio, "460000")]
    assert province.value == pytest.approx(3100 / 102000 * 1000)
    assert "2/19" in province.note
    assert derived[("elderly_care_beds", "460000")].value == 3100.0


def test_a_ratio_entered_directly_wins_over_its_components(small_model):
    obs = [Observation("elderly_care_beds", "460100", date(2024, 12, 31), 3000.0, period="2024"),
           Observation("elderly_population", "460100", date(2024, 12, 31), 100000.0, period="2024"),
           Observation("elderly_care_beds_per_1000_elderly", "460100", date(2024, 12, 31), 31.0, period="2024")]
    derived = derive_values(small_model, obs, load_regions())
    assert ("elderly_care_beds_per_1000_elderly", "460100") not in {(o.indicator, o.region) for o in derived}


def test_districts_add_up_to_their_city_before_the_province(small_model):
    end = date(2024, 12, 31)
    obs = [Observation("senior_universities", code, end, 1.0, period="2024")
           for code in ("460105", "460106", "460107", "460108")]
    obs.append(Observation("senior_universities", "469030", end, 2.0, period="2024"))
    derived = {o.region: o for o in derive_values(small_model, obs, load_regions())}
    assert derived["460100"].value == 4.0
    assert derived["460000"].value == 6.0 and "2/19" in derived["460000"].note


def test_a_city_with_districts_missing_has_no_figure_but_the_province_says_its_coverage(small_model):
    end = date(2024, 12, 31)
    obs = [Observation("senior_universities", code, end, 1.0, period="2024") for code in ("460105", "460106")]
    obs.append(Observation("senior_universities", "469030", end, 2.0, period="2024"))
    derived = {o.region: o for o in derive_values(small_model, obs, load_regions())}
    assert "460100" not in derived  # a partial sum of Haikou's districts is not Haikou's figure
    assert derived["460000"].value == 2.0 and "1/19" in derived["460000"].note


# -- the other commands -----------------------------------------------------------------


def test_template_and_import_commands_round_trip(engine, model, tmp_path, cli_model):
    from tracker.cli.main import cli

    cli_model(model)
    runner = CliRunner()
    form = tmp_path / "form.xlsx"
    made = runner.invoke(cli, ["template", "--unit", "省卫生健康委", "--period", "2024", "-o", str(form)])
    assert made.exit_code == 0 and "2 个指标" in made.output, made.output
    wb = load_workbook(form)
    wb["填报"]["C4"] = "30%"  # row 4: 海口市; column C: 婴幼儿在托率
    wb.save(form)
    checked = runner.invoke(cli, ["import", str(form), "--dry-run", "--lang", "en"])
    assert checked.exit_code == 0 and "would write 1 values" in checked.output
    assert values(engine) == {}
    done = runner.invoke(cli, ["import", str(form)])
    assert done.exit_code == 0 and "已导入 1 个数值" in done.output
    assert values(engine) == {("childcare_enrollment_rate", "460100", "2024"): 30.0}


def test_db_commands_show_and_apply_the_schema_revision(engine):
    from tracker.cli.main import cli

    runner = CliRunner()
    assert db.head_revision() in runner.invoke(cli, ["db", "current"]).output
    upgraded = runner.invoke(cli, ["db", "upgrade"])
    assert upgraded.exit_code == 0 and db.head_revision() in upgraded.output


def test_a_period_excel_stored_as_a_number_like_2026_1_is_refused_as_ambiguous():
    from tracker.domain.periods import PeriodError, parse_period

    with pytest.raises(PeriodError, match="2026-01 or 2026-10"):
        parse_period(2026.1)
    assert parse_period(2025.0).label == "2025"
    assert parse_period("2026.10").label == "2026-10"


def test_an_excel_cell_formatted_as_percent_is_read_as_the_official_sees_it(engine, model, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["指标", "市县", "时间", "数值"])
    ws.append(["婴幼儿在托率", "琼海", "2024", 0.62])
    ws["D2"].number_format = "0%"  # Excel shows 62%
    wb.save(tmp_path / "pct.xlsx")
    assert imp(engine, model, tmp_path / "pct.xlsx").written == 1
    assert values(engine) == {("childcare_enrollment_rate", "469002", "2024"): pytest.approx(62.0)}


def test_an_excel_period_stored_as_the_number_2026_1_is_refused_with_the_reason(engine, model, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["指标", "市县", "时间", "数值"])
    ws.append(["养老床位数", "琼海", 2024.1, 100])
    wb.save(tmp_path / "num.xlsx")
    message = refused(engine, model, tmp_path / "num.xlsx")
    assert "期间有歧义" in message and "2026-10" in message


def test_a_gbk_file_whose_first_64_kb_are_ascii_is_still_read_as_gbk(engine, model, tmp_path):
    rows = "".join(f"elderly_care_beds,460100,{year},{year},{'checked ' * 1000}\n" for year in range(2016, 2025))
    text = "indicator,region,period,value,note\n" + rows + "elderly_population,460100,2024,500000,海口初报\n"
    path = write_csv(tmp_path / "late-chinese.csv", text, "gbk")
    assert path.stat().st_size > 65536
    result = imp(engine, model, path)
    assert result.written == 10
    [h] = db.observation_history(engine, "elderly_population", "460100", "2024")
    assert h["note"] == "海口初报"


def test_a_back_dated_progress_report_entered_later_does_not_undo_a_newer_one(engine, model):
    record_progress(engine, model, "hainan-m1", "已完成", reporter="省民政厅", entered_by="x", now=NOW,
                    reported_on="2025-05-30", evidence="琼民〔2025〕9号")
    record_progress(engine, model, "hainan-m1", "推进中", reporter="省民政厅", entered_by="x",
                    now=NOW + timedelta(days=1), reported_on="2025-03-31")
    [latest] = db.milestone_progress(engine)
    assert (latest.state, str(latest.reported_on)) == ("done", "2025-05-30")


def test_a_progress_reporter_must_be_responsible_for_the_task(engine, model):
    with pytest.raises(EntryError) as typo:
        record_progress(engine, model, "hainan-m1", "推进中", reporter="省卫建委", entered_by="x", now=NOW)
    message = typo.value.format("zh")
    assert "不是该任务的责任单位" in message and "省民政厅、省卫生健康委" in message
    with pytest.raises(EntryError):  # task 1 has no local government role: a region may not report it
        record_progress(engine, model, "hainan-m1", "推进中", reporter="海口", entered_by="x", now=NOW)
    ok = record_progress(engine, model, "hainan-m1", "推进中", reporter="省卫生健康委", entered_by="x", now=NOW)
    assert ok.progress_written == 1
    assert [p.reporter for p in db.milestone_progress(engine)] == ["省卫生健康委"]


def test_the_progress_command_needs_the_reporter(engine, model, cli_model):
    from tracker.cli.main import cli

    cli_model(model)
    result = CliRunner().invoke(cli, ["progress", "hainan-m1", "推进中"])
    assert result.exit_code == 2 and "--reporter" in result.output


def test_simultaneous_corrections_of_one_cell_become_successive_revisions(engine, model):
    """Eight people correct the same cell at the same moment: on PostgreSQL too, each lands as
    its own revision, none fails on the revision number."""
    import threading

    record_value(engine, model, "senior_universities", "海口", "2024", 1, entered_by="first", now=NOW)
    errors: list[Exception] = []
    start = threading.Barrier(8)

    def correct(n: int) -> None:
        start.wait()
        try:
            record_value(engine, model, "senior_universities", "海口", "2024", 10 + n, entered_by=f"p{n}",
                         correct=True, now=NOW)
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=correct, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    history = db.observation_history(engine, "senior_universities", "460100", "2024")
    assert [h["revision"] for h in history] == list(range(1, 10))
