"""The roll-up through the service: a plan above others (the national plan over the provinces'
plans, a province's over its cities') from the one evaluation every surface reads, each plan
below with the regions, resolver and statuses its own targets were judged with.

`Tracker.rollup` returns tracker.status.rollup.Rollup; `report_rollup` is what `write_report`
adds to a plan's report: the section (nothing when no plan below the report's plan is loaded,
so such a report is unchanged). The plan's own targets are judged on the roll-up's figure in
the evaluation itself (tracker.status.evaluate.evaluate_plans), so every surface agrees.
"""

import weakref
from datetime import date
from typing import Any

from tracker.status.rollup import Below, Rollup, plans_below
from tracker.status.rollup import rollup as build_rollup


class UnknownPlan(KeyError):
    """A plan id the targets model does not have; the message lists those it has."""

    def __str__(self) -> str:
        return str(self.args[0])


def plan_of(tracker: Any, plan_id: str) -> Any:
    model = tracker.model
    try:
        return model.plan(plan_id)
    except KeyError:
        known = ", ".join(p.id for p in model.plans)
        raise UnknownPlan(f"{plan_id}: unknown plan; accepted: {known}") from None


# evaluation -> {plan id: Rollup}; an evaluation is made once per date and state of the data, so a
# monthly run's roll-up (the command's, the report's) is made once.
_MADE: dict[int, tuple[Any, dict[str, Rollup]]] = {}  # id -> (weak reference, roll-ups)


def rollup_of(tracker: Any, evaluation: Any, plan_id: str) -> Rollup:
    """The roll-up of `plan_id` from `evaluation` (Tracker.evaluate's), made once per evaluation."""
    ref, made = _MADE.get(id(evaluation), (None, {}))
    if ref is None or ref() is not evaluation:
        if len(_MADE) > 8:
            _MADE.clear()
        made = {}
        _MADE[id(evaluation)] = (weakref.ref(evaluation), made)
    if plan_id not in made:
        made[plan_id] = _rollup_of(tracker, evaluation, plan_id)
    return made[plan_id]


def _rollup_of(tracker: Any, evaluation: Any, plan_id: str) -> Rollup:
    model = evaluation.model
    upper = plan_of(tracker, plan_id)
    regions = evaluation.regions_of(plan_id)
    units = [r.code for r in regions.counties()]
    chosen = plans_below(model, upper, units, evaluation.as_of)
    wanted = {p.id for p in chosen.values()} | {plan_id}
    owner = {t.id: t.plan for t in model.targets if t.plan in wanted}
    statuses: dict[str, dict[str, Any]] = {}
    for s in evaluation.statuses:
        if s.kind == "target" and s.item_id in owner:
            statuses.setdefault(owner[s.item_id], {})[s.item_id] = s
    below = {code: Below(p, evaluation.regions_of(p.id), evaluation.resolver_of(p.id), statuses.get(p.id, {}))
             for code, p in chosen.items()}
    return build_rollup(model, upper, regions, evaluation.resolver_of(plan_id), below, evaluation.as_of,
                        tracker.settings.status, statuses.get(plan_id, {}))


def rollup_for(tracker: Any, plan_id: str, as_of: date | None = None, include: str | None = None) -> Rollup:
    """The roll-up of `plan_id` as of `as_of` (Tracker.rollup)."""
    return rollup_of(tracker, tracker.evaluate(as_of, include), plan_id)


def has_plans_below(tracker: Any, evaluation: Any, plan_id: str) -> bool:
    model = evaluation.model
    regions = evaluation.regions_of(plan_id)
    return bool(plans_below(model, model.plan(plan_id), [r.code for r in regions.counties()], evaluation.as_of))


def report_rollup(tracker: Any, evaluation: Any, plan_ids: list[str], regions: Any,
                  lang: str) -> tuple[dict[str, Any] | None, Any, list[tuple] | None]:
    """What a report of `plan_ids` adds for a plan above others (the first of them with plans
    below it loaded): its roll-up section; the roll-up's resolver for the charts (the one the
    evaluation judged the plan's own targets with, so its cards, charts and the section say the
    same number); and its data completeness per unit (completeness_below). (None, None, None)
    when none of them has plans below."""
    from tracker.report.rollup import rollup_context

    for pid in plan_ids:
        if has_plans_below(tracker, evaluation, pid):
            r = rollup_of(tracker, evaluation, pid)
            resolver = r.resolver if r.resolver.regions is regions else None
            return (rollup_context(r, evaluation.model, evaluation.regions_of(pid), lang), resolver,
                    completeness_below(tracker, evaluation, r))
    return None, None, None


def completeness_below(tracker: Any, evaluation: Any, r: Rollup) -> list[tuple]:
    """Per unit of the roll-up (a province), in order: (code, its plan id or None, that plan's
    gaps (Tracker.completeness: its own indicators asked of its own regions), its regions)."""
    import tracker.service.since as since

    # who reported what: as each province's own report says it (the evaluation's figures), or
    # where approval decides what counts, every value known by the day
    latest = evaluation.series.latest_days() if evaluation.counted is None else \
        since.latest_reported(tracker, evaluation.as_of)
    plan_of = {b.region: b for b in (evaluation.model.plan(p) for p in r.below)}
    out = []
    for code in r.units:
        p = plan_of.get(code)
        if p is None:
            out.append((code, None, [], None))
            continue
        out.append((code, p.id, tracker.completeness(evaluation.as_of, plan=p.id, latest=latest),
                    evaluation.regions_of(p.id)))
    return out


