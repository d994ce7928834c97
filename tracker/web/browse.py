"""Browsing: reports, targets with their values by region and period, each value's
revisions; the supervisor's completeness view and reminder button."""

from pathlib import Path
from typing import Any

from starlette.responses import FileResponse, Response

from tracker.domain.model import Indicator, TargetsModel
from tracker.domain.regions import Region
from tracker.web.core import REPORT_FILE, Ctx, _redirect, page


@page()
def reports(ctx: Ctx) -> Response:
    from tracker.report.files import report_periods

    periods = list(reversed(report_periods(Path(ctx.state.settings.reports_dir))))
    return ctx.render("web/reports.html", periods=periods, message=ctx.request.query_params.get("made", ""))


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
    directory = Path(ctx.state.settings.reports_dir)
    if name == "latest":
        periods = report_periods(directory)
        return _redirect(f"/reports/{periods[-1]}.html" if periods else "/reports")
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
    return ctx.render("web/targets.html", targets=model.targets, statuses=by_id, model=model)


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
    state = ctx.state
    state.model()
    evaluation = state.tracker.evaluate()
    model, regions, statuses = evaluation.model, evaluation.regions, evaluation.statuses
    target = next((t for t in model.targets if t.id == ctx.request.path_params["target_id"]), None)
    if target is None:
        return ctx.render("web/error.html", 404, title="没有这个目标", message="找不到该目标。", detail="")
    status = next((s for s in statuses if s.item_id == target.id), None)
    figures = state.tracker.values(target.indicator, evaluation.as_of)
    province = regions.province.code
    series = sorted((f for f in figures if f.region == province), key=lambda f: f.period_end)
    chart = {"points": [[f.period_end.isoformat(), f.value] for f in series], "target": target.value,
             "deadline": target.deadline.isoformat() if target.deadline else None}
    periods, table = value_table(figures, regions.all)
    try:
        indicator = model.indicator(target.indicator)
    except KeyError:
        indicator = Indicator(target.indicator, target.indicator, target.unit)
    return ctx.render("web/target.html", target=target, status=status, indicator=indicator, chart=chart,
                      periods=periods, table=table, task=_task(model, target.plan, target.task))


def _task(model: TargetsModel, plan: str, number: int) -> Any:
    try:
        return model.task(plan, number)
    except KeyError:
        return None


@page()
def history(ctx: Ctx) -> Response:
    q = ctx.request.query_params
    indicator, region, period = q.get("indicator", ""), q.get("region", ""), q.get("period", "")
    revisions = ctx.state.tracker.history(indicator, region, period)
    model = ctx.state.model()
    name = next((i.name for i in model.indicators if i.id == indicator), indicator)
    return ctx.render("web/history.html", revisions=revisions, indicator=indicator, name=name, region=region,
                      period=period)


# ---------------------------------------------------------------------------------------
# Completeness and reminders (supervisor)


@page(roles=("supervisor",))
def completeness(ctx: Ctx) -> Response:
    state = ctx.state
    state.model()
    gaps = state.tracker.completeness()
    return ctx.render("web/completeness.html", gaps=gaps, sent=ctx.request.query_params.get("sent"))


@page(roles=("supervisor",))
def remind(ctx: Ctx) -> Response:
    state = ctx.state
    state.model()
    queued = ctx.write(lambda: state.tracker.remind(force=True))
    ctx.audit("remind", detail=f"queued {queued}")
    return _redirect(f"/completeness?sent={queued}")
