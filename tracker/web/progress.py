"""Milestone progress: 未启动 / 推进中 / 已完成, reported by the account's unit or region.

The account's own work first: the milestones of the plans followed (the province's own plan)
before those of the national table, each by its short title, with where it stands now (its
status, and the state the account last reported, which the form starts from)."""

from starlette.responses import Response

from tracker.domain.model import Milestone, same_unit
from tracker.web import auth
from tracker.web.core import Ctx, page
from tracker.web.entry import _problem_text


@page(roles=("supervisor", "reporter"))
def progress(ctx: Ctx) -> Response:
    from tracker.actuals.problems import EntryError

    state, user = ctx.state, ctx.user
    assert user is not None
    model = state.model()
    error, message, failed = "", "", ""
    if ctx.request.method == "POST":
        ms_id = str(ctx.form.get("milestone", ""))
        reporter = auth.progress_reporter(user) if not user.is_supervisor else str(ctx.form.get("reporter", "")).strip()
        own_model, own_regions, _ = state.scope_for(user)
        if not auth.may_report_progress(user, own_model, ms_id, reporter, own_regions):
            return ctx.forbid("progress", f"{ms_id} / {reporter}", "该里程碑不由本账号报告进展。")
        try:
            ctx.write(lambda: state.tracker.record_progress(
                ms_id, str(ctx.form.get("state", "")), reporter=reporter, entered_by=user.username,
                note=str(ctx.form.get("note", "")), evidence=str(ctx.form.get("evidence", "")), source="web"))
        except EntryError as exc:
            error, failed = "；".join(_problem_text(p) for p in exc.problems), ms_id
        else:
            ctx.audit("progress", f"{ms_id} / {reporter}",
                      detail=f"状态：{state_label(str(ctx.form.get('state', '')))}")
            message = "已保存里程碑进展。"
    mine = auth.progress_reporter(user)
    latest: dict[str, list] = {}
    for p in state.tracker.progress():
        if user.is_supervisor or same_unit(p.reporter, mine):
            latest.setdefault(p.milestone, []).append(p)
    evaluation = state.tracker.evaluate()
    statuses = {s.item_id: s for s in evaluation.statuses if s.kind != "target"}
    groups = _groups(auth.reportable_milestones(user, state.scope_for(user)[0]), [p.id for p in evaluation.plans],
                     {p.id: p.title for p in model.plans})
    return ctx.render("web/progress.html", 400 if error else 200, groups=groups, latest=latest,
                      statuses=statuses, error=error, failed=failed, message=message, form=ctx.form)


def state_label(code: str) -> str:
    from tracker.domain.model import MILESTONE_STATE_LABELS

    return MILESTONE_STATE_LABELS.get(code, code)


def _groups(milestones: list[Milestone], followed: list[str], titles: dict[str, str]) -> list[tuple[str, list[Milestone]]]:
    """(plan title, its milestones), the plans followed first, each in task order."""
    order = {pid: i for i, pid in enumerate(followed)}
    plans = sorted({m.plan for m in milestones}, key=lambda pid: (order.get(pid, len(order)), pid))
    return [(titles.get(pid, pid), sorted((m for m in milestones if m.plan == pid), key=lambda m: (m.task, m.id)))
            for pid in plans]
