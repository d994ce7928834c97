"""The status engine: each status at its edges, with the reason a person reads."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from freezegun import freeze_time

from tracker.cli.main import cli
from tracker.config import StatusSettings
from tracker.domain.model import (
    Indicator,
    Milestone,
    MilestoneProgress,
    Observation,
    Plan,
    ResponsibleUnit,
    Target,
    TargetsModel,
    Task,
)
from tracker.domain.periods import period_containing
from tracker.domain.regions import load_regions
from tracker.status.engine import STATUS_LABELS, evaluate, series_from_observations

SHANGHAI = timezone(timedelta(hours=8))
REGIONS = load_regions()
PROVINCE = REGIONS.province.code
PLAN_START = date(2021, 1, 1)
DEADLINE = date(2025, 12, 31)
SETTINGS = StatusSettings(tolerance=0.05, due_soon_days=90, grace_days=30, recent_points=6)


def month_end(year: int, month: int) -> date:
    return period_containing(date(year, month, 1), "month").end


def obs(value: float, end: date, indicator: str = "beds", region: str = PROVINCE,
        entered: datetime | None = None, revision: int = 1) -> Observation:
    """A value entered ten days after its period ended, unless said otherwise."""
    moment = entered or datetime.combine(end + timedelta(days=10), datetime.min.time(), UTC)
    return Observation(indicator, region, end, value, moment, revision=revision)


def model(*targets: Target, indicators: list[Indicator] | None = None,
          milestones: list[Milestone] | None = None) -> TargetsModel:
    return TargetsModel(
        plans=[Plan("hainan", "海南省实施方案", "海南省人民政府", "province", PROVINCE, PLAN_START,
                    DEADLINE, "seeds/hainan-task-table.txt")],
        indicators=indicators or [
            Indicator("beds", "每千名老年人口养老床位数", "bed / kiloperson", "ratio", "monthly"),
            Indicator("places", "托位数", "place", "count", "monthly"),
            Indicator("trainees", "培训养老护理员", "person_time", "flow", "monthly"),
            Indicator("wait_days", "平均等待天数", "dimensionless", "count", "monthly"),
        ],
        tasks=[Task("hainan", 1, "养老床位", (ResponsibleUnit("省民政厅", "lead"),)),
               Task("hainan", 2, "托育", (ResponsibleUnit("省卫生健康委", "lead"),))],
        targets=list(targets), milestones=milestones or [])


def target(**kw) -> Target:
    base = {"id": "beds-2025", "plan": "hainan", "task": 1, "indicator": "beds", "comparator": ">=",
            "value": 32.0, "unit": "bed / kiloperson", "deadline": DEADLINE}
    base.update(kw)
    return Target(**base)


def one(m: TargetsModel, observations, as_of: date, progress=(), settings=SETTINGS):
    statuses = evaluate(m, list(observations), list(progress), REGIONS, as_of, settings)
    assert len(statuses) == 1
    return statuses[0]


def steady(start: float, step: float, first: date = date(2021, 1, 1), last: date = date(2025, 10, 1),
           **kw) -> list[Observation]:
    """Monthly values rising by `step` from `start`, one per month from `first` to `last`."""
    out, day, value = [], first, start
    while day <= last:
        end = period_containing(day, "month").end
        out.append(obs(value, end, **kw))
        value += step
        day = end + timedelta(days=1)
    return out


# --- achieved, achieved late, overdue: the deadline day in Asia/Shanghai -------------------

def test_achieved_when_latest_value_by_deadline_meets_target():
    s = one(model(target()), steady(28, 0.1, last=date(2025, 6, 1)), date(2025, 7, 20))
    assert s.code == "achieved"
    assert "已完成" in s.reason_zh and "33.3张/千人（2025-06）" in s.reason_zh
    assert "achieved" in s.reason_en
    assert s.figures["latest"] == pytest.approx(28 + 0.1 * 53)


def test_overdue_only_after_the_end_of_the_deadline_day():
    values = steady(20, 0.1)  # 2025-10 value is 25.7: short of 32
    on_the_day = one(model(target()), values, DEADLINE)
    day_after = one(model(target()), values, DEADLINE + timedelta(days=1))
    assert on_the_day.code != "overdue"
    assert day_after.code == "overdue"
    assert day_after.reason_zh == (
        "截至2026-01-01，期限 2025-12-31 已过，最新值 25.7张/千人（2025-10），低于目标 32张/千人，"
        "差 6.3张/千人；最新数据为2025-10，2025-11未报送，逾期未完成。")
    assert "overdue" in day_after.reason_en and "short by 6.3 beds per 1,000" in day_after.reason_en


def test_achieved_late_names_the_period_it_was_met():
    values = steady(20, 0.1) + [obs(32.5, month_end(2026, 3))]
    s = one(model(target()), values, date(2026, 5, 1))
    assert s.code == "achieved_late"
    assert s.figures["achieved_period"] == "2026-03"
    assert "2026-03 数值 32.5张/千人达到目标（不低于 32张/千人），逾期完成" in s.reason_zh


def test_year_end_value_entered_after_the_deadline_counts_on_time_once_seen():
    late = obs(33.0, month_end(2025, 12), entered=datetime(2026, 1, 10, 9, 0, tzinfo=SHANGHAI))
    values = steady(20, 0.1) + [late]
    m = model(target())
    assert one(m, values, date(2026, 1, 9)).code == "overdue"  # not known yet
    seen = one(m, values, date(2026, 1, 10))
    assert seen.code == "achieved"
    assert "期限 2025-12-31 前最新值 33张/千人（2025-12）" in seen.reason_zh


def test_a_value_is_known_from_the_moment_it_is_entered_in_shanghai_time():
    late = obs(33.0, month_end(2025, 12), entered=datetime(2026, 1, 10, 23, 59, tzinfo=SHANGHAI))
    after_midnight = obs(33.0, month_end(2025, 12), entered=datetime(2026, 1, 10, 16, 0, tzinfo=UTC))
    m = model(target())
    assert one(m, steady(20, 0.1) + [late], date(2026, 1, 10)).code == "achieved"
    assert one(m, steady(20, 0.1) + [after_midnight], date(2026, 1, 10)).code == "overdue"


def test_leap_day_deadline():
    t = target(value=31.0, deadline=date(2024, 2, 29))
    values = steady(20, 0.3, last=date(2024, 1, 1))  # on track: 30.8 in 2024-01
    assert one(model(t), values, date(2024, 2, 29)).code == "due_soon"
    after = one(model(t), values, date(2024, 3, 1))
    assert after.code == "overdue"
    assert "期限 2024-02-29 已过" in after.reason_zh
    met = values + [obs(32, date(2024, 2, 29), entered=datetime(2024, 2, 29, 23, 59, tzinfo=SHANGHAI))]
    assert one(model(t), met, date(2024, 2, 29)).code == "achieved"


def test_a_later_revision_is_not_seen_before_it_was_entered():
    first = obs(25.0, month_end(2025, 6))
    fixed = obs(33.0, month_end(2025, 6), entered=datetime(2025, 9, 1, tzinfo=SHANGHAI), revision=2)
    m = model(target())
    assert one(m, [first, fixed], date(2025, 8, 31)).figures["latest"] == 25.0
    assert one(m, [first, fixed], date(2025, 9, 1)).code == "achieved"


# --- before the deadline: on track, lagging, due soon ----------------------------------------

def _trajectory_case(offset: float) -> tuple[TargetsModel, list[Observation], float]:
    """A stated baseline 20 at the end of 2020 and one value mid-2023 `offset` off the straight
    line to 30 at the deadline (one point: no trend, only the trajectory judges)."""
    t = target(value=30.0, baseline=20.0, baseline_period="2020")
    day = date(2023, 6, 30)
    t0 = date(2020, 12, 31)
    expected = 20 + 10 * (day - t0).days / (DEADLINE - t0).days
    return model(t), [obs(expected + offset, day)], expected


def test_on_track_within_tolerance_of_the_trajectory():
    m, values, expected = _trajectory_case(-0.49)  # tolerance: 5% of the 10 gap = 0.5
    s = one(m, values, date(2023, 7, 20))
    assert s.code == "on_track"
    assert s.figures["expected"] == pytest.approx(expected)
    assert f"按计划进度此时应达 {round(expected, 2):g}" in s.reason_zh
    assert "数据点不足，无法推算趋势" in s.reason_zh and "进展正常" in s.reason_zh


def test_lagging_beyond_tolerance_of_the_trajectory():
    m, values, _ = _trajectory_case(-0.51)
    s = one(m, values, date(2023, 7, 20))
    assert s.code == "lagging"
    assert "落后 0.51" in s.reason_zh and s.reason_zh.endswith("进度滞后。")


def test_lagging_when_the_recent_trend_misses_the_target_though_on_the_line():
    # on the straight line from 20 (2021-01) to 32 (2025-12) until 2024-12, then flat
    line = [obs(20 + 12 * i / 59, month_end(2021 + i // 12, i % 12 + 1)) for i in range(48)]
    flat = [obs(line[-1].value, month_end(2025, m)) for m in (1, 2)]
    s = one(model(target()), line + flat, date(2025, 3, 20))
    assert s.figures["expected"] - s.figures["latest"] < 0.05 * 12  # still within tolerance
    assert s.code == "lagging"
    assert s.figures["projected"] < 32
    assert f"按近期趋势预计 2025-12-31 达到 {round(s.figures['projected'], 2):g}" in s.reason_zh


def test_on_track_gives_projection_and_the_date_the_trend_reaches_the_target():
    s = one(model(target()), steady(18, 0.25, last=date(2025, 3, 1)), date(2025, 4, 20))
    assert s.code == "on_track"
    reach = date.fromisoformat(s.figures["projected_date"])
    assert date(2025, 4, 20) <= reach <= DEADLINE
    assert s.figures["projected"] >= 32
    assert f"约 {reach} 达到目标" in s.reason_zh
    assert s.figures["progress_band"] == "substantial" and s.figures["progress_method"] == "growth_rate"


def test_due_soon_within_the_window_and_not_met():
    values = steady(18, 0.25, last=date(2025, 8, 1))  # on track: 2025-08 value is 31.75
    assert one(model(target()), values, DEADLINE - timedelta(days=91)).code == "on_track"
    s = one(model(target()), values, DEADLINE - timedelta(days=90))
    assert s.code == "due_soon"
    assert "距期限 2025-12-31 还有 90 天，尚未达标，临期" in s.reason_zh


# --- no data and stale -----------------------------------------------------------------------

def test_no_data_is_its_own_status_never_zero():
    s = one(model(target(indicator="places", comparator="<=", value=5.0, unit="place")), [],
            date(2025, 3, 1))
    assert s.code == "no_data"  # a missing value is not 0, which would meet "<= 5"
    assert s.reason_zh == "截至2025-03-01，未报送任何数据。"
    after = one(model(target()), [], date(2026, 1, 1))
    assert after.code == "overdue" and "未报送任何数据" in after.reason_zh


def test_stale_after_the_grace_period_for_the_expected_period():
    values = steady(20, 0.5, first=date(2024, 10, 1), last=date(2025, 3, 1))  # to 2025-03
    m = model(target(deadline=date(2026, 12, 31)))
    # 2025-05-29 minus 30 days is 2025-04-29: the latest closed month is 2025-03, reported
    assert one(m, values, date(2025, 5, 29)).code == "on_track"
    s = one(m, values, date(2025, 5, 30))  # now 2025-04 is due
    assert s.code == "stale"
    assert "最新数据为2025-03，2025-04未报送，数据过期" in s.reason_zh
    assert s.figures["unreported_periods"] == ["2025-04"]


def test_stale_data_is_never_on_track_even_when_the_trend_is_good():
    values = steady(20, 0.5, first=date(2024, 10, 1), last=date(2025, 3, 1))
    codes = {one(model(target(deadline=date(2026, 12, 31))), values, date(2025, 5, 30) + timedelta(days=d)).code
             for d in range(0, 200, 20)}
    assert "on_track" not in codes


# --- soft and falling targets ----------------------------------------------------------------

def test_soft_target_missed_is_flagged_as_soft():
    soft = target(soft=True, qualifier="力争")
    s = one(model(soft), steady(20, 0.1), date(2026, 1, 5))
    hard = one(model(target()), steady(20, 0.1), date(2026, 1, 5))
    assert s.code == hard.code == "overdue"
    assert s.soft and not hard.soft
    assert s.display_label() == "逾期未完成（力争）" and hard.display_label() == "逾期未完成"
    assert "力争目标，未达到" in s.reason_zh and "力争" not in hard.reason_zh
    assert "soft target" in s.reason_en


def test_soft_target_met_reads_like_any_other():
    s = one(model(target(soft=True, qualifier="力争")), steady(28, 0.1, last=date(2025, 6, 1)), date(2025, 7, 20))
    assert s.code == "achieved" and s.display_label() == "已完成" and "力争" not in s.reason_zh


def test_at_most_target_must_fall():
    t = target(id="wait", indicator="wait_days", comparator="<=", value=10.0, unit="dimensionless")
    falling = steady(40, -0.55, indicator="wait_days", last=date(2025, 3, 1))  # reaches 12.5
    rising = steady(40, 0.1, indicator="wait_days", last=date(2025, 3, 1))
    assert one(model(t), falling, date(2025, 4, 15)).code == "on_track"
    s = one(model(t), rising, date(2025, 4, 15))
    assert s.code == "lagging"
    assert "高于目标上限 10，超出" in s.reason_zh and "above the ceiling" in s.reason_en
    met = one(model(t), falling + [obs(9.5, month_end(2025, 4), indicator="wait_days")], date(2025, 5, 15))
    assert met.code == "achieved" and "达到目标（不高于 10）" in met.reason_zh


# --- per-region, cumulative and ratio targets ------------------------------------------------

def test_each_region_target_judges_every_region_and_summarises():
    judged = REGIONS.judged_regions()
    t = target(id="places-each", indicator="places", comparator=">=", value=1, unit="place",
               scope="each_region", task=2)
    meeting = judged[:15]
    values = [obs(2, month_end(2025, 6), indicator="places", region=r.code) for r in meeting]
    values += [obs(0, month_end(2025, 6), indicator="places", region=r.code) for r in judged[15:20]]
    s = one(model(t), values, date(2026, 1, 10))
    assert len(s.regions) == len(judged) == 25
    assert s.figures["met"] == "15/25"
    assert s.code == "overdue"
    assert s.reason_zh.startswith("截至2026-01-10，15/25 市县（区）达标；未达标：")
    assert judged[15].name in s.reason_zh and judged[0].name not in s.reason_zh
    by_region = {r.region: r.code for r in s.regions}
    assert by_region[judged[0].code] == "achieved"
    assert by_region[judged[15].code] == "overdue" and by_region[judged[24].code] == "overdue"
    assert "逾期未完成 10" in s.reason_zh


def test_each_region_target_met_only_when_every_region_meets_it():
    judged = REGIONS.judged_regions()
    t = target(id="places-each", indicator="places", comparator=">=", value=1, unit="place",
               scope="each_region", task=2)
    values = [obs(1, month_end(2025, 6), indicator="places", region=r.code) for r in judged]
    assert one(model(t), values, date(2026, 1, 10)).code == "achieved"
    assert one(model(t), values[:-1], date(2026, 1, 10)).code == "overdue"


def test_cumulative_target_sums_flows_since_the_plan_started():
    t = target(id="train", indicator="trainees", comparator=">=", value=10_000, unit="person_time",
               cumulative=True)
    before_plan = [obs(50_000, month_end(2020, 12), indicator="trainees")]  # not counted
    months = [obs(200, month_end(2021 + i // 12, i % 12 + 1), indicator="trainees") for i in range(49)]
    s = one(model(t), before_plan + months, date(2025, 2, 20))
    assert s.figures["latest"] == 200 * 49
    assert s.code in ("lagging", "on_track", "due_soon")
    assert s.figures["cumulative_since"] == "2021-01-01"
    enough = months + [obs(300, month_end(2025, 2), indicator="trainees")]
    assert one(model(t), enough, date(2025, 3, 20)).code == "achieved"


def test_cumulative_sum_with_a_missing_month_is_not_achieved():
    t = target(id="train", indicator="trainees", comparator=">=", value=1_000, unit="person_time",
               cumulative=True)
    months = [obs(500, month_end(2021, m), indicator="trainees") for m in (1, 2, 4)]  # March missing
    s = one(model(t), months, date(2021, 5, 20))
    assert s.code == "no_data"
    assert s.figures["missing_periods"] == 1 and "累计期间有 1 期未报送" in s.reason_zh


RATIO_INDICATORS = [
    Indicator("beds_total", "养老床位数", "bed", "count", "monthly"),
    Indicator("elderly", "老年人口", "kiloperson", "count", "monthly"),
    Indicator("beds", "每千名老年人口养老床位数", "bed / kiloperson", "ratio", "monthly",
              numerator="beds_total", denominator="elderly", multiplier=1.0),
]


def _components(codes, beds, elderly, day=date(2025, 6, 30)):
    out = []
    for code, b, e in zip(codes, beds, elderly):
        out += [obs(b, day, indicator="beds_total", region=code),
                obs(e, day, indicator="elderly", region=code)]
    return out


def test_province_ratio_is_recomputed_from_summed_components():
    counties = [r.code for r in REGIONS.counties()]
    beds = [1000 + 400 * i for i in range(len(counties))]
    elderly = [20 + 10 * i for i in range(len(counties))]
    s = one(model(target(value=35.0), indicators=RATIO_INDICATORS),
            _components(counties, beds, elderly), date(2025, 7, 20))
    ratio = sum(beds) / sum(elderly)
    mean_of_ratios = sum(b / e for b, e in zip(beds, elderly)) / len(beds)
    assert s.figures["latest"] == pytest.approx(ratio)
    assert ratio != pytest.approx(mean_of_ratios, rel=0.01)  # the two rules differ here
    assert s.figures["coverage"] == "19/19" and s.figures["source"] == "ratio"
    assert s.code == "achieved"


def test_partial_coverage_never_makes_a_target_achieved():
    counties = REGIONS.counties()
    reporting = [r.code for r in counties[:12]]
    s = one(model(target(value=35.0), indicators=RATIO_INDICATORS),
            _components(reporting, [5000] * 12, [100] * 12), date(2025, 7, 20))
    assert s.figures["latest"] == pytest.approx(50)  # would meet 35
    assert s.code == "no_data" and s.figures["coverage"] == "12/19"
    assert "最新值为 12/19 市县合计 50张/千人" in s.reason_zh and counties[12].name in s.reason_zh
    assert s.figures["partial"] and s.figures["covered_regions"] == reporting
    after = one(model(target(value=35.0), indicators=RATIO_INDICATORS),
                _components(reporting, [5000] * 12, [100] * 12), date(2026, 1, 5))
    assert after.code == "overdue" and "不能认定达标" in after.reason_zh


def test_province_ratio_from_the_provinces_own_component_figures():
    """A template's 海南省 row: the province reports beds and elderly population itself."""
    province = REGIONS.province.code
    s = one(model(target(value=32.0), indicators=RATIO_INDICATORS),
            _components([province], [62000], [1810]), date(2025, 7, 20))
    assert s.figures["latest"] == pytest.approx(62000 / 1810)
    assert s.code == "achieved" and s.figures["source"] == "reported"


def test_province_count_sums_the_regions_when_the_province_does_not_report():
    counties = [r.code for r in REGIONS.counties()]
    t = target(id="places", indicator="places", value=1900, unit="place", task=2)
    values = [obs(100, month_end(2025, 6), indicator="places", region=c) for c in counties]
    s = one(model(t), values, date(2025, 7, 20))
    assert s.figures["latest"] == 1900 and s.code == "achieved" and s.figures["source"] == "summed"


def test_a_city_reports_through_its_districts_when_all_of_them_report():
    haikou = REGIONS.lookup("海口")
    districts = REGIONS.children(haikou.code)
    rest = [r.code for r in REGIONS.counties() if r.code != haikou.code]
    values = [obs(100, month_end(2025, 6), indicator="places", region=c) for c in rest]
    values += [obs(25, month_end(2025, 6), indicator="places", region=d.code) for d in districts]
    t = target(id="places", indicator="places", value=1900, unit="place", task=2)
    s = one(model(t), values, date(2025, 7, 20))
    assert s.figures["coverage"] == "19/19" and s.figures["latest"] == 1800 + 25 * len(districts)


# --- milestones ------------------------------------------------------------------------------

def _milestone(deadline: date | None = date(2025, 6, 30)) -> TargetsModel:
    return model(milestones=[Milestone("ms-1", "hainan", 1, "出台养老服务条例", deadline)])


def report(state: str, day: date, reporter: str = "省民政厅", note: str = "",
           entered: datetime | None = None) -> MilestoneProgress:
    moment = entered or datetime.combine(day, datetime.min.time(), UTC)
    return MilestoneProgress("ms-1", state, day, reporter, note, entered_at=moment)


@pytest.mark.parametrize("reports, as_of, code, words", [
    ([], date(2025, 1, 10), "no_data", "未报送任何进展"),
    ([("not_started", date(2025, 1, 5))], date(2025, 1, 10), "not_started", "最新进展为未启动"),
    ([("in_progress", date(2025, 1, 5))], date(2025, 1, 10), "in_progress", "最新进展为推进中"),
    ([("done", date(2025, 6, 30))], date(2025, 7, 1), "done", "2025-06-30 报告已完成"),
    ([("done", date(2025, 7, 1))], date(2025, 7, 2), "achieved_late", "逾期完成"),
    ([("in_progress", date(2025, 5, 1))], date(2025, 6, 30), "due_soon", "临期"),
    ([("in_progress", date(2025, 5, 1))], date(2025, 7, 1), "overdue", "期限 2025-06-30 已过"),
    ([], date(2025, 7, 1), "overdue", "未报送任何进展"),
])
def test_milestone_states(reports, as_of, code, words):
    s = one(_milestone(), [], as_of, [report(st, d) for st, d in reports])
    assert s.code == code and s.kind == "milestone"
    assert words in s.reason_zh


def test_undated_milestone_is_never_overdue_but_can_be_stale():
    m = _milestone(deadline=None)
    progress = [report("in_progress", date(2024, 1, 5))]
    assert one(m, [], date(2024, 3, 1), progress).code == "in_progress"
    late = one(m, [], date(2030, 1, 1), progress)
    assert late.code == "stale" and "数据过期" in late.reason_zh


def test_milestone_done_only_when_every_reporter_says_done():
    progress = [report("done", date(2025, 3, 1), "省民政厅"), report("in_progress", date(2025, 3, 2), "省财政厅")]
    s = one(_milestone(date(2026, 6, 30)), [], date(2025, 4, 1), progress)
    assert s.code == "in_progress" and s.figures["pending"] == ["省财政厅"]


def test_milestone_report_entered_later_is_not_seen():
    progress = [report("done", date(2025, 3, 1), entered=datetime(2025, 4, 2, 1, 0, tzinfo=SHANGHAI))]
    m = _milestone(date(2026, 6, 30))
    assert one(m, [], date(2025, 4, 1), progress).code == "no_data"
    assert one(m, [], date(2025, 4, 2), progress).code == "done"


# --- structure -------------------------------------------------------------------------------

def test_series_keep_the_latest_revision_known_and_order_by_period():
    values = [obs(2.0, month_end(2025, 2)), obs(1.0, month_end(2025, 1)),
              obs(3.0, month_end(2025, 2), revision=2)]
    s = series_from_observations(values, date(2025, 12, 31)).get("beds", PROVINCE)
    assert list(s.values) == [1.0, 3.0]
    assert list(s.days) == [month_end(2025, 1).toordinal(), month_end(2025, 2).toordinal()]


def test_every_status_code_has_labels_and_to_dict_is_json():
    s = one(model(target()), steady(20, 0.1), date(2026, 1, 5))
    data = json.loads(json.dumps(s.to_dict()))
    assert data["code"] == "overdue" and data["label_zh"] == STATUS_LABELS["overdue"][0]


# --- the command -----------------------------------------------------------------------------

def _rows(observations: list[Observation]) -> list[dict]:
    """Observations as rows of the store's observation table."""
    return [{"indicator": o.indicator, "region": o.region,
             "period": period_containing(o.period_end, "month").label, "period_end": o.period_end,
             "value": o.value, "revision": o.revision, "entered_by": "test", "entered_at": o.entered_at}
            for o in observations]


@pytest.fixture
def project(tmp_path, engine):
    """A targets.yaml and a database with a year-end target that is not met."""
    from tracker import store as db
    from tracker.targets.file import dump_model

    m = model(target(), replace(target(id="places-each", indicator="places", value=1, unit="place",
                                       scope="each_region", task=2)),
              milestones=[Milestone("ms-1", "hainan", 1, "出台养老服务条例", date(2026, 6, 30))])
    path = tmp_path / "targets.yaml"
    path.write_text(dump_model(m), encoding="utf-8")
    places = [obs(2, month_end(2025, 6), indicator="places", region=r.code) for r in REGIONS.judged_regions()]
    with db.write_transaction(engine) as conn:
        db.insert_observations(conn, _rows(steady(20, 0.1) + places))
    return path


def run(args, path):
    return CliRunner().invoke(cli, ["status", "--targets", str(path), *args])


def test_cli_default_as_of_is_still_the_deadline_day_at_2330_in_shanghai(project):
    with freeze_time(datetime(2025, 12, 31, 23, 30, tzinfo=SHANGHAI)):
        result = run([], project)
    assert result.exit_code == 0, result.output
    assert "截至 2025-12-31" in result.output and "逾期未完成" not in result.output


def test_cli_default_as_of_is_the_next_day_at_1630_utc_and_exits_3_when_overdue(project):
    with freeze_time("2025-12-31T16:30:00+00:00"):
        result = run([], project)
    assert result.exit_code == 3, result.output
    assert "截至 2026-01-01" in result.output and "逾期未完成" in result.output


def test_cli_json_filters_and_english(project):
    result = run(["--as-of", "2026-01-05", "--json", "--status", "已完成"], project)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [s["item_id"] for s in data["statuses"]] == ["places-each"]
    assert data["statuses"][0]["figures"]["met"] == "25/25"
    english = run(["--as-of", "2026-01-05", "--lang", "en", "--unit", "省民政厅"], project)
    assert english.exit_code == 3 and "overdue" in english.output and "places-each" not in english.output


def test_cli_region_shows_that_regions_judgment(project):
    result = run(["--as-of", "2026-01-05", "--region", "琼海", "--json"], project)
    data = json.loads(result.output)
    assert [(s["item_id"], s["region"], s["code"]) for s in data["statuses"]] == \
        [("places-each", REGIONS.lookup("琼海").code, "achieved")]


def test_cli_refuses_an_unknown_status(project):
    result = run(["--status", "finished"], project)
    assert result.exit_code == 2 and "unknown status" in result.output


# --- loading series from the database --------------------------------------------------------


def test_load_series_sees_what_was_entered_by_the_end_of_the_day_and_agrees_with_observations(engine):
    from tracker import store as db
    from tracker.store.series import _load_generic, load_series

    data = steady(20, 0.5, first=date(2024, 1, 1), last=date(2024, 12, 1))
    data += steady(5, 1, first=date(2024, 1, 1), last=date(2024, 6, 1), indicator="places", region="469002")
    data += [obs(99.0, month_end(2024, 3), revision=2, entered=datetime(2024, 9, 1, 23, 59, tzinfo=SHANGHAI)),
             obs(98.0, month_end(2024, 3), revision=3, entered=datetime(2024, 9, 2, 0, 0, tzinfo=SHANGHAI))]
    with db.write_transaction(engine) as conn:
        db.insert_observations(conn, _rows(data))
    for as_of in (date(2024, 5, 20), date(2024, 9, 1), date(2024, 9, 2), date(2025, 1, 1)):
        loaded = load_series(engine, as_of)
        generic = _load_generic(engine, as_of, None)
        expected = series_from_observations(data, as_of)
        assert set(loaded.by_key) == set(expected.by_key) == set(generic.by_key)
        for key, s in expected.by_key.items():
            assert list(loaded.get(*key).days) == list(s.days) == list(generic.get(*key).days)
            assert list(loaded.get(*key).values) == list(s.values) == list(generic.get(*key).values)
    march = month_end(2024, 3).toordinal()
    for day, value in ((date(2024, 8, 31), 21.0), (date(2024, 9, 1), 99.0), (date(2024, 9, 2), 98.0)):
        s = load_series(engine, day).get("beds", PROVINCE)
        assert dict(zip(s.days, s.values))[march] == value


def test_packed_series_read_every_float_back_exactly(engine):
    """SQLite and PostgreSQL pack a series' values into text; each must parse back to the
    very float that was stored (PostgreSQL's float8 text is its shortest exact form)."""
    from tracker import store as db
    from tracker.store.series import _load_generic, load_series

    awkward = [0.1 + 0.2, 1 / 3, 123456789.12345679, 1e-7, 2.5e15, 0.0, 31.580000000000002]
    data = [obs(v, month_end(2024, m + 1)) for m, v in enumerate(awkward)]
    with db.write_transaction(engine) as conn:
        db.insert_observations(conn, _rows(data))
    loaded = load_series(engine, date(2025, 1, 1)).get("beds", PROVINCE)
    assert list(loaded.values) == awkward
    assert list(_load_generic(engine, date(2025, 1, 1), None).get("beds", PROVINCE).values) == awkward


def test_the_summary_line_counts_achieved_targets_and_done_milestones_together():
    from tracker.cli.status import summary_line
    from tracker.status.engine import Status

    rows = [Status("a", "target", "achieved", "", "", "2026-11-26"), Status("m", "milestone", "done", "", "", "2026-11-26"),
            Status("b", "target", "overdue", "", "", "2026-11-26")]
    assert summary_line(rows, "zh") == "逾期未完成 1，已完成 2"


def _mismatched_components() -> list[Observation]:
    """Beds from 海口, 三亚 and 儋州; the elderly population from 海口 alone (the issue's case)."""
    haikou, sanya, danzhou = (REGIONS.lookup(n).code for n in ("海口", "三亚", "儋州"))
    day = date(2025, 6, 30)
    return [obs(12_000, day, "beds_total", haikou), obs(15_000, day, "beds_total", sanya),
            obs(8_000, day, "beds_total", danzhou), obs(380, day, "elderly", haikou)]


def test_a_province_ratio_sums_numerator_and_denominator_over_the_same_regions():
    haikou = REGIONS.lookup("海口").code
    s = one(model(target(value=30.0), indicators=RATIO_INDICATORS), _mismatched_components(),
            date(2025, 7, 20))
    # 35,000 beds over 海口's 380 thousand elderly would say 92.11: only 海口 reported both
    assert s.figures["latest"] == pytest.approx(12_000 / 380)
    assert s.figures["coverage"] == "1/19" and s.figures["partial"] is True
    assert s.figures["covered_regions"] == [haikou]
    assert len(s.figures["missing_regions"]) == 18 and haikou not in s.figures["missing_regions"]
    assert s.code == "no_data"  # 31.58 meets 30, but over 1/19 市县 it is not the province's
    assert "1/19 市县合计 31.58张/千人（2025-06）" in s.reason_zh and "92.11" not in s.reason_zh
    assert "31.58 beds per 1,000" in s.reason_en and "1 of 19 regions" in s.reason_en
    after = one(model(target(value=30.0), indicators=RATIO_INDICATORS), _mismatched_components(),
                date(2026, 1, 5))
    assert after.code == "overdue" and "1/19 市县合计 31.58张/千人" in after.reason_zh


def test_the_province_figure_the_web_shows_is_the_ratio_over_the_same_regions():
    from tracker.status.figures import derive_values

    m = model(target(value=30.0), indicators=RATIO_INDICATORS)
    derived = {(o.indicator, o.region): o for o in derive_values(m, _mismatched_components(), REGIONS)}
    province = derived[("beds", PROVINCE)]
    assert province.value == pytest.approx(12_000 / 380) and "1/19" in province.note


YEARLY = [Indicator("universities", "老年大学数", "institution", "count", "yearly")]


def test_an_overdue_target_with_old_data_says_which_years_were_not_reported():
    t = target(id="uni", indicator="universities", value=10, unit="institution")
    values = [obs(4, date(2022, 12, 31), "universities"), obs(6, date(2023, 12, 31), "universities")]
    s = one(model(t, indicators=YEARLY), values, date(2026, 3, 1))
    assert s.code == "overdue"
    assert s.figures["unreported_periods"] == ["2024", "2025"]
    assert "最新数据为2023年，2024、2025年未报送" in s.reason_zh
    assert "the latest data are for 2023; 2024 and 2025 have not been reported" in s.reason_en


def test_a_target_with_current_data_lists_no_unreported_periods():
    t = target(id="uni", indicator="universities", value=10, unit="institution")
    values = [obs(4, date(2024, 12, 31), "universities"), obs(6, date(2025, 12, 31), "universities")]
    s = one(model(t, indicators=YEARLY), values, date(2026, 3, 1))
    assert s.code == "overdue" and "unreported_periods" not in s.figures and "未报送" not in s.reason_zh


def test_a_flow_exactly_on_pace_is_on_track():
    """250 person-times a month toward 15,000 in five years: the trend projects 14,988.68 at
    the deadline (months differ in length), 0.08% short, well within the tolerance."""
    t = target(id="train", indicator="trainees", comparator=">=", value=15_000, unit="person_time",
               cumulative=True)
    months = [obs(250, month_end(2021 + i // 12, i % 12 + 1), indicator="trainees") for i in range(48)]
    s = one(model(t), months, date(2025, 1, 20))
    assert s.figures["projected"] == pytest.approx(14_988.68, abs=0.01)
    assert s.code == "on_track", s.reason_zh


def _on_a_line_to(share: float) -> tuple[TargetsModel, list[Observation]]:
    """Monthly values on a straight line from 0 at the plan's start (a stated baseline) that
    reaches `share` of the target 1,000 at the deadline: the trend projects exactly that."""
    t = target(id="places", indicator="places", value=1_000, unit="place", baseline=0.0,
               baseline_period="2020")
    t0, span = date(2020, 12, 31).toordinal(), DEADLINE.toordinal() - date(2020, 12, 31).toordinal()
    values = [obs(1_000 * share * (month_end(2023, m).toordinal() - t0) / span, month_end(2023, m),
                  indicator="places") for m in range(1, 13)]
    return model(t), values


@pytest.mark.parametrize("share, code", [(1 - 0.05 * 0.99, "on_track"), (1 - 0.05 * 1.01, "lagging")])
def test_the_trend_test_has_the_tolerance_of_the_trajectory_test(share, code):
    m, values = _on_a_line_to(share)
    s = one(m, values, date(2024, 1, 20))
    assert s.figures["projected"] == pytest.approx(1_000 * share)
    # the straight line alone is within the tolerance either way: the trend decides
    assert s.figures["expected"] - s.figures["latest"] < 0.05 * 1_000
    assert s.code == code, s.reason_zh
