"""Units of the plan's indicators, through pint.

Each counted thing (beds, childcare places, persons, person-times, institutions) is its own
base dimension, so a value entered in beds is refused for a person count instead of being
silently converted (pint's `count` would let them all convert into each other). The registry
is built from an empty one with only these definitions: fast to build, and no clash with
pint's built-in abbreviations. pint is imported lazily, keeping `tracker --help` fast.
"""

from functools import lru_cache
from typing import Any

DEFINITIONS = """
person = [person] = 人 = 名
kiloperson = 1000 * person = 千人
myriaperson = 10000 * person = 万人
hectoperson = 100 * person = 百人
person_time = [person_time] = 人次
bed = [bed] = 张 = 床
hectobed = 100 * bed = 百张床位
place = [place] = 托位 = 个托位
institution = [institution] = 所 = 家 = 个机构
facility = [facility] = 处 = 个设施
township = [township] = 乡镇 = 个乡镇
percent = 0.01 = % = 百分比
permille = 0.001 = ‰
"""

# How each unit is written for people: (Chinese, as in the documents; English). The one table
# of unit labels: reasons, reports, web pages, templates and messages all read it.
LABELS: dict[str, tuple[str, str]] = {
    "person": ("人", "persons"),
    "kiloperson": ("千人", "thousand persons"),
    "myriaperson": ("万人", "ten thousand persons"),
    "hectoperson": ("百人", "hundred persons"),
    "hectobed": ("百张床位", "hundred beds"),
    "person_time": ("人次", "person-times"),
    "bed": ("张", "beds"),
    "place": ("个托位", "childcare places"),
    "institution": ("所", "institutions"),
    "facility": ("个", "facilities"),
    "township": ("个乡镇", "townships"),
    "percent": ("%", "%"),
    "permille": ("‰", "‰"),
    "dimensionless": ("", ""),
    "bed / kiloperson": ("张/千人", "beds per 1,000"),
    "place / kiloperson": ("个托位/千人", "places per 1,000"),
    "bed / myriaperson": ("张/万人", "beds per 10,000"),
    "place / myriaperson": ("个托位/万人", "places per 10,000"),
    "person / hectobed": ("人/百张床位", "persons per 100 beds"),
    "person / kiloperson": ("人/千人", "persons per 1,000"),
    "person / myriaperson": ("人/万人", "persons per 10,000"),
}
# English labels of one thing ("1 institution", "1 bed per 1,000"); the others stay as above.
SINGULAR_EN: dict[str, str] = {
    "person": "person", "person_time": "person-time", "bed": "bed", "place": "childcare place",
    "institution": "institution", "facility": "facility", "township": "township",
    "bed / kiloperson": "bed per 1,000", "place / kiloperson": "place per 1,000",
    "bed / myriaperson": "bed per 10,000", "place / myriaperson": "place per 10,000",
    "person / hectobed": "person per 100 beds", "person / kiloperson": "person per 1,000",
    "person / myriaperson": "person per 10,000",
}


class UnitError(ValueError):
    """A unit the registry does not know, or one of the wrong dimension."""


@lru_cache(maxsize=1)
def registry() -> Any:
    import pint

    ureg = pint.UnitRegistry(None, on_redefinition="raise", autoconvert_offset_to_baseunit=False)
    for line in DEFINITIONS.strip().splitlines():
        ureg.define(line.strip())
    return ureg


def known_units() -> list[str]:
    return [line.split("=")[0].strip() for line in DEFINITIONS.strip().splitlines()]


@lru_cache(maxsize=512)
def normalize(unit: str) -> str:
    """The canonical spelling of a unit ('张/千人' -> 'bed / kiloperson'); raises UnitError."""
    import pint

    text = (unit or "").strip()
    if text in ("", "1", "dimensionless"):
        return "dimensionless"
    try:
        parsed = registry().parse_units(text.replace("／", "/"))
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError,
            TypeError, ValueError, SyntaxError) as exc:
        raise UnitError(
            f"unknown unit {unit!r}; known units: {', '.join(known_units())} "
            "(and their ratios, e.g. 'bed / kiloperson')") from exc
    return str(parsed) or "dimensionless"


@lru_cache(maxsize=1024)
def conversion_factor(from_unit: str, to_unit: str) -> float:
    """Multiplier taking a value in `from_unit` to `to_unit`; one per unit pair, so columns
    of values convert by a float multiplication instead of one pint Quantity per cell."""
    import pint

    src, dst = normalize(from_unit), normalize(to_unit)
    if src == dst:
        return 1.0
    ureg = registry()
    try:
        return float(ureg.Quantity(1.0, src).to(dst).magnitude)
    except pint.errors.DimensionalityError as exc:
        raise UnitError(
            f"unit {from_unit!r} cannot be converted to {label(to_unit)!r} ({to_unit}): "
            f"it measures {ureg.parse_units(src).dimensionality}, "
            f"the indicator measures {ureg.parse_units(dst).dimensionality}") from exc


def convert(value: float, from_unit: str, to_unit: str) -> float:
    return value * conversion_factor(from_unit, to_unit)


def label(unit: str, lang: str = "zh", count: float | None = None) -> str:
    """How people write `unit`: Chinese as in the documents (张/千人), or English (beds per
    1,000, and "bed" after a `count` of one); a unit outside the table is shown in its
    canonical spelling."""
    try:
        key = normalize(unit)
    except UnitError:
        return unit
    found = LABELS.get(key)
    if found is None:
        return key
    if lang != "en":
        return found[0]
    if count is not None and abs(count) == 1 and key in SINGULAR_EN:
        return SINGULAR_EN[key]
    return found[1]


def is_fraction_unit(unit: str) -> bool:
    """Percent and per-mille: a value like 0.3 may mean 30% when the column says so."""
    return normalize(unit) in ("percent", "permille")
