"""Which plans lie below a plan: the plan loaded for each unit of its area (a province's plan
under the national plan, a city's under its province's). Small and pure, so the evaluation asks
it on every run without loading the roll-up (tracker.status.rollup) when no plan is above
another (Hainan's plans alone)."""

from collections.abc import Mapping, Sequence
from datetime import date

from tracker.domain.model import Plan, TargetsModel
from tracker.domain.regions import Regions


def plans_below(model: TargetsModel, upper: Plan, units: Sequence[str], as_of: date) -> dict[str, Plan]:
    """The plan of each unit of the upper area: one whose period covers `as_of`, else the
    latest that started before it; units without any are left out (无规划)."""
    out: dict[str, Plan] = {}
    wanted = set(units)
    for p in model.plans:
        if p.id == upper.id or p.region not in wanted:
            continue
        best = out.get(p.region)
        if best is None or _rank(p, as_of) > _rank(best, as_of):
            out[p.region] = p
    return {code: p for code, p in out.items() if p.start <= as_of}


def _rank(p: Plan, as_of: date) -> tuple:
    return (p.start <= as_of <= p.end, p.start <= as_of, p.start)


def uppers(model: TargetsModel, regions_of: Mapping[str, Regions], as_of: date) -> dict[str, dict[str, Plan]]:
    """The plans among `regions_of` (plan id -> its regions) with plans below them loaded on
    `as_of`: plan id -> {unit code: the plan below} (plans_below)."""
    out: dict[str, dict[str, Plan]] = {}
    for pid, regions in regions_of.items():
        chosen = plans_below(model, model.plan(pid), [r.code for r in regions.counties()], as_of)
        if chosen:
            out[pid] = chosen
    return out
