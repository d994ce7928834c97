"""Properties of the status engine that hold for any data (hypothesis)."""

import re
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.config import StatusSettings
from tracker.domain.model import Indicator, Observation, Plan, Target, TargetsModel
from tracker.domain.periods import PLAN_TZ, period_containing
from tracker.domain.regions import load_regions
from tracker.status.engine import evaluate

REGIONS = load_regions()
PROVINCE = REGIONS.province.code
COUNTIES = [r.code for r in REGIONS.counties()]
JUDGED = [r.code for r in REGIONS.judged_regions()]
INDICATORS = [
    Indicator("places", "托位数", "place", "count", "monthly"),
    Indicator("beds_total", "养老床位数", "bed", "count", "monthly"),
    Indicator("elderly", "老年人口", "kiloperson", "count", "monthly"),
    Indicator("beds", "每千名老年人口养老床位数", "bed / kiloperson", "ratio", "monthly",
              numerator="beds_total", denominator="elderly", multiplier=1.0),
]
NOT_SHOWN_MET = ("achieved", "achieved_late", "on_track", "done")
PROPS = settings(max_examples=80, deadline=None)


def months_from(first: date, n: int) -> list[date]:
    out, day = [], first
    for _ in range(n):
        end = period_containing(day, "month").end
        out.append(end)
        day = end + timedelta(days=1)
    return out


def model_with(t: Target) -> TargetsModel:
    return TargetsModel(plans=[Plan("p", "方案", "", "province", PROVINCE, date(2021, 1, 1),
                                    date(2025, 12, 31), "")],
                        indicators=INDICATORS, targets=[t])


def entered(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=5), time(0), UTC)


values = st.floats(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False)
targets = st.builds(
    lambda cmp, value, deadline, soft: Target("t", "p", 1, "places", cmp, value, "place", deadline,
                                              soft=soft),
    st.sampled_from([">=", ">", "<=", "<"]), values,
    st.one_of(st.none(), st.dates(date(2021, 6, 1), date(2027, 12, 31))), st.booleans())
as_ofs = st.dates(date(2021, 1, 1), date(2028, 12, 31))
knobs = st.builds(StatusSettings, st.floats(0, 0.5), st.integers(0, 365), st.integers(0, 90),
                  st.integers(1, 12))


def judge(t: Target, observations: list[Observation], as_of: date, cfg: StatusSettings):
    return evaluate(model_with(t), observations, [], REGIONS, as_of, cfg)[0]


@PROPS
@given(targets, st.lists(values, max_size=30), st.dates(date(2021, 1, 1), date(2024, 1, 1)), as_ofs,
       knobs, st.floats(0, 50))
def test_a_new_latest_value_that_meets_the_target_never_makes_the_status_worse(t, history, first, as_of, cfg, margin):
    days = months_from(first, len(history) + 1)
    old = [Observation("places", PROVINCE, d, v, entered(d)) for d, v in zip(days, history)]
    old = [o for o in old if o.entered_at < datetime.combine(as_of + timedelta(days=1), time(0), PLAN_TZ)]
    meeting = t.value + (margin + 1) if t.comparator in (">=", ">") else max(0.0, t.value - margin - 1)
    if not t.met_by(meeting):
        return  # a "< 0" target no count can meet
    new_day = days[len(old)]
    new = Observation("places", PROVINCE, new_day, meeting,
                      datetime.combine(as_of, time(12), PLAN_TZ))
    before = judge(t, old, as_of, cfg)
    after = judge(t, [*old, new], as_of, cfg)
    assert after.severity >= before.severity, (before.reason_en, after.reason_en)
    assert after.code in ("achieved", "achieved_late", "done") or \
        after.code == "overdue" and t.deadline is not None and new_day > t.deadline


@PROPS
@given(targets, st.sets(st.sampled_from(COUNTIES), max_size=len(COUNTIES) - 1),
       st.lists(values, min_size=1, max_size=12), as_ofs, knobs)
def test_a_province_sum_missing_a_region_is_never_shown_as_met(t, reporting, series, as_of, cfg):
    days = months_from(date(2021, 1, 1), len(series))
    data = [Observation("places", code, d, v, entered(d))
            for code in sorted(reporting) for d, v in zip(days, series)]
    status = judge(t, data, as_of, cfg)
    assert status.code not in NOT_SHOWN_MET


@PROPS
@given(targets.map(lambda t: Target(t.id, t.plan, t.task, t.indicator, t.comparator, t.value, t.unit,
                                    t.deadline, "each_region")),
       st.sets(st.sampled_from(JUDGED), max_size=len(JUDGED) - 1), values, as_ofs, knobs)
def test_a_per_region_target_is_never_met_while_a_region_has_not_reported(t, reporting, value, as_of, cfg):
    data = [Observation("places", code, date(2021, 6, 30), value, entered(date(2021, 6, 30)))
            for code in reporting]
    status = judge(t, data, as_of, cfg)
    assert status.code not in NOT_SHOWN_MET
    missing = {s.region for s in status.regions if s.code in ("no_data", "overdue")}
    assert set(JUDGED) - set(reporting) <= missing


@PROPS
@given(st.lists(st.tuples(st.floats(1, 10_000), st.floats(0.1, 500)), min_size=len(COUNTIES),
                max_size=len(COUNTIES)), st.floats(0, 100))
def test_the_province_ratio_is_the_ratio_of_summed_components(pairs, goal):
    day = date(2025, 6, 30)
    data = []
    for code, (beds, elderly) in zip(COUNTIES, pairs):
        data += [Observation("beds_total", code, day, beds, entered(day)),
                 Observation("elderly", code, day, elderly, entered(day))]
    t = Target("t", "p", 1, "beds", ">=", goal, "bed / kiloperson", date(2025, 12, 31))
    status = judge(t, data, date(2025, 8, 1), StatusSettings())
    expected = sum(b for b, _ in pairs) / sum(e for _, e in pairs)
    assert abs(status.figures["latest"] - expected) <= 1e-9 * max(1.0, expected)
    assert status.figures["coverage"] == f"{len(COUNTIES)}/{len(COUNTIES)}"


@PROPS
@given(targets, st.lists(values, max_size=24), as_ofs, values, st.integers(1, 400), knobs)
def test_a_value_entered_after_the_as_of_day_changes_nothing(t, history, as_of, late_value, delay, cfg):
    days = months_from(date(2021, 1, 1), len(history) + 1)
    known = [Observation("places", PROVINCE, d, v, entered(d)) for d, v in zip(days, history)]
    cut = datetime.combine(as_of + timedelta(days=1), time(0), PLAN_TZ)
    known = [o for o in known if o.entered_at < cut]
    late = Observation("places", PROVINCE, days[0], late_value, cut + timedelta(minutes=delay),
                       revision=2)
    assert judge(t, known, as_of, cfg).to_dict() == judge(t, [*known, late], as_of, cfg).to_dict()


@PROPS
@given(st.dictionaries(st.sampled_from(COUNTIES), st.floats(1, 10_000), max_size=len(COUNTIES)),
       st.dictionaries(st.sampled_from(COUNTIES), st.floats(0.1, 500), max_size=len(COUNTIES)))
def test_a_province_ratio_sums_both_components_over_the_regions_that_reported_both(beds, elderly):
    day = date(2025, 6, 30)
    data = [Observation("beds_total", code, day, v, entered(day)) for code, v in beds.items()]
    data += [Observation("elderly", code, day, v, entered(day)) for code, v in elderly.items()]
    t = Target("t", "p", 1, "beds", ">=", 1.0, "bed / kiloperson", date(2025, 12, 31))
    status = judge(t, data, date(2025, 8, 1), StatusSettings())
    both = [c for c in COUNTIES if c in beds and c in elderly]
    if not both:
        assert status.figures.get("no_data") and "latest" not in status.figures
        return
    expected = sum(beds[c] for c in both) / sum(elderly[c] for c in both)
    assert abs(status.figures["latest"] - expected) <= 1e-9 * max(1.0, expected)
    assert status.figures["coverage"] == f"{len(both)}/{len(COUNTIES)}"
    if len(both) < len(COUNTIES):
        assert status.figures["covered_regions"] == both and status.code not in NOT_SHOWN_MET
        assert f"{len(both)}/{len(COUNTIES)} 市县合计" in status.reason_zh
    assert not re.search(r"\b\d{6}\b", status.reason_en)
