"""The figures a person sees: values entered, and values derived from them (ratios from their
components, cities from their districts, the province from its 市县), with coverage.

One function, `indicator_values`, turns what is stored into these figures, through the same
`SeriesResolver` the statuses are judged with: the web target page, the status JSON, the
report and the alerts therefore quote the same number with the same coverage.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from tracker.domain.model import Observation, TargetsModel
from tracker.domain.periods import FREQUENCY_KIND, period_containing
from tracker.domain.regions import Regions
from tracker.domain.series import Series, series_from_observations
from tracker.status.aggregate import SeriesResolver


@dataclass(frozen=True)
class Figure:
    """One figure of one indicator, region and period, entered or derived."""

    indicator: str
    region: str  # region code
    period: str  # label: 2026-11, 2026Q3, 2025
    period_end: date
    value: float
    source: str  # "entered" or "derived"
    revision: int = 0  # entered values: the revision shown
    how: str = ""  # derived: "components" (a ratio), "districts" (a city), "regions" (the province)
    covered: int | None = None  # derived from regions: how many it covers …
    expected: int | None = None  # … of how many
    note: str = ""

    @property
    def partial(self) -> bool:
        return self.covered is not None and self.expected is not None and self.covered < self.expected

    @property
    def coverage(self) -> str:
        return f"{self.covered}/{self.expected}" if self.covered is not None else ""


def _label(indicator_frequency: str, end: date) -> str:
    return period_containing(end, FREQUENCY_KIND.get(indicator_frequency, "month")).label


def indicator_values(resolver: SeriesResolver, indicator_id: str, entered: list[Observation],
                     regions: Regions) -> list[Figure]:
    """Every figure of `indicator_id`: each entered value (the latest revision of its cell, as
    `entered` holds them) and, where nothing was entered for a region and period, the value
    the resolver derives, with how and over how many regions. Missing is not zero: a region or
    period without either is simply absent."""
    indicator = resolver.indicators.get(indicator_id)
    if indicator is None:
        return []
    out: list[Figure] = []
    seen: set[tuple[str, int]] = set()
    for o in entered:
        if o.indicator != indicator_id:
            continue
        seen.add((o.region, o.period_end.toordinal()))
        out.append(Figure(o.indicator, o.region, o.period or _label(indicator.frequency, o.period_end), o.period_end,
                          o.value, "entered", o.revision, note=o.note))
    province = regions.province.code
    components = resolver.components(indicator) is not None
    for region in regions.all:
        if region.code == province:
            series, how = resolver.province_series(indicator)
        else:
            series, how = resolver.region_series(indicator, region.code), ""
        if series is None:
            continue
        out.extend(_derived(indicator_id, indicator.frequency, region.code, series, seen, how, components))
    return out


def _derived(indicator_id: str, frequency: str, region: str, series: Series, seen: set[tuple[str, int]],
             how: str, components: bool) -> list[Figure]:
    out = []
    for i, day in enumerate(series.days):
        if (region, day) in seen:
            continue
        end = date.fromordinal(day)
        covered = series.covered[i] if series.covered is not None else None
        if covered is not None:
            kind = "regions"
            note = f"{covered}/{series.expected_regions} 个市县合计 (sum of {covered} of {series.expected_regions} regions)"
        elif components:
            kind, note = "components", "由分量计算 (computed from its components)"
        else:
            kind, note = "districts", "由所辖区汇总 (sum of its districts)"
        out.append(Figure(indicator_id, region, _label(frequency, end), end, series.values[i], "derived", how=kind,
                          covered=covered, expected=series.expected_regions if covered is not None else None,
                          note=note))
    return out


def derive_values(model: TargetsModel, observations: list[Observation], regions: Regions) -> list[Observation]:
    """The derived figures of every indicator, as Observations (source "derived"), from a list
    of observations: `indicator_values` for callers that hold observations, not a store."""
    resolver = SeriesResolver(model, series_from_observations(observations, date.max - timedelta(days=1)), regions)
    labels = {(o.indicator, o.period_end): o.period for o in observations}
    out: list[Observation] = []
    for ind in model.indicators:
        mine = [o for o in observations if o.indicator == ind.id]
        for f in indicator_values(resolver, ind.id, mine, regions):
            if f.source == "derived":
                out.append(Observation(f.indicator, f.region, f.period_end, f.value, source="derived", note=f.note,
                                       period=labels.get((f.indicator, f.period_end), f.period)))
    return out


def indicators_needed(model: TargetsModel) -> set[str]:
    """The indicators the model's targets are judged on, with the components of ratios."""
    needed = {t.indicator for t in model.targets}
    for ind in model.indicators:
        if ind.id in needed and ind.numerator and ind.denominator:
            needed |= {ind.numerator, ind.denominator}
    return needed
