"""Browsing: reports, targets with their values by region and period, each value's
revisions; the supervisor's completeness view and reminder button."""

from datetime import date
from pathlib import Path
from typing import Any

from starlette.responses import FileResponse, Response

from tracker.domain.format import format_value
from tracker.domain.model import COMPARATOR_LABELS, Indicator, Target, TargetsModel
from tracker.domain.regions import Region
from tracker.web import auth
from tracker.web.core import REPORT_FILE, Ctx, _redirect, page

SOURCE_LABELS = {"web": "网页填报", "command": "命令行录入"}


@page()
def reports(ctx: Ctx) -> Response:
    from tracker.report.files import headline, read_report, report_periods

    directory = Path(ctx.state.settings.reports_dir)
    entries = []
    for period in reversed(report_periods(directory)):
        found = read_report(directory, period)
        entries.append(headline(found) if found and "period" in found else {"period": period, "as_of": "", "kind": ""})
    model = ctx.state.model()
    others = []  # the other plans' report sets (tracker.service.plans: reports/plans/<plan-id>/)
    for plan in model.plans:
        periods = report_periods(directory / "plans" / plan.id) if _other_plan(ctx, plan.id) else []
        if periods:
            others.append({"id": plan.id, "title": plan.title, "latest": periods[-1]})
    return ctx.render("web/reports.html", entries=entries, message=ctx.request.query_params.get("made", ""),
                      others=others)


def _other_plan(ctx: Ctx, plan_id: str) -> bool:
    """Whether `plan_id` is a plan of the model whose reports are its own (not the home plans')."""
    from tracker.service.plans import is_home

    return any(p.id == plan_id for p in ctx.state.tracker.model.plans) and not is_home(ctx.state.tracker, plan_id)


@page(roles=("supervisor",))
def reports_generate(ctx: Ctx) -> Response:
    state = ctx.state
    state.model()
    files = ctx.write(lambda: state.tracker.write_report())
    ctx.audit("report", files.html.name)
    return _redirect(f"/reports/{files.html.name}")


@page()
def report_file(ctx: Ctx) -> Response:
    from tracker.report.files import report_file as resolved
    from tracker.report.files import report_periods

    name = ctx.request.path_params["name"]
    directory, prefix = Path(ctx.state.settings.reports_dir), "/reports"
    plan = ctx.request.path_params.get("plan")
    if plan is not None:  # another plan's report set, for a plan the model holds (never a path of the caller's)
        ctx.state.model()
        if not _other_plan(ctx, plan):
            return ctx.render("web/error.html", 404, title="没有这份报告", message=f"找不到规划「{plan}」的报告。",
                              detail="")
        directory, prefix = directory / "plans" / plan, f"/reports/plans/{plan}"
    if name == "latest":
        periods = report_periods(directory)
        return _redirect(f"{prefix}/{periods[-1]}.html" if periods else "/reports")
    path = resolved(directory, name)  # inside one generation: a switch meanwhile cannot mix two files
    if not REPORT_FILE.match(name) or not path.is_file():
        return ctx.render("web/error.html", 404, title="没有这份报告", message=f"找不到「{name}」。", detail="")
    media = "text/html; charset=utf-8" if name.endswith(".html") else "application/json"
    return FileResponse(path, media_type=media)


@page()
def targets(ctx: Ctx) -> Response:
    ctx.state.model()
    evaluation = ctx.state.tracker.evaluate()
    model = evaluation.model
    by_id = {s.item_id: s for s in evaluation.statuses}
    names = {i.id: i.name for i in model.indicators}
    rows = [(t, by_id.get(t.id), names.get(t.indicator, t.indicator)) for t in model.targets]
    # the worst first; within a status the 约束性 (binding) targets first
    rows.sort(key=lambda r: (r[1].severity if r[1] is not None else 99, not r[0].binding,
                             r[0].deadline or date.max, r[0].plan, r[0].task))
    return ctx.render("web/targets.html", rows=rows, requirement=requirement)


def requirement(t: Target) -> str:
    """不低于32张/千人（每个市县（区），力争）: what a target asks, in words."""
    text = COMPARATOR_LABELS.get(t.comparator, t.comparator) + format_value(t.value, t.unit)
    extra = (["每个市县（区）"] if t.scope == "each_region" else []) + ([t.qualifier or "力争"] if t.soft else [])
    return text + (f"（{'，'.join(extra)}）" if extra else "")


def value_table(observations: list[Any], region_order: list[Region], periods: int = 8) -> tuple[list[str], list[tuple[Region, dict[str, Any]]]]:
    """(the latest `periods` period labels, rows of region -> {period: observation}) (pure)."""
    labels = sorted({(o.period_end, o.period) for o in observations})
    keep = [label for _end, label in labels][-periods:]
    cells: dict[str, dict[str, Any]] = {}
    for o in observations:
        if o.period in keep:
            cells.setdefault(o.region, {})[o.period] = o
    return keep, [(r, cells[r.code]) for r in region_order if r.code in cells]


@page()
def target_page(ctx: Ctx) -> Response:
    state, user = ctx.state, ctx.user
    assert user is not None
    state.model()
    evaluation = state.tracker.evaluate()
    model, regions, statuses = evaluation.model, evaluation.regions, evaluation.statuses
    target = next((t for t in model.targets if t.id == ctx.request.path_params["target_id"]), None)
    if target is None:
        return ctx.render("web/error.html", 404, title="没有这个目标", message="找不到该目标。", detail="")
    regions = evaluation.regions_of(target.plan)  # the regions its plan judged it in
    status = next((s for s in statuses if s.item_id == target.id), None)
    try:
        indicator = model.indicator(target.indicator)
    except KeyError:
        indicator = Indicator(target.indicator, target.indicator, target.unit)
    figures = state.tracker.values(target.indicator, evaluation.as_of, plan=target.plan)  # its plan's figures
    province = regions.province.code
    series = sorted((f for f in figures if f.region == province), key=lambda f: f.period_end)
    chart = {"points": [{"date": f.period_end.isoformat(), "value": f.value, "period": f.period,
                         "partial": f.partial} for f in series],
             "target": target.value, "deadline": target.deadline.isoformat() if target.deadline else None}
    # the cells this account may read (its view scope); the whole area is in the published report
    shown = auth.visible_regions(user, indicator, regions, state.config)
    periods, table = value_table([f for f in figures if any(r.code == f.region for r in shown)], shown)
    return ctx.render("web/target.html", target=target, status=status, indicator=indicator, chart=chart,
                      periods=periods, table=table, task=_task(model, target.plan, target.task),
                      requirement=requirement(target), partial_scope=len(shown) < len(regions.all))


def _task(model: TargetsModel, plan: str, number: int) -> Any:
    try:
        return model.task(plan, number)
    except KeyError:
        return None


@page()
def history(ctx: Ctx) -> Response:
    state, user = ctx.state, ctx.user
    assert user is not None
    q = ctx.request.query_params
    indicator, region, period = q.get("indicator", ""), q.get("region", ""), q.get("period", "")
    model = state.model()
    found = next((i for i in model.indicators if i.id == indicator), None)
    if found is None:
        return ctx.render("web/error.html", 404, title="没有这个指标", message=f"找不到指标「{indicator}」。", detail="")
    if not auth.may_view_cell(user, found, region, state.regions_for(user), state.config):
        return ctx.forbid("history", f"{indicator} / {region} / {period}",
                          f"本账号只能查看本{'地区' if user.region else '部门'}数据的修订记录。")
    revisions = state.tracker.history(indicator, region, period)
    return ctx.render("web/history.html", revisions=revisions, indicator=found, region=region, period=period,
                      source_labels=SOURCE_LABELS)


# ---------------------------------------------------------------------------------------
# Completeness and reminders (supervisor)


@page(roles=("supervisor",))
def completeness(ctx: Ctx) -> Response:
    from tracker.service.plans import followed

    state = ctx.state
    model = state.model()
    groups = followed(state.tracker, state.today())
    chosen = ctx.request.query_params.get("plan") or None
    if chosen is not None and not any(chosen == g[0].id for g in groups[1:]):
        chosen = None  # the home plans' (a plan not followed today has no page here)
    gaps = state.tracker.completeness(plan=chosen)
    choices = [(None if i == 0 else g[0].id, "、".join(p.title for p in g)) for i, g in enumerate(groups)]
    return ctx.render("web/completeness.html", gaps=gaps, sent=ctx.request.query_params.get("sent"),
                      choices=choices if len(choices) > 1 else [], chosen=chosen,
                      plan_title=next((t for pid, t in choices if pid == chosen), ""), model=model)


@page(roles=("supervisor",))
def remind(ctx: Ctx) -> Response:
    state = ctx.state
    state.model()
    queued = ctx.write(lambda: state.tracker.remind(force=True))
    ctx.audit("remind", detail=f"已排队 {queued} 条提醒")
    return _redirect(f"/completeness?sent={queued}")
