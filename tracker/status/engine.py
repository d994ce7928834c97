"""The status engine: where every target and milestone stands as of a date, and why.

Pure: targets, observations, milestone progress, regions and a date in; statuses out. The
CLI, the report and the alerts all call `evaluate`. The rules (and why these ones) are in
docs/status-rules.md.

Values are held per series, one (indicator, region) pair, as two compact arrays (period-end
day numbers and values) rather than one object per observation: a national set has millions
of values, and `tracker.store.series` fills the same structure straight from SQL.
"""

import math
from array import array
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tracker.config import StatusSettings
from tracker.domain import units
from tracker.domain.format import format_number
from tracker.domain.model import (
    COMPARATOR_LABELS,
    MILESTONE_STATE_LABELS,
    Indicator,
    Milestone,
    MilestoneProgress,
    Observation,
    Target,
    TargetsModel,
    compare,
)
from tracker.domain.periods import FREQUENCY_KIND, latest_closed_period, period_containing
from tracker.domain.regions import Region, Regions
from tracker.domain.series import Series, SeriesSet, knowledge_cutoff, series_from_observations, visible  # noqa: F401
from tracker.domain.series import aware as _aware

# code -> (Chinese label, English label, severity for sorting: lower is worse)
STATUS_LABELS: dict[str, tuple[str, str, int]] = {
    "overdue": ("逾期未完成", "overdue", 0),
    "lagging": ("进度滞后", "lagging", 1),
    "due_soon": ("临期", "due soon", 2),
    "no_data": ("未报送", "no data", 3),
    "stale": ("数据过期", "stale", 4),
    "on_track": ("进展正常", "on track", 5),
    "not_started": ("未启动", "not started", 5),
    "in_progress": ("推进中", "in progress", 6),
    "achieved_late": ("逾期完成", "achieved late", 7),
    "achieved": ("已完成", "achieved", 8),
    "done": ("已完成", "done", 8),
}

# Statuses that count a target as met, and those that say data is missing.
MET_CODES = ("achieved", "achieved_late", "done")
# Progress bands of Statistics Canada's growth-rate method, as used by Open SDG.
PROGRESS_BANDS: tuple[tuple[float, str, str], ...] = (
    (0.95, "substantial", "进展显著"),
    (0.6, "moderate", "进展一般"),
    (0.0, "limited", "进展有限"),
    (-math.inf, "deterioration", "倒退"),
)
# Milestone reports are expected at least quarterly; later than that (plus grace) is stale.
MILESTONE_FREQUENCY = "quarterly"
HORIZON_DAYS = 100 * 365  # a trend reaching the target later than this never reaches it
LIST_LIMIT = 10  # regions named in a summary sentence before "等N个"
_UTC = ZoneInfo("UTC")
_EPOCH = datetime.min.replace(tzinfo=_UTC)


@dataclass
class Status:
    """One target's or milestone's standing as of a date (for one region, or the whole)."""

    item_id: str  # the target's or milestone's id in targets.yaml
    kind: str  # "target" or "milestone"
    code: str  # a key of STATUS_LABELS
    reason_zh: str  # a sentence a person can act on
    reason_en: str
    as_of: str  # ISO date
    region: str | None = None  # region code; None for the plan's whole area
    figures: dict[str, Any] = field(default_factory=dict)  # latest, latest_period, expected,
    # projected, projected_date, baseline, coverage ("15/19"), gap, ...
    regions: list["Status"] = field(default_factory=list)  # per-region detail, each_region targets
    soft: bool = False  # a 力争/原则上 target: a miss is reported but flagged as soft

    @property
    def label_zh(self) -> str:
        return STATUS_LABELS[self.code][0]

    @property
    def label_en(self) -> str:
        return STATUS_LABELS[self.code][1]

    @property
    def severity(self) -> int:
        return STATUS_LABELS[self.code][2]

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def reason(self, lang: str = "zh") -> str:
        return self.reason_zh if lang == "zh" else self.reason_en

    @property
    def met(self) -> bool:
        return self.code in MET_CODES

    def display_label(self, lang: str = "zh") -> str:
        """The label, marked when a soft target is missed ("逾期未完成（力争）")."""
        if self.soft and not self.met:
            return f"{self.label_zh}（力争）" if lang == "zh" else f"{self.label_en} (soft)"
        return self.label(lang)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for --json, the report and stored runs)."""
        return {
            "item_id": self.item_id, "kind": self.kind, "code": self.code,
            "label_zh": self.label_zh, "label_en": self.label_en, "soft": self.soft,
            "region": self.region, "as_of": self.as_of,
            "reason_zh": self.reason_zh, "reason_en": self.reason_en,
            "figures": self.figures, "regions": [r.to_dict() for r in self.regions],
        }


def _sum_series(parts: list[tuple[str, Series | None]]) -> Series | None:
    """Sum series over regions point by point, counting the regions each point covers; a
    region without a series counts as missing everywhere, never as zero."""
    totals: dict[int, float] = {}
    counts: dict[int, int] = {}
    for _, s in parts:
        if s is None:
            continue
        for day, value in zip(s.days, s.values):
            totals[day] = totals.get(day, 0.0) + value
            counts[day] = counts.get(day, 0) + 1
    if not totals:
        return None
    days = sorted(totals)

    def missing_at(day: int) -> list[str]:
        out = []
        for code, s in parts:
            i = bisect_right(s.days, day) - 1 if s is not None else -1
            if i < 0 or s is None or s.days[i] != day:
                out.append(code)
        return out

    return Series(array("i", days), array("d", (totals[d] for d in days)),
                  covered=[counts[d] for d in days], expected_regions=len(parts),
                  missing_at=missing_at)


def _join(a: Series, b: Series) -> tuple[list[int], list[float], list[float]]:
    """Days both series report, with their values."""
    bi = dict(zip(b.days, b.values))
    days, av, bv = [], [], []
    for day, value in zip(a.days, a.values):
        other = bi.get(day)
        if other is not None:
            days.append(day)
            av.append(value)
            bv.append(other)
    return days, av, bv


def _ratio(num: Series, den: Series, multiplier: float) -> Series:
    """numerator / denominator x multiplier on the days both report (a zero denominator
    gives no point, not an infinite ratio)."""
    days, nv, dv = _join(num, den)
    keep = [i for i, d in enumerate(dv) if d]
    return Series(array("i", (days[i] for i in keep)), array("d", (nv[i] / dv[i] * multiplier for i in keep)))


class SeriesResolver:
    """Finds the series a target is judged on: a region's own figures, a ratio from its
    components, or the province summed from its regions (never the mean of their ratios)."""

    def __init__(self, model: TargetsModel, series: SeriesSet, regions: Regions) -> None:
        self.model = model
        self.series = series
        self.regions = regions
        self.indicators = {i.id: i for i in model.indicators}
        self._cache: dict[tuple[str, str], Series | None] = {}
        self.children: dict[str, list[Region]] = {}
        for r in regions.all:
            if r.parent and r.level == "district":
                self.children.setdefault(r.parent, []).append(r)

    def region_series(self, indicator: Indicator, code: str) -> Series | None:
        key = (indicator.id, code)
        if key not in self._cache:
            self._cache[key] = self._region_series(indicator, code)
        return self._cache[key]

    def _region_series(self, indicator: Indicator, code: str) -> Series | None:
        own = self.series.get(indicator.id, code)
        if own is not None:
            return own
        parts = self.components(indicator)
        if parts is not None:
            num = self.region_series(parts[0], code)
            den = self.region_series(parts[1], code)
            if num is None or den is None:
                return None
            return _ratio(num, den, indicator.multiplier)
        if indicator.kind in ("count", "flow"):
            children = self.children.get(code, [])
            kids = [self.series.get(indicator.id, c.code) for c in children]
            if kids and all(k is not None for k in kids):
                summed = _sum_series([(c.code, k) for c, k in zip(children, kids)])
                if summed is not None:  # a city's figure is its districts' when all report
                    keep = [i for i, n in enumerate(summed.covered or []) if n == len(kids)]
                    return Series(array("i", (summed.days[i] for i in keep)),
                                  array("d", (summed.values[i] for i in keep)))
        return None

    def components(self, indicator: Indicator) -> tuple[Indicator, Indicator] | None:
        if indicator.numerator and indicator.denominator:
            num = self.indicators.get(indicator.numerator)
            den = self.indicators.get(indicator.denominator)
            if num is not None and den is not None:
                return num, den
        return None

    def province_series(self, indicator: Indicator) -> tuple[Series | None, str]:
        """The whole-province series and how it was built ("reported", "summed", "ratio",
        or "none" when a ratio has no components to sum)."""
        province = self.regions.province.code
        own = self.series.get(indicator.id, province)
        if own is not None:
            return own, "reported"
        counties = self.regions.counties()
        parts = self.components(indicator)
        if parts is not None:
            # The province's own component figures (a template's 海南省 row) come first.
            own_num, own_den = self.series.get(parts[0].id, province), self.series.get(parts[1].id, province)
            if own_num is not None and own_den is not None:
                return _ratio(own_num, own_den, indicator.multiplier), "reported"
            num = self._sum_regions(parts[0], counties)
            den = self._sum_regions(parts[1], counties)
            if num is None or den is None:
                return None, "ratio"
            days, nv, dv = _join(num, den)
            ncov = dict(zip(num.days, num.covered or []))
            dcov = dict(zip(den.days, den.covered or []))
            keep = [i for i, d in enumerate(dv) if d]

            def missing_at(day: int) -> list[str]:
                gone = set(num.missing_at(day) if num.missing_at else [])
                gone |= set(den.missing_at(day) if den.missing_at else [])
                return [r.code for r in counties if r.code in gone]

            return Series(array("i", (days[i] for i in keep)),
                          array("d", (nv[i] / dv[i] * indicator.multiplier for i in keep)),
                          covered=[min(ncov[days[i]], dcov[days[i]]) for i in keep],
                          expected_regions=len(counties), missing_at=missing_at), "ratio"
        if indicator.kind in ("count", "flow"):
            return self._sum_regions(indicator, counties), "summed"
        return None, "none"

    def _sum_regions(self, indicator: Indicator, counties: list[Region]) -> Series | None:
        return _sum_series([(r.code, self.region_series(indicator, r.code)) for r in counties])


def cumulate(series: Series, since: date, frequency: str) -> Series | None:
    """Running sums of a flow since the plan's start, noting periods missing on the way
    (a month nobody reported is not a month of zero)."""
    start = since.toordinal()
    kind = FREQUENCY_KIND.get(frequency, frequency)
    first = period_containing(since, kind)
    days, sums, covered, gaps = array("i"), array("d"), [], []
    total, seen, expected_day, missing = 0.0, 0, first.end, 0
    for i, (day, value) in enumerate(zip(series.days, series.values)):
        if day < start:
            continue
        while expected_day.toordinal() < day:  # periods skipped before this one
            missing += 1
            expected_day = period_containing(expected_day + timedelta(days=1), kind).end
        if expected_day.toordinal() == day:
            expected_day = period_containing(expected_day + timedelta(days=1), kind).end
        total += value
        seen += 1
        days.append(day)
        sums.append(total)
        partial = series.covered is not None and series.covered[i] < series.expected_regions
        covered.append(series.covered[i] if series.covered is not None else 0)
        gaps.append(missing + (1 if partial else 0))
        if partial:
            missing += 1
    if not seen:
        return None
    return Series(days, sums, covered=covered if series.covered is not None else None,
                  expected_regions=series.expected_regions, missing_at=series.missing_at,
                  gaps=gaps)


# --- formatting ------------------------------------------------------------------------------

def _unit_labels(unit: str) -> tuple[str, str]:
    return units.label(unit, "zh"), units.label(unit, "en")


def _day(ordinal: int) -> date:
    return date.fromordinal(ordinal)


# --- judging one series ----------------------------------------------------------------------

@dataclass
class _Context:
    """What every region's judgment of one target shares."""

    target: Target
    indicator: Indicator
    goal: float  # the target value in the indicator's unit
    sign: int  # +1 when the value must rise (>=, >), -1 when it must fall
    plan_start: date | None
    as_of: date
    settings: StatusSettings
    unit_zh: str
    unit_en: str
    expected_end: date  # end of the latest period that should be reported by now
    region_names: dict[str, str]


def _progress_ratio(ctx: _Context, base: float, t0: int, x: float, t: int,
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


def _band(ratio: float | None) -> tuple[str, str]:
    if ratio is None:
        return "", ""
    for floor, en, zh in PROGRESS_BANDS:
        if ratio >= floor:
            return en, zh
    return PROGRESS_BANDS[-1][1], PROGRESS_BANDS[-1][2]


PERIOD_DAYS = {"monthly": 31, "quarterly": 92, "yearly": 366}


def _trend(days: array, values: array, upto: int, k: int,
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


def _baseline(ctx: _Context, s: Series) -> tuple[float, int, str]:
    """(value, day, where from): the target's stated baseline, else the value at the plan's
    start, else the first one reported."""
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
        return float(t.baseline), (day or _day(s.days[0])).toordinal(), "stated"
    if ctx.plan_start is not None:
        i = bisect_right(s.days, ctx.plan_start.toordinal()) - 1
        if i >= 0:
            return s.values[i], s.days[i], "plan_start"
    return s.values[0], s.days[0], "first_reported"


def _period_label(ctx: _Context, day: int) -> str:
    kind = FREQUENCY_KIND.get(ctx.indicator.frequency, "month")
    return period_containing(_day(day), kind).label


def _shortfall_words(ctx: _Context, x: float) -> tuple[str, str]:
    """'低于目标 32张/千人，差 3.5' / 'below the target of 32 …, short by 3.5'."""
    goal = f"{format_number(ctx.goal)}{ctx.unit_zh}"
    goal_en = f"{format_number(ctx.goal)} {ctx.unit_en}".rstrip()
    gap = format_number(abs(ctx.goal - x))
    if ctx.sign > 0:
        return f"低于目标 {goal}，差 {gap}", f"below the target of {goal_en}, short by {gap}"
    return f"高于目标上限 {goal}，超出 {gap}", f"above the ceiling of {goal_en}, over by {gap}"


def _met_words(ctx: _Context) -> tuple[str, str]:
    cmp = ctx.target.comparator
    goal = f"{format_number(ctx.goal)}{ctx.unit_zh}"
    return (f"达到目标（{COMPARATOR_LABELS[cmp]} {goal}）",
            f"meets the target ({cmp} {format_number(ctx.goal)} {ctx.unit_en})".replace(" )", ")"))


def _soft_words(ctx: _Context) -> tuple[str, str]:
    word = ctx.target.qualifier or "力争"
    return f"（{word}目标，未达到，作提示）", f" (soft target, {word}: flagged, not binding)"


def _judge(ctx: _Context, s: Series | None, region: str | None,
           how: str = "reported") -> Status:
    """One target for one series: the status, the figures and the reason."""
    t = ctx.target
    as_of_s = ctx.as_of.isoformat()
    head_zh, head_en = f"截至{as_of_s}，", f"As of {as_of_s}, "
    figures: dict[str, Any] = {"target": ctx.goal, "comparator": t.comparator,
                               "unit": t.unit or ctx.indicator.unit, "soft": t.soft,
                               "deadline": t.deadline.isoformat() if t.deadline else None}
    deadline = t.deadline
    passed = deadline is not None and ctx.as_of > deadline

    def make(code: str, zh: str, en: str) -> Status:
        missed = code not in MET_CODES and code not in ("on_track", "no_data", "stale")
        if t.soft and missed:
            szh, sen = _soft_words(ctx)
            zh, en = zh.rstrip("。") + szh + "。", en.rstrip(".") + sen + "."
        return Status(t.id, "target", code, zh, en, as_of_s, region, figures, soft=t.soft)

    if t.cumulative and s is not None and ctx.plan_start is not None:
        s = cumulate(s, ctx.plan_start, ctx.indicator.frequency)
        figures["cumulative_since"] = ctx.plan_start.isoformat()
    if s is None or len(s) == 0:
        figures["no_data"] = True
        why_zh, why_en = "", ""
        if how == "none":  # regions may report the ratio, but ratios are never averaged
            why_zh = "（该比率指标无省级报送值，也未定义分子分母，不能由市县汇总）"
            why_en = (" (no province figure, and the ratio has no components to sum the "
                      "regions with)")
        if passed:
            return make("overdue", f"{head_zh}未报送任何数据{why_zh}，期限 {deadline} 已过，无法确认完成，逾期未完成。",
                        f"{head_en}nothing has been reported{why_en} and the deadline {deadline} "
                        "has passed; completion is not shown: overdue.")
        return make("no_data", f"{head_zh}未报送任何数据{why_zh}。",
                    f"{head_en}nothing has been reported{why_en}.")

    n = len(s)
    dl = deadline.toordinal() if deadline else None
    upto = n if dl is None else bisect_right(s.days, dl)  # points on or before the deadline
    last = n - 1
    x, xday = s.values[last], s.days[last]
    figures.update(latest=x, latest_period=_period_label(ctx, xday),
                   latest_period_end=_day(xday).isoformat())
    if s.covered is not None:
        figures["coverage"] = f"{s.covered[last]}/{s.expected_regions}"
    if s.gaps is not None and s.gaps[last]:
        figures["missing_periods"] = s.gaps[last]
    latest_zh = f"最新值 {format_number(x)}{ctx.unit_zh}（{figures['latest_period']}）"
    latest_en = f"latest value {format_number(x)} {ctx.unit_en}".rstrip() + f" ({figures['latest_period']})"

    def incomplete_words(i: int) -> tuple[str, str]:
        parts_zh, parts_en = [], []
        if s.covered is not None and s.covered[i] < s.expected_regions:
            missing = s.missing_at(s.days[i]) if s.missing_at else []
            names = [ctx.region_names.get(c, c) for c in missing]
            figures["missing_regions"] = missing
            shown = "、".join(names[:LIST_LIMIT]) + (f"等{len(names)}个" if len(names) > LIST_LIMIT else "")
            parts_zh.append(f"省级合计仅覆盖 {s.covered[i]}/{s.expected_regions} 市县（缺 {shown}）")
            parts_en.append(f"the province figure covers only {s.covered[i]}/{s.expected_regions} "
                            f"regions (missing {', '.join(missing[:LIST_LIMIT])}"
                            + (f" and {len(missing) - LIST_LIMIT} more" if len(missing) > LIST_LIMIT else "")
                            + ")")
        if s.gaps is not None and s.gaps[i]:
            parts_zh.append(f"累计期间有 {s.gaps[i]} 期未报送")
            parts_en.append(f"{s.gaps[i]} period(s) since the plan started are missing from the sum")
        return "，".join(parts_zh), "; ".join(parts_en)

    if passed:
        assert dl is not None
        if upto and s.complete(upto - 1) and compare(s.values[upto - 1], t.comparator, ctx.goal):
            v, d = s.values[upto - 1], s.days[upto - 1]
            figures.update(achieved_value=v, achieved_period=_period_label(ctx, d))
            mz, me = _met_words(ctx)
            return make("achieved",
                        f"{head_zh}期限 {deadline} 前最新值 {format_number(v)}{ctx.unit_zh}（{_period_label(ctx, d)}）{mz}，已完成。",
                        f"{head_en}the latest value by the deadline {deadline}, {format_number(v)} "
                        f"({_period_label(ctx, d)}), {me}: achieved.")
        for i in range(upto, n):
            if s.complete(i) and compare(s.values[i], t.comparator, ctx.goal):
                v, period = s.values[i], _period_label(ctx, s.days[i])
                figures.update(achieved_value=v, achieved_period=period)
                mz, me = _met_words(ctx)
                return make("achieved_late",
                            f"{head_zh}期限 {deadline} 前未达标；{period} 数值 {format_number(v)}{ctx.unit_zh}{mz}，逾期完成。",
                            f"{head_en}the target was not met by the deadline {deadline}; "
                            f"{period} value {format_number(v)} {me}: achieved late.")
        sz, se = _shortfall_words(ctx, x)
        figures["gap"] = abs(ctx.goal - x)
        extra_zh, extra_en = incomplete_words(last)
        if extra_zh:
            return make("overdue",
                        f"{head_zh}期限 {deadline} 已过，{latest_zh}，{extra_zh}，不能认定达标，逾期未完成。",
                        f"{head_en}the deadline {deadline} has passed; {latest_en}; {extra_en}, "
                        "so it cannot count as met: overdue.")
        return make("overdue", f"{head_zh}期限 {deadline} 已过，{latest_zh}，{sz}，逾期未完成。",
                    f"{head_en}the deadline {deadline} has passed; {latest_en} is {se}: overdue.")

    # on or before the deadline (or no deadline): judge the latest value and the trend
    complete = s.complete(last)
    if complete and compare(x, t.comparator, ctx.goal):
        mz, me = _met_words(ctx)
        return make("achieved", f"{head_zh}{latest_zh}，{mz}，已完成。",
                    f"{head_en}{latest_en} {me}: achieved.")
    if not complete:
        extra_zh, extra_en = incomplete_words(last)
        return make("no_data", f"{head_zh}{latest_zh}，{extra_zh}，不能判定进度。",
                    f"{head_en}{latest_en}; {extra_en}, so progress cannot be judged.")

    sz, se = _shortfall_words(ctx, x)
    figures["gap"] = abs(ctx.goal - x)
    stale = xday < ctx.expected_end.toordinal()
    figures["stale"] = stale
    base, t0, base_from = _baseline(ctx, s)
    figures.update(baseline=base, baseline_from=base_from, baseline_date=_day(t0).isoformat())
    parts_zh, parts_en = [f"{latest_zh}，{sz}"], [f"{latest_en} is {se}"]
    behind = False
    expected = None
    if dl is not None and dl > t0:
        share = min(1.0, max(0.0, (xday - t0) / (dl - t0)))
        expected = base + (ctx.goal - base) * share
        figures["expected"] = expected
        shortfall = ctx.sign * (expected - x)
        behind = shortfall > ctx.settings.tolerance * max(abs(ctx.goal - base), 1e-9)
        if behind:
            parts_zh.append(f"按计划进度此时应达 {format_number(expected)}（落后 {format_number(shortfall)}）")
            parts_en.append(f"the straight line to the target expects {format_number(expected)} by now "
                            f"(behind by {format_number(shortfall)})")
        else:
            parts_zh.append(f"按计划进度此时应达 {format_number(expected)}")
            parts_en.append(f"the straight line to the target expects {format_number(expected)} by now")
    ratio, method = _progress_ratio(ctx, base, t0, x, xday, expected)
    if ratio is not None:
        band_en, band_zh = _band(ratio)
        figures.update(progress_ratio=round(ratio, 4), progress_method=method,
                       progress_band=band_en)
    trend = _trend(s.days, s.values, n, ctx.settings.recent_points, ctx.indicator.frequency)
    misses = False
    if trend is not None and dl is not None:
        level, slope, tday = trend
        projected = level + slope * (dl - tday)
        figures["projected"] = projected
        misses = not compare(projected, t.comparator, ctx.goal)
        reach = None
        if slope * ctx.sign > 0:
            ahead = (ctx.goal - level) / slope
            reach_day = max(tday + math.ceil(min(ahead, 2 * HORIZON_DAYS)), ctx.as_of.toordinal())
            if reach_day - ctx.as_of.toordinal() <= HORIZON_DAYS:
                reach = _day(reach_day)
                figures["projected_date"] = reach.isoformat()
        when_zh = f"（约 {reach} 达到目标）" if reach else "（按此趋势达不到目标）"
        when_en = f" (reaching the target about {reach})" if reach else \
            " (on this trend it never reaches the target)"
        parts_zh.append(f"按近期趋势预计 {deadline} 达到 {format_number(projected)}{when_zh}")
        parts_en.append(f"the recent trend projects {format_number(projected)} at {deadline}{when_en}")
    elif dl is not None:
        parts_zh.append("数据点不足，无法推算趋势")
        parts_en.append("too few values to project a trend")
    if stale:
        figures["expected_period"] = _period_label(ctx, ctx.expected_end.toordinal())
        parts_zh.append(f"应已报送 {figures['expected_period']} 数据而未报送")
        parts_en.append(f"the {figures['expected_period']} value is due and missing")
    body_zh, body_en = "；".join(parts_zh), "; ".join(parts_en)
    if dl is None:
        return make("lagging", f"{head_zh}{latest_zh}，{sz}，未达标（无期限）。",
                    f"{head_en}{latest_en} is {se}; not met (no deadline).")
    if behind or misses:
        return make("lagging", f"{head_zh}{body_zh}，进度滞后。", f"{head_en}{body_en}: lagging.")
    days_left = dl - ctx.as_of.toordinal()
    figures["days_left"] = days_left
    if days_left <= ctx.settings.due_soon_days:
        return make("due_soon", f"{head_zh}{body_zh}；距期限 {deadline} 还有 {days_left} 天，尚未达标，临期。",
                    f"{head_en}{body_en}; {days_left} days to the deadline {deadline} and not yet "
                    "met: due soon.")
    if stale:
        return make("stale", f"{head_zh}{latest_zh}，应已报送 {figures['expected_period']} 数据而未报送，数据过期。",
                    f"{head_en}{latest_en}; the {figures['expected_period']} value is due and "
                    "missing: stale.")
    return make("on_track", f"{head_zh}{body_zh}，进展正常。", f"{head_en}{body_en}: on track.")


# --- targets and milestones ------------------------------------------------------------------

def _context(model: TargetsModel, target: Target, indicator: Indicator, regions: Regions,
             as_of: date, settings: StatusSettings) -> _Context:
    try:
        plan_start: date | None = model.plan(target.plan).start
    except KeyError:
        plan_start = None
    goal = float(target.value)
    if target.unit and target.unit != indicator.unit:
        from tracker.domain.units import UnitError, conversion_factor
        try:
            goal *= conversion_factor(target.unit, indicator.unit)
        except UnitError:
            pass  # shown in the target's own unit; targets.yaml check reports the mismatch
    unit_zh, unit_en = _unit_labels(indicator.unit or target.unit)
    expected_end = latest_closed_period(as_of - timedelta(days=settings.grace_days),
                                        indicator.frequency).end
    return _Context(target, indicator, goal, 1 if target.comparator in (">=", ">") else -1,
                    plan_start, as_of, settings, unit_zh, unit_en, expected_end,
                    {r.code: r.name for r in regions.all})


def _summarise(target: Target, subs: list[Status], as_of: date,
               names: dict[str, str]) -> Status:
    """A 每个市县（区） target: met only when every judged region meets it; otherwise the worst
    region's status, with how many meet it and which do not."""
    met = [s for s in subs if s.met]
    unmet = [s for s in subs if not s.met]
    total = len(subs)
    if not unmet:
        code = "achieved_late" if any(s.code == "achieved_late" for s in subs) else "achieved"
    else:
        code = min(unmet, key=lambda s: s.severity).code
    shown = [names.get(s.region or "", s.region or "") for s in unmet]
    listed = "、".join(shown[:LIST_LIMIT]) + (f"等{len(shown)}个" if len(shown) > LIST_LIMIT else "")
    listed_en = ", ".join(s.region or "" for s in unmet[:LIST_LIMIT]) + \
        (f" and {len(unmet) - LIST_LIMIT} more" if len(unmet) > LIST_LIMIT else "")
    counts: dict[str, int] = {}
    for s in unmet:
        counts[s.code] = counts.get(s.code, 0) + 1
    breakdown = "，".join(f"{STATUS_LABELS[c][0]} {k}" for c, k in sorted(
        counts.items(), key=lambda kv: STATUS_LABELS[kv[0]][2]))
    breakdown_en = ", ".join(f"{STATUS_LABELS[c][1]} {k}" for c, k in sorted(
        counts.items(), key=lambda kv: STATUS_LABELS[kv[0]][2]))
    as_of_s = as_of.isoformat()
    zh = f"截至{as_of_s}，{len(met)}/{total} 市县（区）达标"
    en = f"As of {as_of_s}, {len(met)}/{total} regions meet the target"
    if unmet:
        zh += f"；未达标：{listed}（{breakdown}）"
        en += f"; not met: {listed_en} ({breakdown_en})"
    zh += "。"
    en += "."
    if target.soft and unmet:
        word = target.qualifier or "力争"
        zh = zh.rstrip("。") + f"（{word}目标，作提示）。"
        en = en.rstrip(".") + f" (soft target, {word}: flagged, not binding)."
    figures = {"met": f"{len(met)}/{total}", "met_count": len(met), "judged": total,
               "not_met": [s.region for s in unmet], "by_status": counts, "soft": target.soft,
               "deadline": target.deadline.isoformat() if target.deadline else None}
    return Status(target.id, "target", code, zh, en, as_of_s, None, figures, subs, soft=target.soft)


def evaluate_target(model: TargetsModel, target: Target, resolver: SeriesResolver, regions: Regions,
                    as_of: date, settings: StatusSettings) -> Status:
    """One target: the whole area, or every judged region with a summary."""
    indicator = resolver.indicators.get(target.indicator)
    if indicator is None:
        s = as_of.isoformat()
        return Status(target.id, "target", "no_data",
                      f"截至{s}，指标 {target.indicator} 未在 targets.yaml 中定义，无法评估。",
                      f"As of {s}, indicator {target.indicator} is not defined in targets.yaml.",
                      s, None, {"unknown_indicator": target.indicator}, soft=target.soft)
    ctx = _context(model, target, indicator, regions, as_of, settings)
    if target.scope == "each_region":
        subs = [_judge(ctx, resolver.region_series(indicator, r.code), r.code)
                for r in regions.judged_regions()]
        return _summarise(target, subs, as_of, ctx.region_names)
    series, how = resolver.province_series(indicator)
    status = _judge(ctx, series, None, how)
    status.figures["source"] = how
    return status


def _report_order(p: MilestoneProgress) -> tuple[date, datetime]:
    return p.reported_on, _aware(p.entered_at) if p.entered_at else _EPOCH


def evaluate_milestone(milestone: Milestone, progress: list[MilestoneProgress], as_of: date,
                       settings: StatusSettings) -> Status:
    """未启动 / 推进中 / 已完成 / 逾期 from the latest report of each reporter known as of the
    date. Done means every reporter says done; an undated milestone is never overdue."""
    as_of_s = as_of.isoformat()
    head_zh, head_en = f"截至{as_of_s}，", f"As of {as_of_s}, "
    latest: dict[str, MilestoneProgress] = {}
    for p in progress:
        if p.reported_on > as_of or not visible(p.entered_at, p.reported_on, as_of):
            continue
        seen = latest.get(p.reporter)
        if seen is None or _report_order(p) >= _report_order(seen):
            latest[p.reporter] = p
    deadline = milestone.deadline
    passed = deadline is not None and as_of > deadline
    figures: dict[str, Any] = {"deadline": deadline.isoformat() if deadline else None,
                               "reports": len(latest)}

    def make(code: str, zh: str, en: str) -> Status:
        return Status(milestone.id, "milestone", code, zh, en, as_of_s, None, figures)

    if not latest:
        if passed:
            return make("overdue", f"{head_zh}未报送任何进展，期限 {deadline} 已过，逾期。",
                        f"{head_en}no progress has been reported and the deadline {deadline} "
                        "has passed: overdue.")
        return make("no_data", f"{head_zh}未报送任何进展。", f"{head_en}no progress has been reported.")
    reports = sorted(latest.values(), key=lambda p: p.reported_on)
    newest = reports[-1]
    figures.update(latest_report=newest.reported_on.isoformat(), note=newest.note,
                   evidence=newest.evidence,
                   states={p.reporter: p.state for p in reports})
    state_zh = MILESTONE_STATE_LABELS.get(newest.state, newest.state)
    note_zh = f"（{newest.note}）" if newest.note else ""
    note_en = f" ({newest.note})" if newest.note else ""
    if all(p.state == "done" for p in reports):
        figures["done_on"] = newest.reported_on.isoformat()
        if deadline is not None and newest.reported_on > deadline:
            return make("achieved_late", f"{head_zh}{newest.reported_on} 报告已完成{note_zh}，晚于期限 {deadline}，逾期完成。",
                        f"{head_en}reported done on {newest.reported_on}{note_en}, after the "
                        f"deadline {deadline}: done late.")
        return make("done", f"{head_zh}{newest.reported_on} 报告已完成{note_zh}。",
                    f"{head_en}reported done on {newest.reported_on}{note_en}.")
    started = any(p.state in ("in_progress", "done") for p in reports)
    code = "in_progress" if started else "not_started"
    pending = [p.reporter for p in reports if p.state != "done"]
    if len(reports) > 1:
        figures["pending"] = pending
    if passed:
        return make("overdue", f"{head_zh}期限 {deadline} 已过，最新进展为{state_zh}（{newest.reported_on}）{note_zh}，逾期。",
                    f"{head_en}the deadline {deadline} has passed and the latest report "
                    f"({newest.reported_on}) says {newest.state}{note_en}: overdue.")
    if deadline is not None and (deadline - as_of).days <= settings.due_soon_days:
        days_left = (deadline - as_of).days
        figures["days_left"] = days_left
        return make("due_soon", f"{head_zh}最新进展为{state_zh}（{newest.reported_on}）{note_zh}，距期限 {deadline} 还有 {days_left} 天，临期。",
                    f"{head_en}the latest report ({newest.reported_on}) says {newest.state}"
                    f"{note_en}; {days_left} days to the deadline {deadline}: due soon.")
    expected = latest_closed_period(as_of - timedelta(days=settings.grace_days), MILESTONE_FREQUENCY)
    if newest.reported_on <= expected.start - timedelta(days=1):
        figures.update(stale=True, expected_period=expected.label)
        return make("stale", f"{head_zh}最新进展为{state_zh}（{newest.reported_on}），{expected.label} 未报送进展，数据过期。",
                    f"{head_en}the latest report ({newest.reported_on}) says {newest.state}; "
                    f"nothing was reported for {expected.label}: stale.")
    return make(code, f"{head_zh}最新进展为{state_zh}（{newest.reported_on}）{note_zh}。",
                f"{head_en}the latest report ({newest.reported_on}) says {newest.state}{note_en}.")


def evaluate(model: TargetsModel, observations: "Iterable[Observation] | SeriesSet",
             progress: Iterable[MilestoneProgress], regions: Regions, as_of: date,
             settings: StatusSettings | None = None) -> list[Status]:
    """Every target and milestone of the model as of `as_of` (a date in Asia/Shanghai).

    `observations` is a list of Observation (only those entered by the end of `as_of` are
    seen) or a SeriesSet already cut to that date (see tracker.store.series).
    """
    settings = settings or StatusSettings()
    series = observations if isinstance(observations, SeriesSet) else \
        series_from_observations(observations, as_of)
    resolver = SeriesResolver(model, series, regions)
    out = [evaluate_target(model, t, resolver, regions, as_of, settings) for t in model.targets]
    by_milestone: dict[str, list[MilestoneProgress]] = {}
    for p in progress:
        by_milestone.setdefault(p.milestone, []).append(p)
    out.extend(evaluate_milestone(m, by_milestone.get(m.id, []), as_of, settings)
               for m in model.milestones)
    return out


def worst_first(statuses: Iterable[Status]) -> list[Status]:
    """Statuses ordered for a reader: the worst first, then by id."""
    return sorted(statuses, key=lambda s: (s.severity, s.item_id, s.region or ""))
