"""Plausible bounds of a reported value, from what its indicator measures: a value outside
them is not a surprising figure but an impossible one (a 万 typed twice, a ratio pasted into
a count, 10^300), refused with the bounds and the reason named. Values that are possible but
far from a region's history only get the outlier warning (tracker.actuals.validate).

- A share (a percentage, a fraction, a per-mille) is at most the whole: 100%, 1,000‰.
- A ratio per N people is at most what one person can stand for, times N: persons per 1,000
  persons at most 1,000 (a part of the population), beds or childcare places per 1,000 at most
  1,000 (no region has more beds than people), institutions per 10,000 at most 100 (one per
  100 inhabitants). Persons per 100 beds: at most 500 (five staff or residents per bed is far
  above any care home or hospital).
- A count is at most what the region's population allows: its tier's population ceiling
  times the most one inhabitant can stand for (above). No population is stored per region, so
  the ceilings are fixed per tier, generous against the 2020 census: county level 10 million
  (the largest, Shanghai's Pudong, had 5.7 million), prefecture level 50 million (Chengdu
  21 million), province level 200 million (Guangdong 126 million), the country 2 billion
  (1.41 billion).

Pure: the indicator and the region's kind in, bounds out.
"""

from dataclasses import dataclass
from functools import lru_cache

from tracker.domain import units
from tracker.domain.format import format_number, format_value
from tracker.domain.model import Indicator

# The most one inhabitant can stand for, per counted thing (per reporting period for flows).
PER_PERSON: dict[str, float] = {
    "person": 1.0, "bed": 1.0, "place": 1.0, "person_time": 10.0,
    "institution": 0.01, "facility": 0.01, "township": 0.001,
}
PER_PERSON_WHY: dict[str, tuple[str, str]] = {
    "person": ("人数不超过人口", "a count of people is part of the population"),
    "bed": ("床位不会多于人口", "no region has more beds than people"),
    "place": ("托位不会多于人口", "no region has more childcare places than people"),
    "person_time": ("每人每期至多10人次", "at most 10 person-times per inhabitant a period"),
    "institution": ("每100人至多1所机构", "at most one institution per 100 inhabitants"),
    "facility": ("每100人至多1处设施", "at most one facility per 100 inhabitants"),
    "township": ("每1,000人至多1个乡镇", "at most one township per 1,000 inhabitants"),
}
# Ratios over something other than people: the most per one of the denominator.
PER_THING: dict[tuple[str, str], tuple[float, str, str]] = {
    ("person", "bed"): (5.0, "每张床位至多5人", "at most 5 persons per bed"),
}
# Population ceilings per administrative tier (see the module docstring for the census figures).
POPULATION_CEILING: dict[str, float] = {"nation": 2e9, "province": 2e8, "prefecture": 5e7, "county": 1e7}
TIER_NAMES = {"nation": ("全国", "the country"), "province": ("省级地区", "a province-level region"),
              "prefecture": ("地级地区", "a prefecture-level region"), "county": ("县级地区", "a county-level region")}
TIER_OF_KIND = {
    "nation": "nation", "province": "province", "municipality": "province", "autonomous_region": "province",
    "prefecture_city": "prefecture", "prefecture": "prefecture", "league": "prefecture",
    "autonomous_prefecture": "prefecture",
    "county": "county", "county_city": "county", "district": "county", "autonomous_county": "county",
    "banner": "county", "autonomous_banner": "county", "forestry_district": "county", "special_district": "county",
    "islands": "county", "administrative_committee": "county",
}


def tier(region_kind: str | None) -> str:
    """The administrative tier of a region's kind; an unknown kind (a development zone) gets
    the province's, the most generous short of the country's."""
    return TIER_OF_KIND.get(region_kind or "", "province")


@dataclass(frozen=True)
class Bounds:
    """0 ≤ value ≤ high (in the indicator's unit); high None: no upper bound is known."""

    high: float | None
    why_zh: str = ""
    why_en: str = ""

    def range_text(self, unit: str, lang: str = "zh") -> str:
        """'0–1,000张/千人'."""
        return f"0–{format_value(self.high, unit, lang)}" if self.high is not None else ""


@lru_cache(maxsize=4096)
def plausible_bounds(indicator: Indicator, region_kind: str | None = None) -> Bounds:
    """The bounds of `indicator`'s values in a region of `region_kind` (only counts depend
    on the region). Raises nothing: a unit outside the registry gets no upper bound."""
    try:
        dims = units.dimensions(indicator.unit)
        per_base = units.base_factor(indicator.unit)
    except units.UnitError:
        return Bounds(None)
    top = [k for k, v in dims.items() if v == 1]
    bottom = [k for k, v in dims.items() if v == -1]
    if not dims:
        return Bounds(1.0 / per_base, "占比不超过100%", "a share is at most 100%")
    if len(dims) == 2 and top and bottom:
        thing, base = top[0], bottom[0]
        if base == "person" and thing in PER_PERSON:
            zh, en = PER_PERSON_WHY[thing]
            return Bounds(PER_PERSON[thing] / per_base, zh, en)
        if (thing, base) in PER_THING:
            most, zh, en = PER_THING[(thing, base)]
            return Bounds(most / per_base, zh, en)
        return Bounds(None)
    if len(dims) == 1 and top and top[0] in PER_PERSON:
        level = tier(region_kind)
        people = POPULATION_CEILING[level]
        zh, en = PER_PERSON_WHY[top[0]]
        name_zh, name_en = TIER_NAMES[level]
        return Bounds(people * PER_PERSON[top[0]] / per_base,
                      f"{name_zh}人口按不超过{format_number(people)}人计，{zh}",
                      f"{name_en} has fewer than {format_number(people)} inhabitants, and {en}")
    return Bounds(None)
