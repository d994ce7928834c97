"""The national roll-up, pure: three provinces with plans (one fully reported, one with part of
its 市县, one without data) and one without a plan, under a national plan. Every figure below
is computed by hand from the values entered, with the components summed."""

from datetime import UTC, date, datetime

import pytest

from tracker.config import StatusSettings
from tracker.domain.model import Indicator, Observation, Plan, ResponsibleUnit, Target, TargetsModel, Task
from tracker.domain.regions import Region, Regions
from tracker.domain.series import series_from_observations
from tracker.status.aggregate import SeriesResolver
from tracker.status.evaluate import evaluate_target
from tracker.status.rollup import Below, choose_target, plans_below, rollup

AS_OF = date(2025, 10, 20)
START, END = date(2021, 1, 1), date(2025, 12, 31)
NATION = "100000"
A, B, C, D = "110000", "120000", "130000", "140000"


def nation_regions() -> Regions:
    return Regions([Region(NATION, "全国", "China", "nation", None, "province"),
                    *(Region(code, name, en, "province", NATION, "county") for code, name, en in
                      ((A, "甲省", "Province A"), (B, "乙省", "Province B"), (C, "丙省", "Province C"),
                       (D, "丁省", "Province D")))])


def province_regions(code: str, name: str, n: int) -> Regions:
    return Regions([Region(code, name, name, "province", None, "province"),
                    *(Region(f"{code[:2]}01{i:02d}", f"{name}{i}县", f"{name} county {i}", "county", code, "county")
                      for i in range(1, n + 1))])


def model() -> TargetsModel:
    plans = [Plan("national", "国家方案", "国务院办公厅", "national", "", START, END, ""),
             Plan("pa", "甲省方案", "甲省人民政府", "province", A, START, END, ""),
             Plan("pb", "乙省方案", "乙省人民政府", "province", B, START, END, ""),
             Plan("pc", "丙省方案", "丙省人民政府", "province", C, START, END, "")]
    indicators = [
        Indicator("beds_per_1000", "每千名老年人口养老床位数", "bed / kiloperson", "ratio", "yearly",
                  numerator="beds", denominator="elderly", multiplier=1000, name_en="Beds per 1,000 elderly"),
        Indicator("beds", "养老床位数", "bed", "count", "yearly"),
        Indicator("elderly", "老年人口数", "person", "count", "yearly"),
        Indicator("centres", "区域养老服务中心", "institution", "count", "yearly"),
    ]
    unit = (ResponsibleUnit("民政部", "lead"),)
    tasks = [Task("national", 7, "发展普惠养老", unit),
             Task("national", 8, "建设服务中心", unit),
             Task("pa", 3, "甲省发展普惠养老", unit, implements=("national#7",)),
             Task("pb", 5, "乙省发展普惠养老", unit, implements=("national#7",)),
             Task("pb", 6, "乙省建设服务中心", unit, implements=("national#8",))]
    targets = [
        Target("national-beds", "national", 7, "beds_per_1000", ">=", 30, "bed / kiloperson", END),
        Target("pa-beds", "pa", 3, "beds_per_1000", ">=", 25, "bed / kiloperson", END),
        Target("pb-beds", "pb", 5, "beds_per_1000", ">=", 32, "bed / kiloperson", END),
        Target("pc-beds", "pc", 1, "beds_per_1000", ">=", 28, "bed / kiloperson", date(2024, 12, 31)),
        Target("pb-centres", "pb", 6, "centres", ">=", 10, "institution", END),
    ]
    return TargetsModel(plans, indicators, tasks, targets)


def observations() -> list[Observation]:
    at = datetime(2025, 3, 1, tzinfo=UTC)

    def o(ind, region, value, year=2024):
        return Observation(ind, region, date(year, 12, 31), value, at, str(year))

    return [
        # 甲省: both 县 report both components
        o("beds", "110101", 300), o("elderly", "110101", 10_000),
        o("beds", "110102", 500), o("elderly", "110102", 20_000),
        # 乙省: two of four 县 report both; a third reports beds without its elderly
        o("beds", "120101", 400), o("elderly", "120101", 10_000),
        o("beds", "120102", 100), o("elderly", "120102", 10_000),
        o("beds", "120103", 50),
        o("centres", "120101", 4), o("centres", "120102", 3),
        # 丁省 has no plan loaded; it entered its own figures as a province
        o("beds", D, 900), o("elderly", D, 30_000),
    ]


def make(obs=None, as_of=AS_OF):
    m = model()
    series = series_from_observations(observations() if obs is None else obs, as_of)
    upper = nation_regions()
    regions = {A: province_regions(A, "甲省", 2), B: province_regions(B, "乙省", 4), C: province_regions(C, "丙省", 2)}
    chosen = plans_below(m, m.plan("national"), [r.code for r in upper.counties()], as_of)
    below = {}
    for code, plan in chosen.items():
        resolver = SeriesResolver(m, series, regions[code])
        statuses = {t.id: evaluate_target(m, t, resolver, regions[code], as_of, StatusSettings())
                    for t in m.targets if t.plan == plan.id}
        below[code] = Below(plan, regions[code], resolver, statuses)
    return rollup(m, m.plan("national"), upper, SeriesResolver(m, series, upper), below, as_of)


def test_it_rolls_up_each_province_with_its_own_target_value_and_coverage():
    r = make()
    assert r.units == [A, B, C, D] and r.below == ["pa", "pb", "pc"]
    beds = r.indicator("beds_per_1000")
    rows = {row.region: row for row in beds.rows}
    # 甲省: 800 beds / 30,000 elderly x 1000, over both of its 县
    a = rows[A]
    assert a.plan == "pa" and a.state == "judged" and a.target.value == 25
    assert a.figure.value == pytest.approx(800 / 30_000 * 1000) and a.figure.coverage == "2/2"
    assert a.status == "achieved" and a.figure.period == "2024"
    # 乙省: only 120101 and 120102 reported both components: 500 / 20,000 x 1000 = 25, 2 of 4
    b = rows[B]
    assert b.figure.value == pytest.approx(25.0) and b.figure.coverage == "2/4" and b.figure.partial
    # its own evaluation does not judge a figure summed over part of its 市县 (missing is not zero)
    assert b.target.value == 32 and b.state == "judged" and b.status == "no_data"
    # 丙省: a plan, no figure; its deadline (2024) passed: overdue, and named as without data
    c = rows[C]
    assert c.plan == "pc" and c.state == "no_data" and c.figure is None and c.status == "overdue"
    # 丁省: no plan loaded; its own entry is shown, unjudged
    d = rows[D]
    assert d.plan is None and d.state == "no_plan" and d.target is None and d.status is None
    assert d.figure.value == pytest.approx(30.0) and d.figure.how == "own"


def test_the_national_figure_sums_components_over_the_same_regions_never_a_mean():
    beds = make().indicator("beds_per_1000")
    w = beds.whole
    # (300 + 500 + 400 + 100 + 900) / (10,000 + 20,000 + 10,000 + 10,000 + 30,000) x 1000 = 27.5;
    # 120103's 50 beds have no elderly beside them and stay out of both sums
    assert w.figure.value == pytest.approx(2200 / 80_000 * 1000) == pytest.approx(27.5)
    mean_of_ratios = (800 / 30_000 * 1000 + 25.0 + 30.0) / 3
    assert abs(w.figure.value - mean_of_ratios) > 0.1
    # 5 parts of 9 reported both (甲's 2, 乙's 2 of 4, 丁 as itself; 丙's 2 none): 3 of 4 provinces
    assert w.figure.coverage == "5/9" and w.units_covered == 3 and w.units == 4
    # the national plan's own target (30), judged by the same rules on that figure: partial, so unjudged
    assert w.target.id == "national-beds" and w.status == "no_data"
    assert w.figures["latest"] == pytest.approx(27.5) and w.figures["coverage"] == "5/9"


def test_a_count_is_summed_and_a_province_without_a_target_on_it_says_so():
    r = make()
    centres = r.indicator("centres")
    rows = {row.region: row for row in centres.rows}
    assert rows[B].figure.value == 7 and rows[B].figure.coverage == "2/4"
    assert rows[A].state == "no_data" and rows[A].target is None  # no target, and nothing entered
    assert centres.whole.figure.value == 7 and centres.whole.units_covered == 1
    assert centres.whole.target is None and centres.whole.status is None
    assert [i.indicator for i in r.indicators] == ["beds_per_1000", "centres"]


def test_tasks_link_both_ways():
    r = make()
    assert r.implementers("national#7") == ["pa#3", "pb#5"]
    assert r.implementers("national#8") == ["pb#6"]
    assert r.implemented("pa#3") == ["national#7"] and r.implemented("pb#6") == ["national#8"]
    link = next(t for t in r.tasks if t.task.id == "national#8")
    assert link.missing == [A, C]  # plans loaded with no task implementing it


def test_a_plan_is_chosen_by_the_period_covering_the_date():
    m = model()
    m.plans.append(Plan("pa-15", "甲省十五五", "甲省人民政府", "province", A, date(2026, 1, 1), date(2030, 12, 31), ""))
    assert plans_below(m, m.plan("national"), [A], AS_OF)[A].id == "pa"
    assert plans_below(m, m.plan("national"), [A], date(2026, 3, 1))[A].id == "pa-15"


def test_choose_target_prefers_whole_area_and_the_next_deadline():
    t = lambda i, d, scope="whole": Target(i, "p", 1, "x", ">=", 1, "bed", d, scope)
    early, late, each = t("e", date(2022, 12, 31)), t("l", date(2025, 12, 31)), t("r", date(2025, 6, 30), "each_region")
    assert choose_target([early, late, each], date(2023, 5, 1)).id == "l"
    assert choose_target([early, late], date(2022, 5, 1)).id == "e"
    assert choose_target([early, late], date(2026, 5, 1)).id == "l"  # the last passed
    assert choose_target([each], date(2023, 5, 1)).id == "r"


def test_the_national_target_is_judged_when_every_part_reports():
    full = [o for o in observations()] + [
        Observation("beds", code, date(2024, 12, 31), beds, datetime(2025, 3, 1, tzinfo=UTC), "2024")
        for code, beds in (("120104", 300), ("130101", 400), ("130102", 600))] + [
        Observation("elderly", code, date(2024, 12, 31), n, datetime(2025, 3, 1, tzinfo=UTC), "2024")
        for code, n in (("120103", 5_000), ("120104", 5_000), ("130101", 10_000), ("130102", 10_000))]
    w = make(full).indicator("beds_per_1000").whole
    # (2200 + 50 + 300 + 400 + 600) / (80,000 + 30,000) x 1000 = 32.27…, over all 9 parts
    assert w.figure.value == pytest.approx(3550 / 110_000 * 1000)
    assert w.figure.coverage == "9/9" and w.units_covered == 4
    assert w.status == "achieved"


def test_the_plan_of_a_unit_is_the_one_the_monthly_run_follows():
    """One rule for a unit's current plan: a successor that has started replaces its
    predecessor (TargetsModel.in_force) even while the predecessor's period still covers the
    date; of the plans in force, the one covering the date, else the latest started."""
    nation = Plan("national", "国家", "国务院办公厅", "national", "", date(2021, 1, 1), date(2030, 12, 31), "")
    old = Plan("gd-14", "十四五", "广东省人民政府", "province", "440000", date(2021, 1, 1), date(2026, 12, 31), "")
    new = Plan("gd-15", "十五五", "广东省人民政府", "province", "440000", date(2026, 1, 1), date(2026, 6, 30), "",
               follows="gd-14")
    special = Plan("zj-a", "专项", "浙江省人民政府", "province", "330000", date(2021, 1, 1), date(2023, 12, 31), "")
    later = Plan("zj-b", "专项二", "浙江省人民政府", "province", "330000", date(2024, 1, 1), date(2025, 12, 31), "")
    model = TargetsModel([nation, old, new, special, later], [], [], [])
    day = date(2026, 9, 1)  # gd-14 still covers it, gd-15 has started (and ended): gd-15 is in force
    below = plans_below(model, nation, ["440000", "330000", "110000"], day)
    assert [p.id for p in model.in_force([old, new], day)] == ["gd-15"]
    assert below["440000"].id == "gd-15"
    assert below["330000"].id == "zj-b"  # neither covers the date: the latest started
    assert "110000" not in below  # 无规划
    assert plans_below(model, nation, ["440000"], date(2025, 6, 1))["440000"].id == "gd-14"  # before the successor
