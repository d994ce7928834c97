"""The Excel template: download, and upload through the same import as `tracker import`."""

import re
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from tracker.domain.model import Indicator, TargetsModel, same_unit
from tracker.domain.periods import latest_closed_period
from tracker.domain.regions import Regions
from tracker.web import auth
from tracker.web.auth import User
from tracker.web.core import UPLOAD_SUFFIXES, Ctx, page


def _permit(user: User, model: TargetsModel, regions: Regions) -> Callable[[str, str, str], bool]:
    indicators = {i.id: i for i in model.indicators}

    def permit(kind: str, item: str, where: str) -> bool:
        if kind == "value":
            ind = indicators.get(item)
            return ind is not None and auth.may_write_value(user, ind, where, regions)
        return auth.may_report_progress(user, model, item, where, regions)

    return permit


def template_choices(user: User, model: TargetsModel, state: Any) -> tuple[list[str], list[str]]:
    """(departments, regions) whose templates the upload page offers the user: a reporter its
    own; the supervisor the departments of the plans followed (not every ministry of the
    national table) and every city and county."""
    from tracker.actuals.templates import template_units

    if not user.is_supervisor and not auth.sees_everything(user, state.config):
        if user.department:
            return [next((u for u in template_units(model) if same_unit(u, user.department)), user.department)], []
        return [], [state.region_name(user.region)] if user.region else []
    plans = {p.id for p in state.tracker.tracked_plans(model)}
    reporters = template_units(TargetsModel([], [i for i in model.indicators if i.reporter], [], [], []))
    others = template_units(TargetsModel([], [], [t for t in model.tasks if t.plan in plans], [], []))
    # the departments that report figures first, then those answering for tasks only
    return reporters + [u for u in others if u not in reporters], [r.name for r in state.regions.counties()]


def _default_period(indicators: list[Indicator], today: date) -> str:
    freqs = [i.frequency for i in indicators] or ["quarterly"]
    common = max(set(freqs), key=freqs.count)
    return latest_closed_period(today, common).label


@page(roles=("supervisor", "reporter"))
def upload(ctx: Ctx) -> Response:
    from tracker.actuals.problems import EntryError

    state, user = ctx.state, ctx.user
    assert user is not None
    model = state.model()
    departments, regions = template_choices(user, model, state)
    own = user.department and next((d for d in departments if same_unit(d, user.department)), user.department)
    unit = own or (state.region_name(user.region) if user.region else "") or (departments[0] if departments else "")
    period = _default_period(auth.writable_indicators(user, model), state.today())
    values = {"departments": departments, "region_choices": regions, "unit": unit, "period": period, "problems": [],
              "message": "", "warnings": []}
    if ctx.request.method == "GET":
        return ctx.render("web/upload.html", **values)
    name, content = ctx.files.get("file") or ("", b"")
    correct = bool(ctx.form.get("correct"))
    reason = str(ctx.form.get("reason", "")).strip()
    suffix = Path(name).suffix.lower()
    problems = []
    if not name or not content:
        problems.append("请选择要上传的文件。")
    elif suffix not in UPLOAD_SUFFIXES:
        problems.append(f"只能上传 Excel（.xlsx）或 CSV 文件，而不是「{suffix or '无扩展名'}」。")
    elif len(content) > state.config.max_upload_mb * 1024 * 1024:
        problems.append(f"文件超过 {state.config.max_upload_mb:g} MB。")
    if correct and not reason:
        problems.append("更正已有数值时请填写更正原因。")
    if problems:
        return ctx.render("web/upload.html", 400, **{**values, "problems": problems})
    safe = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", Path(name).name)[:120] or f"upload{suffix}"
    with tempfile.TemporaryDirectory(prefix="tracker-upload-") as tmp:
        path = Path(tmp) / safe
        path.write_bytes(content)
        try:
            result = ctx.write(lambda: state.tracker.import_file(
                path, entered_by=user.username, correct=correct, permit=_permit(user, *state.scope_for(user)[:2])))
        except EntryError as exc:
            forbidden = [p for p in exc.problems if p.code == "forbidden"]
            if forbidden:
                return ctx.forbid("upload", safe, "; ".join(p.format("zh") for p in forbidden[:20]))
            ctx.audit("upload", safe, outcome="invalid", detail=f"发现 {len(exc.problems)} 处问题，未导入")
            return ctx.render("web/upload.html", 400, **{**values, "problems": [p.format("zh") for p in exc.problems]
                                                         + ([f"另有 {exc.dropped} 处问题未列出"] if exc.dropped else [])})
    ctx.audit("upload", safe, detail=f"导入 {result.written} 个数值，其中更正 {result.corrections} 项，"
                                     f"里程碑进展 {result.progress_written} 条" + (f"｜更正原因：{reason}" if reason else ""))
    message = f"已导入 {result.written} 个数值" + (f"（其中更正 {result.corrections} 项）" if result.corrections else "") \
        + (f"、{result.progress_written} 条里程碑进展" if result.progress_written else "") + "。"
    return ctx.render("web/upload.html", **{**values, "message": message,
                                            "warnings": [w.format("zh") for w in result.warnings]})


@page(roles=("supervisor", "reporter"))
def template_download(ctx: Ctx) -> Response:
    from tracker.actuals.problems import EntryError
    from tracker.domain.periods import PeriodError, parse_period

    state, user = ctx.state, ctx.user
    assert user is not None
    state.model()
    unit = ctx.request.query_params.get("unit", "").strip()
    period = ctx.request.query_params.get("period", "")
    if not auth.may_view_template(user, unit, state.regions_for(user), state.config):
        return ctx.forbid("template", unit, f"本账号只能下载本{'地区' if user.region else '部门'}的填报模板，"
                                            f"不能下载「{unit}」的。")
    try:
        parse_period(period)
    except PeriodError:
        return ctx.render("web/error.html", 400, title="期间无效", message=f"「{period}」不是有效的期间，如 2026Q3、2026-10、2025。",
                          detail="")
    with tempfile.TemporaryDirectory(prefix="tracker-template-") as tmp:
        path = Path(tmp) / "template.xlsx"
        try:
            state.tracker.write_template(path, unit, period)
        except EntryError as exc:
            return ctx.render("web/error.html", 400, title="无法生成模板", message=exc.format("zh"), detail="")
        body = path.read_bytes()
    ctx.audit("template", f"{unit} {period}")
    filename = f"{unit}-{period}-填报模板.xlsx"
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"content-disposition": f"attachment; filename=\"template.xlsx\"; "
                                                    f"filename*=UTF-8''{quote(filename)}"})
