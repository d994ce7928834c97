"""Sign in and out, the health check and the home page."""

from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from tracker.web import auth
from tracker.web.core import Ctx, _redirect, _safe_next, page


@page(login=False)
def login_page(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        return ctx.render("web/login.html", next=_safe_next(ctx.request.query_params.get("next")), error="",
                          username="")
    state = ctx.state
    username = str(ctx.form.get("username", "")).strip()
    result = auth.sign_in(state.engine, username, str(ctx.form.get("password", "")), ip=ctx.ip, now=state.now(),
                          limits=state.login_limits)
    nxt = _safe_next(ctx.form.get("next"))
    if result.outcome == "limited":
        wait = f"{result.retry_after} 秒" if result.retry_after < 60 else f"{-(-result.retry_after // 60)} 分钟"
        error = (f"该账号登录失败次数过多，请 {wait}后再试。" if result.locked == "account" else
                 f"您所在网络地址登录失败次数过多，请 {wait}后再试（密码正确的账号仍可登录）。")
        response = ctx.render("web/login.html", 429, next=nxt, username=username, error=error)
        response.headers["Retry-After"] = str(result.retry_after)
        return response
    if result.user is None:
        return ctx.render("web/login.html", 401, next=nxt, username=username, error="用户名或密码错误。")
    if result.user.plan and all(p.id != result.user.plan for p in state.model().plans):
        ctx.audit("login", username, outcome="refused", detail=f"plan {result.user.plan} is not in targets.yaml")
        return ctx.render("web/login.html", 403, next=nxt, username=username,
                          error=f"该账号所在规划「{result.user.plan}」已不在目标文件中，请联系监督单位修改账号。")
    ctx.cookie = state.codec.dumps(auth.new_session(state.now(), result.user.id))
    return _redirect(nxt)


@page(login=False)
def logout(ctx: Ctx) -> Response:
    if ctx.user is not None:
        auth.end_sessions(ctx.state.engine, ctx.user.id, ctx.state.now())
        ctx.audit("logout")
    ctx.cookie = ctx.state.codec.dumps(auth.new_session(ctx.state.now()))
    return _redirect("/login")


def healthz(_request: Request) -> Response:
    return PlainTextResponse("ok")


@page()
def home(ctx: Ctx) -> Response:
    from tracker.report.files import report_periods

    periods = report_periods(Path(ctx.state.settings.reports_dir))
    return ctx.render("web/home.html", latest=periods[-1] if periods else None)
