"""The roll-up through the service: a plan above others (the national plan over the provinces'
plans, a province's over its cities') from the one evaluation every surface reads, each plan
below with the regions, resolver and statuses its own targets were judged with.

`Tracker.rollup` returns tracker.status.rollup.Rollup; `rollup_section` is the report's section
(or None when no plan below the report's plan is loaded, so a report without plans under it is
unchanged); `write_plan_report` writes one plan's own report (its items, its regions, its
roll-up) into reports/<plan id>/.
"""

import weakref
from datetime import date, datetime
from pathlib import Path
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


def rollup_section(tracker: Any, evaluation: Any, plan_ids: list[str], lang: str) -> dict[str, Any] | None:
    """The report's roll-up section for the first of `plan_ids` with plans below it loaded."""
    from tracker.report.rollup import rollup_context

    for pid in plan_ids:
        if has_plans_below(tracker, evaluation, pid):
            return rollup_context(rollup_of(tracker, evaluation, pid), evaluation.model,
                                  evaluation.regions_of(pid), lang)
    return None


def plan_reports_dir(tracker: Any, plan_id: str, lang: str | None = None) -> Path:
    """Where one plan's own reports go: reports/<plan id>/ (and reports/<lang>/<plan id>/)."""
    return tracker.reports_dir(lang) / plan_id


def write_plan_report(tracker: Any, plan_id: str, as_of: date | None = None, *, lang: str | None = None,
                      reports_dir: str | Path | None = None, kind: str = "on_demand",
                      known_at: datetime | None = None, fence: Any = None) -> Any:
    """One plan's report: its own items judged with its own regions, and its roll-up when
    plans below it are loaded (the national plan's report lists every province). The upper
    plan's own targets are then judged on the roll-up's figure (RollupResolver), so its cards,
    its charts and its roll-up section say the same number."""
    from tracker.report.files import generate_report
    from tracker.report.rollup import rollup_context

    plan_of(tracker, plan_id)
    evaluation = tracker.evaluate(as_of, known_at=known_at)
    lang = lang or tracker.settings.language
    out = Path(reports_dir) if reports_dir is not None else plan_reports_dir(tracker, plan_id, lang)
    statuses = tracker.statuses(evaluation.as_of, plans=[plan_id])
    regions = evaluation.regions_of(plan_id)
    resolver, section = evaluation.resolver_of(plan_id), None
    if has_plans_below(tracker, evaluation, plan_id):
        r = rollup_of(tracker, evaluation, plan_id)
        resolver = r.resolver
        statuses = judged_on_rollup(tracker, evaluation, statuses, resolver, regions)
        section = rollup_context(r, evaluation.model, regions, lang)
    files = generate_report(evaluation.model, statuses, evaluation.series, regions, evaluation.as_of, out,
                            lang=lang, grace_days=tracker.settings.status.grace_days, generated_at=tracker.now(),
                            new_values=[], sample=_has_sample_data(tracker), plans=[plan_id], kind=kind,
                            known_at=known_at, submission_day=tracker.settings.schedule.submission_day, fence=fence,
                            rollup=section, resolver=resolver)
    import dataclasses

    return dataclasses.replace(files, statuses=list(statuses))


def judged_on_rollup(tracker: Any, evaluation: Any, statuses: list[Any], resolver: Any, regions: Any) -> list[Any]:
    """The upper plan's targets judged again on its roll-up's figure (milestones as they were)."""
    from tracker.status.evaluate import evaluate_target
    from tracker.status.reasons import Wording

    targets = {t.id: t for t in evaluation.model.targets}
    words = Wording(regions)
    return [evaluate_target(evaluation.model, targets[s.item_id], resolver, regions, evaluation.as_of,
                            tracker.settings.status, words) if s.kind == "target" and s.item_id in targets else s
            for s in statuses]


def _has_sample_data(tracker: Any) -> bool:
    """store.has_sample_data, asked once per state of the data (it scans every value's note)."""
    from tracker import store
    from tracker.store.observations import data_version

    version = data_version(tracker.engine)
    found = _SAMPLE.get(tracker)
    if found is None or found[0] != version:
        found = (version, store.has_sample_data(tracker.engine))
        _SAMPLE[tracker] = found
    return found[1]
