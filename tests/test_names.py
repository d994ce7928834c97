"""Names people read: organisations as one name each (synonyms, English names, exact matching),
the English names and short titles in targets.yaml, and moments written as officials write them."""

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tracker.domain import organisations as orgs
from tracker.domain.format import format_moment, format_share
from tracker.domain.model import Milestone, ResponsibleUnit, Task, same_unit, short_title, unit_found
from tracker.domain.regions import load_regions
from tracker.targets.file import TargetsFileError, build_model, diff_models, dump_model, load_targets, parse_targets

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def committed():
    return load_targets(ROOT / "targets.yaml")


# -- organisations ----------------------------------------------------------------------


def test_an_organisation_written_two_ways_is_one():
    assert orgs.canonical("各市县人民政府") == orgs.canonical("各市县政府") == "各市县政府"
    assert same_unit("省发改委", "省发展改革委") and same_unit("ｓ省民政厅".lstrip("ｓ"), "海南省民政厅")
    assert not same_unit("省民政厅", "省卫生健康委") and not same_unit("", "")
    assert orgs.is_local("各市县人民政府") and not orgs.is_local("省民政厅")


def test_matching_is_exact_never_by_substring():
    assert not same_unit("人行海口中心支行", "海口")
    assert unit_found("人行海口中心支行", "海口")  # what a search finds is another question
    task = Task("hainan", 27, "引导金融机构提升服务质效。", (ResponsibleUnit("人行海口中心支行", "joint"),))
    assert task.has_unit("中国人民银行海口中心支行") and not task.has_unit("海口")


def test_every_organisation_the_plans_name_has_one_english_name(committed):
    names = {u.name for t in committed.tasks for u in t.units} | {i.reporter for i in committed.indicators}
    missing = sorted(n for n in names if not orgs.english_name(n))
    assert missing == []
    assert orgs.organisation_name("省民政厅", "en") == "Provincial Department of Civil Affairs"
    assert orgs.organisation_name("某某局", "en") == "某某局"  # unknown: it has no English form
    english = [o.name_en for o in orgs.ORGANISATIONS]
    assert len(english) == len(set(english))  # two bodies never share an English name
    assert not [e for e in english if any("\u4e00" <= ch <= "\u9fff" for ch in e)]


def test_the_synonym_table_gives_every_name_to_one_organisation():
    orgs._index.cache_clear()
    assert len(orgs._index()) == sum(1 + len(o.synonyms) for o in orgs.ORGANISATIONS)


# -- English names and short titles in targets.yaml ----------------------------------------


def test_the_hainan_plan_has_english_names_and_short_titles(committed):
    assert all(i.name_en for i in committed.indicators)
    hainan = [m for m in committed.milestones if m.plan == "hainan"]
    assert hainan and all(m.title and m.title_en for m in hainan)
    assert all(len(m.title) <= 40 and not m.title.endswith("。") for m in hainan)
    assert all(p.title_en for p in committed.plans)
    visits = next(m for m in hainan if m.id == "hainan-19-m")
    assert (visits.label("zh"), visits.label("en")) == ("建立特殊困难老年人居家探访制度",
                                                        "Home visits to elderly people in special difficulty")
    assert visits.quote.endswith("。")  # the source sentence stays the quote


def test_a_milestone_without_a_title_takes_one_from_its_sentence():
    assert short_title("到2022年底，全面建立特殊困难老年人居家探访制度。") == "全面建立特殊困难老年人居家探访制度"
    assert short_title("增强家庭照护能力。") == "增强家庭照护能力"
    assert short_title("制定基本养老服务清单，制定政府购买基本养老服务指南，衔接实施全国统一的老年人能力和照护需求评估标准。") \
        == "制定基本养老服务清单"
    m = Milestone("m", "p", 1, "到“十四五”末，建成覆盖城乡的服务网络。")
    assert m.label("zh") == "建成覆盖城乡的服务网络" and m.label("en") == "建成覆盖城乡的服务网络"


def test_names_and_titles_round_trip_through_targets_yaml(committed):
    again = parse_targets(dump_model(committed))
    assert again.indicators == committed.indicators and again.milestones == committed.milestones
    assert again.plans == committed.plans
    text = dump_model(committed)
    assert "  name: 每千名老年人口拥有养老床位数\n  name_en: Elderly-care beds per 1,000 elderly people\n" in text
    assert "  title: 建立特殊困难老年人居家探访制度\n  title_en: Home visits to elderly people in special difficulty\n" in text


@pytest.mark.parametrize("old, new, field, message", [
    ("  name_en: Elderly-care beds\n", "  name_en: 养老床位 beds\n", "name_en", "has Chinese characters"),
    ("  title_en: Family caregiving capacity\n", "  title_en: 家庭照护\n", "title_en", "write it in English"),
    ("  title: 增强家庭照护能力\n", "  title: " + "很长" * 25 + "\n", "title", "at most 40 characters"),
])
def test_a_bad_name_is_refused_with_its_line(old, new, field, message):
    text = (ROOT / "targets.yaml").read_text(encoding="utf-8")
    assert old in text
    line = text[: text.index(old)].count("\n") + 1
    with pytest.raises(TargetsFileError) as info:
        parse_targets(text.replace(old, new, 1))
    assert any(p.startswith(f"line {line}: {field}:") and message in p for p in info.value.problems), info.value.problems


def test_reextraction_does_not_list_reviewed_names_as_differences(committed):
    draft = build_model([ROOT / "sources" / "national-task-table.txt", ROOT / "sources" / "hainan-task-table.txt"])
    changes = diff_models(committed, draft)
    assert not [c for c in changes if ": name_en:" in c or ": title_en:" in c
                or (c.startswith("~ milestone") and ": title:" in c)]


# -- moments and partial figures ----------------------------------------------------------------


def test_a_moment_is_written_in_beijing_time():
    moment = datetime(2026, 12, 2, 4, 19, 17, tzinfo=UTC)
    assert format_moment(moment) == "2026年12月2日 12:19（北京时间）"
    assert format_moment(moment, "en") == "2 December 2026, 12:19 (Beijing time)"
    assert format_moment(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == "2027年1月1日 00:30（北京时间）"


def test_a_figure_over_part_of_the_regions_says_so():
    assert format_share(3, 19, "50张/千人（2025-06）") == "3/19 市县合计 50张/千人（2025-06）"
    assert format_share(3, 19, "50 beds per 1,000 (2025-06)", "en") == "50 beds per 1,000 (2025-06), sum of 3 of 19 regions"


# -- templates: whose form it is ----------------------------------------------------------------


def test_a_template_is_matched_exactly_or_by_synonym_and_a_region_gets_its_own(committed, tmp_path):
    from tracker.actuals.templates import template_owner, write_template

    regions = load_regions()
    assert template_owner(committed, "海口", regions).region.code == "460100"  # the region, not the bank
    assert template_owner(committed, "人行海口中心支行", regions).region is None
    assert template_owner(committed, "海南省民政厅", regions).name == "省民政厅"
    assert template_owner(committed, "民政", regions) is None  # no substring match
    counts = write_template(tmp_path / "hk.xlsx", committed, "海口", "2026Q3", regions)
    sheet = load_workbook(tmp_path / "hk.xlsx")["填报"]
    assert counts["regions"] == 5 and counts["indicators"] > 0
    assert sheet.cell(3, 1).value == "海口市" and sheet.cell(1, 1).value.startswith("海口市 2026Q3")
    ms = load_workbook(tmp_path / "hk.xlsx")["里程碑进展"]
    assert {r[2] for r in ms.iter_rows(min_row=2, values_only=True)} == {"海口市"}


def test_tracker_template_for_haikou_writes_haikous_form(engine, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from tracker.cli.main import cli

    config = tmp_path / "tracker.toml"
    config.write_text(f'[tracker]\ntargets_path = "{ROOT / "targets.yaml"}"\n', encoding="utf-8")
    monkeypatch.setenv("TRACKER_CONFIG", str(config))
    out = tmp_path / "hk.xlsx"
    result = CliRunner().invoke(cli, ["template", "--unit", "海口", "--period", "2026Q3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "5 个地区" in result.output and load_workbook(io.BytesIO(out.read_bytes()))["填报"].cell(3, 1).value == "海口市"
    bad = CliRunner().invoke(cli, ["template", "--unit", "海口银行", "--period", "2026Q3", "-o", str(out)])
    assert bad.exit_code != 0 and "不是责任单位，也不是地区" in bad.output
