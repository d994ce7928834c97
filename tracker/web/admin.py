"""Accounts and the audit log (the supervisor's)."""


from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from tracker.web import auth
from tracker.web.core import Ctx, _redirect, page


@page(roles=("supervisor",))
def users(ctx: Ctx) -> Response:
    state = ctx.state
    model = state.model()
    error, message = "", ""
    if ctx.request.method == "POST":
        f = ctx.form
        try:
            new = auth.add_user(state.engine, str(f.get("username", "")).strip(), str(f.get("password", "")),
                                str(f.get("role", "")), department=str(f.get("department", "")),
                                region=str(f.get("region", "")), display_name=str(f.get("display_name", "")),
                                model=model, regions=state.tracker.entry_regions(), now=state.now(),
                                plan=str(f.get("plan", "")))
        except auth.UserError as exc:
            error = exc.zh
        else:
            ctx.audit("user_add", new.username, detail=user_detail(new, state.region_name))
            message = f"已添加用户 {new.username}。"
    return ctx.render("web/users.html", 400 if error else 200, users=auth.list_users(state.engine), error=error,
                      message=message, departments=auth.known_departments(model), regions=state.regions.all,
                      roles=auth.ROLES, form=ctx.form if error else {},
                      plans=_plans_to_name(model), region_groups=_region_groups(state, model))


def _region_groups(state: Any, model: Any) -> list[tuple[str, list[Any]]]:
    """With several plans to report in, the region choice grouped by plan (its own regions
    first, the home plan's as before), so a supervisor can add 广州's reporter in Guangdong's."""
    plans = _plans_to_name(model)
    return [(p.title, [r for r in state.tracker.plan_regions(p.id).all if r.level != "province"]) for p in plans]


def _plans_to_name(model: Any) -> list[Any]:
    """The plans an account may name: offered only when there is more than one to report in
    (a national plan takes no one's figures directly)."""
    plans = [p for p in model.plans if p.level != "national"]
    return plans if len(plans) > 1 else []


@page(roles=("supervisor",))
def user_active(ctx: Ctx) -> Response:
    username, action = ctx.request.path_params["username"], ctx.request.path_params["action"]
    if action not in ("enable", "disable"):
        return ctx.render("web/error.html", 404, title="没有这个操作", message="", detail="")
    active = action == "enable"
    if ctx.user is not None and username == ctx.user.username and not active:
        return ctx.render("web/error.html", 400, title="不能停用自己", message="不能停用当前登录的账号。", detail="")
    if auth.set_active(ctx.state.engine, username, active, ctx.state.now()):
        ctx.audit("user_enable" if active else "user_disable", username)
    return _redirect("/users")


@page(roles=("supervisor",))
def audit_log(ctx: Ctx) -> Response:
    return ctx.render("web/audit.html", entries=auth.list_audit(ctx.state.engine, 300),
                      actions=auth.AUDIT_ACTIONS, outcomes=auth.AUDIT_OUTCOMES)


def user_detail(user: auth.User, region_name: Callable[[str], str]) -> str:
    """角色：填报；部门：省民政厅 — what an added account may do, as the audit log says it."""
    scope = f"；部门：{user.department}" if user.department else f"；地区：{region_name(user.region)}" if user.region else ""
    plan = f"；规划：{user.plan}" if user.plan else ""
    return f"角色：{auth.ROLE_LABELS.get(user.role, user.role)}{scope}{plan}"
