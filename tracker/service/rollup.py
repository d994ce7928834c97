"""The roll-up through the service: a plan above others (the national plan over the provinces'
plans, a province's over its cities') from the one evaluation every surface reads, each plan
below with the regions, resolver and statuses its own targets were judged with.

`Tracker.rollup` returns tracker.status.rollup.Rollup; `report_rollup` is what `write_report`
adds to a plan's report: the section, and the plan's own targets judged on the roll-up's figure
(nothing when no plan below the report's plan is loaded, so such a report is unchanged).
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
# tracker -> (data version, whether any value is sample data): one scan of the values per change
_SAMPLE: "weakref.WeakKeyDictionary[Any, tuple[Any, bool]]" = weakref.WeakKeyDictionary()


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
    wanted = {p.id for p in chosen.values()}
    owner = {t.id: t.plan for t in model.targets if t.plan in wanted}
    statuses: dict[str, dict[str, Any]] = {}
    for s in evaluation.statuses:
        if s.kind == "target" and s.item_id in owner:
            statuses.setdefault(owner[s.item_id], {})[s.item_id] = s
    below = {code: Below(p, evaluation.regions_of(p.id), evaluation.resolver_of(p.id), statuses.get(p.id, {}))
             for code, p in chosen.items()}
    return build_rollup(model, upper, regions, evaluation.resolver_of(plan_id), below, evaluation.as_of,
                  tracker.settings.status)


def rollup_for(tracker: Any, plan_id: str, as_of: date | None = None, include: str | None = None) -> Rollup:
    """The roll-up of `plan_id` as of `as_of` (Tracker.rollup)."""
    return rollup_of(tracker, tracker.evaluate(as_of, include), plan_id)


def has_plans_below(tracker: Any, evaluation: Any, plan_id: str) -> bool:
    model = evaluation.model
    regions = evaluation.regions_of(plan_id)
    return bool(plans_below(model, model.plan(plan_id), [r.code for r in regions.counties()], evaluation.as_of))


def report_rollup(tracker: Any, evaluation: Any, plan_ids: list[str], statuses: list[Any], regions: Any,
                  lang: str) -> tuple[list[Any], dict[str, Any] | None, Any]:
    """What a report of `plan_ids` adds for a plan above others (the first of them with plans
    below it loaded): its roll-up section, its own targets judged again on the roll-up's figure
    (RollupResolver: its cards, its charts and the section say the same number), and that
    resolver for the charts. (statuses, None, None) when none of them has plans below."""
    from tracker.report.rollup import rollup_context

    for pid in plan_ids:
        if has_plans_below(tracker, evaluation, pid):
            r = rollup_of(tracker, evaluation, pid)
            statuses = judged_on_rollup(tracker, evaluation, pid, statuses, r.resolver, regions)
            resolver = r.resolver if r.resolver.regions is regions else None
            return statuses, rollup_context(r, evaluation.model, evaluation.regions_of(pid), lang), resolver
    return statuses, None, None


def judged_on_rollup(tracker: Any, evaluation: Any, plan_id: str, statuses: list[Any], resolver: Any,
                     regions: Any) -> list[Any]:
    """`plan_id`'s targets among `statuses` judged again on its roll-up's figure; the rest as they were."""
    from tracker.status.evaluate import evaluate_target
    from tracker.status.reasons import Wording

    targets = {t.id: t for t in evaluation.model.targets if t.plan == plan_id}
    words = Wording(regions)
    return [evaluate_target(evaluation.model, targets[s.item_id], resolver, resolver.regions, evaluation.as_of,
                            tracker.settings.status, words) if s.kind == "target" and s.item_id in targets else s
            for s in statuses]


def has_sample_data(tracker: Any) -> bool:
    """store.has_sample_data, asked once per state of the data (it scans every value's note)."""
    from tracker import store
    from tracker.store.observations import data_version

    version = data_version(tracker.engine)
    found = _SAMPLE.get(tracker)
    if found is None or found[0] != version:
        found = (version, store.has_sample_data(tracker.engine))
        _SAMPLE[tracker] = found
    return found[1]
