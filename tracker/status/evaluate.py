"""Every target and milestone of a targets model as of a date: the rules applied, each
judgement made a Status that words itself (tracker.status.reasons) when its reason is read.

Pure: targets, values, milestone progress, regions and a date in; statuses out. The CLI, the
report, the web app and the alerts all reach statuses through `evaluate`.
"""

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from tracker.config import StatusSettings
from tracker.domain.model import Milestone, MilestoneProgress, Observation, Plan, Target, TargetsModel
from tracker.domain.regions import Regions
from tracker.domain.series import SeriesSet, series_from_observations
from tracker.status.aggregate import SeriesResolver
from tracker.status.incremental import Carried
from tracker.status.milestones import judge_milestone
from tracker.status.model import STATUS_LABELS, Judgement, Status
from tracker.status.reasons import Wording
from tracker.status.below import uppers
from tracker.status.rules import judge, target_context


def summarise(target: Target, subs: list[Status]) -> Judgement:
    """A 每个市县（区） target: met only when every judged region meets it; otherwise the worst
    region's status, with how many meet it and which do not."""
    met = [s for s in subs if s.met]
    unmet = [s for s in subs if not s.met]
    if not unmet:
        code = "achieved_late" if any(s.code == "achieved_late" for s in subs) else "achieved"
    else:
        code = min(unmet, key=lambda s: s.severity).code
    counts: dict[str, int] = {}
    for s in unmet:
        counts[s.code] = counts.get(s.code, 0) + 1
    figures: dict[str, Any] = {
        "met": f"{len(met)}/{len(subs)}", "met_count": len(met), "judged": len(subs),
        "not_met": [s.region for s in unmet],
        "by_status": dict(sorted(counts.items(), key=lambda kv: STATUS_LABELS[kv[0]][2])),
        "soft": target.soft, "deadline": target.deadline.isoformat() if target.deadline else None}
    if target.soft:
        figures["qualifier"] = target.qualifier or "力争"
    return Judgement(code, figures)


def evaluate_target(model: TargetsModel, target: Target, resolver: SeriesResolver, regions: Regions,
                    as_of: date, settings: StatusSettings, wording: Wording | None = None,
                    keep: "Callable[[str | None], Status | None] | None" = None) -> Status:
    """One target: the whole area, or every judged region with a summary. `keep(region)`
    (tracker.status.incremental) gives the last evaluation's status of the whole (None) or
    of a region where its figure has not changed since, which stands instead of a new one."""
    if keep is not None and (kept := keep(None)) is not None:
        return kept
    words = wording or Wording(regions)
    as_of_s = as_of.isoformat()
    indicator = resolver.indicators.get(target.indicator)
    if indicator is None:
        return Status(target.id, "target", "no_data", None, None, as_of_s, None,
                      {"unknown_indicator": target.indicator}, soft=target.soft, words=words)
    ctx = target_context(model, target, indicator, as_of, settings,
                         tuple(r.code for r in regions.counties()))
    if target.scope == "each_region":
        subs = []
        for r in regions.judged_regions():
            if keep is not None and (kept := keep(r.code)) is not None:
                subs.append(kept)
                continue
            j = judge(ctx, resolver.region_series(indicator, r.code))
            subs.append(Status(target.id, "target", j.code, None, None, as_of_s, r.code, j.figures,
                               soft=target.soft, words=words))
        j = summarise(target, subs)
        return Status(target.id, "target", j.code, None, None, as_of_s, None, j.figures, subs,
                      soft=target.soft, words=words)
    series, how = resolver.province_series(indicator)
    j = judge(ctx, series, how)
    return Status(target.id, "target", j.code, None, None, as_of_s, None, j.figures,
                  soft=target.soft, words=words)


def evaluate_milestone(milestone: Milestone, progress: list[MilestoneProgress], as_of: date,
                       settings: StatusSettings, wording: Wording | None = None,
                       known_at: datetime | None = None) -> Status:
    """未启动 / 推进中 / 已完成 / 逾期 from the latest report of each reporter known as of the
    date, or at `known_at` (tracker.status.milestones)."""
    j = judge_milestone(milestone, progress, as_of, settings, known_at)
    return Status(milestone.id, "milestone", j.code, None, None, as_of.isoformat(), None, j.figures,
                  words=wording or Wording())


def evaluate(model: TargetsModel, observations: "Iterable[Observation] | SeriesSet",
             progress: Iterable[MilestoneProgress], regions: Regions, as_of: date,
             settings: StatusSettings | None = None, known_at: datetime | None = None) -> list[Status]:
    """Every target and milestone of the model as of `as_of` (a date in Asia/Shanghai).

    `observations` is a list of Observation (only those entered by the end of `as_of` are
    seen) or a SeriesSet already cut to that date (see tracker.store.series). `known_at`:
    milestone reports entered by then count (the scheduled run after the submission day);
    pass observations already cut to it.
    """
    return evaluate_plans(model, observations, progress, regions, {}, as_of, settings, known_at)[0]


def evaluate_plans(model: TargetsModel, observations: "Iterable[Observation] | SeriesSet",
                   progress: Iterable[MilestoneProgress], regions: Regions, regions_of: Mapping[str, Regions],
                   as_of: date, settings: StatusSettings | None = None,
                   known_at: datetime | None = None, above: "Mapping[str, Mapping[str, Plan]] | None" = None,
                   carried: "Carried | None" = None) -> tuple[list[Status], dict[str, SeriesResolver]]:
    """As `evaluate`, each plan's items with that plan's own regions (`regions_of`, by plan id;
    `regions` for a plan not in it). A plan above others (plan id -> {unit: plan below} in
    `above`, default tracker.status.rollup.uppers) has its targets judged on its roll-up's
    figure (RollupResolver: summed through the plans below), the one its roll-up, report and
    alerts quote. `carried` (tracker.status.incremental): what the last evaluation of the
    date keeps, the series that changed since judged again. Returns the statuses, in the
    model's order, and the resolver each plan's targets were judged with (plan id ->
    SeriesResolver; "" for `regions`), which the figures people see come from."""
    settings = settings or StatusSettings()
    series = observations if isinstance(observations, SeriesSet) else \
        series_from_observations(observations, as_of)
    made: dict[int, tuple[SeriesResolver, Wording]] = {}

    def tools(plan: str) -> tuple[SeriesResolver, Wording]:
        own = regions_of.get(plan, regions)
        if id(own) not in made:
            made[id(own)] = (carried.resolver(model, series, own) if carried is not None
                             else SeriesResolver(model, series, own), Wording(own))
        return made[id(own)]

    above = uppers(model, regions_of, as_of) if above is None else above
    rolled: dict[str, SeriesResolver] = {}
    if above:  # the roll-up's module only when a plan is above another
        from tracker.status.rollup import rollup_resolvers

        rolled = rollup_resolvers(above, lambda plan: tools(plan)[0], lambda plan: regions_of.get(plan, regions))

    out = []
    for t in model.targets:
        resolver, words = tools(t.plan)
        resolver = rolled.get(t.plan, resolver)
        keep = carried.keeper(t, resolver) if carried is not None else None
        out.append(evaluate_target(model, t, resolver, resolver.regions, as_of, settings, words, keep))
    by_milestone: dict[str, list[MilestoneProgress]] = {}
    for p in progress:
        by_milestone.setdefault(p.milestone, []).append(p)
    out.extend(evaluate_milestone(m, by_milestone.get(m.id, []), as_of, settings, tools(m.plan)[1], known_at)
               for m in model.milestones)
    resolvers = {"": tools("")[0], **{plan: rolled.get(plan) or tools(plan)[0] for plan in regions_of}}
    return out, resolvers
