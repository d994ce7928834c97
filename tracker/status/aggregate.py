"""Series a target is judged on when nobody reported it directly: sums over regions, ratios
from their components, running sums of flows.

The rules officials expect (docs/status-rules.md): counts add up; ratios are recomputed from
summed components, never averaged, and over the same regions for numerator and denominator;
a figure built from some regions says how many it covers; missing is not zero.
"""

from array import array
from bisect import bisect_right
from datetime import date, timedelta

from tracker.domain.model import Indicator, TargetsModel
from tracker.domain.periods import FREQUENCY_KIND, period_containing
from tracker.domain.regions import Region, Regions
from tracker.domain.series import Series, SeriesSet


def _days_key(days: "array | list[int]") -> bytes:
    return days.tobytes() if isinstance(days, array) else array("i", days).tobytes()


def _column_sums(groups: dict[bytes, tuple[array, list[array]]]) -> tuple[dict[int, float], dict[int, int]]:
    """Per day, the sum of the values and how many series have a point there, for series
    grouped by their days (most regions report the same periods): each group's columns are
    summed in C (zip and sum), the groups then merged day by day."""
    totals: dict[int, float] = {}
    counts: dict[int, int] = {}
    for days, columns in groups.values():
        n = len(columns)
        sums = map(sum, zip(*columns)) if n > 1 else iter(columns[0])
        for day, value in zip(days, sums):
            if day in totals:
                totals[day] += value
                counts[day] += n
            else:
                totals[day] = value + 0.0
                counts[day] = n
    return totals, counts


def sum_series(parts: list[tuple[str, Series | None]]) -> Series | None:
    """Sum series over regions point by point, counting the regions each point covers; a
    region without a series counts as missing everywhere, never as zero."""
    groups: dict[bytes, tuple[array, list[array]]] = {}
    for _, s in parts:
        if s is None or not len(s.days):
            continue
        key = _days_key(s.days)
        if key in groups:
            groups[key][1].append(s.values)
        else:
            groups[key] = (s.days, [s.values])
    if not groups:
        return None
    totals, counts = _column_sums(groups)
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


def ratio(num: Series, den: Series, multiplier: float) -> Series:
    """numerator / denominator x multiplier on the days both report (a zero denominator
    gives no point, not an infinite ratio)."""
    dv = dict(zip(den.days, den.values))
    days, values = array("i"), array("d")
    for day, n in zip(num.days, num.values):
        d = dv.get(day)
        if d:
            days.append(day)
            values.append(n / d * multiplier)
    return Series(days, values)


def _paired(num: Series, den: Series) -> tuple[array, array, array]:
    """The days both components report, with each one's value there."""
    if num.days == den.days:
        return num.days, num.values, den.values
    dv = dict(zip(den.days, den.values))
    days, ns, ds = array("i"), array("d"), array("d")
    for day, n in zip(num.days, num.values):
        d = dv.get(day)
        if d is not None:
            days.append(day)
            ns.append(n)
            ds.append(d)
    return days, ns, ds


def ratio_of_sums(parts: list[tuple[str, Series | None, Series | None]],
                  multiplier: float) -> Series | None:
    """A ratio over regions, `parts` being (region, numerator, denominator): at each period the
    numerators and the denominators are summed over the same regions, those that reported
    both for that period, and the point covers exactly those regions. Summing each component
    over whoever reported it would divide 海口, 三亚 and 儋州's beds by 海口's elderly alone."""
    num_groups: dict[bytes, tuple[array, list[array]]] = {}
    den_groups: dict[bytes, tuple[array, list[array]]] = {}
    both: list[tuple[str, array]] = []
    for code, num, den in parts:
        if num is None or den is None:
            both.append((code, array("i")))
            continue
        days, ns, ds = _paired(num, den)
        both.append((code, days))
        if not len(days):
            continue
        key = _days_key(days)
        if key in num_groups:
            num_groups[key][1].append(ns)
            den_groups[key][1].append(ds)
        else:
            num_groups[key] = (days, [ns])
            den_groups[key] = (days, [ds])
    nums, counts = _column_sums(num_groups)
    dens, _ = _column_sums(den_groups)
    kept = sorted(day for day, d in dens.items() if d)
    if not kept:
        return None

    def missing_at(day: int) -> list[str]:
        out = []
        for code, days in both:
            i = bisect_right(days, day) - 1
            if i < 0 or days[i] != day:
                out.append(code)
        return out

    return Series(array("i", kept), array("d", (nums[d] / dens[d] * multiplier for d in kept)),
                  covered=[counts[d] for d in kept], expected_regions=len(parts),
                  missing_at=missing_at)


class SeriesResolver:
    """Finds the series a target is judged on: a region's own figures, a ratio from its
    components, or the province summed from its regions (never the mean of their ratios)."""

    def __init__(self, model: TargetsModel, series: SeriesSet, regions: Regions) -> None:
        self.model = model
        self.series = series
        self.regions = regions
        self.indicators = {i.id: i for i in model.indicators}
        self._cache: dict[tuple[str, str], Series | None] = {}
        self._whole: dict[str, tuple[Series | None, str]] = {}
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
            return ratio(num, den, indicator.multiplier)
        if indicator.kind in ("count", "flow"):
            children = self.children.get(code, [])
            kids = [self.series.get(indicator.id, c.code) for c in children]
            if kids and all(k is not None for k in kids):
                summed = sum_series([(c.code, k) for c, k in zip(children, kids)])
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
        or "none" when a ratio has no components to sum); made once per indicator (the
        statuses, the report's charts and a roll-up read the same sums)."""
        if indicator.id not in self._whole:
            self._whole[indicator.id] = self._province_series(indicator)
        return self._whole[indicator.id]

    def _province_series(self, indicator: Indicator) -> tuple[Series | None, str]:
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
                return ratio(own_num, own_den, indicator.multiplier), "reported"
            return ratio_of_sums([(r.code, self.region_series(parts[0], r.code),
                                   self.region_series(parts[1], r.code)) for r in counties],
                                 indicator.multiplier), "ratio"
        if indicator.kind in ("count", "flow"):
            return sum_series([(r.code, self.region_series(indicator, r.code)) for r in counties]), "summed"
        return None, "none"


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
