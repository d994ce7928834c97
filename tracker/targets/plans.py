"""Drafting a plan from its document: what the document says of itself (title, issuer, level,
region name, period, annex heading), completed by what the user says where it is silent.

A plan is drafted for a region named by its 6-digit division code (GB/T 2260): 210000 is a
province (省, 自治区, and the four 直辖市), 210100 a prefecture-level city. The code is checked
for its shape only; the country's region registry is not needed to draft a plan.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tracker.domain.model import Plan
from tracker.domain.regions import default_coverage
from tracker.targets.documents import Document
from tracker.targets.extract import FIVE_YEAR_END

PLAN_LEVELS = ("national", "province", "city")
LEVEL_LABELS = {"national": "国家", "province": "省级", "city": "市级"}
MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")  # 直辖市: provinces that are named 市
PROVINCE_PREFIXES = {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
                     "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
                     "65", "71", "81", "82"}

ORGAN = r"(?:人民政府办公厅|人民政府办公室|人民政府|办公厅|办公室|发展和改革委员会|发展改革委|民政厅|民政局|卫生健康委员会|卫生健康委)"
ISSUED_BY = re.compile(rf"^(?P<issuer>[\u4e00-\u9fff（）]{{2,30}}?{ORGAN})(?:关于)?印发")
ISSUER_LINE = re.compile(rf"^(?P<issuer>[\u4e00-\u9fff（）]{{2,30}}?{ORGAN})$")
ISSUED_TITLE = re.compile(r"印发(?P<title>.+?)(?:的通知)?$")
PLAN_TITLE = re.compile(r"(?:规划|方案|意见|计划|措施|行动|分工表|清单)(?:[（(][^）)]*[）)])?$")
REGION_NAME = re.compile(r"^(?P<name>(?!全|各|本)[\u4e00-\u9fff]{1,10}?(?:自治区|省|市|自治州|州|盟|地区|县|区))")
PERIOD_RANGE = re.compile(r"(?P<a>(?:19|20)\d{2})\s*[—–\-－~～至到]\s*(?P<b>(?:19|20)\d{2})\s*年")
FIVE_YEAR = re.compile(r"十[三四五]五")
ANNEX = re.compile(r"^附件\s*\d*$")


class PlanError(ValueError):
    """What the document does not say and no option gave: one line per missing piece."""


@dataclass
class PlanFacts:
    """What a document says of the plan it belongs to; "" or None where it is silent."""

    title: str = ""
    issuer: str = ""
    region_name: str = ""
    level: str = ""
    period: tuple[date, date] | None = None
    annex: str = ""


def period_of(text: str) -> tuple[date, date] | None:
    """（2021—2025年） or 2026-2030年 -> those years; "十四五" -> 2021–2025, "十五五" -> 2026–2030."""
    m = PERIOD_RANGE.search(text)
    if m and int(m.group("a")) < int(m.group("b")):
        return date(int(m.group("a")), 1, 1), date(int(m.group("b")), 12, 31)
    m = FIVE_YEAR.search(text)
    if m:
        end = FIVE_YEAR_END[m.group(0)]
        return date(end - 4, 1, 1), date(end, 12, 31)
    return None


def level_of(region_name: str) -> str:
    if region_name in MUNICIPALITIES or region_name.endswith(("省", "自治区")):
        return "province"
    if region_name.endswith(("市", "州", "盟", "地区")):
        return "city"
    return ""


def read_facts(document: Document) -> PlanFacts:
    """The plan's title, issuer, region name, level and period from the document's text: the
    issuing notice (XX人民政府办公厅关于印发《…》的通知), a standalone issuer line, the title, or the
    tables' captions. Task and indicator cells are not read: a task that mentions "十四五" does
    not make the plan a 十四五 plan."""
    facts = PlanFacts()
    first = document.tables[0] if document.tables else None
    before = first.preamble if first else document.text
    lines = [line for line in document.text if not line.startswith(("抄送", "印发"))]
    for line in lines:
        issued = ISSUED_BY.match(line)
        if issued and not facts.issuer:
            facts.issuer = issued.group("issuer")
            title = ISSUED_TITLE.search(line)
            if title and not facts.title:
                facts.title = title.group("title").strip("《》 ")
        elif ISSUER_LINE.match(line) and not facts.issuer:
            facts.issuer = line
    if not facts.title:
        facts.title = next((line.strip("《》 ") for line in before if PLAN_TITLE.search(line) and not ANNEX.match(line)),
                           first.title if first else "")
    facts.annex = next((line for line in before if ANNEX.match(line)), "")
    if facts.issuer.startswith("国务院"):
        facts.level = "national"
    else:
        for text in (facts.issuer, facts.title):
            m = REGION_NAME.match(text)
            if m and level_of(m.group("name")):
                facts.region_name, facts.level = m.group("name"), level_of(m.group("name"))
                break
    captions = [t.title for t in document.tables]
    facts.period = next((p for p in map(period_of, [facts.title, *captions]) if p), None) or next(
        (p for p in (period_of(line) for line in before if PERIOD_RANGE.search(line)) if p), None)
    return facts


def level_of_code(code: str) -> str:
    """province for 210000 (and 110000, a 直辖市), city for 210100; a county code gives ""."""
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return ""


def check_region_code(code: str) -> str:
    """The 6-digit division code, or a PlanError saying what a code looks like."""
    text = code.strip()
    if not re.fullmatch(r"\d{6}", text) or text[:2] not in PROVINCE_PREFIXES:
        raise PlanError(f"--region {code!r}：地区代码应为 6 位行政区划代码，如 210000（辽宁省）、210100（沈阳市） / "
                        f"--region {code!r}: a region is its 6-digit division code, e.g. 210000 (a province) or "
                        "210100 (a city)")
    return text


def parse_period_option(text: str) -> tuple[date, date]:
    """--period 2026-2030, or 十五五."""
    found = period_of(text if "年" in text or FIVE_YEAR.search(text) else f"{text}年")
    if not found:
        raise PlanError(f"--period {text!r}：请写成 YYYY-YYYY，如 2026-2030，或 十五五 / write the period as "
                        "YYYY-YYYY, e.g. 2026-2030, or 十五五")
    return found


def plan_id_from(path: str | Path) -> str:
    """hainan-task-table.txt -> hainan: the file's name without the table's kind."""
    stem = Path(path).stem
    return re.sub(r"[-_]?(task[-_]?table|tasks|分工表)$", "", stem) or stem


def draft_plan(document: Document, path: str | Path, region: str, *, level: str | None = None,
               issuer: str | None = None, title: str | None = None, period: tuple[date, date] | None = None,
               plan_id: str | None = None) -> tuple[Plan, PlanFacts]:
    """The plan of `document` for `region`: each field from its option, else from the document
    (else, for the level, from the code); every field still missing is named with its option."""
    code = check_region_code(region)
    facts = read_facts(document)
    missing: list[str] = []
    code_level = level_of_code(code)
    chosen_level = level or facts.level or code_level
    if not level and not code_level:
        missing.append(f"--level：{code} 是县级代码，规划级别只能是 national、province 或 city / {code} is a county-level "
                       "code; plans are national, province or city: check --region, or pass --level")
    elif not level and facts.level and facts.level != code_level:
        missing.append(f"--level：文件写的是{LEVEL_LABELS[facts.level]}（{facts.region_name or facts.issuer}），但 {code} "
                       f"是{LEVEL_LABELS[code_level]}代码；请核对 --region，或用 --level 指定 / the document reads as a "
                       f"{facts.level} plan ({facts.region_name or facts.issuer}) but {code} is a {code_level} code: "
                       "check --region, or say --level")
    chosen_issuer = issuer or facts.issuer or (f"{facts.region_name}人民政府" if facts.region_name else "")
    if not chosen_issuer:
        example = "沈阳市人民政府" if chosen_level == "city" else "辽宁省人民政府"
        missing.append(f"--issuer：文件中没有写发文单位，请用 --issuer 指定，如 --issuer {example} / the document names "
                       f"no issuer; pass --issuer, e.g. --issuer {example}")
    chosen_title = title or facts.title
    if not chosen_title:
        missing.append("--title：文件中没有规划标题，请用 --title 指定 / the document gives no title; pass --title")
    chosen_period = period or facts.period
    if chosen_period is None:
        missing.append("--period：文件中没有写规划期（如“十五五”或 2026—2030年），请用 --period 2026-2030 指定 / the "
                       "document does not say its period (十五五, 2026—2030年); pass --period, e.g. --period 2026-2030")
    stem = plan_id_from(path)
    chosen_id = plan_id or (stem if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", stem) else "")
    if not chosen_id or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", chosen_id):
        missing.append(f"--plan-id：{'文件名' if not plan_id else '规划编号'} {plan_id or Path(path).stem!r} 不能作规划编号，"
                       "请用字母、数字、连字符，如 --plan-id liaoning-2021 / pass --plan-id made of letters, digits and "
                       "hyphens, e.g. --plan-id liaoning-2021")
    if missing:
        raise PlanError(f"{path}: 不能起草规划 cannot draft the plan:\n" + "\n".join(f"  {m}" for m in missing))
    assert chosen_period is not None
    # its coverage written out (the area's own divisions), for the reviewer to add exclusions
    # and units that are no division (三沙 out, 洋浦 in) where the plan says so
    plan = Plan(chosen_id, chosen_title, chosen_issuer, chosen_level, code, chosen_period[0],  # type: ignore[arg-type]
                chosen_period[1], f"sources/{Path(path).name}", coverage=default_coverage(code))
    return plan, facts


def predecessor(plan: Plan, reviewed: Sequence[Plan]) -> Plan | None:
    """The reviewed plan a drafted one follows: the same region's latest plan that ended
    before it starts (十四五 before 十五五), when it ended within a year of that."""
    earlier = [p for p in reviewed if p.region == plan.region and p.id != plan.id and p.end < plan.start
               and (plan.start - p.end).days <= 366]
    return max(earlier, key=lambda p: p.end) if earlier else None
