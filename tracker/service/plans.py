"""Each plan on its own: which plans the monthly run, the reminders and the web follow, and for
each its regions, its alert settings and where its report goes.

The home plans are the plans of the province `Tracker.regions` describes (Hainan's 十四五 and
十五五; every plan when the model has none for it): on a date, those in force then
(`Tracker.tracked_plans`) share one report in reports/, and their alerts use the top-level
[alerts] supervisors and recipients, as before there were several plans. Every other province
or city plan in force on the date (TargetsModel.in_force: started, not yet succeeded; one with
no successor stays in force after its end, its targets overdue) is followed too, each on its
own: its report under reports/plans/<plan-id>/, its alerts and reminders addressed to its own
units and regions with its own [alerts.plans."<plan-id>"] settings. A national plan is a plan
above others: no region reports to it directly (the provinces report through their own plans),
so reminders, approvals and entry leave it out. The monthly run writes its report (with the
roll-up) under reports/plans/<plan-id>/ and sends its alerts like any other plan's when it rolls
up a plan other than the home ones: a province's tracker that loads the national plan only for
the tasks its own implement (Hainan's targets.yaml) writes no national report.
"""

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from tracker.config import AlertsSettings
from tracker.domain.model import Plan
from tracker.domain.regions import RegionError, Regions

ABOVE_OTHERS = ("national",)  # levels no region reports to directly: their figures are the plans' below


def home_ids(tracker: Any) -> list[str]:
    """The home plans, whatever the date (see the module docstring)."""
    model = tracker.model
    own = [p for p in model.plans if p.region == tracker.regions.province.code] or list(model.plans)
    return [p.id for p in own]


def is_home(tracker: Any, plan_id: str) -> bool:
    return plan_id in home_ids(tracker)


def other_plans(tracker: Any, as_of: date, *, above: bool = False) -> list[Plan]:
    """The plans followed on `as_of` beside the home ones: the province and city plans in
    force then (started, not succeeded), in the model's order; with `above`, the plans above
    others too (the national plan), which the monthly run reports and alerts on."""
    home = set(home_ids(tracker))
    others = [p for p in tracker.model.plans if p.id not in home and p.start <= as_of
              and (p.level not in ABOVE_OTHERS or above and _rolls_up_others(tracker, p, home, as_of))]
    return tracker.model.in_force(others, as_of) if others else []


def _rolls_up_others(tracker: Any, plan: Plan, home: set[str], as_of: date) -> bool:
    from tracker.status.below import plans_below

    units = [r.code for r in tracker.plan_regions(plan.id).counties()]
    return any(p.id not in home for p in plans_below(tracker.model, plan, units, as_of).values())


def followed(tracker: Any, as_of: date, *, above: bool = False) -> list[list[Plan]]:
    """The groups reminders, approvals and the web follow on `as_of`: the home plans in force
    together (one report, as before), then each other plan alone; with `above`, the plans
    above others too (the monthly run's reports and alerts)."""
    home = list(tracker.tracked_plans(as_of=as_of))
    return ([home] if home else []) + [[p] for p in other_plans(tracker, as_of, above=above)]


def regions_of(tracker: Any, plan_id: str | None) -> Regions:
    """The plan's regions (Tracker.plan_regions; None: the tracker's own, the home plans')."""
    return tracker.regions if plan_id is None else tracker.plan_regions(plan_id)


def alert_settings(tracker: Any, plan_id: str | None) -> AlertsSettings:
    """The [alerts] settings for one plan's messages (AlertsSettings.for_plan)."""
    alerts = tracker.settings.alerts
    if plan_id is None:
        return alerts.for_plan("", True)
    return alerts.for_plan(plan_id, is_home(tracker, plan_id))


def report_dir(base: Path, plan_id: str | None, home: bool) -> Path:
    """reports/ for the home plans, reports/plans/<plan-id>/ for any other (in each language's
    folder: reports/en/plans/<plan-id>/)."""
    return base if home or not plan_id else base / "plans" / plan_id


def group_of(tracker: Any, plan_id: str | None, as_of: date) -> list[str]:
    """The plan ids one report or one completeness view on `as_of` covers: the home plans in
    force then together, or one other plan."""
    if plan_id is None or is_home(tracker, plan_id):
        return [p.id for p in tracker.tracked_plans(as_of=as_of)]
    tracker.model.plan(plan_id)  # KeyError for a plan the model does not hold
    return [plan_id]


def plans_of_region(tracker: Any, code: str, plans: Iterable[Plan] | None = None) -> list[Plan]:
    """The plans (among `plans`, default the model's) whose regions hold the region `code`,
    from the one index of the loaded plans' regions that value entry checks names against
    (Tracker.entry_regions, LoadedRegions.holding)."""
    by_id = {p.id: p for p in (plans if plans is not None else tracker.model.plans)}
    return [by_id[i] for i in tracker.entry_regions().holding(code) if i in by_id]


def region_names(tracker: Any) -> Any:
    """key -> the region's name, looked up in the home plans' regions, then in each other
    plan's (a key that is no region, a department, stays as it is)."""
    def name(key: str) -> str:
        try:
            region = regions_of(tracker, plan_of_region(tracker, key)).get(key)
        except (RegionError, KeyError):
            return key
        return region.name if region.code == key else key

    return name


def plan_model(tracker: Any, plan_ids: Sequence[str]) -> Any:
    """The targets model of these plans only (their tasks, targets and milestones; every
    indicator): what one plan's forms and entry pages are made from."""
    import dataclasses

    model = tracker.model
    keep = set(plan_ids)
    return dataclasses.replace(model, plans=[p for p in model.plans if p.id in keep],
                               tasks=[t for t in model.tasks if t.plan in keep],
                               targets=[t for t in model.targets if t.plan in keep],
                               milestones=[m for m in model.milestones if m.plan in keep])


def template_scope(tracker: Any, unit: str, plan: str | None) -> tuple[Any, Regions, set[str] | None]:
    """(model, regions, indicators kept) for `unit`'s form: the home plans' as always (the
    whole model, every indicator) for a unit or a home region when `plan` is not given or is
    a home plan; another plan's own (its tasks, its regions, the indicators its targets need)
    when `plan` names it or `unit` is a region only that plan holds."""
    from tracker.actuals.templates import template_owner

    if plan is None and template_owner(tracker.model, unit, tracker.regions) is None:
        try:
            return scope_of(tracker, plans_holding(tracker, tracker.entry_regions().lookup(unit).code))
        except RegionError:
            pass  # the form's own refusal names what is accepted
    return scope_of(tracker, plan)


def scope_of(tracker: Any, plans: str | Sequence[str] | None) -> tuple[Any, Regions, set[str] | None]:
    """(model, regions, indicators kept) a form of `plans` is made from: the home plans' as
    always (none, or a home plan: the whole model, the tracker's regions, every indicator), or
    other plans' own tasks, the first one's regions and the indicators their targets need
    (西湖区 in Zhejiang's plan and in a Hangzhou city plan: both plans' targets)."""
    from tracker.status.figures import indicators_needed

    ids = [plans] if isinstance(plans, str) else list(plans or [])
    if not ids or any(is_home(tracker, p) for p in ids):
        return tracker.model, tracker.regions, None
    model = plan_model(tracker, ids)
    return model, regions_of(tracker, ids[0]), indicators_needed(model)


def plans_holding(tracker: Any, code: str) -> list[str]:
    """The plans a region's reporter works in beside the home ones: none when the home
    regions hold `code` (the home plans, as before), else every other plan whose regions do
    (a reporter of 广州 works in Guangdong's plan, and in a Guangzhou city plan if one is
    loaded), in the model's order."""
    try:
        tracker.regions.get(code)
        return []
    except (RegionError, KeyError):
        pass
    return [p.id for p in plans_of_region(tracker, code, [p for p in tracker.model.plans if not is_home(tracker, p.id)])]


def plan_of_region(tracker: Any, code: str) -> str | None:
    """The first of `plans_holding` (None: the home plans): the plan whose regions name the
    region and whose hierarchy its submissions go up."""
    found = plans_holding(tracker, code)
    return found[0] if found else None
