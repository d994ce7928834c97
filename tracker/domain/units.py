"""Units of the plan's indicators, through pint.

Each counted thing (beds, childcare places, persons, person-times, institutions) is its own
base dimension, so a value entered in beds is refused for a person count instead of being
silently converted (pint's `count` would let them all convert into each other). The registry
is built from an empty one with only these definitions: fast to build, and no clash with
pint's built-in abbreviations. pint is imported lazily, keeping `tracker --help` fast.
"""

import re
import unicodedata
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


# What each counted thing is called, for reasons given to people (the registry's base names).
THINGS: dict[str, tuple[str, str]] = {
    "person": ("人数", "persons"), "person_time": ("人次", "person-times"), "bed": ("床位", "beds"),
    "place": ("托位", "childcare places"), "institution": ("机构", "institutions"),
    "facility": ("设施", "facilities"), "township": ("乡镇", "townships"), "": ("比例", "a proportion"),
}

# Measure words officials write for a count, and the things each may stand for: "350个" of
# childcare places is 350 places, "12家" of institutions is 12 institutions. The word means
# the thing the indicator counts, when it is one of these; 个 never means beds (张) or people.
MEASURE_WORDS: dict[str, tuple[str, ...]] = {
    "个": ("place", "institution", "facility", "township"),
    "家": ("institution",), "所": ("institution",), "处": ("facility",),
}
# The populations a per-N base is written with (每千名老年人口, 每千常住人口, 千人): all persons.
_POPULATION = re.compile(r"名?(?:60岁以上|65岁以上|3岁以下)?(?:老年人口|老年人|老人|常住人口|户籍人口|人口|居民|婴幼儿)")
FRACTION_WORDS = ("小数", "fraction", "比值")  # 0.3 written for 30%
LARGE = {"万": 10_000.0, "亿": 100_000_000.0}


class UnitError(ValueError):
    """A unit the registry does not know, or one of the wrong dimension; `zh` says why in
    Chinese when there is more to say than the English message."""

    def __init__(self, message: str, zh: str = "", unknown: bool = False) -> None:
        super().__init__(message)
        self.zh = zh
        self.unknown = unknown  # not a unit at all (rather than one of another thing)


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
    text = (unit or "").strip()
    if text in ("", "1", "dimensionless"):
        return "dimensionless"
    if text in LABELS:  # already canonical (targets.yaml and the store hold these): no pint needed
        return text
    import pint

    try:
        parsed = registry().parse_units(text.replace("／", "/"))
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError,
            TypeError, ValueError, SyntaxError) as exc:
        raise UnitError(
            f"unknown unit {unit!r}; known units: {', '.join(known_units())} "
            "(and their ratios, e.g. 'bed / kiloperson')", zh=f"不认识的单位「{unit}」", unknown=True) from exc
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
            f"the indicator measures {ureg.parse_units(dst).dimensionality}",
            zh=f"「{label(src) or from_unit}」计的是{measures(src)}，该指标计的是{measures(dst)}"
               + ("（人数和人次不同：同一人培训两次算两人次）" if {"person", "person_time"} <= {
                   *dimensions(src), *dimensions(dst)} else "")) from exc


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


Base = tuple[float, tuple[tuple[str, int], ...]]
_BASES: dict[str, Base] = {}  # pint's answers kept with the cached targets model (remember_bases)


def _base(unit: str) -> Base:
    found = _BASES.get(unit)
    if found is None:
        q = registry().Quantity(1.0, normalize(unit)).to_base_units()
        found = _BASES[unit] = (float(q.magnitude),
                                tuple(sorted((k.strip("[]"), int(v)) for k, v in q.dimensionality.items())))
    return found


def bases_of(units_: "list[str] | set[str]") -> dict[str, Base]:
    """pint's base factor and dimensions of each unit, to be kept beside a cached model so that
    a later command (record's plausibility bounds) need not import pint to know them again."""
    out = {}
    for u in units_:
        try:
            out[u] = _base(u)
        except UnitError:
            continue
    return out


def remember_bases(bases: dict[str, Base]) -> None:
    """Take answers `bases_of` gave in an earlier process."""
    _BASES.update(bases)


def dimensions(unit: str) -> dict[str, int]:
    """The counted things of a unit and their powers: 'bed / kiloperson' -> {bed: 1, person: -1};
    {} for percentages and fractions."""
    return dict(_base(unit)[1])


def base_factor(unit: str) -> float:
    """How many base units one `unit` is: kiloperson -> 1000, percent -> 0.01, bed / kiloperson -> 0.001."""
    return _base(unit)[0]


def measures(unit: str) -> str:
    """What a unit counts, in Chinese words: 床位, 床位/人数, 比例."""
    dims = dimensions(unit)
    top = [THINGS.get(k, (k, k))[0] for k, v in dims.items() if v > 0]
    bottom = [THINGS.get(k, (k, k))[0] for k, v in dims.items() if v < 0]
    return "/".join(["、".join(top) or "1", *bottom]) if dims else THINGS[""][0]


def written_factor(written: str, indicator_unit: str) -> float:
    """The factor from a unit as officials write it to the indicator's unit: the registry's
    units and ratios, 万 before a unit (万张), 小数 for a fraction of a percentage, measure
    words for the thing the indicator counts (个 for 托位, 家 for 机构) and per-N bases written
    with their population (张/千名老年人, 个/千人口). Raises UnitError, saying why."""
    text = unicodedata.normalize("NFKC", written or "").strip().replace(" ", "")
    if text in FRACTION_WORDS:
        return conversion_factor("dimensionless", indicator_unit)
    scale = 1.0
    if len(text) > 1 and text[0] in LARGE and not _known(text):
        scale, text = LARGE[text[0]], text[1:]
    return scale * conversion_factor(official_spelling(text, indicator_unit), indicator_unit)


def _known(text: str) -> bool:
    try:
        normalize(text)
        return True
    except UnitError:
        return False


def official_spelling(text: str, indicator_unit: str) -> str:
    """`text` with officials' words put in the registry's: the per-N base's population words
    dropped (千名老年人 -> 千人), 每 dropped, and a measure word (个) replaced by the thing the
    indicator counts when it may stand for it. Raises UnitError when the measure word cannot
    mean what the indicator counts (个 for beds)."""
    parts = [p.removeprefix("每") for p in text.replace("／", "/").split("/")]
    parts = [_POPULATION.sub("人", p) if p not in ("人", "人次") else p for p in parts]
    word = parts[0]
    if word in MEASURE_WORDS:
        counted = [k for k, v in dimensions(indicator_unit).items() if v > 0]
        if not counted or counted[0] not in MEASURE_WORDS[word]:
            allowed = "、".join(THINGS[t][0] for t in MEASURE_WORDS[word])
            thing = THINGS.get(counted[0], (counted[0], counted[0])) if counted else THINGS[""]
            raise UnitError(
                f"the measure word {word!r} counts {', '.join(THINGS[t][1] for t in MEASURE_WORDS[word])}; "
                f"the indicator counts {thing[1]}",
                zh=f"「{word}」用于{allowed}，该指标计的是{thing[0]}（{label(indicator_unit)}）")
        parts[0] = counted[0]
    return " / ".join(parts)
