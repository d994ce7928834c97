"""Values officials can trust (issue 11): one key per reporting period, plausible bounds, units
written into the value, messages that fit how a value came in, notes kept as typed, sample data
kept out of real databases, and exports that import back. Through the service API (Tracker),
the command and the web app, on the test database; the real targets.yaml and Hainan's regions."""

import csv
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from test_web import Clock, cheap_hashes, entry, make_site  # noqa: F401 - the web tests' helpers, fast hashes

from tracker import store as db
from tracker.actuals.bounds import plausible_bounds
from tracker.actuals.exports import EXPORT_HEADER, write_export
from tracker.actuals.problems import EntryError
from tracker.config import settings_from_mapping
from tracker.domain.model import Indicator
from tracker.service import Tracker
from tracker.targets.file import load_targets

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "fixtures" / "bad-values"
NOW = datetime(2026, 12, 15, 2, 0, tzinfo=UTC)  # 10:00 on 15 December in Asia/Shanghai
RATIO = "elderly_care_beds_per_1000_elderly"  # 每千名老年人口拥有养老床位数, quarterly
MODEL = load_targets(ROOT / "targets.yaml")


@pytest.fixture
def tracker(db_url, engine, tmp_path):
    settings = settings_from_mapping({}, database_url=db_url, targets_path=ROOT / "targets.yaml",
                                     reports_dir=tmp_path / "reports")
    return Tracker(settings, engine=engine, clock=lambda: NOW, model=MODEL)


def stored(engine):
    """(indicator, region, period) -> (value, revision) of the latest revisions."""
    return {(o.indicator, o.region, o.period): (o.value, o.revision) for o in db.latest_observations(engine)}


def refusal(fn, *args, **kwargs) -> str:
    with pytest.raises(EntryError) as info:
        fn(*args, **kwargs)
    return info.value.format("zh") + "\n" + info.value.format("en")


def csv_file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- one key per reporting period ----------------------------------------------------------


def test_a_date_for_a_quarterly_indicator_is_stored_as_its_quarter(tracker):
    result = tracker.record("每千名老年人口拥有养老床位数", "海南省", "2025-12-31", "33", entered_by="x")
    assert [(a.period, a.period_end) for a in result.recorded] == [("2025Q4", date(2025, 12, 31))]
    assert stored(tracker.engine) == {(RATIO, "460000", "2025Q4"): (33.0, 1)}


def test_the_date_after_its_quarter_is_a_correction_of_the_one_cell_and_the_status_uses_it(tracker):
    """海南省 28.5 for 2025Q4 and 33 for 2025-12-31 were two cells, and the status used 28.5."""
    tracker.record(RATIO, "海南省", "2025Q4", "28.5", entered_by="x")
    message = refusal(tracker.record, RATIO, "海南省", "2025-12-31", "33", entered_by="y")
    assert "该单元格已有数值 28.5（第1版），更正需明确指定 --correct" in message
    tracker.record(RATIO, "海南省", "2025-12-31", "33", entered_by="y", correct=True)
    assert stored(tracker.engine) == {(RATIO, "460000", "2025Q4"): (33.0, 2)}
    status = tracker.evaluate().status("hainan-6-elderly_care_beds_per_1000_elderly")
    assert status.figures["latest"] == 33.0 and status.code in ("achieved", "achieved_late"), status.figures


def test_a_quarter_and_its_last_day_in_one_file_are_one_cell_given_twice(tracker, tmp_path):
    message = refusal(tracker.import_file, BAD / "quarter-and-date.csv", entered_by="x")
    assert "第3行" in message and "同一单元格在本文件中重复出现（首次出现在第2行）" in message


def test_two_values_typed_for_one_period_are_the_same_cell_twice(tracker):
    from tracker.actuals.entry import CellEntry

    cells = [CellEntry(RATIO, "海南省", "2025Q4", "28.5"), CellEntry(RATIO, "海南省", "2025-12-31", "33")]
    message = refusal(tracker.record_values, cells, entered_by="x")
    assert "同一单元格填了两次" in message and "本文件" not in message


def test_a_day_inside_a_quarter_stands_for_the_quarter_and_says_so(tracker):
    result = tracker.record("养老床位数", "海口", "2025-11-15", "9800", entered_by="x")
    assert result.recorded[0].period == "2025Q4"
    assert "日期 2025-11-15 记为季度 2025Q4（该指标按季度报送）" in result.warnings[0].format("zh")


def test_a_date_for_a_monthly_flow_is_refused_as_ambiguous(tracker):
    message = refusal(tracker.record, "培训养老护理人员人次", "儋州", "2026-06-30", "120", entered_by="x")
    assert "期间：「2026-06-30」日期对按月报送的流量指标有歧义" in message and "月份，如 2026-11" in message
    assert "a date is ambiguous for a flow reported by month" in message
    assert tracker.record("培训养老护理人员人次", "儋州", "2026-06", "120", entered_by="x").written == 1


def test_an_excel_date_cell_is_read_as_the_period_it_falls_in(tracker, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["指标", "地区", "期间", "数值"])
    ws.append(["养老床位数", "海口", datetime(2025, 12, 31), 9800])  # Excel keeps a typed date as a date
    ws.append(["养老床位数", "三亚", datetime(2025, 12, 31), 4100])
    wb.save(tmp_path / "dates.xlsx")
    assert tracker.import_file(tmp_path / "dates.xlsx", entered_by="x").written == 2
    assert set(stored(tracker.engine)) == {("elderly_care_beds", "460100", "2025Q4"),
                                           ("elderly_care_beds", "460200", "2025Q4")}


def test_history_reads_a_date_as_the_period_it_stands_for(tracker):
    tracker.record("养老床位数", "海口", "2025Q4", "9800", entered_by="x")
    ind, region, label = tracker.cell("养老床位数", "Haikou", "2025-12-31")
    assert (ind.id, region.code, label) == ("elderly_care_beds", "460100", "2025Q4")
    assert [h["value"] for h in tracker.history(ind.id, region.code, label)] == [9800.0]


def test_the_migration_re_keys_date_keyed_cells_to_their_period_in_entry_order(engine, small_model):
    """A database from before: values stored under a date for a yearly indicator beside the
    year's own; after the migration one cell per period, the value entered last the latest."""
    import sqlalchemy as sa

    db.downgrade(engine, "0004_meta")
    db.sync_targets(engine, small_model, NOW)
    at = [datetime(2026, 1, d, 2, 0, tzinfo=UTC) for d in (5, 10, 15)]
    rows = [  # (indicator, region, period, period end, value, revision, note, source, by, at, batch)
        ("elderly_care_beds", "460100", "2025", date(2025, 12, 31), 100.0, 1, "年报", "a.csv:2:D", "甲", at[1], None),
        ("elderly_care_beds", "460100", "2025-12-31", date(2025, 12, 31), 120.0, 1, "", "command", "乙", at[2], None),
        ("elderly_care_beds", "460100", "2025", date(2025, 12, 31), 101.0, 2, "更正", "b.csv:2:D", "甲", at[2], None),
        ("elderly_care_beds", "460200", "2025-06-30", date(2025, 6, 30), 50.0, 1, "", "command", "丙", at[0], None),
        ("elderly_care_trainees", "460100", "2025-06-30", date(2025, 6, 30), 7.0, 1, "", "command", "丁", at[0], None),
        ("not_an_indicator", "460100", "2025-12-31", date(2025, 12, 31), 1.0, 1, "", "command", "戊", at[0], None),
    ]
    with db.write_transaction(engine) as conn:
        db.ObservationWriter(conn).write(rows)
    db.migrate(engine)
    assert db.schema_revision(engine) == db.head_revision()
    history = db.observation_history(engine, "elderly_care_beds", "460100", "2025")
    assert [(h["revision"], h["value"], h["entered_by"]) for h in history] == [(1, 100.0, "甲"), (2, 120.0, "乙"),
                                                                               (3, 101.0, "甲")]
    assert history[1]["source"] == "command；原期间 2025-12-31" and history[0]["note"] == "年报"
    [sanya] = db.observation_history(engine, "elderly_care_beds", "460200", "2025")
    assert (sanya["value"], sanya["period_end"], sanya["source"]) == (50.0, date(2025, 12, 31), "command；原期间 2025-06-30")
    left = {(o.indicator, o.period) for o in db.latest_observations(engine)}
    assert ("elderly_care_trainees", "2025-06-30") in left and ("not_an_indicator", "2025-12-31") in left
    assert ("elderly_care_beds", "2025-12-31") not in left
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:  # the guard is back
        conn.exec_driver_sql("UPDATE observation SET value = 0")


# -- plausible bounds -----------------------------------------------------------------------


@pytest.mark.parametrize("unit, kind, region_kind, high", [
    ("percent", "percentage", None, 100.0), ("permille", "percentage", None, 1000.0),
    ("dimensionless", "ratio", None, 1.0),
    ("bed / kiloperson", "ratio", None, 1000.0), ("place / myriaperson", "ratio", None, 10_000.0),
    ("person / kiloperson", "ratio", None, 1000.0), ("person / hectobed", "ratio", None, 500.0),
    ("bed", "count", "county", 1e7), ("bed", "count", "district", 1e7), ("bed", "count", "prefecture_city", 5e7),
    ("person", "count", "province", 2e8), ("person", "count", "nation", 2e9),
    ("institution", "count", "county", 1e5), ("township", "count", "county", 1e4),
    ("person_time", "flow", "county", 1e8), ("myriaperson", "count", "county", 1000.0),
    ("bed", "count", "development_zone", 2e8),  # 洋浦: no tier of its own, the province's ceiling
])
def test_each_indicator_has_bounds_from_its_kind_and_unit(unit, kind, region_kind, high):
    assert plausible_bounds(Indicator("x", "x", unit, kind), region_kind).high == pytest.approx(high)


def test_a_ratio_of_ten_to_the_three_hundred_is_refused_with_its_bounds_named(tracker):
    message = refusal(tracker.record, RATIO, "海南省", "2025Q4", "1e300", entered_by="x")
    assert "数值：「1e300」超出合理范围：应在 0–1,000张/千人 之间（床位不会多于人口）" in message
    assert "value: '1e300': outside the plausible range 0–1,000 beds per 1,000" in message
    assert stored(tracker.engine) == {}


def test_a_count_beyond_the_regions_population_is_refused_and_a_possible_jump_only_warned(tracker):
    for quarter, value in (("2025Q1", 100), ("2025Q2", 110), ("2025Q3", 120)):
        tracker.record("养老床位数", "琼中", quarter, str(value), entered_by="x")
    message = refusal(tracker.record, "养老床位数", "琼中", "2025Q4", "2000万", entered_by="x")
    assert "0–10,000,000张" in message and "县级地区人口按不超过10,000,000人计" in message
    jump = tracker.record("养老床位数", "琼中", "2025Q4", "1300", entered_by="x")
    assert jump.written == 1 and "与该地区以往数值（100–120）相差超过3倍" in jump.warnings[0].format("zh")


def test_the_province_may_hold_more_than_a_county(tracker):
    assert tracker.record("养老床位数", "海南省", "2025Q4", "2000万", entered_by="x").written == 1


# -- units written into the value ------------------------------------------------------------


@pytest.mark.parametrize("indicator, period, typed, value", [
    ("养老床位数", "2026Q3", "1.2万张", 12_000), ("每千名老年人口拥有养老床位数", "2026Q3", "32张/千名老年人", 32),
    ("每千名老年人口拥有养老床位数", "2026Q3", "32张/每千名老年人口", 32), ("养老机构护理型床位占比", "2026Q3", "60％", 60),
    ("托位数", "2026Q3", "350个", 350), ("托位数", "2026Q3", "350个托位", 350),
    ("培训养老护理人员人次", "2026-11", "1.5万人次", 15_000), ("每千人口拥有3岁以下婴幼儿托位数", "2026Q3", "4.5个/千人", 4.5),
    ("建成并运营的老年大学数", "2026Q3", "3所", 3), ("区域性养老服务中心数", "2026Q3", "2家", 2),
    ("养老床位数", "2026Q3", "１２，０００张", 12_000), ("老年人口数（60岁以上）", "2026Q3", "36万人", 360_000),
    ("每千名老年人口拥有养老床位数", "2026Q3", "320张/万人", 32),
])
def test_a_unit_written_in_the_value_is_converted_to_the_indicators(tracker, indicator, period, typed, value):
    [a] = tracker.record(indicator, "海口", period, typed, entered_by="x").recorded
    assert a.value == pytest.approx(value)


@pytest.mark.parametrize("indicator, period, typed, reason", [
    ("托位数", "2026Q3", "350张", "「张」计的是床位，该指标计的是托位"),
    ("培训养老护理人员人次", "2026-11", "1.5万人", "「人」计的是人数，该指标计的是人次（人数和人次不同：同一人培训两次算两人次）"),
    ("老年人口数（60岁以上）", "2026Q3", "36万人次", "「人次」计的是人次，该指标计的是人数"),
    ("养老床位数", "2026Q3", "350个", "「个」用于托位、机构、设施、乡镇，该指标计的是床位（张）"),
    ("养老床位数", "2026Q3", "30%", "「%」计的是比例，该指标计的是床位"),
    ("每千名老年人口拥有养老床位数", "2026Q3", "32个/千人", "「个」用于托位、机构、设施、乡镇，该指标计的是床位（张/千人）"),
])
def test_a_unit_of_another_thing_in_the_value_is_refused_with_the_reason(tracker, indicator, period, typed, reason):
    message = refusal(tracker.record, indicator, "海口", period, typed, entered_by="x")
    assert f"数值：「{typed}」单位不对：{reason}" in message
    assert stored(tracker.engine) == {}


def test_the_unit_column_and_the_unit_option_take_the_same_words(tracker, tmp_path):
    assert tracker.record("托位数", "海口", "2026Q3", "350", "个", entered_by="x").recorded[0].value == 350
    path = csv_file(tmp_path / "wide.csv", "地区,期间,托位数（个）,养老床位数,老年大学数\n")
    path = csv_file(tmp_path / "wide.csv", "地区,期间,托位数（个）,养老床位数\n三亚,2026Q3,420,1.2万张\n")
    assert tracker.import_file(path, entered_by="x").written == 2
    values = stored(tracker.engine)
    assert values[("childcare_places", "460200", "2026Q3")] == (420.0, 1)
    assert values[("elderly_care_beds", "460200", "2026Q3")] == (12_000.0, 1)


# -- messages that fit the way a value came in --------------------------------------------------


@pytest.fixture
def cli(cli_model):
    from tracker.cli.main import cli as command

    cli_model(MODEL)
    runner = CliRunner()
    return lambda *args: runner.invoke(command, list(args))


def test_a_typed_value_is_not_a_file_its_problems_name_the_field(engine, cli):
    bad = cli("record", "养老床位数", "海口", "2026Q3", "abc")
    assert bad.exit_code == 1
    assert "数值：「abc」不是数字" in bad.output
    assert "列" not in bad.output and "第" not in bad.output and "value列" not in bad.output
    english = cli("record", "养老床位数", "海口", "2025", "100", "--lang", "en")
    assert "period: '2025': period is a year; this indicator is reported by quarter" in english.output
    assert "column" not in english.output and "row" not in english.output
    unit = cli("record", "养老床位数", "海口", "2026Q3", "100", "--unit", "人")
    assert "单位：「人」单位不对" in unit.output


def test_the_command_confirms_the_value_as_stored_not_as_typed(engine, cli):
    done = cli("record", "养老床位数", "海口", "2026Q3", "--unit", "万张", "1.2")
    assert done.exit_code == 0, done.output
    assert "已录入 养老床位数 海口市 2026Q3 = 12,000张" in done.output
    again = cli("record", "elderly_care_beds", "Haikou", "2026-09-30", "12,500", "--correct", "--lang", "en")
    assert "corrected (new revision): elderly_care_beds Haikou 2026Q3 = 12,500 beds (revision 2)" in again.output
    history = cli("history", "养老床位数", "海口", "2026-09-30")
    assert "第1版  12,000" in history.output and "第2版  12,500" in history.output


# -- notes keep their text ---------------------------------------------------------------------


NOTE = "建立；试点（２期）, 见 琼民〔２０２６〕12号"


def test_notes_keep_their_text_in_csv_excel_the_command_and_the_web(tracker, tmp_path, cli, engine):
    csv_path = csv_file(tmp_path / "n.csv", f'指标,地区,期间,数值,备注\n养老床位数,海口,2026Q3,"１２，０００","{NOTE}"\n')
    tracker.import_file(csv_path, entered_by="x")
    wb = Workbook()
    wb.active.append(["指标", "地区", "期间", "数值", "备注"])
    wb.active.append(["养老床位数", "三亚", "2026Q3", 4100, NOTE])
    wb.save(tmp_path / "n.xlsx")
    tracker.import_file(tmp_path / "n.xlsx", entered_by="x")
    assert cli("record", "养老床位数", "儋州", "2026Q3", "3900", "--note", NOTE).exit_code == 0
    notes = {o.region: (o.note, o.value) for o in db.latest_observations(engine)}
    assert notes == {"460100": (NOTE, 12_000.0), "460200": (NOTE, 4100.0), "460400": (NOTE, 3900.0)}


def test_the_sample_note_comes_back_as_typed_in_the_demo_database(tracker, tmp_path):
    tracker.mark_sample_database()
    tracker.import_file(csv_file(tmp_path / "s.csv", "指标,地区,期间,数值,备注\n养老床位数,海口,2026Q3,9800,建立；示例数据\n"),
                        entered_by="x")
    assert [o.note for o in db.latest_observations(tracker.engine)] == ["建立；示例数据"]


def test_progress_notes_and_evidence_keep_their_text(tracker):
    tracker.record_progress("hainan-19-m", "推进中", reporter="省民政厅", entered_by="x", note="已建立；１５个市县",
                            evidence="琼民〔２０２６〕12号")
    [p] = tracker.progress()
    assert (p.note, p.evidence) == ("已建立；１５个市县", "琼民〔２０２６〕12号")


def test_the_web_form_keeps_a_note_as_typed(db_url, engine, tmp_path, small_model):
    site = make_site(db_url, engine, tmp_path, small_model, Clock(datetime(2026, 3, 10, 2, 0, tzinfo=UTC)))
    r = entry(site.client("mca"), "460000", value__elderly_care_beds="5000", period__elderly_care_beds="2025",
              note__elderly_care_beds=NOTE)
    assert r.status_code == 200, r.text
    assert [o.note for o in db.latest_observations(engine)] == [NOTE]


# -- sample data stays sample --------------------------------------------------------------------


def test_the_sample_is_refused_by_a_real_database_unless_asked_for(tracker):
    path = ROOT / "examples" / "hainan-sample-values.csv"
    message = refusal(tracker.import_file, path, entered_by="x")
    assert "「示例数据 SAMPLE」示例数据不能写入正式数据库" in message and "--allow-sample" in message
    assert "另有7213行相同" in message and "tracker demo" in message
    assert stored(tracker.engine) == {}
    assert "sample data cannot go into a real database" in message
    message = refusal(tracker.import_file, ROOT / "examples" / "hainan-sample-progress.csv", entered_by="x")
    assert message.count("示例数据不能写入正式数据库") == 3
    assert tracker.import_file(path, entered_by="x", allow_sample=True).written == 7214


def test_the_demo_database_takes_the_sample_without_being_asked(tracker):
    assert not tracker.is_sample_database()
    tracker.mark_sample_database()
    assert tracker.is_sample_database()
    assert tracker.import_file(ROOT / "examples" / "hainan-sample-progress.csv", entered_by="x").progress_written == 3


def test_a_value_or_a_file_marked_as_sample_is_refused_too(tracker, tmp_path):
    message = refusal(tracker.record, "养老床位数", "海口", "2026Q3", "9800", entered_by="x", source="示例数据")
    assert "来源：「示例数据」示例数据不能写入正式数据库" in message
    message = refusal(tracker.record, "养老床位数", "海口", "2026Q3", "9800", entered_by="x", note="SAMPLE figures")
    assert "备注：「SAMPLE figures」示例数据" in message
    marked = csv_file(tmp_path / "示例数据-2026Q3.csv", "指标,地区,期间,数值\n养老床位数,海口,2026Q3,9800\n")
    assert "示例数据不能写入正式数据库" in refusal(tracker.import_file, marked, entered_by="x")
    plain = tracker.record("养老床位数", "海口", "2026Q3", "9800", entered_by="x", note="抽样调查 sample survey")
    assert plain.written == 1  # "sample" in a real note is not the mark


def test_the_import_command_says_how_to_load_the_sample(engine, cli):
    refused = cli("import", str(ROOT / "examples" / "hainan-sample-progress.csv"))
    assert refused.exit_code == 1 and "示例数据不能写入正式数据库" in refused.output
    assert cli("import", str(ROOT / "examples" / "hainan-sample-progress.csv"), "--allow-sample").exit_code == 0


# -- the bad files kept in tests/fixtures/bad-values ------------------------------------------------


def _corpus() -> list[tuple[str, list[str]]]:
    text = (BAD / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([\w.-]+\.(?:csv|xlsx)) \| [^|]+ \| (.+) \|$", text, re.MULTILINE)
    return [(name, re.findall(r"`([^`]+)`", says)) for name, says in rows]


def test_every_bad_file_is_listed_with_what_its_refusal_says():
    listed = {name for name, _ in _corpus()}
    assert listed == {p.name for p in BAD.iterdir() if p.name != "README.md"}
    assert all(says for _, says in _corpus())


@pytest.mark.parametrize("name, says", _corpus())
def test_each_bad_file_is_refused_whole_with_every_problem_named(tracker, name, says):
    message = refusal(tracker.import_file, BAD / name, entered_by="x")
    assert stored(tracker.engine) == {}
    for part in says:
        assert part in message, part
    assert message.count(f"{name} 第") == len(re.findall(r"^  - ", message.split("nothing was written")[0], re.MULTILINE))


# -- export ---------------------------------------------------------------------------------------


def _some_values(tracker):
    tracker.record("养老床位数", "海口", "2026Q3", "12000", entered_by="甲", note="季报")
    tracker.record("养老床位数", "海口", "2026Q3", "12100", entered_by="乙", note="更正", correct=True)
    tracker.record("养老床位数", "秀英区", "2026Q3", "1800", entered_by="甲")
    tracker.record("每千名老年人口拥有养老床位数", "三亚", "2026Q3", "31.25", entered_by="甲")
    tracker.record("养老机构护理型床位占比", "海口", "2026Q2", "55.5%", entered_by="甲", note="=HYPERLINK(\"http://x\")")
    tracker.record("培训养老护理人员人次", "儋州", "2026-11", "260", entered_by="甲", note="-5")
    tracker.record("公立型和普惠性婴幼儿在托覆盖率", "海口", "2025Q4", "0.3", entered_by="丙", note="@SUM(A1)")


def _csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so Excel opens it"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_an_export_of_the_latest_values_imports_back_unchanged(tracker, tmp_path, suffix):
    _some_values(tracker)
    out = tmp_path / f"export.{suffix}"
    assert tracker.export(out) == {"rows": 6, "format": suffix}
    again = tracker.import_file(out, entered_by="x")
    assert (again.written, again.corrections, again.unchanged) == (0, 0, 6)
    notes = {o.note for o in db.latest_observations(tracker.engine)}
    assert {"=HYPERLINK(\"http://x\")", "-5", "@SUM(A1)"} <= notes  # read back as stored, guard taken off


def test_the_export_names_columns_in_chinese_with_codes_and_numbers_as_numbers(tracker, tmp_path):
    _some_values(tracker)
    tracker.export(tmp_path / "e.csv")
    rows = _csv_rows(tmp_path / "e.csv")
    assert tuple(rows[0]) == EXPORT_HEADER
    haikou = next(r for r in rows if r[0] == "elderly_care_beds" and r[2] == "460100")
    assert haikou[:10] == ["elderly_care_beds", "养老床位数", "460100", "海口市", "2026Q3", "12100", "张", "更正", "2",
                           "省民政厅"]
    assert haikou[10] == "乙" and haikou[11].endswith("+08:00") and haikou[12] == "command"
    district = next(r for r in rows if r[2] == "460105")
    assert district[3] == "海口市秀英区"
    ratio = next(r for r in rows if r[0] == RATIO)
    assert (ratio[5], ratio[6]) == ("31.25", "张/千人")


def test_formula_text_is_neutralised_and_numbers_are_not(tracker, tmp_path):
    _some_values(tracker)
    tracker.export(tmp_path / "e.csv")
    notes = {r[7] for r in _csv_rows(tmp_path / "e.csv")[1:]}
    assert "'=HYPERLINK(\"http://x\")" in notes and "'@SUM(A1)" in notes
    assert "-5" in notes  # a note that is a number is no formula
    tracker.export(tmp_path / "e.xlsx")
    ws = load_workbook(tmp_path / "e.xlsx")["数据导出"]
    cell = next(c for c in ws["H"] if c.value == "=HYPERLINK(\"http://x\")")
    assert cell.data_type == "s" and cell.quotePrefix  # text, with Excel's own quote prefix
    assert all(c.data_type == "n" for c in ws["F"][1:])  # the values are numbers


def test_every_formula_start_is_guarded_and_a_negative_value_is_left_alone(tmp_path):
    starts = ["=1+1", "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\tx", "\rx"]
    rows = [["i", "名", "r", "地区", "2026Q3", -5.0, "张", note, 1, "部门", "x", "t", "s"] for note in starts]
    write_export(iter(rows), tmp_path / "g.csv", "csv")
    read = _csv_rows(tmp_path / "g.csv")[1:]
    assert [r[7] for r in read] == ["'" + s for s in starts]
    assert {r[5] for r in read} == {"-5"}
    write_export(iter(rows), tmp_path / "g.xlsx", "xlsx")
    ws = load_workbook(tmp_path / "g.xlsx").active
    assert [c.value for c in ws["F"][1:]] == [-5] * len(starts)
    assert all(c.data_type == "s" and c.quotePrefix for c in ws["H"][1:])


def test_every_revision_and_the_filters(tracker, tmp_path):
    _some_values(tracker)

    def cells(**filters):
        out = tmp_path / "f.csv"
        tracker.export(out, **filters)
        return [(r[0], r[2], r[4], r[8]) for r in _csv_rows(out)[1:]]

    assert ("elderly_care_beds", "460100", "2026Q3", "1") not in cells()
    revisions = cells(revisions=True)
    assert {("elderly_care_beds", "460100", "2026Q3", "1"), ("elderly_care_beds", "460100", "2026Q3", "2")} <= set(revisions)
    assert {c[1] for c in cells(regions=["海口"])} == {"460100", "460105"}  # with its districts
    assert {c[0] for c in cells(department="省卫生健康委")} == {"childcare_enrollment_rate"}
    assert {c[0] for c in cells(indicators=["养老床位数", "elderly_care_worker_trainings"])} == {
        "elderly_care_beds", "elderly_care_worker_trainings"}
    assert {c[2] for c in cells(period="2026")} == {"2026Q2", "2026Q3", "2026-11"}
    assert {c[2] for c in cells(period="2026Q3")} == {"2026Q3"}
    assert cells(plan="national") == []  # the national plan has no numeric targets
    assert len(cells(plan="hainan")) == 6
    message = refusal(tracker.export, tmp_path / "x.csv", plan="nope", department="省财政厅", regions=["杭州"])
    assert "未导出，发现 3 处问题" in message and "规划（--plan）：「nope」未知规划" in message


def test_the_export_command_and_the_web_download(engine, cli, tmp_path, db_url):
    assert cli("record", "养老床位数", "海口", "2026Q3", "12000").exit_code == 0
    done = cli("export", "-o", str(tmp_path / "e.xlsx"), "--department", "省民政厅")
    assert done.exit_code == 0 and "已导出 1 行" in done.output
    assert load_workbook(tmp_path / "e.xlsx")["数据导出"]["F2"].value == 12000
    bad = cli("export", "--plan", "nope")
    assert bad.exit_code == 1 and "未知规划" in bad.output

    (tmp_path / "web").mkdir()
    site = make_site(db_url, engine, tmp_path / "web", MODEL, Clock(NOW))
    client = site.client("reader")  # a viewer: the values are what the target pages show
    r = client.get("/export?format=csv&indicator=elderly_care_beds&revisions=1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"] and "filename*=UTF-8''" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf") and "12000" in r.content.decode("utf-8-sig")
    x = client.get("/export?region=海口")
    assert x.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert client.get("/export?plan=nope").status_code == 400
    assert site.client().get("/export", follow_redirects=False).status_code == 303  # signed in only
