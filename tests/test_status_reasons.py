"""Rules apart from wording: a reason is made from a status code and its figures alone, with
the project's one number format and unit labels; English names regions and states in words."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from test_status import (
    DEADLINE,
    PROVINCE,
    RATIO_INDICATORS,
    REGIONS,
    SETTINGS,
    YEARLY,
    _mismatched_components,
    model,
    month_end,
    obs,
    one,
    steady,
    target,
)

from tracker.domain.model import Indicator, Milestone, MilestoneProgress
from tracker.status.evaluate import evaluate
from tracker.status.model import Status
from tracker.status.reasons import Wording, reason
from tracker.status.rules import misses_target, unreported_periods

CODE = re.compile(r"\b\d{6}\b")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _each_region(value: float = 1, unit: str = "place", reporting: int = 20, **kw) -> Status:
    judged = REGIONS.judged_regions()
    t = target(id="places-each", indicator="places", value=value, unit=unit, scope="each_region", task=2, **kw)
    values = [obs(2, month_end(2025, 6), indicator="places", region=r.code) for r in judged[:reporting]]
    return one(model(t), values, date(2026, 1, 10))


def _milestones(state: str, day: date, as_of: date, note: str = "") -> Status:
    m = model(milestones=[Milestone("ms-1", "hainan", 1, "出台养老服务条例", date(2025, 6, 30))])
    moment = datetime.combine(day, datetime.min.time(), UTC)
    return one(m, [], as_of, [MilestoneProgress("ms-1", state, day, "省民政厅", note, entered_at=moment)])


def scenarios() -> list[Status]:
    """Statuses of every kind of sentence the engine writes."""
    ratio = model(target(value=30.0), indicators=RATIO_INDICATORS)
    soft = target(soft=True, qualifier="力争")
    falling = target(id="wait", indicator="wait_days", comparator="<=", value=10.0, unit="dimensionless")
    uni = target(id="uni", indicator="universities", value=10, unit="institution")
    out = [
        one(model(target()), steady(28, 0.1, last=date(2025, 6, 1)), date(2025, 7, 20)),  # achieved
        one(model(target()), steady(20, 0.1), date(2026, 1, 1)),  # overdue, stale
        one(model(target()), steady(20, 0.1) + [obs(32.5, month_end(2026, 3))], date(2026, 5, 1)),  # late
        one(model(target()), steady(18, 0.25, last=date(2025, 3, 1)), date(2025, 4, 20)),  # on track
        one(model(target()), steady(18, 0.25, last=date(2025, 8, 1)), DEADLINE - timedelta(days=90)),  # due soon
        one(model(target(deadline=None)), steady(18, 0.25, last=date(2025, 8, 1)), date(2025, 9, 20)),
        one(model(target(deadline=date(2026, 12, 31))),
            steady(20, 0.5, first=date(2024, 10, 1), last=date(2025, 3, 1)), date(2025, 5, 30)),  # stale
        one(model(soft), steady(20, 0.1), date(2026, 1, 5)),  # soft, missed
        one(model(falling), steady(40, 0.1, indicator="wait_days", last=date(2025, 3, 1)), date(2025, 4, 15)),
        one(model(target()), [], date(2025, 3, 1)),  # no data
        one(model(target()), [], date(2026, 1, 1)),
        one(ratio, _mismatched_components(), date(2025, 7, 20)),  # partial
        one(ratio, _mismatched_components(), date(2026, 1, 5)),
        one(model(uni, indicators=YEARLY), [obs(6, date(2023, 12, 31), "universities")], date(2026, 3, 1)),
        _each_region(), _each_region(unit="place", soft=True, qualifier="原则上"),
        _milestones("in_progress", date(2025, 1, 5), date(2025, 1, 10), note="已起草"),
        _milestones("not_started", date(2025, 1, 5), date(2025, 1, 10)),
        _milestones("in_progress", date(2025, 5, 1), date(2025, 6, 29)),
        _milestones("in_progress", date(2025, 5, 1), date(2025, 7, 1)),
        _milestones("done", date(2025, 7, 1), date(2025, 7, 2)),
    ]
    regions = {(r.code, r.reason_zh): r for s in out for r in s.regions}  # one of each sentence
    return out + list(regions.values())


ALL = scenarios()


def test_every_scenario_is_a_different_sentence():
    assert len({s.reason_zh for s in ALL if not s.region}) == len([s for s in ALL if not s.region])


@pytest.mark.parametrize("status", ALL, ids=lambda s: f"{s.kind}-{s.code}-{s.region or 'all'}")
def test_a_reason_is_made_from_the_code_and_figures_alone(status):
    """What a stored run or another surface holds (the JSON) words the same sentence."""
    data = json.loads(json.dumps(status.to_dict()))
    again = Status(data["item_id"], data["kind"], data["code"], None, None, data["as_of"], data["region"],
                   data["figures"], soft=data["soft"], words=Wording(REGIONS))
    assert again.reason_zh == status.reason_zh
    assert again.reason_en == status.reason_en


@pytest.mark.parametrize("status", ALL, ids=lambda s: f"{s.kind}-{s.code}-{s.region or 'all'}")
def test_english_reasons_have_no_codes_raw_states_or_chinese_outside_quotes(status):
    en = status.reason_en
    assert not CODE.search(en), en
    assert not re.search(r"\b(in_progress|not_started|each_region|person_time)\b", en), en
    assert not CJK.search(re.sub(r"“[^”]*”", "", en)), en
    assert status.reason_zh.startswith(f"截至{status.as_of}") and en.startswith(f"As of {status.as_of}")


def test_english_names_regions_and_districts_under_their_city():
    s = _each_region(reporting=3)
    district = next(r for r in REGIONS.judged_regions()[3:] if r.level == "district")
    city = REGIONS.get(district.parent)
    assert f"{city.name_en} {district.name_en} District" in s.reason_en
    assert f"{city.name}{district.name}" in s.reason_zh
    assert "and 12 more" in s.reason_en and "等22个" in s.reason_zh


def test_a_partial_province_figure_names_the_missing_regions_in_english():
    s = one(model(target(value=30.0), indicators=RATIO_INDICATORS), _mismatched_components(), date(2025, 7, 20))
    assert "missing Sanya, Danzhou, Wuzhishan" in s.reason_en and "and 8 more" in s.reason_en


def test_english_milestone_states_are_words():
    s = _milestones("in_progress", date(2025, 1, 5), date(2025, 1, 10))
    assert "says it is in progress" in s.reason_en and "最新进展为推进中" in s.reason_zh


def test_one_thing_is_singular_in_english():
    t = target(id="uni", indicator="universities", value=1, unit="institution", deadline=date(2026, 12, 31))
    s = one(model(t, indicators=YEARLY), [obs(1, date(2025, 12, 31), "universities")], date(2026, 3, 1))
    assert s.code == "achieved"
    assert "meets the target (at least 1 institution)" in s.reason_en
    assert "达到目标（不低于 1所）" in s.reason_zh
    soon = _milestones("in_progress", date(2025, 5, 1), date(2025, 6, 29))
    assert "1 day to the deadline" in soon.reason_en


def test_a_gap_between_percentages_is_in_percentage_points():
    share = [Indicator("share", "护理型床位占比", "percent", "percentage", "monthly")]
    t = target(id="share", indicator="share", value=55, unit="percent")
    s = one(model(t, indicators=share), [obs(54.5, month_end(2025, 10), "share")], date(2026, 1, 5))
    assert s.code == "overdue"
    assert "低于目标 55%，差 0.5个百分点" in s.reason_zh
    assert "below the target of 55%, short by 0.5 percentage points" in s.reason_en


def test_a_long_run_of_unreported_periods_is_given_as_a_span():
    s = one(model(target()), steady(20, 0.1, last=date(2023, 5, 1)), date(2026, 1, 31))
    assert s.figures["unreported_periods"][0] == "2023-06" and len(s.figures["unreported_periods"]) == 31
    assert "最新数据为2023-05，2023-06至2025-12（共31期）未报送" in s.reason_zh
    assert "the latest data are for 2023-05; 31 periods, 2023-06 to 2025-12, have not been reported" in s.reason_en


def test_unreported_periods_run_from_after_the_latest_to_the_expected_one():
    assert unreported_periods("quarterly", date(2024, 9, 30).toordinal(), date(2025, 6, 30)) == \
        ["2024Q4", "2025Q1", "2025Q2"]
    assert unreported_periods("yearly", date(2025, 12, 31).toordinal(), date(2025, 12, 31)) == []


@pytest.mark.parametrize("projected, comparator, misses", [
    (15_000 - 750 * 0.999, ">=", False), (15_000 - 750 * 1.001, ">=", True),
    (10 + 0.5 * 0.999, "<=", False), (10 + 0.5 * 1.001, "<=", True),
])
def test_a_projection_misses_only_beyond_the_allowance(projected, comparator, misses):
    goal, allowance = (15_000, 750) if comparator == ">=" else (10, 0.5)
    assert misses_target(projected, comparator, goal, allowance) is misses


def test_with_no_allowance_a_projection_misses_as_the_comparator_says():
    assert not misses_target(15_000, ">=", 15_000, 0.0) and misses_target(15_000, ">", 15_000, 0.0)


def test_a_reason_is_worded_once_when_first_read():
    calls = []

    def words(status: Status, lang: str) -> str:
        calls.append(lang)
        return f"{status.code} in {lang}"

    s = Status("t", "target", "on_track", None, None, "2026-01-01", words=words)
    assert calls == []
    assert s.reason_zh == s.reason_zh == "on_track in zh" and calls == ["zh"]
    assert s.reason("en") == "on_track in en" and calls == ["zh", "en"]


def test_a_given_reason_is_kept_as_given():
    s = Status("t", "target", "achieved", "已达到。", "Met.", "2026-01-01")
    assert (s.reason_zh, s.reason_en) == ("已达到。", "Met.")


def test_the_same_figures_are_worded_by_reason_for_any_language():
    s = evaluate(model(target()), steady(20, 0.1), [], REGIONS, date(2026, 1, 1), SETTINGS)[0]
    assert reason(s, "zh", REGIONS) == s.reason_zh and reason(s, "en", REGIONS) == s.reason_en
    assert s.region is None and PROVINCE == REGIONS.province.code
