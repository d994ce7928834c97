"""Review and approval in the web app (数据审核): a reporter submits its figures of a period
and sees what came back and why; an approver works through the submissions waiting for it,
by period and region, approving or returning several at once; the supervisor accepts, unlocks
with a reason, and previews the statuses with the figures awaiting review counted.

Thin: every decision is the service's (tracker.service.Tracker.submit, approve, return_,
unlock, approvals), which applies the rules, audits every transition and refusal and tells
the reporter of a return; this module turns the signed-in account into the actor and the
outcomes into a page.
"""

from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from tracker.web.auth import User
from tracker.web.core import Ctx, page

ROLES = ("supervisor", "reporter")
STATUS_OF = {"forbidden": 403, "conflict": 409}


def actor_of(ctx: Ctx) -> Any:
    """The signed-in account as the approval rules see it."""
    from tracker.status.approval import Actor

    user: User = ctx.user  # type: ignore[assignment]
    return Actor(user.username, user.department or user.region, user.is_supervisor, ctx.ip)


@dataclass
class Outcome:
    """What a post did: one line per submission acted on, and the refusals."""

    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    status: int = 200


def _page(ctx: Ctx, outcome: Outcome | None = None) -> Response:
    state, user = ctx.state, ctx.user
    assert user is not None
    state.model()
    tracker = state.tracker
    actor = actor_of(ctx)
    pid = state.plan_of(user)  # a region of another plan than the home ones: that plan's submissions
    mine = tracker.approvals(pid, unit=actor.unit, count=True) if actor.unit else []
    queue = tracker.approvals(pid, waiting_for=actor, count=True)
    locked = tracker.approvals(pid, states=["accepted"]) if user.is_supervisor else []
    groups: list[tuple[str, list[Any]]] = []
    for s in queue:
        if not groups or groups[-1][0] != s.period:
            groups.append((s.period, []))
        groups[-1][1].append(s)
    plans = [tracker.model.plan(pid)] if pid else tracker.tracked_plans()
    plan = plans[0] if plans else None
    outcome = outcome or Outcome()
    return ctx.render("web/approvals.html", outcome.status, mine=mine, groups=groups, queue=queue, locked=locked,
                      returned=[s for s in mine if s.returned], outcome=outcome, plan=plan,
                      required=plan is not None and state.settings.approval.required_for(plan.id),
                      unit_name=state.region_name(user.region) if user.region else user.department,
                      names=state.region_name)


@page(roles=ROLES)
def approvals(ctx: Ctx) -> Response:
    return _page(ctx)


@page(roles=ROLES)
def approvals_submit(ctx: Ctx) -> Response:
    from tracker.status.approval import ApprovalError

    actor = actor_of(ctx)
    period = str(ctx.form.get("period", "")).strip()
    outcome = Outcome()
    if not actor.unit:
        return ctx.forbid("approval_submit", period, "the supervisor's account reports no figures")
    try:
        done = ctx.write(lambda: ctx.state.tracker.submit(actor.unit, period, actor=actor,
                                                          plan=ctx.state.plan_of(ctx.user)))
        outcome.done.append(f"已提交：{done.unit.name} {done.period}，等待{_approvers(ctx, done)}审核。")
    except ApprovalError as exc:
        outcome.refused.append(exc.format("zh"))
        outcome.status = STATUS_OF.get(exc.code, 400)
    return _page(ctx, outcome)


def _approvers(ctx: Ctx, s: Any) -> str:
    return ctx.state.region_name(s.approvers[0]) if s.approvers else "监督单位"


@page(roles=ROLES)
def approvals_decide(ctx: Ctx) -> Response:
    """Approve or return the submissions ticked on the queue (pick.<unit>|<period>)."""
    from tracker.status.approval import ApprovalError

    tracker, actor = ctx.state.tracker, actor_of(ctx)
    action = str(ctx.form.get("action", ""))
    reason = str(ctx.form.get("reason", "")).strip()
    picked = [key[len("pick."):] for key, value in ctx.form.items() if key.startswith("pick.") and value]
    outcome = Outcome()
    if action not in ("approve", "return"):
        outcome.refused.append("请选择「审核通过」或「退回」。")
    elif not picked:
        outcome.refused.append("请先勾选要处理的数据。")
    if outcome.refused:
        outcome.status = 400
        return _page(ctx, outcome)
    pid = ctx.state.plan_of(ctx.user)
    for key in picked:
        unit, _, period = key.partition("|")
        try:
            if action == "approve":
                done = ctx.write(lambda u=unit, p=period: tracker.approve(u, p, actor=actor, plan=pid))
                verb = "已上报确认" if done.state == "accepted" else "已审核通过"
            else:
                done = ctx.write(lambda u=unit, p=period: tracker.return_(u, p, actor=actor, reason=reason, plan=pid))
                verb = "已退回"
            outcome.done.append(f"{verb}：{done.unit.name} {done.period}")
        except ApprovalError as exc:
            outcome.refused.append(exc.format("zh"))
            if not outcome.done:
                outcome.status = max(outcome.status if outcome.status != 200 else 0, STATUS_OF.get(exc.code, 400))
    if outcome.done:
        outcome.status = 200
    return _page(ctx, outcome)


@page(roles=("supervisor",))
def approvals_unlock(ctx: Ctx) -> Response:
    from tracker.status.approval import ApprovalError

    actor = actor_of(ctx)
    unit, period = str(ctx.form.get("unit", "")), str(ctx.form.get("period", ""))
    reason = str(ctx.form.get("reason", "")).strip()
    outcome = Outcome()
    try:
        done = ctx.write(lambda: ctx.state.tracker.unlock(unit, period, actor=actor, reason=reason))
        outcome.done.append(f"已解锁：{done.unit.name} {done.period}，可重新填报。")
    except ApprovalError as exc:
        outcome.refused.append(exc.format("zh"))
        outcome.status = STATUS_OF.get(exc.code, 400)
    return _page(ctx, outcome)


@page(roles=ROLES)
def approval_view(ctx: Ctx) -> Response:
    """One submission: its figures and its history, for the approver to check."""
    from tracker.service.approvals import cells
    from tracker.status.approval import ACTION_LABELS, ApprovalError, state_label

    state = ctx.state
    model = state.model()
    q = ctx.request.query_params
    unit, period = q.get("unit", ""), q.get("period", "")
    try:
        pid = state.plan_of(ctx.user)
        found = state.tracker.approvals(pid, unit=unit, period=period)
        history = state.tracker.approval_history(unit, period, pid)
    except ApprovalError as exc:
        return ctx.render("web/error.html", 400, title="没有这份数据", message=exc.zh, detail="")
    if not found:
        return ctx.render("web/error.html", 404, title="没有这份数据", message=f"找不到 {unit} {period} 的报送记录。",
                          detail="")
    submission = found[0]
    names = {i.id: i for i in model.indicators}
    return ctx.render("web/approval.html", s=submission, figures=cells(state.tracker, submission), history=history,
                      indicators=names, names=state.region_name, action_labels=ACTION_LABELS, state_label=state_label)


@page(roles=("supervisor",))
def approvals_preview(ctx: Ctx) -> Response:
    """Every target's status counting approved figures only, beside the same with the
    figures awaiting review counted (the supervisor's preview)."""
    state = ctx.state
    state.model()
    official = state.tracker.evaluate()
    preview = state.tracker.evaluate(include="submitted")
    ahead = {s.item_id: s for s in preview.tracked}
    rows = [(s, ahead.get(s.item_id)) for s in official.tracked if s.kind == "target"]
    return ctx.render("web/approvals_preview.html", rows=rows, include=official.include, as_of=official.as_of,
                      targets={t.id: t for t in official.model.targets},
                      indicators={i.id: i for i in official.model.indicators})
