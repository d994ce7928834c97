"""The country's divisions (tracker/domain/data/china-regions.csv) and plans' coverage over them."""

import subprocess
import sys
from collections import Counter

import pytest
import yaml

from tracker.domain.regions import (
    NATION_CODE,
    Coverage,
    CoverageError,
    RegionError,
    load_country,
    regions_for,
    short_name,
)


@pytest.fixture(scope="module")
def country():
    return load_country()


def coverage(text: str) -> Coverage:
    return Coverage.from_dict(yaml.safe_load(text))


# --- the data ----------------------------------------------------------------------------

def test_the_mainland_has_31_provinces_333_prefectures_and_2850_counties(country):
    tiers = Counter(d.tier for d in country.all)
    assert tiers == {"nation": 1, "province": 31, "prefecture": 333, "county": 2850}
    kinds = Counter(d.kind for d in country.provinces())
    assert kinds == {"province": 22, "autonomous_region": 5, "municipality": 4}


def test_hong_kong_macao_and_taiwan_are_not_in_the_statistical_codes(country):
    assert not {"810000", "820000", "710000"} & {d.code for d in country.all}


def test_every_division_has_a_parent_one_tier_up_with_the_same_code_prefix(country):
    rank = {"nation": 0, "province": 1, "prefecture": 2, "county": 3}
    codes = [d.code for d in country.all]
    assert len(codes) == len(set(codes)) and all(len(c) == 6 and c.isdigit() for c in codes)
    for d in country.all:
        if d.code == NATION_CODE:
            assert d.parent is None
            continue
        parent = country.get(d.parent)  # exists
        assert rank[parent.tier] < rank[d.tier], d
        if parent.tier != "nation":
            assert d.code[:2] == parent.code[:2], d
        if parent.tier == "prefecture":
            assert d.code[:4] == parent.code[:4], d


def test_no_placeholder_city_or_development_zone_is_a_division(country):
    names = {d.name for d in country.all}
    assert not {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"} & names
    assert not [d for d in country.all if d.tier == "county" and d.code[4] == "7"]  # 开发区 rows
    assert [d.name for d in country.all].count("东莞市") == 1


@pytest.mark.parametrize("code,name,parent,tier,kind", [
    ("330000", "浙江省", NATION_CODE, "province", "province"),
    ("110000", "北京市", NATION_CODE, "province", "municipality"),
    ("450000", "广西壮族自治区", NATION_CODE, "province", "autonomous_region"),
    ("330100", "杭州市", "330000", "prefecture", "prefecture_city"),
    ("330106", "西湖区", "330100", "county", "district"),
    ("330127", "淳安县", "330100", "county", "county"),
    ("330182", "建德市", "330100", "county", "county_city"),
    ("110105", "朝阳区", "110000", "county", "district"),  # a municipality's district: no 市辖区 between
    ("500235", "云阳县", "500000", "county", "county"),  # Chongqing's counties: no 县 between
    ("469001", "五指山市", "460000", "county", "county_city"),  # administered by the province directly
    ("429021", "神农架林区", "420000", "county", "forestry_district"),
    ("419001", "济源市", "410000", "county", "county_city"),
    ("659001", "石河子市", "650000", "county", "county_city"),
    ("441900", "东莞市", "440000", "prefecture", "prefecture_city"),
    ("422800", "恩施土家族苗族自治州", "420000", "prefecture", "autonomous_prefecture"),
    ("152500", "锡林郭勒盟", "150000", "prefecture", "league"),
    ("542500", "阿里地区", "540000", "prefecture", "prefecture"),
    ("150782", "牙克石市", "150700", "county", "county_city"),
    ("152527", "太仆寺旗", "152500", "county", "banner"),
    ("520203", "六枝特区", "520200", "county", "special_district"),
])
def test_spot_checks_of_codes_parents_and_kinds(country, code, name, parent, tier, kind):
    d = country.get(code)
    assert (d.name, d.parent, d.tier, d.kind) == (name, parent, tier, kind)


@pytest.mark.parametrize("code,short,name_en", [
    ("330100", "杭州", "Hangzhou"),
    ("330106", "西湖", "Xihu District"),
    ("330127", "淳安", "Chun'an County"),
    ("450000", "广西", "Guangxi"),
    ("610000", "陕西", "Shaanxi"),
    ("140000", "山西", "Shanxi"),
    ("422800", "恩施", "Enshi Tujia and Miao Autonomous Prefecture"),
    ("220623", "长白", "Changbai Korean Autonomous County"),  # 长白, not 长 + 白族
    ("110105", "朝阳", "Chaoyang District"),  # chao, not zhao
    ("371722", "单县", "Shan County"),  # too short to shorten; 单 read shan
    ("650100", "乌鲁木齐", "Urumqi"),
    ("469025", "白沙", "Baisha"),  # Hainan's names as the tracker always had them
    ("460105", "秀英", "Xiuying"),
])
def test_short_and_english_names(country, code, short, name_en):
    d = country.get(code)
    assert (d.short, d.name_en) == (short, name_en)


@pytest.mark.parametrize("name,short", [("内蒙古自治区", "内蒙古"), ("新疆维吾尔自治区", "新疆"), ("西藏自治区", "西藏"),
                                        ("双江拉祜族佤族布朗族傣族自治县", "双江"), ("龙胜各族自治县", "龙胜"),
                                        ("鄂伦春自治旗", "鄂伦春"), ("浦东新区", "浦东"), ("清新区", "清新"),
                                        ("沙市区", "沙市"), ("城区", "城区"), ("香港特别行政区", "香港")])
def test_short_names_drop_the_suffix_and_the_peoples_of_an_autonomous_area(name, short):
    assert short_name(name) == short


def test_a_county_path_reads_from_the_province_down(country):
    c = country.candidate("330106")
    assert (c.path, c.path_en, c.province) == ("浙江省 杭州市 西湖区", "Xihu District, Hangzhou, Zhejiang", "330000")
    assert country.lookup("浙江省 杭州市 西湖区").code == "330106"  # the path itself is a name


def test_a_city_without_counties_counts_as_its_own_county(country):
    assert [d.code for d in country.counties("441900")] == []  # no children …
    counties = {d.code for d in country.counties("440000")}
    assert {"441900", "442000"} <= counties and "440100" not in counties  # … but counted at county level
    assert len(country.counties(NATION_CODE)) == 2850 + 4  # 东莞, 中山, 儋州, 嘉峪关


# --- names the country shares ------------------------------------------------------------

def test_a_name_of_several_districts_is_refused_naming_them_with_their_parents(country):
    with pytest.raises(RegionError, match="ambiguous") as info:
        country.lookup("鼓楼区")
    paths = [c.path for c in info.value.candidates]
    assert paths == ["江苏省 南京市 鼓楼区", "江苏省 徐州市 鼓楼区", "福建省 福州市 鼓楼区", "河南省 开封市 鼓楼区"]
    assert info.value.reason == "ambiguous" and "南京市鼓楼区" in info.value.zh


@pytest.mark.parametrize("name,codes", [
    ("朝阳区", {"110105", "220104"}),
    ("朝阳", {"110105", "211300", "211321", "220104"}),  # short names of a district, a city, a county
    ("吉林", {"220000", "220200"}),  # the province and the city
    ("Chaoyang District", {"110105", "220104", "440513"}),  # 潮阳区 is Chaoyang District too
])
def test_shared_names_are_never_guessed(country, name, codes):
    with pytest.raises(RegionError) as info:
        country.lookup(name)
    assert {c.code for c in info.value.candidates} == codes


@pytest.mark.parametrize("name,code", [("南京市鼓楼区", "320106"), ("徐州鼓楼区", "320302"), ("北京市朝阳区", "110105"),
                                       ("吉林市", "220200"), ("吉林省", "220000"), ("杭州", "330100"),
                                       ("Hangzhou", "330100"), ("330106", "330106"), ("全国", NATION_CODE)])
def test_a_full_name_or_a_parent_with_the_name_is_one_division(country, name, code):
    assert country.lookup(name).code == code


# --- coverage: a second province ---------------------------------------------------------

@pytest.fixture(scope="module")
def zhejiang():
    return regions_for(coverage("{region: 330000 浙江省, units: children}"))


def test_a_province_covered_by_its_cities(zhejiang):
    assert zhejiang.province.code == "330000"
    assert len(zhejiang.counties()) == 11
    assert {r.kind for r in zhejiang.counties()} == {"prefecture_city"}
    assert len(zhejiang.judged_regions()) == 90  # every city judged through its districts and counties
    assert [r.name for r in zhejiang.children("330100")][:3] == ["上城区", "拱墅区", "西湖区"]
    assert len(zhejiang.children("330100")) == 13


@pytest.mark.parametrize("name,code", [("杭州", "330100"), ("杭州市", "330100"), ("330100", "330100"),
                                       ("Hangzhou", "330100"), ("西湖区", "330106"), ("淳安", "330127"),
                                       ("全省", "330000"), ("浙江", "330000")])
def test_zhejiang_names_resolve_inside_its_coverage(zhejiang, name, code):
    assert zhejiang.lookup(name).code == code  # 西湖区 is one region here, though two in the country


def test_districts_sum_into_their_city_and_cities_into_the_province(zhejiang):
    assert zhejiang.aggregate_code("330106") == "330100"
    assert zhejiang.aggregate_code("330100") == "330000"


def test_each_region_as_the_units_themselves_or_some_through_their_parts():
    by_city = regions_for(coverage("{region: 330000, each_region: units}"))
    assert [r.code for r in by_city.judged_regions()] == [r.code for r in by_city.counties()]
    two = regions_for(coverage("{region: 330000, each_region: {parts_of: [330100 杭州市, 330200]}}"))
    assert len(two.judged_regions()) == 9 + 13 + 10  # nine cities, Hangzhou's 13 and Ningbo's 10


def test_a_province_whose_counties_report_directly():
    counties = regions_for(coverage("{region: 330000, units: counties, each_region: units}"))
    assert len(counties.counties()) == 90 and len(counties.judged_regions()) == 90
    groups = [r for r in counties.all if r.level == "group"]
    assert len(groups) == 11 and counties.lookup("西湖区").parent == "330100"
    assert counties.lookup("杭州市西湖区").code == "330106"


def test_a_city_plan_covers_its_districts_and_counties():
    hangzhou = regions_for(coverage("{region: 330100, units: children, each_region: units}"))
    assert hangzhou.province.name == "杭州市" and len(hangzhou.counties()) == 13
    assert hangzhou.lookup("全市").code == "330100"


def test_the_country_covered_by_its_provinces():
    nation = regions_for(coverage("{region: 100000, units: children, each_region: units}"))
    assert len(nation.counties()) == 31 and nation.lookup("全国").code == NATION_CODE
    assert nation.lookup("海南省").code == "460000"
    with pytest.raises(RegionError, match="ambiguous"):  # the province, or Qinghai's 海南藏族自治州
        nation.lookup("海南")


def test_within_a_plan_a_name_two_of_its_regions_share_is_refused():
    jiangsu = regions_for(coverage("{region: 320000, units: counties}"))
    with pytest.raises(RegionError, match="ambiguous") as info:
        jiangsu.lookup("鼓楼区")
    assert [c.path for c in info.value.candidates] == ["江苏省 南京市 鼓楼区", "江苏省 徐州市 鼓楼区"]
    assert jiangsu.lookup("南京市鼓楼区").code == "320106"


def test_outside_another_provinces_coverage_says_where_the_region_is(zhejiang):
    with pytest.raises(RegionError, match="not covered by the plan") as info:
        zhejiang.lookup("海口")
    assert info.value.reason == "outside"
    assert [(c.province, c.path) for c in info.value.candidates] == [("460000", "海南省 海口市")]
    with pytest.raises(RegionError) as info:  # four 鼓楼区 elsewhere, none in Zhejiang
        zhejiang.lookup("鼓楼区")
    assert info.value.reason == "outside" and len(info.value.candidates) == 4


# --- coverage declarations refused -------------------------------------------------------

@pytest.mark.parametrize("text,message", [
    ("{units: children}", "coverage.region: missing"),
    ("{region: 330000, unit: children}", "unknown key(s) unit"),
    ("{region: 339999}", "coverage.region: no division has the code 339999"),
    ("{region: 33000}", "not a division code"),
    ("{region: 460000, exclude: [460200 三沙市]}", "coverage.exclude[0]: 460200 is 三亚市, not 三沙市"),
    ("{region: 460000, exclude: [330106]}", "coverage.exclude[0]: 浙江省 杭州市 西湖区 (330106) is not within 海南省"),
    ("{region: 460000, units: cities}", "coverage.units: 'cities'; accepted: children, counties"),
    ("{region: 460000, each_region: {parts_of: [460105]}}", "parts_of[0]: 秀英区 (460105) is not one of the plan's units"),
    ("{region: 460000, each_region: all}", "coverage.each_region: 'all'; accepted: units, parts"),
    ("{region: 460000, add: [{code: 460100, name: 海口, name_en: Haikou}]}", "add[0]: 460100 is already 海口市"),
    ("{region: 460000, add: [{code: 469098, name: 某园区}]}", "add[0]: missing name_en"),
])
def test_a_bad_coverage_names_the_field_and_what_is_accepted(text, message):
    with pytest.raises(CoverageError) as info:
        coverage(text)
    assert any(message in p for p in info.value.problems), info.value.problems


# --- loading -----------------------------------------------------------------------------

def test_tracker_help_does_not_load_the_country():
    code = ("import sys; sys.argv = ['tracker', '--help']\n"
            "import tracker.cli\n"
            "try:\n    tracker.cli.main()\nexcept SystemExit:\n    pass\n"
            "m = sys.modules.get('tracker.domain.regions')\n"
            "print('loaded' if m and m.load_country.cache_info().currsize else 'not loaded')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("not loaded")
