"""Milestone progress: 未启动 / 推进中 / 已完成, reported by the account's unit or region."""


from starlette.responses import Response

from tracker.web import auth
from tracker.web.core import Ctx, page
from tracker.web.entry import _problem_text


@page(roles=("supervisor", "reporter"))
def progress(ctx: Ctx) -> Response:
    from tracker.actuals.problems import EntryError

    state, user = ctx.state, ctx.user
    assert user is not None
    model = state.model()
    milestones = auth.reportable_milestones(user, model)
    error, message, failed = "", "", ""
    if ctx.request.method == "POST":
        ms_id = str(ctx.form.get("milestone", ""))
        reporter = auth.progress_reporter(user) if not user.is_supervisor else str(ctx.form.get("reporter", "")).strip()
        if not auth.may_report_progress(user, model, ms_id, reporter, state.regions):
            return ctx.forbid("progress", f"{ms_id} / {reporter}", "milestone not this account's")
        try:
            ctx.write(lambda: state.tracker.record_progress(
                ms_id, str(ctx.form.get("state", "")), reporter=reporter, entered_by=user.username,
                note=str(ctx.form.get("note", "")), evidence=str(ctx.form.get("evidence", "")), source="web"))
        except EntryError as exc:
            error, failed = "；".join(_problem_text(p) for p in exc.problems), ms_id
        else:
            ctx.audit("progress", f"{ms_id} / {reporter}", detail=f"state={ctx.form.get('state', '')}")
            message = "已保存里程碑进展。"
    mine = auth.progress_reporter(user)
    latest = {p.milestone: p for p in state.tracker.progress()
              if user.is_supervisor or p.reporter == mine}
    return ctx.render("web/progress.html", 400 if error else 200, milestones=milestones, latest=latest,
                      error=error, failed=failed, message=message, form=ctx.form)
