from pathlib import Path

import pytest

from tracker.domain.regions import CoverageError, RegionError, load_regions


@pytest.fixture
def regions():
    return load_regions()


@pytest.mark.parametrize("name", ["460100", "海口市", "海口", "Haikou", "haikou", "HAIKOU", "４６０１００",
                                  " 海口市 ", "460100.0"])
def test_it_finds_haikou_by_any_of_its_names(regions, name):
    assert regions.lookup(name).code == "460100"


@pytest.mark.parametrize("name,code", [
    ("琼中", "469030"), ("琼中黎族苗族自治县", "469030"), ("Ding'an", "469021"), ("dingan", "469021"),
    ("洋浦", "469099"), ("Yangpu", "469099"), ("Yangpu EDZ", "469099"), ("秀英区", "460105"),
    ("崖州", "460205"), ("海南", "460000"), ("全省", "460000"), ("Hainan", "460000"),
])
def test_it_finds_short_english_and_province_names(regions, name, code):
    assert regions.lookup(name).code == code


def test_the_plan_covers_18_cities_and_counties_plus_yangpu_not_sansha(regions):
    counties = regions.counties()
    assert len(counties) == 19
    assert "洋浦经济开发区" in {r.name for r in counties}
    assert "三沙市" not in {r.name for r in regions.all}


@pytest.mark.parametrize("name", ["三沙", "三沙市", "Sansha", "sansha", "460300"])
def test_sansha_is_refused_as_excluded_not_unknown(regions, name):
    with pytest.raises(RegionError, match="not covered by the plan"):
        regions.lookup(name)


@pytest.mark.parametrize("typo,meant", [("白沙县", "白沙黎族自治县"), ("Haikuo", "海口市"), ("琼海x", "琼海市")])
def test_near_misses_get_a_suggestion(regions, typo, meant):
    with pytest.raises(RegionError, match="did you mean"):
        regions.lookup(typo)
    assert regions.closest(typo).name == meant


def test_haikou_and_sanya_are_judged_through_their_districts(regions):
    judged = {r.name for r in regions.judged_regions()}
    assert {"秀英区", "崖州区", "儋州市"} <= judged
    assert "海口市" not in judged and "三亚市" not in judged
    assert len(judged) == 19 - 2 + 8


def test_districts_sum_into_their_city_and_counties_into_the_province(regions):
    assert regions.aggregate_code("460105") == "460100"
    assert regions.aggregate_code("469030") == "460000"
    assert regions.aggregate_code("460000") is None


# --- Hainan as a coverage over the country's data ---------------------------------------

LEGACY = Path(__file__).parent / "fixtures" / "hainan-regions-legacy.yaml"


def _rows(regions):
    return [(r.code, r.name, r.name_en, r.kind, r.parent, r.level, r.short) for r in regions]


def test_hainan_from_the_country_is_the_hainan_file_it_replaced(regions):
    legacy = load_regions(str(LEGACY))  # the one-province file tracker shipped before
    assert _rows(regions.all) == _rows(legacy.all)
    assert _rows(regions.judged_regions()) == _rows(legacy.judged_regions())
    assert [r.code for r in regions.excluded] == [r.code for r in legacy.excluded] == ["460300"]


def test_the_exclusion_and_yangpu_are_the_coverage_data_not_code(tmp_path):
    text = (Path(__file__).parent.parent / "tracker/domain/data/hainan-coverage.yaml").read_text(encoding="utf-8")
    assert "exclude: [460300 三沙市]" in text and "469099" in text
    plain = tmp_path / "plain.yaml"
    plain.write_text("coverage: {region: 460000, units: children}\n", encoding="utf-8")
    every = load_regions(str(plain))
    assert "三沙市" in {r.name for r in every.counties()} and "洋浦经济开发区" not in {r.name for r in every.all}
    assert every.lookup("西沙群岛").parent == "460300"


def test_a_yangpu_code_given_alone_is_refused_with_how_to_add_it(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("coverage: {region: 460000, add: [469099 洋浦经济开发区]}\n", encoding="utf-8")
    with pytest.raises(CoverageError, match=r"add\[0\]: no division has the code 469099; .*name_en"):
        load_regions(str(bad))


@pytest.mark.parametrize("name,code", [("海口市 秀英区", "460105"), ("海口秀英", "460105"),
                                       ("Haikou Xiuying", "460105"), ("三亚市崖州区", "460205")])
def test_a_district_is_also_found_with_its_city(regions, name, code):
    assert regions.lookup(name).code == code


def test_a_region_of_another_province_is_refused_with_where_it_is(regions):
    with pytest.raises(RegionError, match="not covered by the plan") as info:
        regions.lookup("杭州市西湖区")
    err = info.value
    assert err.reason == "outside"
    assert [(c.code, c.province, c.path) for c in err.candidates] == [("330106", "330000", "浙江省 杭州市 西湖区")]
    assert "浙江省 杭州市 西湖区" in err.zh and "Xihu District, Hangzhou, Zhejiang (330106)" in str(err)


def test_a_name_of_several_regions_elsewhere_names_them_all(regions):
    with pytest.raises(RegionError) as info:
        regions.lookup("西湖区")
    assert info.value.reason == "outside"
    assert {c.province for c in info.value.candidates} == {"330000", "360000"}  # Zhejiang and Jiangxi
    assert "江西省 南昌市 西湖区" in info.value.zh


def test_a_name_in_the_plan_wins_over_the_same_name_elsewhere(regions):
    assert regions.lookup("龙华区").code == "460106"  # not Shenzhen's 440309
    assert regions.lookup("Longhua").code == "460106"


def test_a_name_known_nowhere_is_still_unknown_with_a_suggestion(regions):
    with pytest.raises(RegionError, match="unknown region 'Haikuo' \\(did you mean Haikou\\?\\)") as info:
        regions.lookup("Haikuo")
    assert info.value.reason == "unknown" and "未知地区" in info.value.zh


def test_an_island_of_sansha_is_refused_as_excluded(regions):
    with pytest.raises(RegionError, match=r"not covered by the plan \(三沙市: excluded\)") as info:
        regions.lookup("西沙群岛")
    assert info.value.reason == "excluded"
