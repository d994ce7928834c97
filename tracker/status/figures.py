"""The figures a person sees: values entered, and values derived from them (ratios from their
components, cities from their districts, the province from its 市县), with coverage."""

from datetime import date, timedelta

from tracker.domain.model import Observation, TargetsModel
from tracker.domain.regions import Regions
from tracker.domain.series import series_from_observations
from tracker.status.engine import SeriesResolver


def derive_values(model: TargetsModel, observations: list[Observation], regions: Regions) -> list[Observation]:
    """Values not entered directly but implied by others, in the indicators' units, by the
    same rules the status engine judges on (tracker.status.engine.SeriesResolver): a ratio from its
    components; a city from its districts when all of them reported; the province with
    counts summed and ratios recomputed from the summed components, never a mean of the
    regions' ratios. A value entered directly always wins; a province figure built from some
    of the 市县 says how many it covers; missing is not zero.
    """

    entered = {(o.indicator, o.region, o.period_end) for o in observations}
    labels = {(o.indicator, o.period_end): o.period for o in observations}
    labels_any = {o.period_end: o.period for o in observations}
    resolver = SeriesResolver(model, series_from_observations(observations, date.max - timedelta(days=1)), regions)
    province = regions.province.code
    out: list[Observation] = []
    for ind in model.indicators:
        for region in regions.all:
            if region.code == province:
                series, _how = resolver.province_series(ind)
            else:
                series = resolver.region_series(ind, region.code)
            if series is None:
                continue
            for i, day in enumerate(series.days):
                end = date.fromordinal(day)
                if (ind.id, region.code, end) in entered:
                    continue
                if series.covered is not None:
                    n, of = series.covered[i], series.expected_regions
                    note = f"汇总 {n}/{of} 个市县 (from {n} of {of} regions)"
                else:
                    note = "由分量计算 (computed from its components)" if resolver.components(ind) else \
                        "由所辖区汇总 (sum of its districts)"
                out.append(Observation(ind.id, region.code, end, series.values[i], source="derived", note=note,
                                       period=labels.get((ind.id, end)) or labels_any.get(end, end.isoformat())))
    return out
