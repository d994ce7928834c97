"""Regenerate tracker/domain/data/china-regions.csv from the pinned source.

    npm pack china-division@2.7.0 && mkdir src && tar xzf china-division-2.7.0.tgz -C src
    pip install pypinyin==0.55.0
    python scripts/build_regions.py --source src/package            # writes the CSV
    python scripts/build_regions.py --source src/package --check    # fails if it would change

The source is modood/Administrative-divisions-of-China as published on npm (china-division
2.7.0, WTFPL): the National Bureau of Statistics' 2023 statistical division codes (统计用区划代码,
as of 2023-06-30), of which the province, prefecture and county levels are used. What this
script changes, and why:

- The source's placeholder cities (市辖区 and 县 of the municipalities, 省/自治区直辖县级行政区划)
  are no divisions: their counties are put under the province itself, as GB/T 2260 has them.
- County-level rows coded x7xx (开发区, 园区, 新区 such as 石家庄高新技术产业开发区: 124 rows) are
  statistical units, not administrative divisions: left out. A plan where one reports adds it
  in its coverage, as Hainan's adds 洋浦经济开发区.
- A city without counties (东莞市, 中山市, 儋州市, 嘉峪关市) appears in the source again at the
  county level under its own name; that repeat is dropped (the city is one division).
- One row for the country itself (100000 全国), the root of the tree.
- Short and English names are made here (the source has neither): the short name by
  tracker.domain.regions.short_name, the English name from pinyin (pypinyin) with the usual
  suffixes (Xihu District, Chun'an County, Enshi Tujia and Miao Autonomous Prefecture; cities
  bare), corrected by scripts/region-names.yaml (Hainan's names as the tracker always had them,
  provinces, places whose English name is not pinyin, polyphones).
This script is not run at install or test time; it needs pypinyin, which the tracker does not.
"""

import argparse
import csv
import io
import json
import sys
from pathlib import Path

import yaml
from pypinyin import Style, lazy_pinyin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tracker.domain.regions import ETHNIC_GROUPS, NATION_CODE, short_name, split_autonomous

OUT = ROOT / "tracker" / "domain" / "data" / "china-regions.csv"
NAMES = Path(__file__).resolve().parent / "region-names.yaml"
SOURCE = ("china-division", "2.7.0")
PLACEHOLDER_CITIES = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
ETHNIC_EN = {
    "蒙古": "Mongolian", "回": "Hui", "藏": "Tibetan", "维吾尔": "Uygur", "苗": "Miao", "彝": "Yi", "壮": "Zhuang",
    "布依": "Bouyei", "朝鲜": "Korean", "满": "Manchu", "侗": "Dong", "瑶": "Yao", "白": "Bai", "土家": "Tujia",
    "哈尼": "Hani", "哈萨克": "Kazak", "傣": "Dai", "黎": "Li", "傈僳": "Lisu", "佤": "Va", "畲": "She",
    "高山": "Gaoshan", "拉祜": "Lahu", "水": "Shui", "东乡": "Dongxiang", "纳西": "Naxi", "景颇": "Jingpo",
    "柯尔克孜": "Kirgiz", "土": "Tu", "达斡尔": "Daur", "仫佬": "Mulao", "羌": "Qiang", "布朗": "Blang",
    "撒拉": "Salar", "毛南": "Maonan", "仡佬": "Gelao", "锡伯": "Xibe", "阿昌": "Achang", "普米": "Pumi",
    "塔吉克": "Tajik", "怒": "Nu", "乌孜别克": "Uzbek", "俄罗斯": "Russian", "鄂温克": "Ewenki", "德昂": "Deang",
    "保安": "Bonan", "裕固": "Yugur", "京": "Gin", "塔塔尔": "Tatar", "独龙": "Derung", "鄂伦春": "Oroqen",
    "赫哲": "Hezhen", "门巴": "Monba", "珞巴": "Lhoba", "基诺": "Jino",
}
# kind -> (Chinese suffix of the name, English suffix)
SUFFIX = {
    "province": ("省", ""), "municipality": ("市", ""), "autonomous_region": ("自治区", " Autonomous Region"),
    "prefecture_city": ("市", ""), "prefecture": ("地区", " Prefecture"),
    "autonomous_prefecture": ("自治州", " Autonomous Prefecture"), "league": ("盟", " League"),
    "district": ("区", " District"), "county_city": ("市", ""), "county": ("县", " County"),
    "autonomous_county": ("自治县", " Autonomous County"), "banner": ("旗", " Banner"),
    "autonomous_banner": ("自治旗", " Autonomous Banner"), "special_district": ("特区", " Special District"),
    "forestry_district": ("林区", " Forestry District"), "islands": ("群岛", " Islands"),
    "administrative_committee": ("行政委员会", " Administrative Committee"),
}
# Characters pypinyin reads otherwise than place names do (朝阳 Chaoyang, 长治 Changzhi, 成都
# Chengdu, 锡林郭勒 Xilinguole, 喀什 Kashi); the exceptions are in region-names.yaml's pinyin.
PLACE_READINGS = {"长": "chang", "朝": "chao", "都": "du", "勒": "le", "什": "shi", "柏": "bai", "佛": "fo",
                  "卡": "ka", "棱": "ling", "乐": "le"}
KIND_BY_CODE = {"429021": "forestry_district", "520203": "special_district"}


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


def province_kind(name: str) -> str:
    if name in MUNICIPALITIES:
        return "municipality"
    return "autonomous_region" if name.endswith("自治区") else "province"


def prefecture_kind(name: str) -> str:
    for suffix, kind in (("自治州", "autonomous_prefecture"), ("地区", "prefecture"), ("盟", "league")):
        if name.endswith(suffix):
            return kind
    return "prefecture_city"


def county_kind(code: str, name: str) -> str:
    if code in KIND_BY_CODE:
        return KIND_BY_CODE[code]
    for suffix, kind in (("自治县", "autonomous_county"), ("自治旗", "autonomous_banner"), ("旗", "banner"),
                         ("县", "county"), ("市", "county_city"), ("区", "district"), ("群岛", "islands"),
                         ("海域", "islands"), ("行政委员会", "administrative_committee")):
        if name.endswith(suffix):
            return kind
    raise ValueError(f"{code} {name}: no kind for this name; add it to KIND_BY_CODE")


def romanize(text: str) -> str:
    """Pinyin as place names are written: one word, capitalised, an apostrophe before a
    syllable that starts with a vowel (Ding'an, Xi'an)."""
    syllables = [PLACE_READINGS.get(c, s) for c, s in zip(text, lazy_pinyin(text, style=Style.NORMAL, v_to_u=True))]
    word = syllables[0]
    for s in syllables[1:]:
        word += ("'" if s[:1] in "aoe" else "") + s
    return word[:1].upper() + word[1:]


def ethnic_english(text: str) -> str:
    """蒙古族藏族 -> "Mongolian and Tibetan"; 拉祜族佤族布朗族傣族 -> "Lahu, Va, Blang and Dai"."""
    if text == "各族":  # 龙胜各族自治县
        return "Various Nationalities"
    names = []
    while text:
        group = next((g for g in ETHNIC_GROUPS if text.startswith(g)), None)
        if group is None:
            raise ValueError(f"no ethnic group at {text!r}")
        names.append(ETHNIC_EN[group])
        text = text[len(group):].removeprefix("族")
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def english(code: str, name: str, kind: str, pinyin: dict[str, str]) -> str:
    zh_suffix, en_suffix = SUFFIX[kind]
    if kind.startswith("autonomous_"):
        parts = split_autonomous(name)
        if parts is None:  # 鄂伦春自治旗: the place is named after its people
            return f"{ethnic_english(name.removesuffix(zh_suffix))}{en_suffix}"
        return f"{pinyin.get(code) or romanize(parts[0])} {ethnic_english(parts[1])}{en_suffix}"
    if kind == "district" and name.endswith("矿区"):
        zh_suffix, en_suffix = "矿区", " Mining District"
    stem = name.removesuffix(zh_suffix) or name
    base = pinyin.get(code) or romanize(stem)
    return f"{base}{en_suffix}"


def build(source: Path) -> list[list[str]]:
    package = json.loads((source / "package.json").read_text(encoding="utf-8"))
    if (package["name"], package["version"]) != SOURCE:
        raise SystemExit(f"{source}: expected {SOURCE[0]} {SOURCE[1]}, found {package['name']} {package['version']}")
    names = yaml.safe_load(NAMES.read_text(encoding="utf-8"))
    name_en = {str(k): v for k, v in (names.get("name_en") or {}).items()}
    short = {str(k): v for k, v in (names.get("short") or {}).items()}
    pinyin = {str(k): v for k, v in (names.get("pinyin") or {}).items()}
    dist = source / "dist"
    rows: list[tuple[str, str | None, str, str, str]] = [(NATION_CODE, None, "nation", "nation", "全国")]
    for p in read_csv(dist / "provinces.csv"):
        rows.append((p["code"] + "0000", NATION_CODE, "province", province_kind(p["name"]), p["name"]))
    cities = {c["code"]: c for c in read_csv(dist / "cities.csv")}
    for c in cities.values():
        if c["name"] not in PLACEHOLDER_CITIES:
            rows.append((c["code"] + "00", c["provinceCode"] + "0000", "prefecture", prefecture_kind(c["name"]),
                         c["name"]))
    for a in read_csv(dist / "areas.csv"):
        code, city = a["code"], cities[a["cityCode"]]
        if code[4] == "7":
            continue  # a development zone, not a division
        if a["name"] == city["name"]:
            continue  # a city without counties, repeated at the county level
        parent = a["provinceCode"] + "0000" if city["name"] in PLACEHOLDER_CITIES else city["code"] + "00"
        rows.append((code, parent, "county", county_kind(code, a["name"]), a["name"]))
    rows.sort(key=lambda r: r[0])
    out = []
    for code, parent, tier, kind, name in rows:
        if code == NATION_CODE:
            out.append([code, "", tier, kind, name, "全国", "China"])
            continue
        out.append([code, parent or "", tier, kind, name, short.get(code) or short_name(name),
                    name_en.get(code) or english(code, name, kind, pinyin)])
    return out


def render(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    buf.write("# China's province-, prefecture- and county-level divisions. Generated by scripts/build_regions.py;\n"
              "# do not edit by hand. Source: china-division 2.7.0 (npm; modood/Administrative-divisions-of-China,\n"
              "# WTFPL), the National Bureau of Statistics' 2023 statistical division codes, as of 2023-06-30.\n"
              "# See README.md beside this file.\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["code", "parent", "tier", "kind", "name", "short", "name_en"])
    w.writerows(rows)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True, type=Path, help="the unpacked china-division 2.7.0 package")
    ap.add_argument("--check", action="store_true", help="fail if the file would change")
    args = ap.parse_args()
    text = render(build(args.source))
    if args.check:
        if OUT.read_text(encoding="utf-8") != text:
            raise SystemExit(f"{OUT} is out of date; run without --check")
        print(f"{OUT}: up to date")
        return
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({text.count(chr(10)) - 5} divisions)")


if __name__ == "__main__":
    main()
