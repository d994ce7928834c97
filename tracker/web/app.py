"""The web app (`tracker serve`): reporting units enter values and milestone progress, upload
the Excel template, and everyone browses the reports, the targets and who has reported.

Server-rendered (Starlette, the package's Jinja2 templates with autoescape, no JavaScript,
nothing fetched from elsewhere), on the same database as the CLI and the scheduler. The
handlers are thin: the values go through tracker.actuals.entry (the same checks as a file import),
statuses and reports through the service (tracker.service.Tracker), permissions and
sessions through tracker.web.auth. Each handler body runs in a worker thread, since the
database calls block.

Every form carries the session's CSRF token; every write and every refusal is audited;
permissions are checked on the server for every cell, whatever the form offered.
"""

import asyncio
import dataclasses
import os
import re
import tempfile
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tracker.domain.model import Indicator, TargetsModel
from tracker.domain.periods import latest_closed_period, today_in_plan_tz
from tracker.domain.regions import Region, RegionError, Regions
from tracker.report.render import environment
from tracker.service import Tracker
from tracker.web import auth
from tracker.web.auth import Session, User

T = TypeVar("T")
COOKIE = "tracker_session"
REPORT_FILE = re.compile(r"^(index|\d{4}-\d{2})\.(html|json)$")
UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".csv")
SECURITY_HEADERS = [
    (b"content-security-policy", (b"default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                  b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


# ---------------------------------------------------------------------------------------
# State shared by the handlers


class WebState:
    """The settings, engine, clock, cookie codec, templates and a targets model reloaded when
    targets.yaml changes (and synced into the database, as the CLI does before writing)."""

    def __init__(self, settings: Any, engine: Any, clock: Callable[[], datetime], model: TargetsModel | None) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.config = settings.web
        self.login_limits = auth.login_limits(settings.web)
        secret = auth.session_secret(engine, os.environ.get(self.config.secret_env))
        self.codec = auth.SessionCodec(secret, timedelta(hours=self.config.session_hours))
        self.tracker = Tracker(settings, engine=engine, clock=clock, model=model)
        self.regions = self.tracker.regions
        self.templates = environment()
        # SQLite lets one writer in at a time and makes the others poll with growing sleeps
        # (busy_timeout), which under a crowd gives long, unfair waits. Inside this process
        # writers queue on a lock instead, so at most one of them is at the database's door;
        # other processes (the CLI, the scheduler) still meet it through busy_timeout.
        self._write_lock = threading.Lock() if engine.dialect.name == "sqlite" else None
        self._model_lock = threading.Lock()
        # Handlers run in at most this many threads: enough to overlap database waits, few
        # enough that they never queue for a pooled connection (SQLAlchemy's default pool
        # holds 5 + 10) and do not fight over the GIL.
        # (A limiter belongs to one event loop: one per loop, for tests running several.)
        self._limiters: weakref.WeakKeyDictionary[Any, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()

    def limiter(self) -> anyio.CapacityLimiter:
        """The handler-thread limiter of the running event loop."""
        loop = asyncio.get_running_loop()
        found = self._limiters.get(loop)
        if found is None:
            found = self._limiters[loop] = anyio.CapacityLimiter(self.config.threads)
        return found

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold while writing to the database (see __init__)."""
        if self._write_lock is None:
            yield
            return
        with self._write_lock:
            yield

    def model(self) -> TargetsModel:
        """The targets model (reloaded when targets.yaml changes, and synced into the database
        then, queued behind this process's other writers)."""
        with self._model_lock, self.writing():
            return self.tracker.model

    def region_name(self, code: str | None) -> str:
        if not code:
            return ""
        try:
            return self.regions.get(code).name
        except RegionError:
            return code

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return today_in_plan_tz(self.clock())


@dataclass
class Ctx:
    """One request as a handler sees it."""

    request: Request
    state: WebState
    session: Session
    user: User | None
    form: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Any] = field(default_factory=dict)
    cookie: str | None = None  # a new session cookie to set

    @property
    def ip(self) -> str:
        return self.request.client.host if self.request.client else ""

    @property
    def actor(self) -> str:
        return self.user.username if self.user else "-"

    def render(self, template: str, code: int = 200, **values: Any) -> HTMLResponse:
        html = self.state.templates.get_template(template).render(
            user=self.user, csrf=self.session.csrf, path=self.request.url.path, today=self.state.today(),
            region_name=self.state.region_name, role_labels=auth.ROLE_LABELS, **values)
        return HTMLResponse(html, status_code=code)

    def audit(self, action: str, obj: str = "", *, outcome: str = "ok", detail: str = "") -> None:
        with self.state.writing():
            auth.audit(self.state.engine, self.actor, action, obj, outcome=outcome, detail=detail, ip=self.ip,
                       now=self.state.now())

    def write(self, fn: Callable[[], T]) -> T:
        """Run a database write queued behind this process's other writers (a revision race
        between processes is prevented in tracker.store.engine.write_transaction)."""
        with self.state.writing():
            return fn()

    def forbid(self, action: str, obj: str, detail: str = "") -> HTMLResponse:
        """403, and the attempt in the audit log."""
        self.audit(action, obj, outcome="refused", detail=detail)
        return self.render("web/error.html", 403, title="无权操作",
                           message="您没有权限执行此操作，本次尝试已记录。", detail=detail)


Handler = Callable[[Ctx], Response]


def _same_origin(request: Request) -> bool:
    """A cross-site form post says where it came from; refuse a foreign Origin."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def page(*, login: bool = True, roles: tuple[str, ...] | None = None) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: session from the cookie, sign-in and role required, CSRF checked on
    POST, and the body run in a worker thread."""

    def wrap(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            state: WebState = request.app.state.web
            form: dict[str, Any] = {}
            files: dict[str, Any] = {}
            if request.method == "POST":
                limit = int(state.config.max_upload_mb * 1024 * 1024)
                async with request.form(max_files=1, max_fields=2000, max_part_size=limit) as data:
                    for key, value in data.multi_items():
                        if hasattr(value, "filename"):
                            files[key] = (value.filename or "", await value.read(limit + 1))
                        else:
                            form[key] = value
            return await anyio.to_thread.run_sync(_handle, fn, request, state, form, files, login, roles,
                                                  limiter=state.limiter())

        endpoint.__name__ = fn.__name__
        return endpoint

    return wrap


def _handle(fn: Handler, request: Request, state: WebState, form: dict[str, Any], files: dict[str, Any],
            login: bool, roles: tuple[str, ...] | None) -> Response:
    now = state.now()
    session = state.codec.loads(request.cookies.get(COOKIE), now)
    cookie = None
    if session is None:
        session = auth.new_session(now)
        cookie = state.codec.dumps(session)
    user = auth.get_user(state.engine, session.user_id) if session.user_id is not None else None
    if user is not None and not user.accepts(session):
        user = None
    ctx = Ctx(request, state, session, user, form, files, cookie)
    if request.method == "POST" and not (auth.csrf_ok(session, form.get("csrf")) and _same_origin(request)):
        ctx.audit("csrf", request.url.path, outcome="refused")
        response: Response = ctx.render("web/error.html", 403, title="请求无效",
                                        message="表单已过期或来源不明（CSRF 校验失败），请返回页面刷新后重试。", detail="")
    elif login and user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
    elif roles and user is not None and user.role not in roles:
        response = ctx.forbid("page", request.url.path, f"role {user.role}")
    else:
        response = fn(ctx)
    if ctx.cookie is not None:
        _set_cookie(response, request, state, ctx.cookie)
    return response


def _set_cookie(response: Response, request: Request, state: WebState, value: str) -> None:
    response.set_cookie(COOKIE, value, max_age=int(state.config.session_hours * 3600), path="/", httponly=True,
                        samesite="lax", secure=state.config.secure_cookies or request.url.scheme == "https")


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never //elsewhere or a full URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# ---------------------------------------------------------------------------------------
# Sign in and out


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
        return ctx.render("web/login.html", 429, next=nxt, username=username,
                          error=f"登录失败次数过多，请 {int(state.login_limits.window.total_seconds() // 60)} 分钟后再试。")
    if result.user is None:
        return ctx.render("web/login.html", 401, next=nxt, username=username, error="用户名或密码错误。")
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


# ---------------------------------------------------------------------------------------
# Data entry


@dataclass
class EntryRow:
    """One indicator on the entry form for one region."""

    indicator: Indicator
    period: str  # the period due (or the one typed)
    deadline: date  # when that period's figure is due: period end + grace days
    target_deadline: date | None
    last: Any = None  # the latest Observation of this region, any period
    stored: tuple[int, float] | None = None  # (revision, value) already held for `period`
    value: str = ""
    note: str = ""
    reason: str = ""
    errors: list[str] = field(default_factory=list)


def due_rows(model: TargetsModel, indicators: list[Indicator], today: date, grace_days: int) -> list[EntryRow]:
    """The period each indicator is due for on `today` (the latest that has ended) and its
    submission deadline; for context, the nearest deadline of a target it is judged by,
    directly or as a ratio's component (pure)."""
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
        rows.append(EntryRow(ind, period.label, period.end + timedelta(days=grace_days),
                             upcoming[0] if upcoming else (deadlines[-1] if deadlines else None)))
    return rows


def _problem_text(problem: Any) -> str:
    """A problem as shown next to its field: without the field's name, in Chinese."""
    if problem.code == "correction":
        return (problem.zh.split("，更正需")[0] + "；如需更正，请填写「更正原因」（将保存为新版本）")
    return dataclasses.replace(problem, column="", file="", row=None, value="").format("zh")


def _entry_region(ctx: Ctx, text: str | None) -> Region | None:
    allowed = auth.writable_regions(ctx.user, ctx.state.regions) if ctx.user else []
    if not text:
        return allowed[0] if allowed else None
    try:
        region = ctx.state.regions.lookup(text)
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


@page(roles=("supervisor", "reporter"))
def entry(ctx: Ctx) -> Response:
    state, user = ctx.state, ctx.user
    assert user is not None
    model = state.model()
    source = ctx.form if ctx.request.method == "POST" else ctx.request.query_params
    region = _entry_region(ctx, source.get("region"))
    if region is None:
        return ctx.forbid("entry", f"region {source.get('region', '')}", "not a region this account reports")
    rows = due_rows(model, auth.writable_indicators(user, model), state.today(), state.settings.status.grace_days)
    if ctx.request.method == "GET":
        _fill_stored(ctx, rows, region.code)
        return ctx.render("web/entry.html", rows=rows, region=region,
                          regions=auth.writable_regions(user, state.regions), message="", warnings=[])
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
        if ind is not None and not auth.may_write_value(user, ind, region.code, state.regions):
            return ctx.forbid("entry", f"{ind_id} / {region.code}", "indicator or region not this account's")
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
                          regions=auth.writable_regions(user, state.regions), warnings=[],
                          form_error="没有填写任何数值。")
    try:
        result = ctx.write(lambda: state.tracker.record_values(cells, entered_by=user.username, source="web"))
    except EntryError as exc:
        for problem in exc.problems:
            ind_id = problem.column.split(":", 1)[0]
            if ind_id in by_id:
                by_id[ind_id].errors.append(_problem_text(problem))
        _fill_stored(ctx, rows, region.code)
        return ctx.render("web/entry.html", 400, rows=rows, region=region, message="", warnings=[],
                          regions=auth.writable_regions(user, state.regions),
                          form_error=f"未保存任何数据：发现 {len(exc.problems)} 处问题，请修改标出的各项后重新提交。")
    ctx.audit("entry", region.code, detail="; ".join(f"{c.indicator} {c.period}={c.value}" for c in cells)
              + f" | written {result.written}, corrections {result.corrections}")
    fresh = due_rows(model, auth.writable_indicators(user, model), state.today(), state.settings.status.grace_days)
    _fill_stored(ctx, fresh, region.code)
    message = f"已保存 {result.written} 项" + (f"（其中更正 {result.corrections} 项）" if result.corrections else "")
    if result.unchanged:
        message += f"；{result.unchanged} 项与已有数值相同，未重复保存"
    return ctx.render("web/entry.html", rows=fresh, region=region, message=message + "。",
                      regions=auth.writable_regions(user, state.regions),
                      warnings=[w.format("zh") for w in result.warnings])


# ---------------------------------------------------------------------------------------
# Excel template: download and upload (the same import code as `tracker import`)


def _permit(user: User, model: TargetsModel, regions: Regions) -> Callable[[str, str, str], bool]:
    indicators = {i.id: i for i in model.indicators}

    def permit(kind: str, item: str, where: str) -> bool:
        if kind == "value":
            ind = indicators.get(item)
            return ind is not None and auth.may_write_value(user, ind, where, regions)
        return auth.may_report_progress(user, model, item, where, regions)

    return permit


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
    units = auth.known_departments(model)
    unit = user.department or (units[0] if units else "")
    period = _default_period(auth.writable_indicators(user, model), state.today())
    values = {"units": units, "unit": unit, "period": period, "problems": [], "message": "", "warnings": []}
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
                path, entered_by=user.username, correct=correct, permit=_permit(user, model, state.regions)))
        except EntryError as exc:
            forbidden = [p for p in exc.problems if p.code == "forbidden"]
            if forbidden:
                return ctx.forbid("upload", safe, "; ".join(p.format("zh") for p in forbidden[:20]))
            ctx.audit("upload", safe, outcome="invalid", detail=f"{len(exc.problems)} problems")
            return ctx.render("web/upload.html", 400, **{**values, "problems": [p.format("zh") for p in exc.problems]
                                                         + ([f"另有 {exc.dropped} 处问题未列出"] if exc.dropped else [])})
    ctx.audit("upload", safe, detail=f"written {result.written}, corrections {result.corrections}, "
                                     f"progress {result.progress_written}" + (f" | 更正原因：{reason}" if reason else ""))
    message = f"已导入 {result.written} 个数值" + (f"（其中更正 {result.corrections} 项）" if result.corrections else "") \
        + (f"、{result.progress_written} 条里程碑进展" if result.progress_written else "") + "。"
    return ctx.render("web/upload.html", **{**values, "message": message,
                                            "warnings": [w.format("zh") for w in result.warnings]})


@page(roles=("supervisor", "reporter"))
def template_download(ctx: Ctx) -> Response:
    from tracker.actuals.problems import EntryError
    from tracker.domain.periods import PeriodError, parse_period

    state = ctx.state
    state.model()
    unit = ctx.request.query_params.get("unit", "")
    period = ctx.request.query_params.get("period", "")
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
    filename = f"{unit}-{period}-填报模板.xlsx"
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"content-disposition": f"attachment; filename=\"template.xlsx\"; "
                                                    f"filename*=UTF-8''{quote(filename)}"})


# ---------------------------------------------------------------------------------------
# Milestone progress


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


# ---------------------------------------------------------------------------------------
# Browsing: reports, targets, values and their revisions


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
    from tracker.report.files import report_periods

    name = ctx.request.path_params["name"]
    directory = Path(ctx.state.settings.reports_dir)
    if name == "latest":
        periods = report_periods(directory)
        return _redirect(f"/reports/{periods[-1]}.html" if periods else "/reports")
    path = directory / name
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


# ---------------------------------------------------------------------------------------
# Users and the audit log (supervisor)


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
                                model=model, regions=state.regions, now=state.now())
        except auth.UserError as exc:
            error = exc.zh
        else:
            ctx.audit("user_add", new.username, detail=f"role={new.role} department={new.department} region={new.region}")
            message = f"已添加用户 {new.username}。"
    return ctx.render("web/users.html", 400 if error else 200, users=auth.list_users(state.engine), error=error,
                      message=message, departments=auth.known_departments(model), regions=state.regions.all,
                      roles=auth.ROLES, form=ctx.form if error else {})


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
    return ctx.render("web/audit.html", entries=auth.list_audit(ctx.state.engine, 300))


# ---------------------------------------------------------------------------------------
# The app


class SecurityHeaders:
    """Adds the security headers to every response (a plain ASGI wrapper: cheap)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Any, *, engine: Any = None, clock: Callable[[], datetime] | None = None,
               model: TargetsModel | None = None) -> Starlette:
    """The ASGI app on `settings`' database. `clock` (default: the system clock, aware UTC)
    lets tests move time; `model` replaces targets.yaml."""
    from tracker import store as db
    engine = engine or db.get_engine(settings.database_url)
    routes = [
        Route("/", home),
        Route("/healthz", healthz),
        Route("/login", login_page, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/entry", entry, methods=["GET", "POST"]),
        Route("/upload", upload, methods=["GET", "POST"]),
        Route("/template", template_download),
        Route("/progress", progress, methods=["GET", "POST"]),
        Route("/reports", reports),
        Route("/reports/generate", reports_generate, methods=["POST"]),
        Route("/reports/{name}", report_file),
        Route("/targets", targets),
        Route("/targets/{target_id}", target_page),
        Route("/history", history),
        Route("/completeness", completeness),
        Route("/completeness/remind", remind, methods=["POST"]),
        Route("/users", users, methods=["GET", "POST"]),
        Route("/users/{username}/{action:str}", user_active, methods=["POST"]),
        Route("/audit", audit_log),
    ]
    app = Starlette(routes=routes)
    app.state.web = WebState(settings, engine, clock or (lambda: datetime.now(UTC)), model)
    app.add_middleware(SecurityHeaders)
    return app
