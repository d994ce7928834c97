"""Which plans lie below a plan: the plan loaded for each unit of its area (a province's plan
under the national plan, a city's under its province's). Small and pure, so the evaluation asks
it on every run without loading the roll-up (tracker.status.rollup) when no plan is above
another (Hainan's plans alone)."""

from collections.abc import Mapping, Sequence
from datetime import date

from tracker.domain.model import Plan, TargetsModel
from tracker.domain.regions import Regions


def plans_below(model: TargetsModel, upper: Plan, units: Sequence[str], as_of: date) -> dict[str, Plan]:
    """The plan of each unit of the upper area on `as_of`: of the unit's plans that have
    started, those in force (TargetsModel.in_force, the rule the monthly run follows: a
    successor replaces its predecessor once it has started), and of those the one whose period
    covers the date, else the latest started; units without a started plan are left out (无规划)."""
    wanted = set(units)
    started: dict[str, list[Plan]] = {}
    for p in model.plans:
        if p.id != upper.id and p.region in wanted and p.start <= as_of:
            started.setdefault(p.region, []).append(p)
    return {code: max(model.in_force(plans, as_of), key=lambda p: _rank(p, as_of))
            for code, plans in started.items()}


def _rank(p: Plan, as_of: date) -> tuple:
    return (p.start <= as_of <= p.end, p.start)


def uppers(model: TargetsModel, regions_of: Mapping[str, Regions], as_of: date) -> dict[str, dict[str, Plan]]:
    """The plans among `regions_of` (plan id -> its regions) with plans below them loaded on
    `as_of`: plan id -> {unit code: the plan below} (plans_below)."""
    out: dict[str, dict[str, Plan]] = {}
    for pid, regions in regions_of.items():
        chosen = plans_below(model, model.plan(pid), [r.code for r in regions.counties()], as_of)
        if chosen:
            out[pid] = chosen
    return out
