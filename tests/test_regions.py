import pytest

from tracker.domain.regions import RegionError, load_regions


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
