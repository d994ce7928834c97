"""Regions: the country's administrative divisions as data, and the regions one plan covers.

The country (`load_country()`) is every province-level division, prefecture-level city and
county-level division of the mainland, shipped as tracker/domain/data/china-regions.csv (its
source, licence and date are in data/README.md). A plan does not report by the map alone: its
coverage (`Coverage`) says which region is its area, which units report as its 市县, what is
left out (三沙市 in Hainan's plan), what is added though it is no division (洋浦经济开发区) and
how "每个市县（区）" is counted there. `regions_for(coverage)` makes the plan's `Regions`:

- level "province": the plan's area (a province, a city, or the country);
- level "county": a unit that reports under the plan (a 市县; `counties()`);
- level "district": a part of a unit (Haikou's 区), summed into it and judged in its place
  where the coverage says so (`judged_regions()`);
- level "group": a division between the area and its units (a city, when a province's counties
  report directly), for lookup and names only: the area sums its units, never its groups.

A region is named by code, Chinese name, short name (海口 for 海口市), English name, or by its
parent and name (南京市鼓楼区). A name two regions share is refused with both named, never
guessed; a region outside the plan is refused with where it is (浙江省 杭州市 西湖区).
"""

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import yaml

YANGPU_CODE = "469099"  # Yangpu has no GB/T 2260 code of its own; this is the tracker's.
NATION_CODE = "100000"  # the country's own row in china-regions.csv (the tracker's code)
COUNTRY_FILE = "china-regions.csv"
HAINAN_COVERAGE_FILE = "hainan-coverage.yaml"

# The 55 minority nationalities as they appear in the names of autonomous areas (族 optional:
# 新疆维吾尔自治区, 博尔塔拉蒙古自治州). Longer names first, so 土家 is not read as 土.
ETHNIC_GROUPS = tuple(sorted((
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家",
    "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇",
    "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
    "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙",
    "鄂伦春", "赫哲", "门巴", "珞巴", "基诺"), key=len, reverse=True))
_PEOPLES = "|".join((*ETHNIC_GROUPS, "各"))  # 各族: several peoples (龙胜各族自治县)
_AUTONOMOUS = re.compile(rf"^(.{{2,}}?)((?:(?:{_PEOPLES})族?)+)自治(?:区|州|县|旗)$")
SUFFIXES = ("特别行政区", "行政委员会", "经济开发区", "自治区", "自治州", "自治县", "自治旗",
            "地区", "矿区", "新区", "特区", "群岛", "省", "市", "县", "区", "旗", "盟")
AREA_ALIASES = {"province": ("全省",), "municipality": ("全市",), "autonomous_region": ("全区",),
                "prefecture_city": ("全市",), "nation": ("全国",)}  # how statistical tables label the area's row
PROVINCE_ALIASES = AREA_ALIASES["province"]
TIERS = ("nation", "province", "prefecture", "county")
_EN_SUFFIX = re.compile(
    r"(?:(?: (?:and )?[A-Z][a-z]+)+ Autonomous (?:Region|Prefecture|County|Banner)"
    r"| (?:New Area|New District|Special District|Forestry District|Mining District|District|County|Banner"
    r"|Prefecture|League|EDZ|Islands|Administrative Committee))$")


def split_autonomous(name: str) -> tuple[str, str] | None:
    """An autonomous area's place and peoples: 长白朝鲜族自治县 -> (长白, 朝鲜族), or None."""
    m = _AUTONOMOUS.match(name)
    return (m.group(1), m.group(2)) if m else None


def short_name(name: str) -> str:
    """The name without its administrative suffix, as people say it: 海口 for 海口市, 白沙 for
    白沙黎族自治县, 广西 for 广西壮族自治区; never shorter than two characters."""
    parts = split_autonomous(name)
    if parts:
        return parts[0]
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


_LATIN = re.compile(r"[A-Za-z' .-]+")
_LATIN_SEPARATORS = re.compile(r"[' .-]")


def _key(name: str) -> str:
    """Lookup key: NFKC (full-width digits and spaces), and for Latin names case, spaces,
    accents and apostrophes ignored, so that "Ding'an", "dingan" and "DING AN" meet;
    Chinese names without spaces, so that "海口市 秀英区" is "海口市秀英区"."""
    text = unicodedata.normalize("NFKC", str(name)).strip()
    if not text.isascii() and max(text) < "\u0250":  # Latin with accents: Lüchun, Ürümqi
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    if text.isascii():
        if _LATIN.fullmatch(text):
            return _LATIN_SEPARATORS.sub("", text).lower()
        return text
    return "".join(text.split())


def _bare_english(name_en: str) -> str:
    """"Xihu District" -> "Xihu", "Baisha Li Autonomous County" -> "Baisha", "Yangpu EDZ" ->
    "Yangpu": the English name as people shorten it."""
    return _EN_SUFFIX.sub("", name_en)


class _Named(Protocol):
    code: str
    name: str
    name_en: str

    @property
    def short(self) -> str: ...


@dataclass(frozen=True)
class Region:
    """A region in one plan's coverage; `level` is its role in the plan (see the module)."""

    code: str
    name: str
    name_en: str
    kind: str  # province, prefecture_city, county_city, county, autonomous_county, district, ...
    parent: str | None = None
    level: str = "county"  # province (the plan's area), county (市县 and 洋浦), district, group
    short_name: str = ""  # from the data; otherwise the suffix rule

    @property
    def short(self) -> str:
        return self.short_name or short_name(self.name)


@dataclass(frozen=True)
class Division:
    """A division of the country as the packaged data has it; `tier` is its administrative
    rank (nation, province, prefecture, county), `kind` what it is (county_city, banner …)."""

    code: str
    name: str
    short: str
    name_en: str
    parent: str | None
    tier: str
    kind: str


@dataclass(frozen=True)
class Candidate:
    """One region a name could mean, with where it lies, so a caller can name the plans that
    cover its province."""

    code: str
    name: str
    province: str | None  # the province-level division's code (None for the country itself)
    path: str  # 浙江省 杭州市 西湖区
    path_en: str

    def text(self, lang: str = "en") -> str:
        return f"{self.path if lang == 'zh' else self.path_en} ({self.code})"


class RegionError(LookupError):
    """A name that is not one region of the plan: `reason` says why (unknown, excluded,
    outside the plan's area, ambiguous) and `candidates` lists the regions it could mean.
    str() is English (as it always was); `zh` is the same in Chinese."""

    def __init__(self, message: str, *, zh: str = "", reason: str = "unknown",
                 candidates: Sequence[Candidate] = ()) -> None:
        super().__init__(message)
        self.zh = zh or message
        self.reason = reason
        self.candidates = list(candidates)
        self.detail: tuple[str, str] | None = None  # (zh, en) without the name, for problem lists


class CoverageError(ValueError):
    """Every problem in a coverage declaration, each naming its field, the value and what is
    accepted."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


# --- names -------------------------------------------------------------------------------

class _NameIndex:
    """Key -> codes in three tiers: a code, then full names (海口市, 南京市鼓楼区), then short
    and English names. A key answers with every code of its best tier, so a shared name comes
    back as two codes for the caller to refuse, never as whichever region was read first."""

    def __init__(self) -> None:
        self._map: dict[str, tuple[int, list[str]]] = {}

    def add(self, text: str, code: str, tier: int) -> None:
        if not text:
            return
        key = _key(text)
        found = self._map.get(key)
        if found is None or tier < found[0]:
            self._map[key] = (tier, [code])
        elif tier == found[0] and code not in found[1]:
            found[1].append(code)

    def add_region(self, r: _Named, parent: _Named | None) -> None:
        self.add(r.code, r.code, 0)
        self.add(r.name, r.code, 1)
        for text in (r.short, r.name_en, _bare_english(r.name_en)):
            self.add(text, r.code, 2)
        if parent is not None:  # 南京市鼓楼区, 南京鼓楼区, Haikou Xiuying
            self.add(parent.name + r.name, r.code, 1)
            for text in (parent.short + r.name, parent.name + r.short, parent.short + r.short,
                         f"{parent.name_en} {r.name_en}"):
                self.add(text, r.code, 2)

    def find(self, key: str) -> list[str]:
        found = self._map.get(key)
        return list(found[1]) if found else []


def _lookup_key(name: str) -> str:
    key = _key(name)
    if re.fullmatch(r"\d{6}\.0", key):  # a code read from Excel as a float
        key = key[:-2]
    return key


def _closest(key: str, regions: Iterable[_Named]) -> _Named | None:
    by_key = {_key(n): r for r in regions for n in (r.name, r.name_en)}
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.5)
    return by_key[close[0]] if close else None


def _suggestion(name: str, r: _Named | None) -> str:
    if r is None:
        return ""
    return f" (did you mean {r.name_en if re.search(r'[A-Za-z]', name) else r.name}?)"


def _ambiguous(name: str, candidates: list[Candidate]) -> RegionError:
    parts = candidates[0].path.split()
    example = "".join(parts[-2:]) if len(parts) > 1 else candidates[0].code  # 南京市鼓楼区
    en = "; ".join(c.text("en") for c in candidates)
    zh = "、".join(c.text("zh") for c in candidates)
    return RegionError(f"region {name!r} is ambiguous: it could be {en}; give its code or its parent with it "
                       f"({example})",
                       zh=f"地区「{name}」有多个同名：{zh}；请填代码或连同上级名称（如{example}）",
                       reason="ambiguous", candidates=candidates)


# --- the country -------------------------------------------------------------------------

class Country:
    """Every division in the packaged data, looked up by any of its names; a name shared by
    several divisions (鼓楼区, 朝阳区) is an error naming them all."""

    def __init__(self, divisions: list[Division]) -> None:
        self.all = divisions
        self._by_code = {d.code: d for d in divisions}
        self._children: dict[str, list[Division]] = {}
        for d in divisions:
            if d.parent is not None:
                self._children.setdefault(d.parent, []).append(d)

    @cached_property
    def _names(self) -> _NameIndex:
        """Built at the first lookup by name, not at load: most callers only walk the tree."""
        index = _NameIndex()
        for d in self.all:
            parent = self._by_code.get(d.parent) if d.parent and d.parent != NATION_CODE else None
            index.add_region(d, parent)
            if parent is not None and parent.parent and parent.parent != NATION_CODE:
                index.add(self._by_code[parent.parent].name + parent.name + d.name, d.code, 1)
        for d in self.all:
            if d.parent is None:
                for alias in AREA_ALIASES.get(d.kind, ()):
                    index.add(alias, d.code, 1)
        return index

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Division:
        try:
            return self._by_code[str(code)]
        except KeyError:
            raise RegionError(f"no division with code {code!r} in the packaged data",
                              zh=f"行政区划数据中没有代码 {code}") from None

    @property
    def nation(self) -> Division:
        return self._by_code[NATION_CODE]

    def provinces(self) -> list[Division]:
        return [d for d in self.all if d.tier == "province"]

    def children(self, code: str) -> list[Division]:
        return list(self._children.get(code, ()))

    def descendants(self, code: str) -> Iterator[Division]:
        """Every division under `code`, each before its own children, in code order."""
        for child in self._children.get(code, ()):
            yield child
            yield from self.descendants(child.code)

    def ancestors(self, code: str) -> list[Division]:
        """From the province down to the division's parent (the country itself left out)."""
        out = []
        parent = self.get(code).parent
        while parent and parent != NATION_CODE:
            d = self._by_code[parent]
            out.append(d)
            parent = d.parent
        return out[::-1]

    def province_of(self, code: str) -> Division | None:
        chain = [*self.ancestors(code), self.get(code)]
        return next((d for d in chain if d.tier == "province"), None)

    def counties(self, code: str) -> list[Division]:
        """The county-level divisions under `code`; a city with none (东莞市, 儋州市) counts as
        its own county, as the statistical tables count it."""
        return [d for d in self.descendants(code)
                if d.tier == "county" or (d.tier == "prefecture" and not self._children.get(d.code))]

    def candidate(self, code: str) -> Candidate:
        d = self.get(code)
        chain = [*self.ancestors(code), d] if d.code != NATION_CODE else [d]
        province = self.province_of(code)
        return Candidate(d.code, d.name, province.code if province else None,
                         " ".join(x.name for x in chain), ", ".join(x.name_en for x in chain[::-1]))

    def find(self, name: str) -> list[Division]:
        """Every division the name could mean (none, one, or several that share it)."""
        return [self._by_code[c] for c in self._names.find(_lookup_key(name))]

    def lookup(self, name: str) -> Division:
        found = self.find(name)
        if len(found) == 1:
            return found[0]
        if found:
            raise _ambiguous(str(name), [self.candidate(d.code) for d in found])
        raise RegionError(f"unknown region {name!r}{_suggestion(str(name), self.closest(name))}",
                          zh=f"未知地区「{name}」")

    def closest(self, name: str) -> Division | None:
        found = _closest(_key(name), self.all)
        return found if isinstance(found, Division) else None


def _read_country(text: str) -> Country:
    rows = csv.reader(line for line in io.StringIO(text) if not line.startswith("#"))
    header = next(rows)
    if header != ["code", "parent", "tier", "kind", "name", "short", "name_en"]:
        raise ValueError(f"{COUNTRY_FILE}: unexpected columns {header}")
    return Country([Division(code, name, short, name_en, parent or None, tier, kind)
                    for code, parent, tier, kind, name, short, name_en in rows])


@lru_cache(maxsize=1)
def load_country() -> Country:
    """Every division of the mainland, from the packaged data file (read once)."""
    return _read_country(resources.files("tracker.domain").joinpath("data", COUNTRY_FILE)
                         .read_text(encoding="utf-8"))


# --- a plan's coverage -------------------------------------------------------------------

UNIT_RULES = ("children", "counties")
EACH_REGION_RULES = ("units", "parts")


@dataclass(frozen=True)
class AddedUnit:
    """A unit that reports under a plan though it is no division (洋浦经济开发区)."""

    code: str
    name: str
    name_en: str
    kind: str = "development_zone"
    note: str = ""


@dataclass(frozen=True)
class Coverage:
    """Which regions a plan covers and how "每个市县（区）" is counted there.

    region: the plan's area (a division's code).
    units: who reports as its 市县 — "children" (the area's own divisions: a province's cities
        and the county-level divisions it administers directly, a city's districts and
        counties, the country's provinces), "counties" (every county-level division under it),
        or a list of division codes.
    exclude: divisions left out, with everything under them (三沙市).
    add: units that are no division (AddedUnit), or divisions from elsewhere (a code).
    each_region: "units" (every unit judged as itself), "parts" (every unit judged through its
        districts and counties where it has them), or a list of the units judged through their
        parts, the rest as themselves (Hainan: 海口市 and 三亚市).
    """

    region: str
    units: str | tuple[str, ...] = "children"
    exclude: tuple[str, ...] = ()
    add: tuple[AddedUnit | str, ...] = ()
    each_region: str | tuple[str, ...] = "parts"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "coverage",
                  country: Country | None = None) -> "Coverage":
        """A coverage from its YAML block, checked against the country's data; every problem
        named with its field (coverage.exclude[0]) and what is accepted."""
        country = country or load_country()
        problems: list[str] = []
        if not isinstance(data, Mapping):
            raise CoverageError([f"{where}: expected a mapping with keys region, units, exclude, add, each_region"])
        unknown = sorted(set(data) - {"region", "units", "exclude", "add", "each_region"})
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}; accepted: region, units, exclude, add, "
                            "each_region")

        def code(value: Any, field_name: str, hint: str = "") -> str | None:
            """A division's code from 460300, "460300" or "460300 三沙市" (the name checked)."""
            text = unicodedata.normalize("NFKC", str(value)).strip()
            m = re.fullmatch(r"(\d{6})(?:\s+(\S+))?", text)
            if not m:
                problems.append(f"{where}.{field_name}: {value!r} is not a division code; give a 6-digit code, "
                                "alone or with its name (460300 三沙市)")
                return None
            if m.group(1) not in country:
                problems.append(f"{where}.{field_name}: no division has the code {m.group(1)}{hint}")
                return None
            d = country.get(m.group(1))
            if m.group(2) and _key(m.group(2)) not in {_key(d.name), _key(d.short)}:
                problems.append(f"{where}.{field_name}: {m.group(1)} is {d.name}, not {m.group(2)}")
                return None
            return d.code

        def codes(value: Any, field_name: str) -> tuple[str, ...]:
            if value is None:
                return ()
            if not isinstance(value, list):
                problems.append(f"{where}.{field_name}: expected a list of codes")
                return ()
            found = (code(v, f"{field_name}[{i}]") for i, v in enumerate(value))
            return tuple(c for c in found if c)

        region = code(data.get("region"), "region") if data.get("region") is not None else None
        if data.get("region") is None:
            problems.append(f"{where}.region: missing; give the plan's area as a division code (460000)")
        units: str | tuple[str, ...] = "children"
        if isinstance(data.get("units"), list):
            units = codes(data["units"], "units")
        elif data.get("units") is not None:
            if data["units"] not in UNIT_RULES:
                problems.append(f"{where}.units: {data['units']!r}; accepted: {', '.join(UNIT_RULES)} or a list of codes")
            else:
                units = data["units"]
        exclude = codes(data.get("exclude"), "exclude")
        add: list[AddedUnit | str] = []
        for i, item in enumerate(data.get("add") or []):
            if isinstance(item, Mapping):
                missing = [k for k in ("code", "name", "name_en") if not item.get(k)]
                if missing:
                    problems.append(f"{where}.add[{i}]: missing {', '.join(missing)}; a unit that is no division "
                                    "needs code, name and name_en (kind and note optional)")
                    continue
                if str(item["code"]) in country:
                    problems.append(f"{where}.add[{i}]: {item['code']} is already {country.get(str(item['code'])).name}; "
                                    "give that code alone to add the division, or a code no division has")
                    continue
                add.append(AddedUnit(str(item["code"]), str(item["name"]), str(item["name_en"]),
                                     str(item.get("kind") or "development_zone"), str(item.get("note") or "")))
            else:
                c = code(item, f"add[{i}]", "; a unit that is no division is added as "
                         "{code: 469099, name: 洋浦经济开发区, name_en: Yangpu EDZ}")
                if c:
                    add.append(c)
        # 每个省（区、市） in a national plan: each province as itself (its own plan's figure), not
        # its cities; 每个市县（区） elsewhere: a unit through its districts where it has them
        each: str | tuple[str, ...] = "units" if region == NATION_CODE else "parts"
        raw_each = data.get("each_region")
        if isinstance(raw_each, Mapping) and set(raw_each) == {"parts_of"}:
            each = codes(raw_each["parts_of"], "each_region.parts_of")
        elif raw_each is not None:
            if raw_each not in EACH_REGION_RULES:
                problems.append(f"{where}.each_region: {raw_each!r}; accepted: units, parts, or "
                                "{parts_of: [codes of the units judged through their districts]}")
            else:
                each = raw_each
        if problems:
            raise CoverageError(problems)
        assert region is not None
        coverage = cls(region, units, exclude, tuple(add), each)
        coverage.check(country, where)
        return coverage

    def to_dict(self, country: Country | None = None) -> dict[str, Any]:
        """The YAML block `from_dict` reads back to this coverage: codes written with their
        names ("460300 三沙市") so a reviewer sees what each is; defaults left out."""
        country = country or load_country()

        def named(code: str) -> str:
            return f"{code} {country.get(code).name}" if code in country else code

        out: dict[str, Any] = {"region": named(self.region)}
        if self.units != "children":
            out["units"] = self.units if isinstance(self.units, str) else [named(c) for c in self.units]
        if self.exclude:
            out["exclude"] = [named(c) for c in self.exclude]
        if self.add:
            out["add"] = [named(a) if isinstance(a, str) else
                          {k: v for k, v in (("code", a.code), ("name", a.name), ("name_en", a.name_en),
                                             ("kind", a.kind), ("note", a.note)) if v}
                          for a in self.add]
        if self.each_region != "parts":
            out["each_region"] = self.each_region if isinstance(self.each_region, str) else \
                {"parts_of": [named(c) for c in self.each_region]}
        return out

    def check(self, country: Country, where: str = "coverage") -> None:
        """Codes that are divisions but do not fit the area (an exclusion outside it, a unit
        judged through parts it is not)."""
        problems = []
        inside = {d.code for d in country.descendants(self.region)}
        for name, values in (("units", self.units if isinstance(self.units, tuple) else ()),
                             ("exclude", self.exclude)):
            for i, c in enumerate(values):
                if c not in inside:
                    problems.append(f"{where}.{name}[{i}]: {country.candidate(c).path} ({c}) is not within "
                                    f"{country.get(self.region).name}")
        if isinstance(self.each_region, tuple):
            units = {r.code for r in _units(self, country)}
            for i, c in enumerate(self.each_region):
                if c not in units:
                    problems.append(f"{where}.each_region.parts_of[{i}]: {country.get(c).name} ({c}) is not one of "
                                    "the plan's units")
        if problems:
            raise CoverageError(problems)


def _units(coverage: Coverage, country: Country) -> list[Division]:
    if coverage.units == "children":
        found = country.children(coverage.region)
    elif coverage.units == "counties":
        found = country.counties(coverage.region)
    else:
        found = [country.get(c) for c in coverage.units]
    out = {c: country.get(c) for c in coverage.add if isinstance(c, str)}
    return [d for d in found if d.code not in out] + list(out.values())


def regions_for(coverage: Coverage, country: Country | None = None) -> "Regions":
    """A plan's regions from the country's data and the plan's coverage: the area, its units
    (less the excluded, plus the added), their parts, and the divisions between."""
    country = country or load_country()
    gone = set(coverage.exclude)
    for c in coverage.exclude:
        gone.update(d.code for d in country.descendants(c))
    area = country.get(coverage.region)
    units = [d for d in _units(coverage, country) if d.code not in gone]
    unit_codes = {d.code for d in units}

    def region(d: Division, parent: str | None, level: str) -> Region:
        return Region(d.code, d.name, d.name_en, d.kind, parent, level, d.short)

    inside = {d.code for d in country.descendants(area.code)}
    out = [region(area, None, "province")]
    placed = {area.code}
    for d in units:
        parent = area.code  # a division added from elsewhere reports to the area itself
        for up in country.ancestors(d.code) if d.code in inside else ():
            if up.code not in inside:
                continue  # above the area
            if up.code not in placed:  # a city between the province and its counties
                out.append(region(up, parent, "group"))
                placed.add(up.code)
            parent = up.code
        out.append(region(d, parent, "county"))
        placed.add(d.code)
        out.extend(region(p, d.code, "district") for p in country.children(d.code)
                   if p.code not in gone and p.code not in unit_codes)
    out.extend(Region(u.code, u.name, u.name_en, u.kind, area.code, "county")
               for u in coverage.add if isinstance(u, AddedUnit))
    excluded = [region(country.get(c), country.get(c).parent, "excluded") for c in coverage.exclude]
    judged = None if coverage.each_region == "parts" else \
        frozenset() if coverage.each_region == "units" else frozenset(coverage.each_region)
    return Regions(out, excluded, judged_through=judged, country=country, coverage=coverage)


# --- one plan's regions ------------------------------------------------------------------

@dataclass
class Regions:
    """One plan's regions, with lookup by any of a region's names inside the plan.

    judged_through: the units a "每个市县（区）" target is judged through their parts; None
        (a hand-made Regions) means every unit that has parts.
    country: where to say a region outside the plan lies; coverage: what the plan declared.
    """

    all: list[Region]
    excluded: list[Region] = field(default_factory=list)
    judged_through: frozenset[str] | None = None
    country: Country | None = None
    coverage: Coverage | None = None

    def __post_init__(self) -> None:
        self._by_code = {r.code: r for r in self.all}
        self._children: dict[str, list[Region]] = {}
        for r in self.all:
            if r.parent is not None:
                self._children.setdefault(r.parent, []).append(r)
        self._names = _NameIndex()
        for r in self.all:
            parent = self._by_code.get(r.parent) if r.parent else None
            self._names.add_region(r, parent if parent is not None and parent.level != "province" else None)
        for alias in AREA_ALIASES.get(self.province.kind, PROVINCE_ALIASES):
            self._names.add(alias, self.province.code, 1)
        self._excluded: dict[str, tuple[Region, Region]] = {}  # key -> (the region named, the exclusion)
        for top in self.excluded:
            inside = [top]
            if self.country is not None and top.code in self.country:
                inside += [Region(d.code, d.name, d.name_en, d.kind, d.parent, "excluded", d.short)
                           for d in self.country.descendants(top.code)]
            for r in inside:
                for key in (r.code, r.name, r.short, r.name_en, _bare_english(r.name_en)):
                    if key:
                        self._excluded.setdefault(_key(key), (r, top))

    def __contains__(self, code: object) -> bool:
        """Whether a region of this code is one of the plan's (excluded ones are not)."""
        return code in self._by_code

    @property
    def province(self) -> Region:
        """The plan's area (a province for Hainan's plan; a city or the country for others)."""
        return next(r for r in self.all if r.level == "province")

    area = province

    def counties(self) -> list[Region]:
        """The units that report under the plan (Hainan: the 18 市县 and 洋浦), not their parts."""
        return [r for r in self.all if r.level == "county"]

    def judged_regions(self) -> list[Region]:
        """Regions a "每个市县（区）" target is judged in: the units, with those the coverage names
        (Haikou and Sanya in Hainan's plan) judged through their parts."""
        out = []
        for r in self.counties():
            parts = self._children.get(r.code, [])
            if parts and (self.judged_through is None or r.code in self.judged_through):
                out.extend(parts)
            else:
                out.append(r)
        return out

    def children(self, code: str) -> list[Region]:
        return list(self._children.get(code, ()))

    def get(self, code: str) -> Region:
        return self.lookup(code)

    def path(self, code: str) -> list[Region]:
        """The region and the plan's regions above it, the area first."""
        chain = [self._by_code[code]]
        while chain[0].parent in self._by_code:
            chain.insert(0, self._by_code[chain[0].parent])  # type: ignore[index]
        return chain

    def candidate(self, code: str) -> Candidate:
        """Where the region lies, from the country's data when it is a division."""
        if self.country is not None and code in self.country:
            return self.country.candidate(code)
        chain = self.path(code)
        province = next((r.code for r in chain if r.kind in ("province", "municipality", "autonomous_region")), None)
        return Candidate(code, chain[-1].name, province, " ".join(r.name for r in chain),
                         ", ".join(r.name_en for r in chain[::-1]))

    def lookup(self, name: str) -> Region:
        key = _lookup_key(name)
        codes = self._names.find(key)
        if len(codes) == 1:
            return self._by_code[codes[0]]
        if codes:
            raise _ambiguous(str(name), [self.candidate(c) for c in codes])
        if key in self._excluded:
            r, top = self._excluded[key]
            return self._refuse_excluded(name, r, top)
        if self.country is not None:
            found = self.country.find(key)
            if found:
                raise self._outside(str(name), [self.country.candidate(d.code) for d in found])
        zh, en = self.naming()
        raise RegionError(f"unknown region {name!r}{self.suggest(str(name))}; give {en}", zh=f"未知地区「{name}」；请填{zh}")

    def naming(self) -> tuple[str, str]:
        """How a region of this plan may be named, its first unit the example (zh, en): 地区代码
        (460100)、名称(海口市)、简称(海口)或英文名(Haikou) in Hainan's plan, 广州 in Guangdong's."""
        units = self.counties()
        r = units[0] if units else self.province
        zh = f"地区代码({r.code})、名称({r.name})、简称({r.short})" + (f"或英文名({r.name_en})" if r.name_en else "")
        en = f"a code ({r.code}), a name ({r.name}), a short name ({r.short})" + \
            (f" or an English name ({r.name_en})" if r.name_en else "")
        return zh, en

    @staticmethod
    def _refuse_excluded(name: str, r: Region, top: Region) -> Region:
        raise RegionError(f"region {name!r} is not covered by the plan ({top.name}: excluded)",
                          zh=f"地区「{name}」不在本规划范围内（{top.name}：不含）", reason="excluded")

    def _outside(self, name: str, found: list[Candidate]) -> RegionError:
        area = self.province
        where_en = found[0].text("en") if len(found) == 1 else "one of " + "; ".join(c.text("en") for c in found)
        where_zh = "、".join(c.text("zh") for c in found)
        return RegionError(f"region {name!r} is not covered by the plan ({area.name}): it is {where_en}",
                           zh=f"地区「{name}」不在本规划范围（{area.name}）内：它是{where_zh}",
                           reason="outside", candidates=found)

    def closest(self, name: str) -> Region | None:
        """The region a near-miss most likely meant (白沙县 -> 白沙黎族自治县), or None."""
        found = _closest(_key(name), self.all)
        return found if isinstance(found, Region) else None

    def suggest(self, name: str) -> str:
        return _suggestion(name, self.closest(name))

    def aggregate_code(self, code: str) -> str | None:
        """The region whose figure sums this one: district -> city, county -> province."""
        return self.get(code).parent


# --- the packaged plan: Hainan -----------------------------------------------------------

def _legacy(data: dict) -> Regions:
    """A regions file in the shape tracker shipped before the country's data (one province,
    its units and their districts), kept so such files still load."""
    prov = data["province"]
    regions = [Region(str(prov["code"]), prov["name"], prov["name_en"], "province", None, "province")]
    for unit in data["units"]:
        code = str(unit["code"]) if unit.get("code") else YANGPU_CODE
        regions.append(Region(code, unit["name"], unit["name_en"], unit["kind"], regions[0].code, "county"))
        for d in unit.get("districts") or []:
            regions.append(Region(str(d["code"]), d["name"], d["name_en"], "district", code, "district"))
    excluded = [Region(str(e["code"]), e["name"], e["name_en"], "excluded") for e in data.get("excluded", [])]
    return Regions(regions, excluded)


def hainan_coverage() -> Coverage:
    """The Hainan plan's coverage, as packaged (data/hainan-coverage.yaml)."""
    text = resources.files("tracker.domain").joinpath("data", HAINAN_COVERAGE_FILE).read_text(encoding="utf-8")
    return Coverage.from_dict(yaml.safe_load(text)["coverage"], where=f"{HAINAN_COVERAGE_FILE}: coverage")


def default_coverage(region: str) -> Coverage:
    """The coverage of a plan that declares none: Hainan's packaged one for 460000, the
    country's provinces for a national plan (region "" or 100000), the area's own divisions
    otherwise."""
    if region == "460000":
        return hainan_coverage()
    if region in ("", NATION_CODE):
        return Coverage(NATION_CODE, each_region="units")  # 每个省份: each province as itself
    return Coverage(region)


@lru_cache(maxsize=4)
def load_regions(path: str | None = None) -> Regions:
    """The Hainan plan's regions; or those of a file: a `coverage:` block over the country's
    data, or a regions file of the older one-province shape."""
    if not path:
        return regions_for(hainan_coverage())
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict) and "coverage" in data:
        return regions_for(Coverage.from_dict(data["coverage"], where=f"{path}: coverage"))
    return _legacy(data)


# --- every loaded plan's regions, for entry ------------------------------------------------

@dataclass(frozen=True)
class LoadedPlan:
    """A plan as region lookup needs it: its id, its area's name and its regions."""

    id: str
    regions: Regions
    national: bool = False

    @property
    def area(self) -> Region:
        return self.regions.province


class LoadedRegions:
    """The regions a value may be entered for: the home plan's first (Hainan's, with its
    exclusions and shared names exactly as before), then every other loaded plan's. A
    national plan takes the country's and the provinces' own figures; a province's cities
    and counties belong to that province's plan. A region no loaded plan holds is refused
    with where it lies, the plan that could hold it (the one of its province, not loaded)
    and the loaded plans. A region's parts (children) come from the plan that holds it;
    everything else (province, counties …) is the home plan's."""

    def __init__(self, home: Regions, plans: "Sequence[LoadedPlan] | Callable[[], Sequence[LoadedPlan]]") -> None:
        self.home = home
        self._plans = plans  # or what makes them: a name the home plan knows never needs them

    @cached_property
    def plans(self) -> list[LoadedPlan]:
        return list(self._plans() if callable(self._plans) else self._plans)

    @cached_property
    def _others(self) -> list[LoadedPlan]:
        return [p for p in self.plans if p.regions is not self.home]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "plans":
            raise AttributeError(name)
        return getattr(self.home, name)

    def get(self, code: str) -> Region:
        return self.lookup(code)

    def children(self, code: str) -> list[Region]:
        """The parts of a region in the plan that holds it (the home plan's first)."""
        for regions in (self.home, *(p.regions for p in self._others)):
            if code in regions:
                return regions.children(code)
        return []

    def _held(self, plan: LoadedPlan, name: str) -> Region | None:
        try:
            r = plan.regions.lookup(name)
        except RegionError:
            return None
        if plan.national and r.level not in ("province", "county"):
            return None  # a province's own parts: its plan's, not the country's
        return r

    def lookup(self, name: str) -> Region:
        try:
            return self.home.lookup(name)
        except RegionError as exc:
            if exc.reason not in ("outside", "unknown") or not self._others:
                raise
            refusal = exc
        found: dict[str, Region] = {}
        for plan in self._others:
            r = self._held(plan, name)
            if r is not None:
                found.setdefault(r.code, r)
        if len(found) == 1:
            return next(iter(found.values()))
        country = self.home.country or load_country()
        if found:
            raise _ambiguous(str(name), [country.candidate(c) if c in country else self._candidate(c)
                                         for c in found])
        if refusal.reason == "unknown":
            raise refusal
        raise self.outside(str(name), refusal.candidates, country)

    def naming(self) -> tuple[str, str]:
        """How a region may be named (zh, en): the home plan's example, and one of each other
        loaded plan's (广州 in Guangdong's), so a reporter of any plan sees its own kind."""
        zh, en = self.home.naming()
        others = [p.regions.counties()[0] for p in self._others if not p.national and p.regions.counties()][:3]
        if others:
            zh += "；其他已载入规划的地区同样，如 " + "、".join(r.short for r in others)
            en += "; regions of the other loaded plans alike, e.g. " + ", ".join(r.name_en or r.name for r in others)
        return zh, en

    def holding(self, code: str) -> list[str]:
        """The ids of the plans (not a national one: no region reports to it directly) whose
        regions hold the region `code`, in the order loaded: a reporter of 西湖区 works in
        Zhejiang's plan (and a Hangzhou city plan), not in Hainan's."""
        out = []
        for plan in self.plans:
            if plan.national:
                continue
            try:
                plan.regions.get(code)
            except (RegionError, KeyError):
                continue
            out.append(plan.id)
        return out

    def _candidate(self, code: str) -> Candidate:
        for plan in self.plans:
            try:
                return plan.regions.candidate(code)
            except KeyError:
                continue
        raise KeyError(code)

    def outside(self, name: str, found: Sequence[Candidate], country: Country) -> RegionError:
        """The refusal of a region outside every loaded plan: where it lies, the plans that
        could hold it (its province's), which are not loaded, and the loaded ones."""
        where_en = "; ".join(c.text("en") for c in found)
        where_zh = "、".join(c.text("zh") for c in found)
        provinces = sorted({c.province for c in found if c.province})
        could_zh = "、".join(country.get(p).name for p in provinces)
        could_en = ", ".join(country.get(p).name_en for p in provinces)
        loaded_zh = "、".join(f"{p.id} {p.area.name}" for p in self.plans)
        loaded_en = ", ".join(f"{p.id} ({p.area.name_en})" for p in self.plans)
        holding = [p for p in self.plans if p.area.code in provinces]
        if holding:  # its province's plan is loaded, but its coverage leaves the region out
            why_zh = "；" + "、".join(f"{p.id}（{p.area.name}）" for p in holding) + "的覆盖范围不含该地区"
            why_en = "; " + ", ".join(f"{p.id} ({p.area.name_en})" for p in holding) + " does not cover it"
        else:
            why_zh = f"；可覆盖它的{could_zh}规划未载入（请在 targets.yaml 中加入）"
            why_en = f"; the plan that could hold it, {could_en}'s, is not loaded (add it to targets.yaml)"
        detail_en = f"outside every loaded plan: it is {where_en}{why_en}; loaded plans: {loaded_en}"
        detail_zh = f"不在已载入的任何规划范围内：它是{where_zh}{why_zh}；已载入的规划：{loaded_zh}"
        error = RegionError(f"region {name!r} is {detail_en}", zh=f"地区「{name}」{detail_zh}",
                            reason="outside", candidates=found)
        error.detail = (detail_zh, detail_en)  # what a problem list says after the value it quotes
        return error
