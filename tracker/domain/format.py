"""How figures are written for people: one number format, values with their unit labels,
differences (percentage points for percentages), and lists of names ("A、B、C等12个").

Reasons, report cards, web pages and alerts all call these, so a figure reads the same
wherever a person looks.
"""

import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from tracker.domain import units
from tracker.domain.periods import PLAN_TZ

if TYPE_CHECKING:
    from tracker.domain.regions import Regions

EMPTY = "—"  # shown where a figure is missing


def format_number(value: float | None) -> str:
    """Figures as officials write them: thousands separated, at most two decimals, no
    trailing zeros (15,000; 32.5; 0.08)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return EMPTY
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if abs(value - round(value)) < 1e-9:
        text = f"{int(round(value)):,}"
    else:
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _joined(number: str, label: str, lang: str) -> str:
    if label in ("", "%", "‰") or lang != "en":
        return number + label
    return f"{number} {label}"


def format_value(value: float | None, unit: str, lang: str = "zh") -> str:
    """A value with its unit: 32张/千人, 15,000人次; 32 beds per 1,000, 30%, 1 institution."""
    if value is None:
        return EMPTY
    text = format_number(value)
    return _joined(text, units.label(unit, lang, count=1 if text in ("1", "-1") else None), lang)


def is_percentage(unit: str) -> bool:
    try:
        return units.normalize(unit) == "percent"
    except units.UnitError:
        return unit.strip() == "%"


def format_difference(value: float | None, unit: str, lang: str = "zh") -> str:
    """A gap between two values: between percentages it is in percentage points
    (0.5个百分点), otherwise in the unit (3.5张/千人)."""
    if value is None:
        return EMPTY
    if is_percentage(unit):
        return f"{format_number(value)}个百分点" if lang != "en" else f"{format_number(value)} percentage points"
    return format_value(value, unit, lang)


MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")


def format_moment(moment: datetime, lang: str = "zh") -> str:
    """A moment as officials write it, in Beijing time: 2026年12月2日 12:19（北京时间）, or
    2 December 2026, 12:19 (Beijing time). A naive moment is taken as UTC."""
    from datetime import UTC

    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(PLAN_TZ)
    if lang == "en":
        return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M} (Beijing time)"
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（北京时间）"


def format_share(covered: int, expected: int, value_text: str, lang: str = "zh") -> str:
    """A figure summed over part of the regions, said as such: "3/19 市县合计 50张/千人" /
    "50 beds per 1,000, sum of 3 of 19 regions" (the reasons say it in the same words)."""
    if lang == "en":
        return f"{value_text}, sum of {covered} of {expected} regions"
    return f"{covered}/{expected} 市县合计 {value_text}"


def name_list(names: Sequence[str], limit: int = 10, lang: str = "zh", total: int | None = None) -> str:
    """'海口市、三亚市、儋州市' or, past `limit`, the first ones and how many in all:
    '海口市、三亚市等12个' / 'Haikou, Sanya and 10 more'. `total`: how many there are in all
    when `names` holds only the first ones (naming thousands to show ten is slow)."""
    names = list(names)
    count = len(names) if total is None else total
    shown = names[:limit]
    if lang == "en":
        text = ", ".join(shown)
        return text + (f" and {count - limit} more" if count > limit else "")
    text = "、".join(shown)
    return text + (f"等{count}个" if count > limit else "")


def region_name(regions: "Regions", code: str | None, lang: str = "zh") -> str:
    """A region as people name it: 海口市, and a district with its city (海口市秀英区,
    Haikou Xiuying District), since 秀英区 alone does not say it is Haikou's; an unknown
    code is shown as it is."""
    if not code:
        return ""
    try:
        r = regions.get(code)
    except LookupError:
        return code
    if lang != "en":
        name = r.name
    else:
        name = r.name_en or r.name
        if r.level == "district" and not name.endswith("District"):
            name += " District"
    if r.level == "district" and r.parent:
        try:
            parent = regions.get(r.parent)
        except LookupError:
            return name
        return parent.name + name if lang != "en" else f"{parent.name_en} {name}"
    return name
