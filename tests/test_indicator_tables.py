"""Main-indicator tables (主要指标) and the task tables beside them: every real target of a
province's and a city's plan found, with baselines, deadlines from the column headings and
约束性/预期性 attributes, and nothing else; the attribute and 完成时限 survive targets.yaml."""

from datetime import date
from pathlib import Path

import pytest

from tracker.domain.model import Task
from tracker.targets.documents import parse_document
from tracker.targets.extract import extract_indicator_row, value_columns
from tracker.targets.file import TargetsFileError, build_model, diff_models, dump_model, parse_targets
from tracker.targets.formats.text import parse_text

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "documents"
END_2025, END_2023 = date(2025, 12, 31), date(2023, 12, 31)
PLAN = (date(2021, 1, 1), END_2025)


def _rows(path: Path) -> list[tuple]:
    model = build_model([path])
    names = {i.id: i.name for i in model.indicators}
    return [(t.task, names[t.indicator], t.comparator, t.value, t.unit, t.deadline, t.scope, t.soft, t.cumulative,
             t.baseline, t.baseline_period, t.attribute) for t in model.targets]


# (task, indicator name, comparator, value, unit, deadline, scope, soft, cumulative, baseline, baseline year, attribute)
LIAONING = [
    # the task table (附件2): sentences
    (1, "养老床位数", ">=", 255500, "bed", END_2025, "whole", False, False, 235500, None, ""),
    (1, "养老机构护理型床位占比", ">=", 55, "percent", END_2025, "whole", False, False, None, None, ""),
    (2, "每千人口拥有3岁以下婴幼儿托位数", ">=", 4.5, "place / kiloperson", END_2025, "whole", True, False, 3, None, ""),
    (3, "以失能、部分失能特困人员专业照护为主的县级供养服务设施（敬老院）数", ">=", 1, "institution", None, "each_region",
     False, False, None, None, ""),
    (4, "建设示范性、综合性托育服务机构", ">=", 2, "institution", None, "each_region", False, False, None, None, ""),
    (5, "月探访率", ">=", 100, "percent", END_2025, "whole", False, False, None, None, ""),
    (11, "65岁及以上老年人城乡社区规范健康管理服务率", ">=", 65, "percent", END_2025, "whole", False, False, None, None, ""),
    (11, "设立老年医学科的二级及以上综合性医院占比", ">=", 60, "percent", END_2025, "whole", False, False, None, None, ""),
    (12, "培训养老护理人员人次", ">=", 20000, "person_time", END_2025, "whole", False, True, None, None, ""),
    (13, "街道综合养老服务中心覆盖率", ">=", 100, "percent", END_2025, "whole", True, False, None, None, ""),
    # the main-indicator table (附件1), numbered after the 15 tasks
    (16, "养老床位数", ">=", 255500, "bed", END_2025, "whole", False, False, 235500, "2020", "expected"),
    (17, "养老机构护理型床位占比", ">=", 55, "percent", END_2025, "whole", False, False, None, None, "binding"),
    (18, "每千人口拥有3岁以下婴幼儿托位数", ">=", 4.5, "place / kiloperson", END_2025, "whole", True, False, 3, "2020",
     "expected"),
    (19, "特殊困难老年人月探访率", ">=", 100, "percent", END_2025, "whole", False, False, None, None, "expected"),
    (20, "新建城区、新建居住区配套建设养老服务设施达标率", ">=", 100, "percent", END_2025, "whole", False, False, None, None,
     "binding"),
    (21, "设立老年医学科的二级及以上综合性医院占比", ">=", 60, "percent", END_2025, "whole", False, False, None, None,
     "expected"),
    (23, "每千名老年人配备社会工作者人数", ">=", 1, "person / kiloperson", END_2025, "whole", False, False, None, None,
     "expected"),
    (24, "建成并运营的老年大学数", ">=", 1, "institution", END_2025, "each_region", False, False, None, None, "expected"),
]

CITY = [
    # the task table, deadlines from its 完成时限 column where the sentence has none
    (1, "养老床位数", ">=", 13500, "bed", END_2023, "whole", False, False, None, None, ""),
    (4, "养老机构护理型床位占比", ">=", 50, "percent", END_2023, "whole", False, False, None, None, ""),
    (5, "以失能、部分失能特困人员专业照护为主的县级供养服务设施（敬老院）数", ">=", 1, "institution", END_2023,
     "each_region", False, False, None, None, ""),
    (6, "养老床位数", ">=", 17000, "bed", END_2025, "whole", False, False, None, None, ""),
    (6, "养老机构护理型床位占比", ">=", 55, "percent", END_2025, "whole", False, False, None, None, ""),
    (7, "每千人口拥有3岁以下婴幼儿托位数", ">=", 4.1, "place / kiloperson", END_2023, "whole", False, False, None, None, ""),
    (8, "社区婴幼儿照护服务机构覆盖率", ">=", 50, "percent", END_2025, "whole", False, False, None, None, ""),
    (8, "达标的婴幼儿照护机构", ">=", 6, "institution", END_2025, "whole", False, False, None, None, ""),
    (8, "市级示范性、综合性托育服务中心", ">=", 1, "institution", END_2025, "whole", False, False, None, None, ""),
    (9, "每千人口拥有3岁以下婴幼儿托位数", ">=", 4.5, "place / kiloperson", END_2025, "whole", False, False, None, None, ""),
    # the main-indicator table: two target years, no 属性 column, section rows
    (11, "养老床位数", ">=", 13500, "bed", END_2023, "whole", False, False, None, None, ""),
    (11, "养老床位数", ">=", 17000, "bed", END_2025, "whole", False, False, None, None, ""),
    (12, "养老机构护理型床位占比", ">=", 50, "percent", END_2023, "whole", False, False, None, None, ""),
    (12, "养老机构护理型床位占比", ">=", 55, "percent", END_2025, "whole", False, False, None, None, ""),
    (13, "以失能、部分失能特困人员专业照护为主的县级供养服务设施（敬老院）数", ">=", 1, "institution", END_2023,
     "each_region", False, False, None, None, ""),
    (14, "每千人口拥有3岁以下婴幼儿托位数", ">=", 4.1, "place / kiloperson", END_2023, "whole", False, False, None, None, ""),
    (14, "每千人口拥有3岁以下婴幼儿托位数", ">=", 4.5, "place / kiloperson", END_2025, "whole", False, False, None, None, ""),
    (15, "社区婴幼儿照护服务机构覆盖率", ">=", 50, "percent", END_2025, "whole", False, False, None, None, ""),
    (16, "达标的婴幼儿照护机构数", ">=", 6, "institution", END_2025, "whole", False, False, None, None, ""),
    (17, "市级示范性、综合性托育服务中心", ">=", 1, "institution", END_2025, "whole", False, False, None, None, ""),
]


def test_every_target_of_the_province_plan_is_found_and_nothing_else():
    assert _rows(FIXTURES / "liaoning-plan.txt") == LIAONING


def test_every_target_of_the_city_plan_is_found_and_nothing_else():
    assert _rows(FIXTURES / "city-plan.txt") == CITY


def test_what_is_not_a_number_stays_a_milestone():
    model = build_model([FIXTURES / "liaoning-plan.txt"])
    assert [m.task for m in model.milestones] == [6, 7, 8, 9, 10, 14, 15, 22]
    enrolment = model.milestones[-1]
    assert enrolment.text == "本科高校、职业院校养老服务相关专业招生规模：2025年目标值 明显增长"
    assert enrolment.deadline == END_2025
    city = build_model([FIXTURES / "city-plan.txt"])
    assert [(m.task, m.deadline) for m in city.milestones] == [(2, END_2023), (3, None), (10, None)]


def test_each_indicator_row_quotes_the_row_and_ids_carry_the_year_when_there_are_several():
    model = build_model([FIXTURES / "city-plan.txt"])
    beds = [t for t in model.targets if t.task == 11]
    assert [t.id for t in beds] == ["city-plan-11-elderly_care_beds-2023", "city-plan-11-elderly_care_beds-2025"]
    assert beds[0].quote == "养老服务床位数：2020年 —，2023年 1.35，2025年 1.7"
    binding = next(t for t in build_model([FIXTURES / "liaoning-plan.txt"]).targets if t.task == 17)
    assert binding.binding and binding.quote == "养老机构护理型床位占比：2020年基期值 —，2025年目标值 55，约束性"


@pytest.mark.parametrize("headings, expected", [
    (["2020年基期值", "2025年目标值"], [("baseline", 2020), ("target", 2025)]),
    (["2020年", "2023年", "2025年"], [("baseline", 2020), ("target", 2023), ("target", 2025)]),  # a bare year
    (["基期值", "目标值"], [("baseline", None), ("target", 2025)]),  # 目标值 without a year: the plan's end
    (["现状值（2020年）", "2025年"], [("baseline", 2020), ("target", 2025)]),
])
def test_value_columns_from_their_headings(headings, expected):
    assert [(c.role, c.year) for c in value_columns(headings, PLAN)] == expected


def test_a_two_row_header_names_each_year_under_its_group():
    text = ("序号\t指标\t基期值\t目标值\t目标值\t属性\n"
            "序号\t指标\t2020年\t2023年\t2025年\t属性\n"
            "1\t养老机构护理型床位占比（%）\t48\t52\t55\t约束性\n")
    [table] = parse_document(parse_text(text, "two-rows.txt")).indicator_tables
    assert [h for h, _ in table.rows[0].values] == ["基期值2020年", "目标值2023年", "目标值2025年"]
    task = Task("p", 1, "", ())
    found = extract_indicator_row(task, table.rows[0].name, table.rows[0].values, "", "约束性", PLAN)
    assert [(t.value, t.deadline, t.baseline, t.baseline_period, t.unit) for t in found.targets] == [
        (52, END_2023, 48, "2020", "percent"), (55, END_2025, 48, "2020", "percent")]


@pytest.mark.parametrize("name, unit, cell, expected", [
    # 〔〕: a five-year cumulative total, as national plans mark it
    ("培训养老护理员", "万人次", "〔2〕", (">=", 20000, "person_time", True)),
    # the unit in the indicator cell, not in a 单位 column
    ("养老机构护理型床位占比（%）", "", "≥55", (">=", 55, "percent", False)),
    # a value that only the 单位 column makes a count of beds per 1,000 elderly
    ("每千名老年人口拥有养老床位数", "张", "32", (">=", 32, "bed / kiloperson", False)),
    # a unit the tracker does not count in: still a target, as a plain number
    ("人均预期寿命（岁）", "", "78.3", (">=", 78.3, "dimensionless", False)),
    # an indicator that improves by going down: a bare value is a ceiling
    ("婴儿死亡率（‰）", "", "5", ("<=", 5, "permille", False)),
])
def test_main_indicator_cells(name, unit, cell, expected):
    found = extract_indicator_row(Task("p", 1, "", ()), name, [("2025年目标值", cell)], unit, "预期性", PLAN)
    [t] = found.targets
    assert (t.comparator, t.value, t.unit, t.cumulative) == expected
    assert t.attribute == "expected" and t.deadline == END_2025


# --- targets.yaml ---------------------------------------------------------------------------
def test_attribute_and_due_round_trip_through_targets_yaml():
    draft = build_model([FIXTURES / "liaoning-plan.txt", FIXTURES / "city-plan.txt"])
    text = dump_model(draft)
    assert "attribute: binding" in text and "due: 2023年底前" in text
    again = parse_targets(text)
    assert again.targets == draft.targets
    assert [t.due for t in again.tasks] == [t.due for t in draft.tasks]
    assert diff_models(again, draft) == []


def test_attribute_accepts_the_chinese_words_and_refuses_others_with_the_line():
    text = dump_model(build_model([FIXTURES / "liaoning-plan.txt"]))
    field = "\n  attribute: binding"  # not the header comment that explains the field
    assert parse_targets(text.replace(field, "\n  attribute: 约束性", 1)).targets == parse_targets(text).targets
    bad = text.replace(field, "\n  attribute: mandatory", 1)
    line = bad[: bad.index("attribute: mandatory")].count("\n") + 1
    with pytest.raises(TargetsFileError) as err:
        parse_targets(bad)
    assert f"line {line}: attribute: 'mandatory' is not accepted; use binding (约束性) or expected (预期性)" in str(err.value)


def test_a_baseline_period_that_is_not_a_period_is_refused_with_the_line():
    text = dump_model(build_model([FIXTURES / "liaoning-plan.txt"]))
    bad = text.replace("baseline_period: '2020'", "baseline_period: 二〇年", 1)
    with pytest.raises(TargetsFileError, match=r"line \d+: baseline_period: '二〇年' is not a period"):
        parse_targets(bad)


def test_a_changed_attribute_shows_in_the_diff_with_the_source_row():
    draft = build_model([FIXTURES / "liaoning-plan.txt"])
    reviewed = parse_targets(dump_model(draft).replace("\n  attribute: binding", "\n  attribute: expected", 1))
    [line] = diff_models(reviewed, draft)
    assert line == ("~ target liaoning-plan-17-nursing_bed_share: attribute: reviewed 'expected', extracted 'binding'"
                    "  ← 「养老机构护理型床位占比：2020年基期值 —，2025年目标值 55，约束性」")
