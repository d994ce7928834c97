"""The target rules: where one target stands on one series as of a date.

`judge` returns a Judgement (a status code and its figures) and no sentence: the figures carry
every number, period and region code the reason needs, and tracker.status.reasons words them.
docs/status-rules.md says what each status means and why these rules.
"""

import math
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tracker.config import StatusSettings
from tracker.domain.model import Indicator, Target, TargetsModel, compare
from tracker.domain.periods import FREQUENCY_KIND, latest_closed_period, period_containing
from tracker.domain.series import Series
from tracker.status.aggregate import cumulate
from tracker.status.model import Judgement

# Progress bands of Statistics Canada's growth-rate method, as used by Open SDG.
PROGRESS_BANDS: tuple[tuple[float, str, str], ...] = (
    (0.95, "substantial", "进展显著"),
    (0.6, "moderate", "进展一般"),
    (0.0, "limited", "进展有限"),
    (-math.inf, "deterioration", "倒退"),
)
HORIZON_DAYS = 100 * 365  # a trend reaching the target later than this never reaches it
PERIOD_DAYS = {"monthly": 31, "quarterly": 92, "yearly": 366}


@dataclass
class TargetContext:
    """What every region's judgement of one target shares."""

    target: Target
    indicator: Indicator
    goal: float  # the target value in the indicator's unit
    unit: str  # the unit of the goal and of every value judged
    sign: int  # +1 when the value must rise (>=, >), -1 when it must fall
    plan_start: date | None
    as_of: date
    settings: StatusSettings
    expected_end: date  # end of the latest period that should be reported by now
    counties: tuple[str, ...]  # the regions a province figure sums, in order
    # A successor plan's target without a stated baseline: the plan it follows and that
    # plan's end, whose period's value is the baseline (基期值) carried over.
    predecessor: str = ""
    predecessor_end: date | None = None


def target_context(model: TargetsModel, target: Target, indicator: Indicator, as_of: date,
                   settings: StatusSettings, counties: tuple[str, ...] = ()) -> TargetContext:
    predecessor, predecessor_end = "", None
    try:
        plan = model.plan(target.plan)
        plan_start: date | None = plan.start
        if plan.follows and target.baseline is None:
            predecessor, predecessor_end = plan.follows, model.plan(plan.follows).end
    except KeyError:
        plan_start = None
    goal = float(target.value)
    if target.unit and target.unit != indicator.unit:
        from tracker.domain.units import UnitError, conversion_factor
        try:
            goal *= conversion_factor(target.unit, indicator.unit)
        except UnitError:
            pass  # shown in the target's own unit; targets.yaml check reports the mismatch
    expected_end = latest_closed_period(as_of - timedelta(days=settings.grace_days),
                                        indicator.frequency).end
    return TargetContext(target, indicator, goal, indicator.unit or target.unit, 1 if target.comparator in (">=", ">") else -1,
                         plan_start, as_of, settings, expected_end, counties, predecessor, predecessor_end)


# --- the pieces of a judgement ---------------------------------------------------------------

def misses_target(projected: float, comparator: str, goal: float, allowance: float) -> bool:
    """Whether a projection falls short of the target by more than `allowance` (the
    trajectory's tolerance): 250 a month toward 15,000 projects 14,988.68 at the deadline,
    because months differ in length, and that is on pace, not behind."""
    sign = 1 if comparator in (">=", ">") else -1
    return not compare(projected + sign * allowance, comparator, goal)


def progress_ratio(ctx: TargetContext, base: float, t0: int, x: float, t: int,
                   expected: float | None) -> tuple[float | None, str]:
    """Statistics Canada's growth-rate ratio (observed compound growth over the growth needed)
    when all values are positive; otherwise actual over expected linear progress."""
    deadline = ctx.target.deadline
    if deadline is None or t <= t0:
        return None, ""
    total = deadline.toordinal() - t0
    if base > 0 and x > 0 and ctx.goal > 0 and total > 0 and ctx.goal != base:
        try:
            observed = math.exp(math.log(x / base) * 365.25 / (t - t0)) - 1
            needed = math.exp(math.log(ctx.goal / base) * 365.25 / total) - 1
            ratio = observed / needed
        except (OverflowError, ZeroDivisionError, ValueError):
            ratio = math.nan  # values too far apart for a rate: use the linear ratio
        if math.isfinite(ratio):
            return ratio, "growth_rate"
    if expected is not None and expected != base:
        ratio = (x - base) / (expected - base)
        if math.isfinite(ratio):
            return ratio, "linear"
    return None, ""


def band(ratio: float) -> str:
    for floor, en, _ in PROGRESS_BANDS:
        if ratio >= floor:
            return en
    return PROGRESS_BANDS[-1][1]


def trend(days: array, values: array, upto: int, k: int,
          frequency: str = "monthly") -> tuple[float, float, int] | None:
    """Weighted least-squares line through the last k points within the last k periods
    (weights 1..k, the newest weighing most, as in UN ESCAP's anticipated progress):
    (value at the last point, slope per day, last day), or None with fewer than two points.
    An old value long before a gap would otherwise flatten the recent trend."""
    last = days[upto - 1]
    oldest = last - k * PERIOD_DAYS.get(frequency, 31)
    n = min(k, upto)
    while n and days[upto - n] < oldest:
        n -= 1
    if n < 2:
        return None
    sw = sx = sy = sxx = sxy = 0.0
    for j in range(n):
        i = upto - n + j
        w = j + 1.0
        x = float(days[i] - last)
        y = values[i]
        sw += w
        sx += w * x
        sy += w * y
        sxx += w * x * x
        sxy += w * x * y
    den = sw * sxx - sx * sx
    if den <= 0:
        return None
    slope = (sw * sxy - sx * sy) / den
    return (sy - slope * sx) / sw, slope, last


def baseline(ctx: TargetContext, s: Series) -> tuple[float, int, str]:
    """(value, day, where from): the target's stated baseline, else (a successor plan's
    target) the predecessor's final value, the complete one of the period its end falls in,
    else the value at the plan's start, else the first one reported."""
    t = ctx.target
    if t.cumulative and ctx.plan_start is not None:
        return 0.0, ctx.plan_start.toordinal(), "plan_start"
    if t.baseline is not None:
        day = ctx.plan_start
        if t.baseline_period:
            from tracker.domain.periods import PeriodError, parse_period
            try:
                day = parse_period(t.baseline_period).end
            except PeriodError:
                pass
        return float(t.baseline), (day or date.fromordinal(s.days[0])).toordinal(), "stated"
    if ctx.predecessor_end is not None:
        day = period_containing(ctx.predecessor_end, FREQUENCY_KIND.get(ctx.indicator.frequency, "month")).end.toordinal()
        i = bisect_right(s.days, day) - 1
        if i >= 0 and s.days[i] == day and s.complete(i):
            return s.values[i], day, "predecessor"
    if ctx.plan_start is not None:
        i = bisect_right(s.days, ctx.plan_start.toordinal()) - 1
        if i >= 0:
            return s.values[i], s.days[i], "plan_start"
    return s.values[0], s.days[0], "first_reported"


def period_label(frequency: str, day: int) -> str:
    return period_containing(date.fromordinal(day), FREQUENCY_KIND.get(frequency, "month")).label


def unreported_periods(frequency: str, last_day: int, expected_end: date) -> list[str]:
    """The periods after the latest reported one up to the one that should be in by now."""
    period = period_containing(date.fromordinal(last_day) + timedelta(days=1),
                               FREQUENCY_KIND.get(frequency, "month"))
    out = []
    while period.end <= expected_end:
        out.append(period.label)
        period = period.next()
    return out


def _note_coverage(ctx: TargetContext, s: Series, i: int, figures: dict[str, Any]) -> None:
    """Coverage of an aggregate's point i: how many regions, whether all, and which."""
    if s.covered is None:
        return
    n, of = s.covered[i], s.expected_regions
    figures["coverage"] = f"{n}/{of}"
    figures["partial"] = n < of
    if n < of:
        missing = s.missing_at(s.days[i]) if s.missing_at else []
        gone = set(missing)
        figures["missing_regions"] = missing
        figures["covered_regions"] = [c for c in ctx.counties if c not in gone]


def _note_staleness(ctx: TargetContext, xday: int, figures: dict[str, Any]) -> bool:
    stale = xday < ctx.expected_end.toordinal()
    figures["stale"] = stale
    if stale:
        figures["expected_period"] = period_label(ctx.indicator.frequency, ctx.expected_end.toordinal())
        figures["unreported_periods"] = unreported_periods(ctx.indicator.frequency, xday, ctx.expected_end)
    return stale


# --- the rule --------------------------------------------------------------------------------

def judge(ctx: TargetContext, s: Series | None, how: str | None = None) -> Judgement:
    """One target on one series: the status and the figures behind it.

    `how` says how a whole-area series was built (tracker.status.aggregate.SeriesResolver.
    province_series); None for a region's own series.
    """
    t = ctx.target
    freq = ctx.indicator.frequency
    figures: dict[str, Any] = {"target": ctx.goal, "comparator": t.comparator, "unit": ctx.unit,
                               "soft": t.soft, "deadline": t.deadline.isoformat() if t.deadline else None,
                               "frequency": freq}
    if t.soft:
        figures["qualifier"] = t.qualifier or "力争"
    if how is not None:
        figures["source"] = how
    deadline = t.deadline
    passed = deadline is not None and ctx.as_of > deadline

    if t.cumulative and s is not None and ctx.plan_start is not None:
        s = cumulate(s, ctx.plan_start, freq)
        figures["cumulative_since"] = ctx.plan_start.isoformat()
    if s is None or len(s) == 0:
        figures["no_data"] = True
        return Judgement("overdue" if passed else "no_data", figures)

    n = len(s)
    dl = deadline.toordinal() if deadline else None
    upto = n if dl is None else bisect_right(s.days, dl)  # points on or before the deadline
    last = n - 1
    x, xday = s.values[last], s.days[last]
    figures.update(latest=x, latest_period=period_label(freq, xday),
                   latest_period_end=date.fromordinal(xday).isoformat())
    _note_coverage(ctx, s, last, figures)
    if s.gaps is not None and s.gaps[last]:
        figures["missing_periods"] = s.gaps[last]

    if passed:
        if upto and s.complete(upto - 1) and compare(s.values[upto - 1], t.comparator, ctx.goal):
            figures.update(achieved_value=s.values[upto - 1],
                           achieved_period=period_label(freq, s.days[upto - 1]))
            return Judgement("achieved", figures)
        for i in range(upto, n):
            if s.complete(i) and compare(s.values[i], t.comparator, ctx.goal):
                figures.update(achieved_value=s.values[i], achieved_period=period_label(freq, s.days[i]))
                return Judgement("achieved_late", figures)
        figures["gap"] = abs(ctx.goal - x)
        if s.complete(last):
            _note_staleness(ctx, xday, figures)
        return Judgement("overdue", figures)

    # on or before the deadline (or no deadline): judge the latest value and the trend
    if not s.complete(last):
        return Judgement("no_data", figures)
    if compare(x, t.comparator, ctx.goal):
        return Judgement("achieved", figures)

    figures["gap"] = abs(ctx.goal - x)
    stale = _note_staleness(ctx, xday, figures)
    base, t0, base_from = baseline(ctx, s)
    figures.update(baseline=base, baseline_from=base_from, baseline_date=date.fromordinal(t0).isoformat())
    if base_from == "predecessor":  # 基期值: the final value of the plan this one follows
        figures.update(baseline_plan=ctx.predecessor, baseline_period=period_label(freq, t0))
    allowance = ctx.settings.tolerance * max(abs(ctx.goal - base), 1e-9)
    behind = False
    expected = None
    if dl is not None and dl > t0:
        share = min(1.0, max(0.0, (xday - t0) / (dl - t0)))
        expected = base + (ctx.goal - base) * share
        shortfall = ctx.sign * (expected - x)
        behind = shortfall > allowance
        figures.update(expected=expected, behind=behind)
        if behind:
            figures["behind_by"] = shortfall
    ratio, method = progress_ratio(ctx, base, t0, x, xday, expected)
    if ratio is not None:
        figures.update(progress_ratio=round(ratio, 4), progress_method=method, progress_band=band(ratio))
    line = trend(s.days, s.values, n, ctx.settings.recent_points, freq)
    misses = False
    if line is not None and dl is not None:
        level, slope, tday = line
        projected = level + slope * (dl - tday)
        misses = misses_target(projected, t.comparator, ctx.goal, allowance)
        figures.update(projected=projected, trend_misses=misses)
        if slope * ctx.sign > 0:
            ahead = (ctx.goal - level) / slope
            reach_day = max(tday + math.ceil(min(ahead, 2 * HORIZON_DAYS)), ctx.as_of.toordinal())
            if reach_day - ctx.as_of.toordinal() <= HORIZON_DAYS:
                figures["projected_date"] = date.fromordinal(reach_day).isoformat()
    if dl is None or behind or misses:
        return Judgement("lagging", figures)
    days_left = dl - ctx.as_of.toordinal()
    figures["days_left"] = days_left
    if days_left <= ctx.settings.due_soon_days:
        return Judgement("due_soon", figures)
    if stale:
        return Judgement("stale", figures)
    return Judgement("on_track", figures)
