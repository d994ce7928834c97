"""The roll-up of a plan above others: the national plan over the provinces' plans, or a
province's over its cities'. Pure: plans, their regions, resolvers and statuses in; rows out.

For every shared indicator (one the plans below set targets on, or the upper plan itself), one
row per unit of the upper plan's area (a province, or a city) with that unit's own plan, target,
deadline, latest value, status and coverage, and the upper area's figure. That figure is built
from summed components over the same regions (docs/status-rules.md): the numerators and the
denominators of every 市县 that reported both for the period, across all the units, never a
mean of the units' ratios. A unit with no plan loaded says so (无规划), a unit without a figure
says so too (无数据).

Tasks: each task of the upper plan with the tasks of the plans below that implement it
(Task.implements), and each of those with the upper task it implements, so the link reads in
both directions.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tracker.config import StatusSettings
from tracker.domain.model import Indicator, Plan, Target, TargetsModel, Task
from tracker.domain.regions import Regions
from tracker.domain.series import Series
from tracker.status.aggregate import SeriesResolver, ratio_of_sums, sum_series
from tracker.status.below import plans_below
from tracker.status.figures import Figure
from tracker.status.model import STATUS_LABELS, Status
from tracker.status.rules import judge, period_label, target_context

# A row's state beside its status: what is there to judge. (zh, en)
ROW_STATES: dict[str, tuple[str, str]] = {
    "judged": ("", ""),
    "no_plan": ("无规划", "no plan"),
    "no_target": ("未设目标", "no target"),
    "no_data": ("无数据", "no data"),
}


@dataclass(frozen=True)
class Below:
    """One plan under the upper plan, with what it was evaluated on: its own regions, the
    resolver over them and its statuses (target id -> Status)."""

    plan: Plan
    regions: Regions
    resolver: SeriesResolver
    statuses: Mapping[str, Status] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """One unit of the upper area (a province) on one indicator."""

    region: str  # the unit's code
    plan: str | None  # the unit's plan id, None when no plan is loaded for it
    state: str  # a key of ROW_STATES
    target: Target | None = None
    status: str | None = None  # a key of STATUS_LABELS, from the unit's own evaluation
    figure: Figure | None = None  # its `how`: reported, summed, ratio (from summed components), own

    @property
    def met(self) -> bool | None:
        if self.target is None or self.figure is None:
            return None
        return self.target.met_by(self.figure.value)


@dataclass(frozen=True)
class Whole:
    """The upper area's figure on an indicator (全国), and its own plan's target if it has one."""

    figure: Figure | None
    units_covered: int  # units (provinces) with at least one 市县 in the figure
    units: int  # units of the upper area
    summable: bool  # False: a ratio without components, which cannot be summed
    target: Target | None = None
    status: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)  # the judgement's figures, for its reason


@dataclass(frozen=True)
class IndicatorRollup:
    indicator: str
    unit: str
    whole: Whole
    rows: list[Row]

    def counts(self) -> dict[str, int]:
        """How many rows are in each state, and how many of the judged meet their target."""
        out = {k: 0 for k in ROW_STATES}
        for r in self.rows:
            out[r.state] += 1
        out["met"] = sum(1 for r in self.rows if r.status in ("achieved", "achieved_late"))
        return out


@dataclass(frozen=True)
class TaskLink:
    """An upper task and the tasks below that implement it; `missing`: the units with a plan
    loaded that have no task implementing it."""

    task: Task
    implemented_by: list[Task]
    missing: list[str]


@dataclass(frozen=True)
class Rollup:
    plan: Plan
    as_of: date
    area: str  # the upper plan's area code
    units: list[str]  # the area's units (province codes), in the regions' order
    below: list[str]  # the plan ids rolled up
    indicators: list[IndicatorRollup]
    tasks: list[TaskLink]
    implements: dict[str, list[str]]  # lower task id -> the upper task ids it implements
    resolver: Any = None  # the RollupResolver: the upper plan's own targets judged with it say the same figure

    def indicator(self, indicator_id: str) -> IndicatorRollup:
        return next(i for i in self.indicators if i.indicator == indicator_id)

    def implementers(self, task_id: str) -> list[str]:
        """Upper task -> the lower tasks implementing it."""
        return [t.id for link in self.tasks if link.task.id == task_id for t in link.implemented_by]

    def implemented(self, task_id: str) -> list[str]:
        """Lower task -> the upper tasks it implements."""
        return list(self.implements.get(task_id, []))


def choose_target(targets: Sequence[Target], as_of: date) -> Target | None:
    """The target a row shows when a plan has several on one indicator: a whole-area one before
    a per-region one, then the next deadline still to come, else the last one passed."""
    if not targets:
        return None

    def key(t: Target) -> tuple:
        day = t.deadline or date.max
        return (t.scope != "whole", day < as_of, day if day >= as_of else date.max - (day - date.min))

    return min(targets, key=key)


def _last(series: Series | None, how: str, frequency: str, indicator: str = "", region: str = "") -> Figure | None:
    """The latest point of a series as a Figure (tracker.status.figures), with its coverage;
    `how`: reported, summed, ratio (from summed components) or own (the unit's own entry)."""
    if series is None or not len(series):
        return None
    i = len(series) - 1
    covered = series.covered[i] if series.covered is not None else None
    day = series.days[i]
    return Figure(indicator, region, period_label(frequency, day), date.fromordinal(day), series.values[i],
                  "entered" if how in ("own", "reported") else "derived", how=how, covered=covered,
                  expected=series.expected_regions if covered is not None else None)


def _from_status(status: Status | None) -> Figure | None:
    """The figure a unit's own status was judged on (cumulative sums included)."""
    if status is None or "latest" not in status.figures:
        return None
    f = status.figures
    covered = expected = None
    if f.get("coverage"):
        covered, expected = (int(x) for x in str(f["coverage"]).split("/"))
    how = f.get("source", "")
    return Figure("", status.region or "", f.get("latest_period", ""), date.fromisoformat(f["latest_period_end"]),
                  float(f["latest"]), "entered" if how == "reported" else "derived", how=how, covered=covered,
                  expected=expected)


def _parts(resolver: SeriesResolver, regions: Regions, code: str, indicator_id: str,
           own_plan: bool) -> list[tuple]:
    """What one unit adds to the upper figure: its own entry of the components (or of the
    count) when it reported one for the whole unit, else its 市县 one by one (each with both
    components, so a ratio is summed over the same regions)."""
    ind = resolver.indicators[indicator_id]
    comps = resolver.components(ind)
    if comps is not None:
        num, den = comps
        own = resolver.series.get(num.id, code), resolver.series.get(den.id, code)
        if not own_plan or (own[0] is not None and own[1] is not None):
            return [(code, resolver.region_series(num, code), resolver.region_series(den, code))]
    elif not own_plan or resolver.series.get(ind.id, code) is not None:
        return [(code, resolver.region_series(ind, code))]
    if isinstance(resolver, RollupResolver):  # a plan over plans of its own (a province over its cities'):
        return resolver.parts(ind)[0]  # the same regions its own figure sums
    if comps is not None:
        return [(r.code, resolver.region_series(comps[0], r.code), resolver.region_series(comps[1], r.code))
                for r in regions.counties()]
    return [(r.code, resolver.region_series(ind, r.code)) for r in regions.counties()]


class RollupResolver(SeriesResolver):
    """The upper plan's resolver: its area's figure summed through the plans below it, each
    unit with a plan loaded through that plan's own regions (its 市县, numerator and
    denominator over the same ones), a unit without one as itself. A point covers the 市县
    summed (`covered` of `expected`); the regions it names as missing are the units with no
    市县 in it. The upper plan's own targets judged with it say the roll-up's figure."""

    def __init__(self, upper: SeriesResolver, below: Mapping[str, Below]) -> None:
        super().__init__(upper.model, upper.series, upper.regions)
        self.upper = upper
        self.below = below
        self.units = [r.code for r in upper.regions.counties()]

    def region_series(self, indicator: Indicator, code: str) -> Series | None:
        """A unit with a plan loaded: its own plan's whole-area figure (the one its targets
        were judged on, its roll-up row); any other region as the upper plan sees it."""
        b = self.below.get(code)
        if b is not None:
            return b.resolver.province_series(indicator)[0]
        return self.upper.region_series(indicator, code)

    def parts(self, indicator: Indicator) -> tuple[list[tuple], dict[str, str]]:
        """What each unit adds (see _parts), and which unit each part belongs to."""
        owner: dict[str, str] = {}
        parts: list[tuple] = []
        for code in self.units:
            b = self.below.get(code)
            mine = _parts(b.resolver, b.regions, code, indicator.id, True) if b else \
                _parts(self.upper, self.regions, code, indicator.id, False)
            for p in mine:
                owner[p[0]] = code
            parts.extend(mine)
        return parts, owner

    def _province_series(self, indicator: Indicator) -> tuple[Series | None, str]:
        area = self.regions.province.code
        own = self.series.get(indicator.id, area)
        if own is not None:
            return own, "reported"
        comps = self.components(indicator)
        if comps is None and indicator.kind not in ("count", "flow"):
            return None, "none"
        parts, owner = self.parts(indicator)
        summed = ratio_of_sums(parts, indicator.multiplier) if comps is not None else sum_series(parts)
        if summed is None:
            return None, "ratio" if comps is not None else "summed"
        leaves = summed.missing_at

        def missing_units(day: int) -> list[str]:
            gone = set(leaves(day)) if leaves else set()
            have = {owner[p[0]] for p in parts if p[0] not in gone}
            return [u for u in self.units if u not in have]

        return (Series(summed.days, summed.values, covered=summed.covered, expected_regions=summed.expected_regions,
                       missing_at=missing_units), "ratio" if comps is not None else "summed")


def rollup_resolvers(above: Mapping[str, Mapping[str, Plan]], plain: Callable[[str], SeriesResolver],
                     regions_of: Callable[[str], Regions]) -> dict[str, "RollupResolver"]:
    """The resolver each plan above others has its own targets judged with: a RollupResolver
    over its plain one (`plain(plan id)`), each plan below through its own resolver (itself a
    roll-up when it has plans below: a province over its cities' plans)."""
    made: dict[str, RollupResolver] = {}
    making: set[str] = set()

    def resolver(pid: str) -> SeriesResolver:
        if pid not in above or pid in making:  # `making`: a loop of coverages ends at the plain figure
            return plain(pid)
        if pid not in made:
            making.add(pid)
            made[pid] = RollupResolver(plain(pid), {code: Below(p, regions_of(p.id), resolver(p.id))
                                                    for code, p in above[pid].items()})
            making.discard(pid)
        return made[pid]

    for pid in above:
        resolver(pid)
    return made


def _whole(model: TargetsModel, upper: Plan, resolver: RollupResolver, indicator_id: str, as_of: date,
           settings: StatusSettings, judged: Mapping[str, Status]) -> Whole:
    ind = resolver.indicators[indicator_id]
    summable = resolver.components(ind) is not None or ind.kind in ("count", "flow")
    series, how = resolver.province_series(ind)
    own = [t for t in model.targets if t.plan == upper.id and t.indicator == indicator_id]
    target = choose_target(own, as_of)
    status, figures = None, {}
    if target is not None and target.id in judged:  # the evaluation's own status: judged once
        status, figures = judged[target.id].code, dict(judged[target.id].figures)
    elif target is not None:  # as evaluate_target judges a whole-area target, on the summed figure
        j = judge(target_context(model, target, ind, as_of, settings, tuple(resolver.units)), series, how)
        status, figures = j.code, j.figures
    figure = _last(series, how, ind.frequency)
    covered_units = 0
    if series is not None and figure is not None:
        covered_units = len(resolver.units) - len(series.missing_at(series.days[-1]) if series.missing_at else [])
    return Whole(figure, covered_units, len(resolver.units), summable, target, status, figures)


def shared_indicators(model: TargetsModel, upper: Plan, plans: Sequence[Plan]) -> list[str]:
    """The indicators the plans below (or the upper plan) set targets on, in the model's order."""
    ids = {upper.id, *(p.id for p in plans)}
    used = {t.indicator for t in model.targets if t.plan in ids}
    return [i.id for i in model.indicators if i.id in used]


def task_links(model: TargetsModel, upper: Plan, below: Sequence[Plan]) -> tuple[list[TaskLink], dict[str, list[str]]]:
    """Each upper task with the lower tasks implementing it; and lower task -> upper tasks."""
    lower = {p.id for p in below}
    region_of = {p.id: p.region for p in below}
    upper_tasks = [t for t in model.tasks if t.plan == upper.id]
    ids = {t.id for t in upper_tasks}
    back: dict[str, list[str]] = {}
    by_upper: dict[str, list[Task]] = {}
    for t in model.tasks:
        if t.plan not in lower:
            continue
        for up in t.implements:
            if up in ids:
                back.setdefault(t.id, []).append(up)
                by_upper.setdefault(up, []).append(t)
    links = []
    for t in upper_tasks:
        found = by_upper.get(t.id, [])
        have = {region_of[x.plan] for x in found}
        links.append(TaskLink(t, found, [region_of[p.id] for p in below if p.region not in have]))
    return links, back


def rollup(model: TargetsModel, upper: Plan, upper_regions: Regions, upper_resolver: SeriesResolver,
           below: Mapping[str, Below], as_of: date, settings: StatusSettings | None = None,
           judged: Mapping[str, Status] | None = None) -> Rollup:
    """The roll-up of `upper` as of `as_of`. `below`: unit code -> the plan loaded for it
    (plans_below chooses them), evaluated; `upper_resolver` resolves over the upper plan's
    regions (the units' own entries, for those without a plan). `judged`: the upper plan's
    statuses from the evaluation (target id -> Status), quoted rather than judged again."""
    settings = settings or StatusSettings()
    # the evaluation's own (its targets were judged with it), else one made here
    resolver = upper_resolver if isinstance(upper_resolver, RollupResolver) else RollupResolver(upper_resolver, below)
    upper_resolver = resolver.upper
    units = resolver.units
    plans = [below[c].plan for c in units if c in below]
    indicators = []
    for iid in shared_indicators(model, upper, plans):
        ind = upper_resolver.indicators[iid]
        rows = []
        for code in units:
            b = below.get(code)
            if b is None:
                fig = _last(upper_resolver.region_series(ind, code), "own", ind.frequency)
                rows.append(Row(code, None, "no_plan", figure=fig))
                continue
            target = choose_target([t for t in model.targets if t.plan == b.plan.id and t.indicator == iid], as_of)
            status = b.statuses.get(target.id) if target is not None else None
            fig = _from_status(status) if target is not None and target.scope == "whole" else None
            if fig is None:
                fig = _last(*b.resolver.province_series(ind), ind.frequency)
            state = "judged" if target is not None else "no_target"
            if fig is None:
                state = "no_data"
            rows.append(Row(code, b.plan.id, state, target, status.code if status is not None else None, fig))
        indicators.append(IndicatorRollup(iid, ind.unit, _whole(model, upper, resolver, iid, as_of, settings, judged or {}), rows))
    links, back = task_links(model, upper, plans)
    return Rollup(upper, as_of, upper_regions.province.code, units, [p.id for p in plans], indicators, links, back,
                  resolver)


def status_label(code: str | None, lang: str) -> str:
    if code is None:
        return ""
    zh, en, _ = STATUS_LABELS.get(code, (code, code, 9))
    return zh if lang == "zh" else en


def state_label(state: str, lang: str) -> str:
    zh, en = ROW_STATES.get(state, (state, state))
    return zh if lang == "zh" else en
