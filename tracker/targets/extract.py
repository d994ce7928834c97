"""Commitments in a task's text: numeric targets and qualitative milestones.

Rules, not a list of sentences: a number becomes a target only when a comparator word
governs it (达到, 不低于, 至少, 控制在, ≥ …), when it closes a clause with 以上/以下/以内 or stands
between an amount and what it counts (建成5个以上…), when it is the object of a flow verb
(培训…1.5万人次), or when it follows a measure's name with no verb (每千人口拥有托位数4.1个, as
lists of main indicators write it) in a sentence that is not about where things stand.
Numbers that describe rather than commit (ages, years, grades, 150张（含）以上床位的 thresholds,
减按15%税率 parameters, 每千名 / 每百张床位 bases) are masked before the search, so they can
never be read as targets. Main-indicator rows (指标 | 基期值 | 目标值 | 属性) are read by
`extract_indicator_row`, which writes each cell as the sentence a plan would and applies the
same rules. Each rule's sentence is in tests/test_extract_rules.py.
"""

import calendar
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from tracker.domain.model import ATTRIBUTE_LABELS, Indicator, Milestone, Target, Task
from tracker.domain.numbers import (
    CN_NUMERAL_CHARS,
    NUMBER_PATTERN,
    NumberError,
    chinese_to_int,
    normalize_text,
    parse_number,
)

MASK = "□"

# --- deadlines -------------------------------------------------------------------------
_YEAR = rf"(\d{{4}}|[{CN_NUMERAL_CHARS}]{{4}})"
DEADLINE_RE = re.compile(rf"(?:到|至|截至|在)?\s*{_YEAR}\s*年\s*(?:(\d{{1,2}})\s*月)?\s*(底|末)?\s*(前|以前)?")
FIVE_YEAR_END = {"十四五": 2025, "十五五": 2030, "十三五": 2020}
# "十四五"末 / 期末, and "十四五"期间 / 时期: a commitment for the period is due by its end.
FIVE_YEAR_RE = re.compile(r"[“\"'‘「『]?(十[三四五]五)[”\"'’」』]?\s*(?:期末|末|期间|时期)")

# --- comparators -------------------------------------------------------------------------
# Longest first, so 不低于 wins over 低于 and 不超过 over 超过.
COMPARATOR_WORDS: list[tuple[str, str]] = sorted([
    ("达到", ">="), ("达", ">="), ("提高到", ">="), ("提高至", ">="), ("提升到", ">="),
    ("提升至", ">="), ("增加到", ">="), ("增长到", ">="), ("扩大到", ">="), ("不低于", ">="),
    ("不少于", ">="), ("至少", ">="), ("保持在", ">="), ("保持", ">="), ("超过", ">"), ("大于", ">"), ("高于", ">"),
    ("多于", ">"), ("不高于", "<="), ("不超过", "<="), ("不多于", "<="), ("控制在", "<="),
    ("降低到", "<="), ("降低至", "<="), ("降到", "<="), ("降至", "<="), ("低于", "<"), ("少于", "<"),
    ("不小于", ">="), ("不大于", "<="), ("大于等于", ">="), ("小于等于", "<="),
    ("≥", ">="), ("≤", "<="), ("＞", ">"), ("＜", "<"), (">", ">"), ("<", "<"),
], key=lambda item: -len(item[0]))
# 达 alone compares (达32张), but not in 达标 (meeting a standard) or 达成.
COMPARATOR_PATTERN = "|".join(re.escape(w) + ("(?![标成])" if w == "达" else "") for w, _ in COMPARATOR_WORDS)
SUFFIX_COMPARATORS = {"以上": ">=", "及以上": ">=", "以下": "<=", "及以下": "<=", "以内": "<="}
NEUTRAL_COMPARATORS = {"控制在", "保持在", "保持"}  # the suffix (以上/以下/以内) decides their direction
FLOW_VERBS = ("培训", "培养", "新增", "新建", "新开工", "改造", "建设", "建成", "招聘", "开展", "轮训")
CUMULATIVE_VERBS = ("培训", "新增", "培养", "新建", "轮训")  # amounts summed since the plan's start
MIDDLE_VERBS = ("建有", "设有", "拥有", "配备", "建成", "建设", "新建", "新增", "打造", "培育", "培训", "有")
# What a main indicator's name ends with: the measure a bare value right after it sets.
MEASURE_NOUNS = ("数", "率", "占比", "比例", "比重", "总量", "规模")
SOFT_WORDS = ("力争", "原则上", "争取", "基本")
GOVERNING_SOFT_WORDS = ("力争", "争取")  # soft for the rest of the sentence, not only their clause

# Measure words after a number, and the unit each gives (refined by the noun that follows).
MEASURES: list[tuple[str, str]] = sorted([
    ("人次", "person_time"), ("张", "bed"), ("个托位", "place"), ("托位", "place"), ("人", "person"),
    ("名", "person"), ("所", "institution"), ("家", "institution"), ("个", "institution"),
    ("座", "institution"), ("处", "facility"), ("项", "institution"), ("%", "percent"), ("‰", "permille"),
], key=lambda item: -len(item[0]))
MEASURE_PATTERN = "|".join(re.escape(m) for m, _ in MEASURES)
NOT_TARGET_UNITS = ("岁", "周岁", "年", "月", "日", "级", "星", "分钟", "小时", "倍", "平方米", "元", "万元", "亿元")

NUMBER = rf"(?P<num>{NUMBER_PATTERN})"
RANGE = rf"(?:\s*(?:-|－|—|~|～|至|到)\s*(?:{NUMBER_PATTERN}))?"

SENTENCE_BOUNDARY = re.compile(r"(?<=。)")
CLAUSE_BOUNDARY = re.compile(r"(?<=[，；;：:])|(?<=,)(?!\d{3})")  # 15,000 is one number, not two clauses
SENTENCE_END, CLAUSE_END = "。；;", "。；;，,：:"  # punctuation a quote does not end with

# Non-target numbers, masked before the search (length-preserving).
MASKS = [
    re.compile(rf"每\s*(?:[{CN_NUMERAL_CHARS}]+|\d+)\s*(?:名|个|位|张|户)?"),  # 每千名, 每万人, 每百张 bases
    re.compile(rf"(?:{NUMBER_PATTERN})\s*(?:周岁|岁)(?:及以上|以上|以下|及以下)?"),  # ages
    re.compile(rf"{_YEAR}\s*年"),  # years
    re.compile(rf"[{CN_NUMERAL_CHARS}\d]+\s*(?:级|星级|星)(?:及以上|以上)?"),  # grades: 二级及以上医院
    re.compile(rf"(?:减按|按照?|税率|费率|折扣)\s*(?:{NUMBER_PATTERN})"),  # policy parameters
    re.compile(rf"(?:{NUMBER_PATTERN})\s*(?:{MEASURE_PATTERN})?\s*(?:(?:（含）|\(含\))\s*(?:及以上|以上|以下|及以下)"
               r"\s*[\u4e00-\u9fff（）()]{0,8}?的|(?:及以上|以上|以下|及以下)\s*(?:床位|床|人口|户|规模|面积)"
               r"[\u4e00-\u9fff]{0,2}?的)"),  # thresholds: 150张（含）以上床位的养老机构
    re.compile(r"一老一小|一批|一体化|统一|一站式|一张网|一件事|四同步|三级|两类|一个一个"),
    re.compile(rf"[{CN_NUMERAL_CHARS}]+(?:分钟|小时|年|月|日|天|周)"),
]


def _mask(text: str) -> str:
    for pattern in MASKS:
        text = pattern.sub(lambda m: MASK * len(m.group(0)), text)
    return text


# --- indicators --------------------------------------------------------------------------
@dataclass(frozen=True)
class KnownIndicator:
    """Vocabulary of the policy's standard indicators: nicer ids and the components of
    ratios. Not needed for extraction; unknown indicators get generated ids and, where the
    phrasing shows them (每千名X拥有Y), generated components."""

    keywords: tuple[str, ...]
    id: str
    name: str
    unit: str
    kind: str
    frequency: str = "quarterly"
    numerator: tuple[str, str, str] | None = None  # (id, name, unit)
    denominator: tuple[str, str, str] | None = None
    multiplier: float = 1.0


VOCABULARY: list[KnownIndicator] = [
    KnownIndicator(("养老床位", "每千名老年人口"), "elderly_care_beds_per_1000_elderly", "每千名老年人口拥有养老床位数",
                   "bed / kiloperson", "ratio", "quarterly",
                   ("elderly_care_beds", "养老床位数", "bed"), ("elderly_population", "老年人口数（60岁以上）", "person"), 1000),
    KnownIndicator(("托位", "每千"), "childcare_places_per_1000_residents", "每千人口拥有3岁以下婴幼儿托位数",
                   "place / kiloperson", "ratio", "quarterly",
                   ("childcare_places", "托位数", "place"), ("resident_population", "常住人口数", "person"), 1000),
    KnownIndicator(("在托覆盖率",), "childcare_enrollment_rate", "公立型和普惠性婴幼儿在托覆盖率", "percent",
                   "percentage", "quarterly",
                   ("children_in_public_inclusive_childcare", "公立型和普惠性托育机构在托婴幼儿数", "person"),
                   ("children_under_3", "3岁以下婴幼儿数", "person"), 100),
    KnownIndicator(("公立型", "在托婴幼儿占比"), "public_childcare_share", "公立型婴幼儿照护服务机构在托婴幼儿占比",
                   "percent", "percentage", "quarterly",
                   ("children_in_public_childcare", "公立型托育机构在托婴幼儿数", "person"),
                   ("children_in_childcare", "在托婴幼儿总数", "person"), 100),
    KnownIndicator(("护理型床位",), "nursing_bed_share", "养老机构护理型床位占比", "percent", "percentage", "quarterly",
                   ("nursing_beds", "养老机构护理型床位数", "bed"), ("institutional_elderly_care_beds", "养老机构床位数", "bed"), 100),
    KnownIndicator(("健康管理率",), "elderly_health_management_rate", "65岁以上老年人健康管理率", "percent",
                   "percentage", "yearly",
                   ("elderly_in_health_management", "接受健康管理的65岁以上老年人数", "person"),
                   ("elderly_population_65", "65岁以上老年人口数", "person"), 100),
    KnownIndicator(("养老服务机构覆盖率", "乡镇"), "township_elderly_care_coverage",
                   "乡镇（街道）具备综合功能的养老服务机构覆盖率", "percent", "percentage", "quarterly",
                   ("townships_with_elderly_care_institution", "具备综合功能养老服务机构的乡镇（街道）数", "township"),
                   ("townships", "乡镇（街道）总数", "township"), 100),
    KnownIndicator(("老年大学",), "senior_universities", "建成并运营的老年大学数", "institution", "count", "quarterly"),
    KnownIndicator(("敬老院",), "county_care_homes", "以失能、部分失能特困人员专业照护为主的县级供养服务设施（敬老院）数",
                   "institution", "count", "quarterly"),
    KnownIndicator(("县级", "供养服务设施"), "county_care_homes",
                   "以失能、部分失能特困人员专业照护为主的县级供养服务设施（敬老院）数", "institution", "count", "quarterly"),
    KnownIndicator(("区域性养老服务中心",), "regional_elderly_care_centres", "区域性养老服务中心数", "institution",
                   "count", "quarterly"),
    KnownIndicator(("养老服务床位",), "elderly_care_beds", "养老床位数", "bed", "count", "quarterly"),
    KnownIndicator(("养老护理", "培训"), "elderly_care_worker_trainings", "培训养老护理人员人次", "person_time",
                   "flow", "monthly"),
]

PER_BASE_RE = re.compile(rf"每\s*(?P<base>[{CN_NUMERAL_CHARS}]+|\d+)\s*(?:名|个|位|张)?\s*"
                         r"(?P<pop>[\u4e00-\u9fff]{0,6}?(?:人口|人|居民|床位|床))")
# The unit a per-N base gives a ratio's denominator: 每千人口 -> kiloperson, 每百张床位 -> hectobed.
PER_BASE_UNITS = {(1000.0, "person"): "kiloperson", (10000.0, "person"): "myriaperson",
                  (100.0, "person"): "hectoperson", (100.0, "bed"): "hectobed"}


@dataclass
class Commitments:
    targets: list[Target] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)


@dataclass
class _Found:
    start: int
    end: int
    comparator: str
    value: float
    unit: str
    name: str
    soft_word: str
    scope: str
    cumulative: bool
    per_base: tuple[float, str] | None  # (1000, '老年人口')
    baseline: float | None = None
    attribute: str = ""  # "binding" when the clause says 约束性, "expected" for 预期性


def find_deadline(text: str) -> date | None:
    """到2025年底 / 2022年底 / 2025年底前 / 到2025年 / "十四五"末 / "十四五"期间 -> the last day meant."""
    found = _deadline_phrase(text)
    return found[0] if found else None


def _deadline_phrase(text: str) -> tuple[date, int] | None:
    """The deadline and where its phrase starts, so that a target's quote can reach back to it."""
    norm = normalize_text(text)
    m = FIVE_YEAR_RE.search(norm)
    if m:
        return date(FIVE_YEAR_END[m.group(1)], 12, 31), m.start()
    for m in DEADLINE_RE.finditer(norm):
        raw_year = m.group(1)
        year = int(raw_year) if raw_year.isdigit() else chinese_to_int(raw_year)
        if not 1990 <= year <= 2100:
            continue
        has_marker = bool(m.group(0).startswith(("到", "至", "截至", "在")) or m.group(3) or m.group(4))
        if not has_marker:
            continue
        if m.group(2):
            month = int(m.group(2))
            return date(year, month, calendar.monthrange(year, month)[1]), m.start()
        return date(year, 12, 31), m.start()
    return None


def _unit_for(measure: str, noun: str, raw_unit: str | None) -> str:
    if raw_unit:
        return raw_unit
    if measure in ("个", "") and "托位" in noun:
        return "place"
    if measure in ("个", "") and "床" in noun:
        return "bed"
    for word, unit in MEASURES:
        if measure == word:
            return unit
    return "dimensionless"


# 每个市县（区）, 每个设区市, 每个县（市、区）: a target every region of the plan must meet.
REGION_EACH = r"每个?(?:市县|市、县|设区市|县[（(][市区旗、]+[）)]|区县|县区|县|市)"
# 每个乡镇（街道） / 每个社区: a count per township is a coverage the tracker cannot judge from one
# figure per region, so such a sentence stays a milestone rather than become a wrong target.
BELOW_REGION_EACH = re.compile(r"每个?(?:乡镇|街道|社区|村|小区)")
# 各县区共建成 / 建成: how the count is reached, not what is counted.
LEADING_VERB = re.compile(r"^(?:各[\u4e00-\u9fff]{1,4}?共|共)?(?:建成|建设|建有|新建|打造)(?!并)")
# Sentences that state where things stand, not where they must get to.
STATUS_WORDS = re.compile(r"截至|截止|目前|现有|当前|已经|已达|已有|基期|现状")
# Indicators that improve by going down: a bare value is a ceiling, not a floor.
DECREASING = ("死亡率", "空置率", "发生率", "流失率", "事故率", "差错率")
# 〔1000〕 in a main-indicator table: the five years' cumulative total.
CUMULATIVE_BRACKETS = re.compile(r"^[〔\[［]\s*(?P<inner>.+?)\s*[〕\]］]$")
ATTRIBUTE_WORDS = {"约束性": "binding", "预期性": "expected"}


def _scope_and_strip(subject: str) -> tuple[str, str]:
    scope = "whole"
    if re.search(REGION_EACH, subject):
        scope = "each_region"
    cleaned = re.sub(rf"(?:到|至)?\s*(?:{FIVE_YEAR_RE.pattern})", "", subject).strip()
    cleaned = re.sub(r"^(?:其中|全省|全市|全区|全国|各地|全县)", "", cleaned)
    cleaned = re.sub(rf"(?:全省|全市|全国)?{REGION_EACH}(?:（区）|\(区\))?(?:（市、区）)?", "", cleaned)
    return scope, cleaned.strip(" 　，,、")


def _strip_soft(text: str) -> tuple[str, str]:
    for word in SOFT_WORDS:
        if word in text:
            return text.replace(word, ""), word
    return text, ""


def _noun_after(masked: str, pos: int) -> tuple[str, int]:
    """The noun phrase that follows a number's measure word, up to the clause's end or to a
    '、' that starts another counted item (、一个区域性养老服务中心)."""
    end = pos
    depth = 0
    while end < len(masked):
        ch = masked[end]
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth -= 1
        elif depth == 0 and (ch in "，,；;。：:" or (ch == "、" and re.match(
                rf"、\s*(?:{NUMBER_PATTERN})\s*(?:{MEASURE_PATTERN})", masked[end:]))):
            break
        end += 1
    return masked[pos:end], end


def _comparator_targets(norm: str, masked: str, clause_start: int, clause_end: int) -> list[_Found]:
    found: list[_Found] = []
    clause = masked[clause_start:clause_end]
    words = COMPARATOR_PATTERN
    pattern = re.compile(rf"(?P<cmp>{words})(?P<mid>[^，,；;。\d{CN_NUMERAL_CHARS}%‰]{{0,14}}?){NUMBER}{RANGE}"
                         rf"\s*(?P<measure>{MEASURE_PATTERN})?\s*(?P<suffix>及以上|以上|及以下|以下|以内)?")
    for m in pattern.finditer(clause):
        measure = m.group("measure") or ""
        after = clause[m.end():]
        if any(after.startswith(u) for u in NOT_TARGET_UNITS):
            continue
        try:
            value, raw_unit = parse_number(m.group("num"))
        except NumberError:
            continue
        if not measure and not raw_unit:
            continue  # a bare number needs its measure word: 达到3个…, not 达到一定…
        comparator = dict(COMPARATOR_WORDS)[m.group("cmp")]
        suffix = m.group("suffix")
        if suffix and (m.group("cmp") in NEUTRAL_COMPARATORS or comparator == ">=" and suffix in SUFFIX_COMPARATORS):
            comparator = SUFFIX_COMPARATORS[suffix]
        subject = clause[: m.start()]
        subject_raw = norm[clause_start: clause_start + m.start()]
        mid = norm[clause_start + m.start("mid"): clause_start + m.end("mid")]
        noun, noun_end = _noun_after(clause, m.end())
        first = _Found(clause_start + m.start(), clause_start + noun_end, comparator, value,
                       _unit_for(measure, subject + noun, raw_unit), "", "", "whole", False, None)
        scope, subject_clean = _scope_and_strip(subject_raw)
        subject_clean, soft = _strip_soft(subject_clean)
        mid_clean, soft_mid = _strip_soft(mid)
        first.soft_word = soft or soft_mid
        first.scope = scope
        base = PER_BASE_RE.search(subject_raw + norm[clause_start + m.start(): clause_start + m.end()])
        if base:
            first.per_base = (_base_value(base.group("base")), base.group("pop"))
        verb_mid = re.sub(r"^(?:拥有|建成并运营|建成|建有|设有|拥有)", "", mid_clean.strip())
        name_subject = subject_clean.strip().rstrip("要应将需")  # 覆盖率要达到70%
        noun_clean = noun.strip().lstrip("的")
        if measure.endswith("托位"):  # 3个托位数: the measure word is the counted thing
            noun_clean = "托位" + noun_clean
        if name_subject and not noun_clean:
            first.name = name_subject
        elif name_subject:
            first.name = name_subject + noun_clean
        else:
            first.name = (verb_mid if PER_BASE_RE.search(mid) else "") + noun_clean
        first.name = LEADING_VERB.sub("", first.name.replace(MASK, "").strip()) or subject_raw
        if "拥有" in mid and PER_BASE_RE.search(mid):
            first.name = mid.strip() + noun_clean
        baseline = re.search(rf"(?:由|从)\s*(?P<b>{NUMBER_PATTERN})\s*(?:{MEASURE_PATTERN})?\s*$", subject)
        if baseline:
            try:
                first.baseline = parse_number(baseline.group("b"))[0]
                first.name = re.sub(rf"(?:由|从)\s*(?:{NUMBER_PATTERN}).*$", "", first.name) or first.name
            except NumberError:
                pass
        found.append(first)
        # 、一个区域性养老服务中心: further items under the same comparator and scope.
        rest = clause[noun_end:]
        offset = noun_end
        item = re.compile(rf"^、\s*(?P<num>{NUMBER_PATTERN})\s*(?P<measure>{MEASURE_PATTERN})")
        while (n := item.match(rest)):
            more_noun, more_end = _noun_after(clause, offset + n.end())
            try:
                v, ru = parse_number(n.group("num"))
            except NumberError:
                break
            found.append(_Found(clause_start + offset, clause_start + more_end, comparator, v,
                                _unit_for(n.group("measure"), more_noun, ru), more_noun.strip(),
                                first.soft_word, first.scope, False, None))
            rest = clause[more_end:]
            offset = more_end
    return found


def _base_value(text: str) -> float:
    try:
        return parse_number(text)[0]
    except NumberError:
        return 1000.0


def _suffix_targets(norm: str, masked: str, clause_start: int, clause_end: int, taken: list[_Found]) -> list[_Found]:
    """'…覆盖率90%以上' closing a clause, with no comparator word before it."""
    clause = masked[clause_start:clause_end]
    out = []
    for m in re.finditer(rf"{NUMBER}\s*(?P<measure>{MEASURE_PATTERN})?\s*(?P<suffix>及以上|以上|及以下|以下|以内)\s*[，,；;。：:]?\s*$", clause):
        pos = clause_start + m.start()
        if any(f.start <= pos < f.end for f in taken):
            continue
        try:
            value, raw_unit = parse_number(m.group("num"))
        except NumberError:
            continue
        subject_raw = norm[clause_start:pos]
        scope, subject = _scope_and_strip(subject_raw)
        subject, soft = _strip_soft(subject)
        out.append(_Found(pos, clause_start + m.end(), SUFFIX_COMPARATORS[m.group("suffix")], value,
                          _unit_for(m.group("measure") or "", "", raw_unit), subject.strip(),
                          soft, scope, False, None))
    return out


def _flow_targets(norm: str, masked: str, clause_start: int, clause_end: int, taken: list[_Found]) -> list[_Found]:
    """培训养老护理人员1.5万人次: a flow verb, its object, and an amount closing the clause."""
    clause = masked[clause_start:clause_end]
    verbs = "|".join(FLOW_VERBS)
    out = []
    patterns = [
        rf"(?P<verb>{verbs})(?P<obj>[^，,；;。\d□{CN_NUMERAL_CHARS}]{{1,16}}?){NUMBER}{RANGE}\s*(?P<measure>{MEASURE_PATTERN})(?P<noun>[\u4e00-\u9fff]{{0,8}})\s*[，,；;。：:]?\s*$",
        (rf"(?P<verb>{verbs})(?P<obj>){NUMBER}{RANGE}\s*(?P<measure>{MEASURE_PATTERN})"
         rf"(?P<noun>(?:[\u4e00-\u9fff（）]|、(?!\s*\d)){{1,24}})\s*[，,；;。：:]?\s*$"),
    ]
    for m in (m for p in patterns for m in re.finditer(p, clause)):
        pos = clause_start + m.start()
        if any(f.start <= pos + len(m.group("verb")) + len(m.group("obj")) < f.end for f in taken):
            continue
        try:
            value, raw_unit = parse_number(m.group("num"))
        except NumberError:
            continue
        measure = m.group("measure")
        if measure in ("%", "‰") or raw_unit:
            continue  # 建设…达标率100%: a share is not an amount built
        unit = _unit_for(measure, m.group("obj") + m.group("noun"), raw_unit)
        subject_raw = norm[clause_start:pos]
        scope, _ = _scope_and_strip(subject_raw)
        soft = _strip_soft(subject_raw)[1]
        name = m.group("verb") + m.group("obj").strip() + (m.group("noun") or "") + (measure if measure == "人次" else "")
        out.append(_Found(pos, clause_start + m.end(), ">=", value, unit, name, soft, scope,
                          unit in ("person_time",) or m.group("verb") in CUMULATIVE_VERBS, None))
    return out


def _coverage_targets(norm: str, masked: str, clause_start: int, clause_end: int, taken: list[_Found]) -> list[_Found]:
    """…基本实现全覆盖: a 100% coverage commitment (soft when 基本)."""
    clause = norm[clause_start:clause_end]
    out = []
    for m in re.finditer(r"(?P<soft>基本)?实现(?P<what>[\u4e00-\u9fff（）]{0,10}?)全覆盖", clause):
        pos = clause_start + m.start()
        if any(f.start <= pos < f.end for f in taken):
            continue
        scope, subject = _scope_and_strip(clause[: m.start()])
        name = (subject + m.group("what")).strip() + "覆盖率"
        out.append(_Found(pos, clause_start + m.end(), ">=", 100.0, "percent", name,
                          m.group("soft") or "", scope, False, None))
    # 乡镇（街道）托育机构基本全覆盖: the thing covered, then 全覆盖, with no verb before it.
    m = re.search(r"(?P<soft>基本)?全覆盖\s*[，,；;。：:]?\s*$", clause)
    if m and not out and not any(f.start <= clause_start + m.start() < f.end for f in taken):
        subject = clause[: m.start()]
        if subject.strip() and not re.search(r"实现|推动|推进|逐步|促进|努力|加快|探索|鼓励|支持|力争|争取", subject):
            scope, name = _scope_and_strip(subject)
            out.append(_Found(clause_start, clause_start + m.end(), ">=", 100.0, "percent", name.strip() + "覆盖率",
                              m.group("soft") or "", scope, False, None))
    return out


def _middle_suffix_targets(norm: str, masked: str, clause_start: int, clause_end: int,
                           taken: list[_Found]) -> list[_Found]:
    """建有1所以上老年大学 / 建成5个以上示范性托育机构: 以上 between the amount and what it
    counts, with no comparator word: at least that many."""
    clause = masked[clause_start:clause_end]
    verbs = "|".join(MIDDLE_VERBS)
    out = []
    pattern = (rf"(?P<verb>{verbs})\s*{NUMBER}{RANGE}\s*(?P<measure>{MEASURE_PATTERN})\s*(?P<suffix>及以上|以上|及以下|以下)"
               rf"(?P<noun>[\u4e00-\u9fff（）、]{{2,30}}?)\s*[，,；;。：:]?\s*$")
    for m in re.finditer(pattern, clause):
        pos = clause_start + m.start()
        if any(f.start <= clause_start + m.start("num") < f.end for f in taken):
            continue
        try:
            value, raw_unit = parse_number(m.group("num"))
        except NumberError:
            continue
        noun = m.group("noun").strip().lstrip("的")
        subject_raw = norm[clause_start:pos]
        scope, _ = _scope_and_strip(subject_raw)
        soft = _strip_soft(subject_raw)[1]
        out.append(_Found(pos, clause_start + m.end(), SUFFIX_COMPARATORS[m.group("suffix")], value,
                          _unit_for(m.group("measure"), noun, raw_unit), noun, soft, scope,
                          m.group("verb") in CUMULATIVE_VERBS, None))
    return out


def _bare_targets(norm: str, masked: str, clause_start: int, clause_end: int, taken: list[_Found]) -> list[_Found]:
    """每千人口拥有托位数4.1个 / 护理型床位占比55%: a value right after the indicator it sets,
    with no verb, as lists of main indicators write them. Only for names that are measures
    (…数, …率, …占比, …比例, …比重, …总量), so that ordinary nouns followed by an amount are
    not read as targets."""
    clause = masked[clause_start:clause_end]
    out = []
    pattern = (rf"(?P<name>[^，,；;。：:\d]*?(?:{'|'.join(MEASURE_NOUNS)}))\s*(?P<aim>力争|争取)?\s*{NUMBER}{RANGE}\s*"
               rf"(?P<measure>{MEASURE_PATTERN})?\s*(?P<suffix>及以上|以上|及以下|以下|以内)?\s*[，,；;。：:]?\s*$")
    m = re.search(pattern, clause)
    if not m:
        return out
    pos = clause_start + m.start("num")
    if any(f.start <= pos < f.end for f in taken):
        return out
    try:
        value, raw_unit = parse_number(m.group("num"))
    except NumberError:
        return out
    measure = m.group("measure") or ""
    if not measure and not raw_unit:
        return out
    subject_raw = norm[clause_start: clause_start + m.end("name")]
    scope, name = _scope_and_strip(subject_raw)
    name, soft = _strip_soft(name)
    soft = soft or m.group("aim") or ""
    name = name.replace(MASK, "").strip()
    if len(name) < 2:
        return out
    suffix = m.group("suffix")
    comparator = SUFFIX_COMPARATORS[suffix] if suffix else ("<=" if name.endswith(DECREASING) else ">=")
    found = _Found(clause_start + m.start("name") + len(m.group("name")) - len(m.group("name").lstrip()),
                   clause_start + m.end(), comparator, value, _unit_for(measure, name, raw_unit), name, soft,
                   scope, False, None)
    base = PER_BASE_RE.search(subject_raw)
    if base:
        found.per_base = (_base_value(base.group("base")), base.group("pop"))
    out.append(found)
    return out


class Commitment(NamedTuple):
    found: _Found
    deadline: date | None
    quote: str  # the target's own clause(s), exact source text
    sentence: str  # the whole sentence, exact source text: sentences without targets become milestones


def _spans(text: str, boundary: re.Pattern[str], start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each piece of text[start:end] cut at `boundary`, in text's positions."""
    spans, pos = [], start
    for piece in boundary.split(text[start:end]):
        spans.append((pos, pos + len(piece)))
        pos += len(piece)
    return spans


def _trimmed(text: str, start: int, end: int, ends: str) -> str:
    """text[start:end] without surrounding blanks and closing punctuation: still exact source text."""
    return text[start:end].strip().rstrip(ends).strip()


def _govern_soft(norm: str, sentence_start: int, found: list[_Found]) -> None:
    """力争 / 争取 commit softly to everything after them in their sentence, not only to their own
    clause: in 力争到2025年，养老床位达到30张，护理型床位占比不低于55% both targets are aims.
    A ； closes their reach, as it closes a sentence. 原则上 and 基本 qualify only their own
    clause, so the finders read them per clause."""
    for f in found:
        if not f.soft_word:
            before = re.split(r"[；;]", norm[sentence_start:f.start])[-1]
            f.soft_word = next((w for w in GOVERNING_SOFT_WORDS if w in before), "")


def _quote_span(f: _Found, found: list[_Found], clauses: list[tuple[int, int]], deadline_at: int | None) -> tuple[int, int]:
    """The target's own clause, reaching back to the clause holding the sentence's deadline
    (到2025年底，…护理型床位占比不低于60%) unless another target's clause lies in between: a
    quote shows the reviewer this target's words, not its neighbours'."""
    def index(pos: int) -> int:
        return next(i for i, (start, end) in enumerate(clauses) if start <= pos < end)

    own = index(f.start)
    first = own
    if deadline_at is not None and index(deadline_at) < own:
        first = index(deadline_at)
        if any(first <= index(other.start) < own for other in found):
            first = own
    return clauses[first][0], clauses[index(max(f.start, f.end - 1))][1]


def find_targets(text: str) -> list[Commitment]:
    """Every numeric commitment in `text`, with the deadline of its sentence, the exact
    clause(s) it came from and its sentence."""
    norm = normalize_text(text)  # one character for one, so positions in norm are positions in text
    masked = _mask(norm)
    results = []
    for s_start, s_end in _spans(norm, SENTENCE_BOUNDARY, 0, len(norm)):
        if not norm[s_start:s_end].strip():
            continue
        clauses = _spans(norm, CLAUSE_BOUNDARY, s_start, s_end)
        found: list[_Found] = []
        sentence_text = norm[s_start:s_end]
        for c_start, c_end in clauses:
            clause_found = _comparator_targets(norm, masked, c_start, c_end)
            clause_found += _suffix_targets(norm, masked, c_start, c_end, clause_found)
            clause_found += _middle_suffix_targets(norm, masked, c_start, c_end, clause_found)
            clause_found += _flow_targets(norm, masked, c_start, c_end, clause_found)
            clause_found += _coverage_targets(norm, masked, c_start, c_end, clause_found)
            if not STATUS_WORDS.search(sentence_text) and (
                    _deadline_phrase(sentence_text) or not re.search(_YEAR + r"\s*年", sentence_text)):
                clause_found += _bare_targets(norm, masked, c_start, c_end, clause_found)
            clause_text = norm[c_start:c_end]
            for f in clause_found:
                f.attribute = next((a for word, a in ATTRIBUTE_WORDS.items() if word in clause_text), "")
            found.extend(f for f in clause_found if not BELOW_REGION_EACH.search(norm[c_start:f.start]))
        _govern_soft(norm, s_start, found)
        deadline = _deadline_phrase(norm[s_start:s_end])
        deadline_at = s_start + deadline[1] if deadline else None
        sentence = _trimmed(text, s_start, s_end, SENTENCE_END)
        for f in sorted(found, key=lambda f: f.start):
            quote = _trimmed(text, *_quote_span(f, found, clauses, deadline_at), CLAUSE_END)
            results.append(Commitment(f, deadline[0] if deadline else None, quote, sentence))
    return results


def _slug(name: str) -> str:
    return "ind_" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]


def indicator_for(found: _Found, reporter: str) -> list[Indicator]:
    """The indicator a target measures, and the components a ratio is computed from."""
    name = found.name
    for known in VOCABULARY:
        if all(k in name for k in known.keywords):
            main = Indicator(known.id, known.name, known.unit, known.kind, known.frequency, reporter,
                             known.numerator[0] if known.numerator else None,
                             known.denominator[0] if known.denominator else None, known.multiplier)
            out = [main]
            for comp in (known.numerator, known.denominator):
                if comp:
                    out.append(Indicator(comp[0], comp[1], comp[2], "count", known.frequency, reporter,
                                         description=f"component of {known.id}"))
            return out
    unit = found.unit
    if found.per_base:
        base, population = found.per_base
        thing = re.sub(r"^.*?(?:拥有|配备|有)", "", name) or name
        num_id, den_id = _slug(thing), _slug(population)
        # 每千人 / 每万人 / 每百张床位: the ratio's unit names its base, so pint can convert between them.
        counted = "bed" if population.endswith(("床位", "床")) else "person"
        per = PER_BASE_UNITS.get((base, counted), counted)
        unit_per, multiplier = f"{unit} / {per}", (base if per != counted else 1.0)
        return [
            Indicator(_slug(name), name, unit_per, "ratio", "yearly", reporter, num_id, den_id, multiplier),
            Indicator(num_id, thing, unit, "count", "yearly", reporter, description=f"component of {_slug(name)}"),
            Indicator(den_id, population, counted, "count", "yearly", reporter, description=f"component of {_slug(name)}"),
        ]
    if unit in ("percent", "permille"):
        kind = "percentage"
    elif found.cumulative:
        kind = "flow"
    else:
        kind = "count"
    return [Indicator(_slug(name), name, unit, kind, "monthly" if kind == "flow" else "yearly", reporter)]


def unique_id(base: str, used: set[str]) -> str:
    """base, or base-2, base-3 … when a task has two targets on one indicator; recorded in used."""
    tid, n = base, 2
    while tid in used:
        tid, n = f"{base}-{n}", n + 1
    used.add(tid)
    return tid


def extract_task(task: Task) -> Commitments:
    """The targets and milestones of one task."""
    out = Commitments()
    reporter = (task.units_in("lead") or task.units_in("joint") or task.units_in("participating") or [""])[0]
    found = find_targets(task.text)
    due = find_deadline(task.due) if task.due else None  # the table's 完成时限, when the text gives none
    used_ids: set[str] = set()
    target_sentences: set[str] = set()
    for f, deadline, quote, sentence in found:
        indicators = indicator_for(f, reporter)
        main = indicators[0]
        tid = unique_id(f"{task.plan}-{task.number}-{main.id}", used_ids)
        target_unit = main.unit if main.kind in ("ratio",) or f.per_base else f.unit
        out.targets.append(Target(
            id=tid, plan=task.plan, task=task.number, indicator=main.id, comparator=f.comparator,  # type: ignore[arg-type]
            value=f.value, unit=target_unit, deadline=deadline or due, scope=f.scope,  # type: ignore[arg-type]
            soft=bool(f.soft_word), qualifier=f.soft_word, cumulative=f.cumulative or main.kind == "flow",
            baseline=f.baseline, quote=quote, attribute=f.attribute))  # type: ignore[arg-type]
        out.indicators.extend(indicators)
        target_sentences.add(sentence)
    sentences = [_trimmed(task.text, start, end, SENTENCE_END)
                 for start, end in _spans(task.text, SENTENCE_BOUNDARY, 0, len(task.text)) if task.text[start:end].strip()]
    if not out.targets:
        out.milestones.append(Milestone(f"{task.plan}-{task.number}-m", task.plan, task.number,
                                        task.text, find_deadline(task.text) or due, task.text))
    else:
        for i, sentence in enumerate(s for s in sentences if s not in target_sentences):
            deadline = find_deadline(sentence) or due
            out.milestones.append(Milestone(f"{task.plan}-{task.number}-m{i + 1}", task.plan, task.number,
                                            sentence, deadline, sentence))
    return out


# --- main-indicator tables ------------------------------------------------------------------
BASELINE_HEADING = re.compile(r"基期|现状|基数|基准|现值")
TARGET_HEADING = re.compile(r"目标|预期值|规划值")
NO_VALUE = re.compile(r"^[\s\-—–－/／×无]*$")
UNIT_IN_NAME = re.compile(r"\s*[（(](?P<unit>[%‰万千百张个所人名次家岁元户床位托/／·]{1,8})[）)]\s*$")  # not （敬老院）
LEADING_NUMBER = re.compile(r"^\s*\d+\s*[.、．]\s*")


@dataclass(frozen=True)
class ValueColumn:
    heading: str
    role: str  # "baseline" (基期值) or "target" (目标值)
    year: int | None


def value_columns(headings: list[str], period: tuple[date, date]) -> list[ValueColumn]:
    """What each value column of a main-indicator table holds: 2020年基期值 is the baseline for
    2020, 2025年目标值 (or 2025年) the target due at the end of 2025; a bare year before the plan
    starts is its baseline. A 目标值 column without a year is due at the plan's end."""
    out = []
    for heading in headings:
        key = re.sub(r"\s", "", heading)
        m = re.search(r"(19|20)\d{2}", key)
        year = int(m.group(0)) if m else None
        if BASELINE_HEADING.search(key):
            role = "baseline"
        elif TARGET_HEADING.search(key):
            role = "target"
        else:
            role = "baseline" if year is not None and year < period[0].year else "target"
        out.append(ValueColumn(heading, role, year if year is not None else (period[1].year if role == "target" else None)))
    return out


def indicator_row_text(name: str, values: list[tuple[str, str]], attribute: str) -> str:
    """One row as a reviewer reads it: 养老机构护理型床位占比（%）：2020年基期值 48，2025年目标值 55，约束性."""
    cells = "，".join(f"{re.sub(chr(10), '', h)} {c}" for h, c in values if c.strip())
    return f"{name}：{cells}" + (f"，{attribute}" if attribute else "")


def _measure_of(unit_text: str) -> str:
    """The measure word a value is written with in the table's 单位 column: 张/千人 -> 张, % -> %."""
    text = re.sub(r"\s", "", unit_text)
    return re.split(r"[/／每]", text)[0] if text else ""


def _with_measure(cell: str, measure: str) -> str:
    """55 -> 55%, ≥32 -> ≥32张, 55以上 -> 55%以上: the 单位 column's measure after the cell's last
    number that has none, so the cell reads as the sentence a plan would write."""
    if not measure:
        return cell
    numbers = list(re.finditer(NUMBER_PATTERN, cell))
    if not numbers:
        return cell
    last = numbers[-1]
    after = cell[last.end():].lstrip()
    if re.match(MEASURE_PATTERN, after) or last.group(0).rstrip().endswith(("%", "‰")):
        return cell
    if measure.startswith("万") and last.group(0).rstrip().endswith("万"):
        measure = measure[1:]
    return cell[: last.end()] + measure + cell[last.end():]


def attribute_of(text: str) -> str:
    """约束性 -> binding, 预期性 -> expected, whatever else the 属性 cell says."""
    return next((a for word, a in ATTRIBUTE_WORDS.items() if word in text), "")


def extract_indicator_row(task: Task, name: str, values: list[tuple[str, str]], unit_text: str, attribute_text: str,
                          period: tuple[date, date]) -> Commitments:
    """The targets of one main-indicator row: each target-year column a target with the row's
    baseline, a deadline from the column heading and the 属性 as its attribute. A column whose
    value is not a number (明显增长) keeps the row as a milestone for that year."""
    out = Commitments()
    clean = LEADING_NUMBER.sub("", name).strip()
    in_name = UNIT_IN_NAME.search(clean)
    if in_name:
        clean = clean[: in_name.start()].strip()
    measure = _measure_of(unit_text or (in_name.group("unit") if in_name else ""))
    attribute = attribute_of(attribute_text)
    columns = value_columns([h for h, _ in values], period)
    quote = indicator_row_text(name, values, ATTRIBUTE_LABELS.get(attribute, attribute_text.strip()))
    reporter = (task.units_in("lead") or task.units_in("joint") or [""])[0]
    baseline, baseline_year = None, None
    for col, (_, cell) in zip(columns, values):
        if col.role == "baseline" and not NO_VALUE.match(cell):
            amount = _row_amount(clean, cell, measure)
            if amount is not None:
                baseline, baseline_year = amount, col.year
    target_columns = [(col, cell) for col, (_, cell) in zip(columns, values) if col.role == "target"]
    used: set[str] = set()
    for col, cell in target_columns:
        if NO_VALUE.match(cell):
            continue
        deadline = date(col.year, 12, 31) if col.year else period[1]
        bracket = CUMULATIVE_BRACKETS.match(cell.strip())
        text = bracket.group("inner") if bracket else cell
        found = [c.found for c in find_targets(clean + _with_measure(text.strip(), measure))]
        if not found:
            found = _plain_number(clean, text)
        if not found:
            out.milestones.append(Milestone(f"{task.plan}-{task.number}-m{'' if len(target_columns) == 1 else col.year}",
                                            task.plan, task.number, f"{clean}：{col.heading} {cell}", deadline, quote))
            continue
        for f in found:
            indicators = indicator_for(f, reporter)
            main = indicators[0]
            tid = unique_id(f"{task.plan}-{task.number}-{main.id}" + (f"-{col.year}" if len(target_columns) > 1 else ""),
                            used)
            out.targets.append(Target(
                id=tid, plan=task.plan, task=task.number, indicator=main.id, comparator=f.comparator,  # type: ignore[arg-type]
                value=f.value, unit=main.unit if main.kind == "ratio" or f.per_base else f.unit, deadline=deadline,
                scope=f.scope, soft=bool(f.soft_word), qualifier=f.soft_word,  # type: ignore[arg-type]
                cumulative=bool(bracket) or f.cumulative or main.kind == "flow", baseline=baseline,
                baseline_period=str(baseline_year) if baseline is not None and baseline_year else None,
                quote=quote, attribute=attribute))  # type: ignore[arg-type]
            out.indicators.extend(indicators)
    return out


def _row_amount(name: str, cell: str, measure: str) -> float | None:
    """A baseline cell's amount in the target's terms (23.55 in 万张 is 235,500 beds)."""
    found = find_targets(name + _with_measure(cell.strip(), measure))
    if found:
        return found[0].found.value
    plain = _plain_number(name, cell)
    return plain[0].value if plain else None


def _plain_number(name: str, cell: str) -> list[_Found]:
    """A cell that is only a number in a unit the tracker does not count in (人均预期寿命 78.3 岁):
    still a target, measured as a plain number."""
    m = re.fullmatch(rf"\s*(?P<cmp>≥|≤|>|<|＞|＜)?\s*{NUMBER}\s*(?P<suffix>及以上|以上|及以下|以下)?\s*", normalize_text(cell))
    if not m:
        return []
    try:
        value, raw_unit = parse_number(m.group("num"))
    except NumberError:
        return []
    comparator = dict(COMPARATOR_WORDS).get(m.group("cmp") or "", "") or (
        SUFFIX_COMPARATORS[m.group("suffix")] if m.group("suffix") else ("<=" if name.endswith(DECREASING) else ">="))
    return [_Found(0, len(cell), comparator, value, raw_unit or "dimensionless", name, "", "whole", False, None)]
