"""What every page shares: the state (settings, the service, the clock, the cookie codec, the
templates), one request as a handler sees it, and `page`, the wrapper that signs in, checks
the role and the CSRF token, and runs the handler in a worker thread."""

import asyncio
import os
import re
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tracker.domain.clock import aware
from tracker.domain.model import TargetsModel
from tracker.domain.periods import today_in_plan_tz
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




class WebState:
    """The settings, engine, clock, cookie codec, templates and a targets model reloaded when
    targets.yaml changes (and synced into the database, as the CLI does before writing)."""

    def __init__(self, settings: Any, engine: Any, clock: Callable[[], datetime], model: TargetsModel | None) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.config = settings.web
        self.login_limits = auth.login_limits(settings.web)
        env_secret = os.environ.get(self.config.secret_env)
        secret = auth.session_secret(engine, env_secret, now=aware(clock()))
        self.secret_note = auth.secret_note(self.config.secret_env, env_secret)  # said by `tracker serve`
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
        """A region's name, in whichever plan's regions hold it."""
        from tracker.service.plans import region_names

        return region_names(self.tracker)(code) if code else ""

    def plan_of(self, user: Any) -> str | None:
        """The plan a reporter works in when it is not a home plan: the one its account names
        (Guangdong's 省民政厅), else the one holding its region (a reporter of 广州: Guangdong's);
        None for everyone else (the home plans, as before)."""
        from tracker.service.plans import is_home, plan_of_region

        named = getattr(user, "plan", "") if user is not None else ""
        if named and any(p.id == named for p in self.tracker.model.plans):
            return None if is_home(self.tracker, named) else named
        if user is None or not getattr(user, "region", ""):
            return None
        return plan_of_region(self.tracker, user.region)

    def scope_for(self, user: Any) -> tuple[TargetsModel, Any, set[str] | None]:
        """(model, regions, indicators kept) the account enters, uploads and reports progress
        in: the home plans' (the whole model, every indicator), or for a region of another plan
        the plans holding it: their own tasks, the first one's regions and the indicators their
        targets need."""
        from tracker.service.plans import plans_holding, scope_of

        named = self.plan_of(user) if getattr(user, "plan", "") else None
        if named is not None:
            return scope_of(self.tracker, [named])
        if user is None or not getattr(user, "region", "") or getattr(user, "plan", ""):
            return scope_of(self.tracker, None)
        return scope_of(self.tracker, plans_holding(self.tracker, user.region))

    def regions_for(self, user: Any) -> Any:
        """The regions of the plan the account works in (see scope_for)."""
        return self.scope_for(user)[1]

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
            region_name=self.state.region_name, role_labels=auth.ROLE_LABELS, schedule=self.state.settings.schedule,
            **values)
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
    if user is not None and user.plan and all(p.id != user.plan for p in state.model().plans):
        user = None  # its plan left targets.yaml: signed out (signing in again says why)
    ctx = Ctx(request, state, session, user, form, files, cookie)
    if request.method == "POST" and not (auth.csrf_ok(session, form.get("csrf")) and _same_origin(request)):
        ctx.audit("csrf", request.url.path, outcome="refused")
        response: Response = ctx.render("web/error.html", 403, title="请求无效",
                                        message="表单已过期或来源不明（CSRF 校验失败），请返回页面刷新后重试。", detail="")
    elif login and user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
    elif roles and user is not None and user.role not in roles:
        allowed = "、".join(auth.ROLE_LABELS[r] for r in roles)
        response = ctx.forbid("page", request.url.path,
                              f"本页面仅供{allowed}用户使用，您的角色是{auth.ROLE_LABELS.get(user.role, user.role)}。")
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
