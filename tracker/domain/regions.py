"""The reporting regions: Hainan's province, 18 cities and counties plus Yangpu, and the
districts of Haikou and Sanya, as data shipped in the package (tracker/regions.yaml).

A region can be named by code, Chinese name, short name (海口 for 海口市) or English name;
near misses get a suggestion.
"""

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

YANGPU_CODE = "469099"  # Yangpu has no GB/T 2260 code of its own; this is the tracker's.
SUFFIXES = ("黎族苗族自治县", "黎族自治县", "经济开发区", "自治县", "省", "市", "县", "区")
PROVINCE_ALIASES = ("全省",)  # how statistical tables label the province's row


def _key(name: str) -> str:
    """Lookup key: NFKC (full-width digits and spaces), and for Latin names case, spaces and
    apostrophes ignored, so that "Ding'an", "dingan" and "DING AN" meet."""
    text = unicodedata.normalize("NFKC", str(name)).strip()
    if re.fullmatch(r"[A-Za-z' .-]+", text):
        return re.sub(r"[' .-]", "", text).lower()
    return text


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    name_en: str
    kind: str  # province, prefecture_city, county_city, county, autonomous_county, ...
    parent: str | None = None
    level: str = "county"  # province, county (市县 and 洋浦), district

    @property
    def short(self) -> str:
        for suffix in SUFFIXES:
            if self.name.endswith(suffix) and len(self.name) > len(suffix) + 1:
                return self.name[: -len(suffix)]
        return self.name


class RegionError(LookupError):
    pass


@dataclass
class Regions:
    """The hierarchy, with lookup by any of a region's names."""

    all: list[Region]
    excluded: list[Region] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_name: dict[str, Region] = {}
        for r in self.all:
            for key in self._names(r):
                self._by_name.setdefault(_key(key), r)
        for alias in PROVINCE_ALIASES:
            self._by_name.setdefault(alias, self.province)
        self._excluded = {_key(key): r for r in self.excluded for key in self._names(r)}

    @staticmethod
    def _names(r: Region) -> list[str]:
        """Every name a region answers to; "Yangpu EDZ" also to "Yangpu"."""
        names = [r.code, r.name, r.short, r.name_en]
        if r.name_en.endswith(" EDZ"):
            names.append(r.name_en[: -len(" EDZ")])
        return [n for n in names if n]

    @property
    def province(self) -> Region:
        return next(r for r in self.all if r.level == "province")

    def counties(self) -> list[Region]:
        """The 市县 that report under the plan (18 and 洋浦), not the districts."""
        return [r for r in self.all if r.level == "county"]

    def judged_regions(self) -> list[Region]:
        """Regions a "每个市县（区）" target is judged in: cities and counties, with Haikou and
        Sanya judged through their districts."""
        parents = {r.parent for r in self.all if r.level == "district"}
        out = []
        for r in self.counties():
            if r.code in parents:
                out.extend(self.children(r.code))
            else:
                out.append(r)
        return out

    def children(self, code: str) -> list[Region]:
        return [r for r in self.all if r.parent == code]

    def get(self, code: str) -> Region:
        return self.lookup(code)

    def lookup(self, name: str) -> Region:
        key = _key(name)
        if re.fullmatch(r"\d{6}\.0", key):  # a code read from Excel as a float
            key = key[:-2]
        found = self._by_name.get(key)
        if found:
            return found
        if key in self._excluded:
            r = self._excluded[key]
            raise RegionError(f"region {name!r} is not covered by the plan ({r.name}: excluded)")
        raise RegionError(f"unknown region {name!r}{self.suggest(str(name))}; give a code (460100), "
                          "a name (海口市), a short name (海口) or an English name (Haikou)")

    def closest(self, name: str) -> Region | None:
        """The region a near-miss most likely meant (白沙县 -> 白沙黎族自治县), or None."""
        key = _key(name)
        by_key = {_key(n): r for r in self.all for n in (r.name, r.name_en)}
        close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.5)
        return by_key[close[0]] if close else None

    def suggest(self, name: str) -> str:
        r = self.closest(name)
        if r is None:
            return ""
        return f" (did you mean {r.name_en if re.search(r'[A-Za-z]', name) else r.name}?)"

    def aggregate_code(self, code: str) -> str | None:
        """The region whose figure sums this one: district -> city, county -> province."""
        return self.get(code).parent


def _build(data: dict) -> Regions:
    prov = data["province"]
    regions = [Region(str(prov["code"]), prov["name"], prov["name_en"], "province", None, "province")]
    for unit in data["units"]:
        code = str(unit["code"]) if unit.get("code") else YANGPU_CODE
        regions.append(Region(code, unit["name"], unit["name_en"], unit["kind"], regions[0].code, "county"))
        for d in unit.get("districts") or []:
            regions.append(Region(str(d["code"]), d["name"], d["name_en"], "district", code, "district"))
    excluded = [Region(str(e["code"]), e["name"], e["name_en"], "excluded") for e in data.get("excluded", [])]
    return Regions(regions, excluded)


@lru_cache(maxsize=4)
def load_regions(path: str | None = None) -> Regions:
    """The packaged Hainan hierarchy, or another province's file of the same shape."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("tracker.domain").joinpath("data", "hainan-regions.yaml").read_text(encoding="utf-8")
    return _build(yaml.safe_load(text))
