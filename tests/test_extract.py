"""Every numeric and dated commitment of the Hainan table, and numbers that are not targets."""

from datetime import date
from pathlib import Path

import pytest

from tracker.domain.model import ResponsibleUnit, Task
from tracker.targets.extract import extract_task, find_deadline
from tracker.targets.file import build_model

SOURCES = Path(__file__).resolve().parent.parent / "sources"
END_2025, END_2022 = date(2025, 12, 31), date(2022, 12, 31)


@pytest.fixture(scope="module")
def model():
    return build_model([SOURCES / "national-task-table.txt", SOURCES / "hainan-task-table.txt"])


# (task, indicator, comparator, value, unit, deadline, scope, soft, cumulative)
HAINAN_TARGETS = [
    (6, "elderly_care_beds_per_1000_elderly", ">=", 32, "bed / kiloperson", END_2025, "whole", False, False),
    (7, "childcare_enrollment_rate", ">=", 30, "percent", END_2025, "whole", False, False),
    (7, "public_childcare_share", ">=", 10, "percent", END_2025, "whole", True, False),
    (15, "senior_universities", ">=", 1, "institution", END_2022, "each_region", False, False),
    (17, "elderly_care_worker_trainings", ">=", 15000, "person_time", END_2025, "whole", False, True),
    (20, "county_care_homes", ">=", 1, "institution", END_2022, "each_region", False, False),
    (20, "regional_elderly_care_centres", ">=", 1, "institution", END_2022, "each_region", False, False),
    (21, "township_elderly_care_coverage", ">=", 60, "percent", END_2025, "whole", False, False),
    (22, "childcare_places_per_1000_residents", ">=", 3, "place / kiloperson", END_2025, "whole", False, False),
    (26, "nursing_bed_share", ">=", 60, "percent", END_2025, "whole", False, False),
    (26, "elderly_health_management_rate", ">=", 70, "percent", END_2025, "whole", False, False),
]


def test_every_hainan_numeric_commitment_is_extracted_exactly(model):
    got = [(t.task, t.indicator, t.comparator, t.value, t.unit, t.deadline, t.scope, t.soft, t.cumulative)
           for t in model.targets if t.plan == "hainan"]
    assert got == HAINAN_TARGETS


def test_national_table_has_no_numeric_targets_and_every_task_is_a_milestone(model):
    assert not [t for t in model.targets if t.plan == "national"]
    assert sorted(m.task for m in model.milestones if m.plan == "national") == list(range(1, 34))


def test_every_hainan_task_is_kept_as_target_or_milestone(model):
    covered = {t.task for t in model.targets if t.plan == "hainan"} | {
        m.task for m in model.milestones if m.plan == "hainan"}
    assert covered == set(range(1, 40))


def test_dated_milestone(model):
    m19 = [m for m in model.milestones if m.plan == "hainan" and m.task == 19]
    assert len(m19) == 1 and m19[0].deadline == END_2022 and "居家探访制度" in m19[0].text


def test_quotes_are_exact_source_text(model):
    text = (SOURCES / "hainan-task-table.txt").read_text(encoding="utf-8")
    for t in model.targets:
        assert t.quote and t.quote in text
    beds = next(t for t in model.targets if t.indicator == "elderly_care_beds_per_1000_elderly")
    assert beds.quote == "到2025年底，全省每千名老年人口拥有养老床位数达到32张"


def test_each_target_quotes_its_own_clauses_from_the_deadline(model):
    quotes = {(t.task, t.indicator): t.quote for t in model.targets if t.plan == "hainan"}
    assert quotes[(26, "nursing_bed_share")] == "到2025年底，全省养老机构护理型床位占比不低于60%"
    # the deadline's clause holds another target: this one keeps its own clause only
    assert quotes[(26, "elderly_health_management_rate")] == "65岁以上老年人健康管理率达到70%以上"
    assert quotes[(7, "public_childcare_share")] == "其中公立型婴幼儿照护服务机构在托婴幼儿占比原则上不低于10%"
    assert quotes[(15, "senior_universities")] == "到2022年底，全省每个市县（区）至少建成并运营1所老年大学"
    # two targets in one clause share it
    assert quotes[(20, "county_care_homes")] == quotes[(20, "regional_elderly_care_centres")]
    assert quotes[(20, "county_care_homes")].endswith("（敬老院）、一个区域性养老服务中心")


def test_sentences_with_targets_are_not_also_milestones():
    found = _one("到2025年底，养老机构护理型床位占比不低于60%，健康管理率达到70%以上。推进医养结合。")
    assert [t.quote for t in found.targets] == ["到2025年底，养老机构护理型床位占比不低于60%", "健康管理率达到70%以上"]
    assert [m.text for m in found.milestones] == ["推进医养结合"]


def test_threshold_and_tax_rate_are_not_targets(model):
    assert not [t for t in model.targets if t.task in (25, 28) and t.plan == "hainan"]
    assert not [t for t in model.targets if t.value in (150, 15)]
    assert [m.task for m in model.milestones if m.plan == "hainan" and m.task in (25, 28)] == [25, 28]


def test_soft_target_keeps_its_qualifier(model):
    share = next(t for t in model.targets if t.indicator == "public_childcare_share")
    assert share.qualifier == "原则上"


def test_ratio_indicators_define_their_components(model):
    beds = model.indicator("elderly_care_beds_per_1000_elderly")
    assert (beds.numerator, beds.denominator, beds.multiplier) == ("elderly_care_beds", "elderly_population", 1000)
    assert model.indicator("elderly_care_beds").unit == "bed"
    coverage = model.indicator("township_elderly_care_coverage")
    assert model.indicator(coverage.denominator).unit == "township"


def test_hainan_tasks_link_to_the_national_tasks_they_implement(model):
    assert model.task("hainan", 9).implements == ("national#7",)
    assert model.task("hainan", 23).implements == ("national#14",)
    assert model.task("hainan", 39).implements == ("national#33",)
    assert model.task("hainan", 6).implements == ()


def _one(text: str):
    found = extract_task(Task("p", 1, text, (ResponsibleUnit("省民政厅", "lead"),)))
    return found


@pytest.mark.parametrize("text, comparator, value, unit, deadline", [
    ("到2025年，全市每千名老年人口拥有养老床位数达到40张以上。", ">=", 40, "bed / kiloperson", END_2025),
    ("力争到2025年底，全省普惠托位不少于2000个。", ">=", 2000, "place", END_2025),
    ("到“十四五”末，养老机构护理型床位占比提高到55%。", ">=", 55, "percent", END_2025),
    ("全省每千人口拥有３岁以下婴幼儿托位数达到３．５个。", ">=", 3.5, "place / kiloperson", None),
    ("到2022年底，在托覆盖率不低于百分之三十。", ">=", 30, "percent", END_2022),
    ("2025年底前，全省培训养老护理员１．５万人次。", ">=", 15000, "person_time", END_2025),
    ("每千名老年人口拥有养老床位数达到三十二张。", ">=", 32, "bed / kiloperson", None),
    ("新增普惠托位15,000个。", ">=", 15000, "place", None),
    ("婴幼儿死亡率控制在5‰以内。", "<=", 5, "permille", None),
    ("到2023年6月底，养老机构床位空置率不超过20%。", "<=", 20, "percent", date(2023, 6, 30)),
    ("“十四五”期间，累计培训养老护理员2万人次。", ">=", 20000, "person_time", END_2025),
    ("“十五五”时期，全省新增普惠托位5000个。", ">=", 5000, "place", date(2030, 12, 31)),
])
def test_other_provinces_phrasings(text, comparator, value, unit, deadline):
    targets = _one(text).targets
    assert len(targets) == 1, targets
    t = targets[0]
    assert (t.comparator, t.value, t.unit, t.deadline) == (comparator, pytest.approx(value), unit, deadline)


def test_per_ten_thousand_base_gets_its_own_unit_and_components():
    found = _one("到2025年，每万名老年人口拥有社会工作者数达到10名。")
    [target] = found.targets
    ratio = next(i for i in found.indicators if i.id == target.indicator)
    assert (target.value, ratio.unit, ratio.multiplier, ratio.kind) == (10, "person / myriaperson", 10000, "ratio")
    numerator = next(i for i in found.indicators if i.id == ratio.numerator)
    denominator = next(i for i in found.indicators if i.id == ratio.denominator)
    assert (numerator.unit, denominator.unit) == ("person", "person")


def test_soft_words_and_baseline_in_one_sentence():
    assert _one("力争到2025年底，全省普惠托位不少于2000个。").targets[0].qualifier == "力争"
    grow = _one("养老床位由20万张增长到22万张。").targets[0]
    assert (grow.baseline, grow.value) == (200000, 220000)


@pytest.mark.parametrize("text, soft", [
    ("力争到2025年，养老床位达到30张，护理型床位占比不低于55%。", [True, True]),
    ("力争到2025年底，全省各市县养老服务设施建设全面推进，养老床位达到30张，护理型床位占比不低于55%。", [True, True]),
    ("到2025年，争取养老床位达到30张，护理型床位占比不低于55%，普惠托位不少于2000个。", [True, True, True]),
    # 力争 reaches the targets after it, not those before it, nor past a ；
    ("到2025年，养老床位达到30张，力争护理型床位占比不低于55%。", [False, True]),
    ("力争到2025年，养老床位达到30张；护理型床位占比不低于55%。", [True, False]),
    # 原则上 qualifies its own clause only
    ("到2025年，养老床位原则上不少于30张，护理型床位占比不低于55%。", [True, False]),
])
def test_leading_soft_word_governs_its_whole_sentence(text, soft):
    assert [t.soft for t in _one(text).targets] == soft


def test_full_coverage_is_a_soft_100_percent_target():
    t = _one("到2025年底，街道综合养老服务中心基本实现全覆盖。").targets[0]
    assert (t.value, t.unit, t.soft) == (100, "percent", True)


def test_two_targets_in_one_clause_list_and_grades_are_not_targets():
    found = _one("65岁以上老年人健康管理率达到70%以上，二级及以上综合医院设立老年医学科的比例达到60%以上。")
    assert [(t.value, t.unit) for t in found.targets] == [(70, "percent"), (60, "percent")]


@pytest.mark.parametrize("text", [
    "对符合条件的企业减按15%税率征收企业所得税。",
    "鼓励150张（含）以上床位的养老机构内部设置诊所。",
    "为3岁以下婴幼儿提供照护服务，建设15分钟养老服务圈。",
    "推动二级及以上综合性医院设立老年医学科。",
])
def test_descriptive_numbers_are_not_targets(text):
    assert _one(text).targets == []


@pytest.mark.parametrize("text, expected", [
    ("到2025年底，全面建立", END_2025), ("2022年底，", END_2022), ("2025年底前完成", END_2025),
    ("到二〇二五年", END_2025), ("“十四五”末", END_2025), ("没有期限", None), ("2020年发布的文件", None),
    ("“十四五”期间，累计培训", END_2025), ('"十四五"时期', END_2025), ("十五五期间", date(2030, 12, 31)),
    ("科学谋划“十四五”养老托育服务体系", None),
])
def test_deadlines(text, expected):
    assert find_deadline(text) == expected
