"""The extraction rules other provinces' and cities' wording needed, each with the sentence that
made it necessary (tracker/targets/extract.py keeps the rules; test_extract.py pins Hainan).

Sentences are quoted or closely paraphrased from published plans: the Liaoning 十四五 plan
(辽宁省“十四五”促进养老托育服务健康发展实施方案), Zhejiang's 十四五 childcare plan, a city's
"一老一小" plan, the Ministry of Civil Affairs on 十五五 (see tests/fixtures/documents/README.md).
"""

from datetime import date

import pytest

from tracker.domain.model import ResponsibleUnit, Task
from tracker.targets.extract import extract_task, find_deadline

END_2025, END_2030 = date(2025, 12, 31), date(2030, 12, 31)


def _targets(text: str) -> list[tuple]:
    found = extract_task(Task("p", 1, text, (ResponsibleUnit("省民政厅", "lead"),)))
    names = {i.id: i.name for i in found.indicators}
    return [(names[t.indicator], t.comparator, t.value, t.unit) for t in found.targets]


def _one(text: str):
    found = extract_task(Task("p", 1, text, (ResponsibleUnit("省民政厅", "lead"),)))
    assert len(found.targets) == 1, found.targets
    return found.targets[0], found


# --- a value right after its indicator, with no verb --------------------------------------
def test_a_value_right_after_its_indicator_is_a_target():
    # city plan: 有条件的县区建设达标的婴幼儿照护机构，每千人口拥有托位数4.1个
    assert _targets("有条件的县区建设达标的婴幼儿照护机构，每千人口拥有托位数4.1个。") == [
        ("每千人口拥有3岁以下婴幼儿托位数", ">=", 4.1, "place / kiloperson")]
    # Zhejiang: 全省每千人口拥有3岁以下婴幼儿托位数4.5个，普惠托位占比超过60%，乡镇（街道）托育机构基本全覆盖
    zhejiang = ("到2025年，全省每千人口拥有3岁以下婴幼儿托位数4.5个，普惠托位占比超过60%，乡镇（街道）托育机构基本全覆盖，"
                "城乡社区15分钟托育服务圈基本形成。")
    assert _targets(zhejiang) == [("每千人口拥有3岁以下婴幼儿托位数", ">=", 4.5, "place / kiloperson"),
                                  ("普惠托位占比", ">", 60, "percent"),
                                  ("乡镇（街道）托育机构覆盖率", ">=", 100, "percent")]


@pytest.mark.parametrize("text", [
    "截至2021年底，我国每千人口拥有3岁以下婴幼儿托位数为2.03个。",  # where things stand, with 为
    "2020年，全省养老机构护理型床位占比48%。",  # a past year with no deadline word: a baseline, not a target
    "目前全省养老机构护理型床位占比48%。",
])
def test_a_bare_value_that_states_where_things_stand_is_not_a_target(text):
    assert _targets(text) == []


def test_a_bare_value_of_a_falling_indicator_is_a_ceiling():
    assert _targets("到2025年，婴儿死亡率5‰。") == [("婴儿死亡率", "<=", 5, "permille")]


# --- counts ---------------------------------------------------------------------------------
def test_a_bare_count_range_keeps_its_lower_bound():
    # 每个设区市建设2-4家示范性、综合性托育服务机构: also per region, and 、 inside the noun
    target, _ = _one("每个设区市建设2-4家示范性、综合性托育服务机构，发挥示范带动作用。")
    assert (target.comparator, target.value, target.unit, target.scope) == (">=", 2, "institution", "each_region")


def test_chinese_numerals_after_at_least():
    # city plan: 每个县至少有一所专业照护为主的县级特困供养服务设施（敬老院）
    target, _ = _one("每个县至少有一所专业照护为主的县级特困供养服务设施（敬老院）。")
    assert (target.indicator, target.value, target.scope) == ("county_care_homes", 1, "each_region")
    assert _targets("建成至少一个市级示范性、综合性托育服务中心。") == [
        ("市级示范性、综合性托育服务中心", ">=", 1, "institution")]
    assert _targets("“十四五”期间，全省累计培训养老护理员两万人次。") == [("培训养老护理人员人次", ">=", 20000, "person_time")]


def test_da_in_dabiao_is_not_a_comparator():
    # city plan: 各县区共建成达标的婴幼儿照护机构不少于6个 (达标: meeting the standard)
    assert _targets("各县区共建成达标的婴幼儿照护机构不少于6个。") == [("达标的婴幼儿照护机构", ">=", 6, "institution")]


def test_yishang_in_the_middle_of_a_clause():
    assert _targets("全市建成5个以上示范性托育机构。") == [("示范性托育机构", ">=", 5, "institution")]
    target, _ = _one("每个县（市、区）建有1所以上老年大学。")
    assert (target.indicator, target.value, target.scope) == ("senior_universities", 1, "each_region")
    # a threshold stays masked: 150张以上床位的养老机构 describes institutions, it sets no target
    assert _targets("鼓励150张以上床位的养老机构内部设置医务室。") == []


def test_a_count_per_township_is_not_a_target_per_region():
    # 每个乡镇（街道）建有1个…: a coverage of townships, which one figure per region cannot judge
    assert _targets("每个乡镇（街道）建有1个以上具备综合功能的养老服务机构。") == []


def test_each_county_in_parentheses_with_banners():
    # the national plan's 老年大学覆盖面: 每个县（市、区、旗）至少1所
    target, _ = _one("老年大学覆盖面每个县（市、区、旗）至少1所。")
    assert (target.indicator, target.scope) == ("senior_universities", "each_region")


# --- bases, comparators, shares ---------------------------------------------------------
def test_a_per_100_beds_base_gives_a_ratio_with_its_components():
    target, found = _one("到2025年，养老机构每百张床位配备养老护理员不少于20人。")
    ratio = next(i for i in found.indicators if i.id == target.indicator)
    assert (target.value, target.unit, ratio.kind, ratio.multiplier) == (20, "person / hectobed", "ratio", 100)
    denominator = next(i for i in found.indicators if i.id == ratio.denominator)
    numerator = next(i for i in found.indicators if i.id == ratio.numerator)
    assert (numerator.name, numerator.unit, denominator.name, denominator.unit) == ("养老护理员", "person", "床位", "bed")


def test_symbols_and_bu_xiao_yu_compare():
    assert _targets("养老机构护理型床位占比≥55%。") == [("养老机构护理型床位占比", ">=", 55, "percent")]
    assert _targets("养老机构护理型床位占比不小于55%。") == [("养老机构护理型床位占比", ">=", 55, "percent")]


def test_baoche_keeps_a_floor():
    # the national plan's 每千名老年人配备社会工作者人数 保持1人以上
    assert _targets("每千名老年人配备社会工作者人数保持1人以上。") == [
        ("每千名老年人配备社会工作者人数", ">=", 1, "person / kiloperson")]


def test_a_share_is_never_an_amount_built():
    # 新建城区、新建居住区配套建设养老服务设施达标率100%: 建设 is not a flow verb here
    assert _targets("新建城区、新建居住区配套建设养老服务设施达标率100%。") == [
        ("新建城区、新建居住区配套建设养老服务设施达标率", ">=", 100, "percent")]


def test_full_coverage_without_shixian():
    assert _targets("乡镇（街道）托育机构基本全覆盖。") == [("乡镇（街道）托育机构覆盖率", ">=", 100, "percent")]
    assert _targets("推动养老服务全覆盖。") == []  # an intention, with a verb, not a target


def test_binding_said_in_the_sentence():
    target, _ = _one("到2025年，养老机构护理型床位占比达到55%（约束性指标）。")
    assert target.binding and target.attribute == "binding"


# --- deadlines ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("十四五末，普惠托位占比超过60%", END_2025),
    ("到“十五五”末全国村和社区一级养老服务设施覆盖率要达到70%", END_2030),  # 民政部 on 十五五
    ("到'十五五'末，养老机构护理型床位占比达到73%", END_2030),
    ("到‘十五五’末，养老机构护理型床位占比达到73%", END_2030),
    ("到「十五五」末", END_2030),
])
def test_five_year_ends_with_any_quotes(text, expected):
    assert find_deadline(text) == expected


def test_the_deadline_is_not_part_of_the_indicator_name():
    assert _targets("到“十五五”末全国村和社区一级养老服务设施覆盖率要达到70%。") == [
        ("村和社区一级养老服务设施覆盖率", ">=", 70, "percent")]
    assert _targets("建立健全探访关爱制度，“十四五”末月探访率达到100%。")[0][0] == "月探访率"


def test_a_deadline_column_dates_a_task_whose_text_has_none():
    found = extract_task(Task("c", 1, "全市养老服务床位数达到1.35万张。", (ResponsibleUnit("市民政局", "lead"),),
                              due="2023年底前"))
    assert [(t.value, t.deadline) for t in found.targets] == [(13500, date(2023, 12, 31))]
    ongoing = extract_task(Task("c", 2, "巩固养老服务体系。", (), due="持续推进"))
    assert ongoing.milestones[0].deadline is None
