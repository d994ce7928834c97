"""The data-entry form: a region's cells for the indicators the account reports, with the
period due, its submission deadline (the one the reminders name: [schedule] submission_day of
the month after the period), the value already held and each problem next to its field."""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.responses import RedirectResponse, Response

from tracker.domain.model import Indicator, TargetsModel
from tracker.domain.periods import latest_closed_period
from tracker.domain.regions import Region, RegionError
from tracker.web import auth
from tracker.web.core import Ctx, page


@dataclass
class EntryRow:
    """One indicator on the entry form for one region."""

    indicator: Indicator
    period: str  # the period due (or the one typed)
    deadline: date  # when that period's figure is due: the submission day after the period ends
    target_deadline: date | None
    last: Any = None  # the latest Observation of this region, any period
    stored: tuple[int, float] | None = None  # (revision, value) already held for `period`
    value: str = ""
    note: str = ""
    reason: str = ""
    errors: list[str] = field(default_factory=list)


def due_rows(model: TargetsModel, indicators: list[Indicator], today: date,
             submission_deadline: Callable[[date], date]) -> list[EntryRow]:
    """The period each indicator is due for on `today` (the latest that has ended) and its
    submission deadline (`submission_deadline(period end)`: ScheduleConfig's, the reminders'
    day); for context, the nearest deadline of a target it is judged by, directly or as a
    ratio's component (pure)."""
    judged_by: dict[str, set[str]] = {}  # indicator -> the indicators whose targets it feeds
    for i in model.indicators:
        for part in (i.id, i.numerator, i.denominator):
            if part:
                judged_by.setdefault(part, set()).add(i.id)
    rows = []
    for ind in indicators:
        period = latest_closed_period(today, ind.frequency)
        feeds = judged_by.get(ind.id, {ind.id})
        deadlines = sorted(t.deadline for t in model.targets if t.indicator in feeds and t.deadline)
        upcoming = [d for d in deadlines if d >= today]
        rows.append(EntryRow(ind, period.label, submission_deadline(period.end),
                             upcoming[0] if upcoming else (deadlines[-1] if deadlines else None)))
    return rows


def _problem_text(problem: Any) -> str:
    """A problem as shown next to its field: without the field's name, in Chinese."""
    if problem.code == "correction":
        return (problem.zh.split("，更正需")[0] + "；如需更正，请填写「更正原因」（将保存为新版本）")
    return dataclasses.replace(problem, column="", file="", row=None, value="", field="").format("zh")


def _entry_region(ctx: Ctx, text: str | None) -> Region | None:
    regions = ctx.state.regions_for(ctx.user)
    allowed = auth.writable_regions(ctx.user, regions) if ctx.user else []
    if not text:
        return allowed[0] if allowed else None
    try:
        region = regions.lookup(text)
    except RegionError:
        return None
    return region if any(r.code == region.code for r in allowed) else None


def _fill_stored(ctx: Ctx, rows: list[EntryRow], region: str) -> None:
    """Each row's value already held for its period, and the region's latest value."""
    by_id = {r.indicator.id: r for r in rows}
    for cell in ctx.state.tracker.cells(region, list(by_id)):
        row = by_id[cell.indicator]
        if cell.period == row.period:
            row.stored = (cell.revision, cell.value)
        if row.last is None or cell.period_end > row.last.period_end:
            row.last = cell


def _rows(ctx: Ctx, model: TargetsModel) -> list[EntryRow]:
    """The form's rows: the indicators the account writes that its plan's targets need (a
    region of another plan than the home ones: that plan's), with their periods due."""
    assert ctx.user is not None
    plan_model, _, only = ctx.state.scope_for(ctx.user)
    indicators = [i for i in auth.writable_indicators(ctx.user, model) if only is None or i.id in only]
    return due_rows(plan_model, indicators, ctx.state.today(), ctx.state.settings.schedule.submission_deadline)


@page(roles=("supervisor", "reporter"))
def entry(ctx: Ctx) -> Response:
    state, user = ctx.state, ctx.user
    assert user is not None
    model = state.model()
    source = ctx.form if ctx.request.method == "POST" else ctx.request.query_params
    region = _entry_region(ctx, source.get("region"))
    if region is None:
        return ctx.forbid("entry", f"region {source.get('region', '')}",
                          f"「{source.get('region', '')}」不是本账号可以填报的地区。")
    rows = _rows(ctx, model)
    if ctx.request.method == "GET":
        _fill_stored(ctx, rows, region.code)
        message = _saved_from(ctx.request.query_params)  # after the redirect from a saved form
        return ctx.render("web/entry.html", rows=rows, region=region,
                          regions=auth.writable_regions(user, state.regions_for(user)), message=message, warnings=[])
    return _entry_post(ctx, model, region, rows)


def _entry_post(ctx: Ctx, model: TargetsModel, region: Region, rows: list[EntryRow]) -> Response:
    from tracker.actuals.entry import CellEntry
    from tracker.actuals.problems import EntryError

    state, user = ctx.state, ctx.user
    assert user is not None
    by_id = {r.indicator.id: r for r in rows}
    indicators = {i.id: i for i in model.indicators}
    cells = []
    for key, raw in ctx.form.items():
        if not key.startswith("value."):
            continue
        ind_id, text = key[len("value."):], str(raw).strip()
        ind = indicators.get(ind_id)
        if ind is not None and not auth.may_write_value(user, ind, region.code, state.regions_for(user)):
            return ctx.forbid("entry", f"{ind_id} / {region.code}",
                              f"本账号不能填报「{ind.name}」在{region.name}的数值。")
        row = by_id.get(ind_id)
        if row is None:  # posted for an indicator not on this user's form
            if not text:
                continue
            row = EntryRow(ind or Indicator(ind_id, ind_id, ""), "", state.today(), None)
            rows.append(row)
            by_id[ind_id] = row
        row.value, row.period = text, str(ctx.form.get(f"period.{ind_id}", row.period)).strip()
        row.note = str(ctx.form.get(f"note.{ind_id}", "")).strip()
        row.reason = str(ctx.form.get(f"reason.{ind_id}", "")).strip()
        if not text:
            continue
        note = "；".join(x for x in (f"更正原因：{row.reason}" if row.reason else "", row.note) if x)
        cells.append(CellEntry(ind_id, region.code, row.period, text, None, note, bool(row.reason),
                               column=f"{ind_id}:value",
                               columns=(f"{ind_id}:indicator", f"{ind_id}:region", f"{ind_id}:period", f"{ind_id}:unit")))
    if not cells:
        _fill_stored(ctx, rows, region.code)
        return ctx.render("web/entry.html", 400, rows=rows, region=region, message="",
                          regions=auth.writable_regions(user, state.regions_for(user)), warnings=[],
                          form_error="没有填写任何数值。")
    def audited(conn: Any, result: Any) -> None:  # the audit entry commits with the values
        detail = "；".join(f"{indicators[c.indicator].name} {c.period}：{c.value}" if c.indicator in indicators
                          else f"{c.indicator} {c.period}：{c.value}" for c in cells)
        auth.audit_on(conn, ctx.actor, "entry", region.code, ip=ctx.ip, now=state.now(),
                      detail=detail + f"｜保存 {result.written} 项，其中更正 {result.corrections} 项")

    try:
        result = ctx.write(lambda: state.tracker.record_values(cells, entered_by=user.username, source="web",
                                                               also=audited))
    except EntryError as exc:
        for problem in exc.problems:
            ind_id = problem.column.split(":", 1)[0]
            if ind_id in by_id:
                by_id[ind_id].errors.append(_problem_text(problem))
        _fill_stored(ctx, rows, region.code)
        return ctx.render("web/entry.html", 400, rows=rows, region=region, message="", warnings=[],
                          regions=auth.writable_regions(user, state.regions_for(user)),
                          form_error=f"未保存任何数据：发现 {len(exc.problems)} 处问题，请修改标出的各项后重新提交。")
    message = saved_message(result.written, result.corrections, result.unchanged)
    if not result.warnings:  # redirect after POST: a reload does not post the form again
        counts = {"saved": result.written, "corrected": result.corrections, "unchanged": result.unchanged}
        return RedirectResponse(f"/entry?{urlencode({'region': region.code, **counts})}", status_code=303)
    fresh = _rows(ctx, model)  # warnings to read: shown at once, beside the values they concern
    _fill_stored(ctx, fresh, region.code)
    return ctx.render("web/entry.html", rows=fresh, region=region, message=message,
                      regions=auth.writable_regions(user, state.regions_for(user)),
                      warnings=[w.format("zh") for w in result.warnings])


def _saved_from(query: Any) -> str:
    """The saved message again, from the counts the redirect carries (numbers only: nothing a
    link could make the page say)."""
    try:
        counts = [int(query.get(k, "")) for k in ("saved", "corrected", "unchanged")]
    except ValueError:
        return ""
    return saved_message(*counts) if all(0 <= n < 10**6 for n in counts) else ""


def saved_message(written: int, corrections: int, unchanged: int) -> str:
    """What a saved form says: how many values, corrections and unchanged ones."""
    message = f"已保存 {written} 项" + (f"（其中更正 {corrections} 项）" if corrections else "")
    if unchanged:
        message += f"；{unchanged} 项与已有数值相同，未重复保存"
    return message + "。"
