"""Accounts, sign-in and who may write what, for the web app (and `tracker users`).

- Roles: the supervisor (发展改革委: sees everything, manages users, may correct any cell), a
  reporter (one department, 如 省民政厅, or one region, 如 海口市), a viewer (reads only).
- Passwords are hashed with argon2id (argon2-cffi); an unknown name costs the same time as
  a wrong password, so sign-in does not tell which names exist.
- Sessions live in a signed cookie (itsdangerous) holding the user id, the CSRF token and the
  moment it was issued; expiry is checked against the app's clock, so tests move the clock
  instead of waiting. A disabled user's cookie stops working at the next request, because
  every request reads the user again.
- Sign-in attempts are rows in the database, so the rate limit holds across server processes
  and restarts; every sign-in, every write and every refusal goes to the audit log.
- The permission rules are pure functions of the user, the targets model and the regions:
  the web handlers and the upload's per-cell check ask the same questions.
"""

import hmac
import math
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from tracker.domain.clock import aware
from tracker.domain.model import Indicator, Milestone, TargetsModel, same_unit
from tracker.domain.regions import Region, RegionError, Regions
from tracker.store import accounts

ROLES: tuple[str, ...] = ("supervisor", "reporter", "viewer")
ROLE_LABELS = {"supervisor": "监督管理", "reporter": "填报", "viewer": "查看"}
# The audit log's words for what was done and how it went (the log stores the codes).
AUDIT_ACTIONS = {"login": "登录", "logout": "退出", "entry": "数据填报", "upload": "表格上传", "template": "下载模板",
                 "progress": "里程碑进展", "report": "生成报告", "remind": "发送提醒", "user_add": "添加用户",
                 "user_disable": "停用用户", "user_enable": "启用用户", "user_passwd": "设置密码",
                 "csrf": "表单校验", "page": "访问页面", "history": "查看修订记录"}
AUDIT_OUTCOMES = {"ok": "成功", "failed": "失败", "limited": "限制登录", "refused": "拒绝", "invalid": "数据有误"}
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD_LENGTH = 8
# The roles in which a department answers for a task's milestones (牵头, 按职责分工负责).
MILESTONE_ROLES = ("lead", "joint")


# ---------------------------------------------------------------------------------------
# Tables (created by migration 0003_web)


# ---------------------------------------------------------------------------------------
# Users


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    display_name: str = ""
    department: str = ""
    region: str = ""  # region code
    active: bool = True
    sessions_after: float | None = None  # epoch seconds; sessions issued before are void
    plan: str = ""  # the plan it works in ("": the home plans, or the one holding its region)

    def accepts(self, session: "Session") -> bool:
        """Whether `session` still signs this user in (active, not ended by a sign-out)."""
        return self.active and (self.sessions_after is None or session.issued >= self.sessions_after)

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def can_write(self) -> bool:
        return self.active and self.role in ("supervisor", "reporter")

    @property
    def name(self) -> str:
        return self.display_name or self.username


class UserError(ValueError):
    """A user cannot be added or changed as asked; `zh` says why in Chinese."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(en)


def _user(r: Any) -> User:
    after = aware(r.sessions_after).timestamp() if r.sessions_after is not None else None
    return User(r.id, r.username, r.role, r.display_name, r.department, r.region, bool(r.active), after,
                getattr(r, "plan", "") or "")


def known_departments(model: TargetsModel) -> list[str]:
    """Departments that report an indicator or answer for a task: who a reporter can be."""
    from tracker.domain.organisations import canonical

    names = {canonical(i.reporter) for i in model.indicators if i.reporter}
    names |= {canonical(u.name) for t in model.tasks for u in t.units if u.role != "local"}
    return sorted(names)


def _plan_only(model: TargetsModel, plan: str) -> TargetsModel:
    """The model with one plan's tasks only (its departments are who may report in it)."""
    import dataclasses

    return dataclasses.replace(model, tasks=[t for t in model.tasks if t.plan == plan])


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def check_new_user(username: str, password: str, role: str, department: str, region: str,
                   model: TargetsModel | None, regions: Regions, plan: str = "") -> tuple[str, str]:
    """Validate a new account's fields (pure); returns (department, region code). `plan`: the
    plan a reporter works in (Guangdong's 省民政厅: plan guangdong), its department one of
    that plan's units, its region one the plan holds (`regions.holding`, LoadedRegions)."""
    if not USERNAME.match(username or ""):
        raise UserError("用户名只能包含字母、数字和 _ . @ -，2–64 个字符",
                        "username: 2-64 letters, digits or _ . @ -")
    if role not in ROLES:
        raise UserError(f"角色须为 {'、'.join(ROLES)}", f"role must be one of {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符", f"password: at least {MIN_PASSWORD_LENGTH} characters")
    department, region = _norm(department), _norm(region)
    if role == "reporter" and bool(department) == bool(region):
        raise UserError("填报用户须指定一个部门或一个地区（二选一）",
                        "a reporter has exactly one department or one region")
    if role != "reporter" and (department or region):
        raise UserError("只有填报用户可以指定部门或地区", "only reporters have a department or region")
    plan = _norm(plan)
    if plan and role != "reporter":
        raise UserError("只有填报用户可以指定规划", "only reporters work in a named plan")
    if plan and model is not None:
        ids = [p.id for p in model.plans]
        if plan not in ids:
            raise UserError(f"未知规划「{plan}」；可选：{'、'.join(ids)}", f"unknown plan {plan!r}; accepted: {', '.join(ids)}")
        if model.plan(plan).level == "national":
            raise UserError(f"规划「{plan}」是全国方案，由各省规划汇总，不直接填报；请指定省或市的规划",
                            f"plan {plan!r} is national: provinces report through their own plans; name one of those")
        model = _plan_only(model, plan)
    code = ""
    if region:
        try:
            code = regions.lookup(region).code
        except RegionError as exc:
            raise UserError(f"未知地区「{region}」", str(exc)) from exc
        holding = getattr(regions, "holding", None)
        if plan and holding is not None and plan not in holding(code):
            held = "、".join(holding(code)) or "无"
            raise UserError(f"地区「{region}」不在规划「{plan}」的范围内；含该地区的规划：{held}",
                            f"region {region!r} is outside plan {plan!r}; plans holding it: {', '.join(holding(code)) or 'none'}")
    if department and model is not None:
        known = known_departments(model)
        match = next((k for k in known if same_unit(k, department)), None)  # a synonym is its one name
        if match is None:
            where = f"规划「{plan}」" if plan else "目标文件"
            raise UserError(f"「{department}」不是{where}中的责任单位；可选：{'、'.join(known)}",
                            f"{department!r} is not a unit of {'plan ' + repr(plan) if plan else 'targets.yaml'}; "
                            f"known: {', '.join(known)}")
        department = match
    return department, code


def add_user(engine: Engine, username: str, password: str, role: str, *, department: str = "",
             region: str = "", display_name: str = "", model: TargetsModel | None = None,
             regions: Regions | None = None, now: datetime, plan: str = "") -> User:
    """Create an account (password hashed with argon2). Raises UserError."""
    from tracker.domain.regions import load_regions

    department, code = check_new_user(username, password, role, department, region, model,
                                      regions or load_regions(), plan)
    plan = _norm(plan)
    row = {"username": username, "display_name": _norm(display_name), "password_hash": hash_password(password),
           "role": role, "department": department, "region": code, "plan": plan, "active": True,
           "created_at": now, "updated_at": now}
    new_id = accounts.insert_user(engine, row)
    if new_id is None:
        raise UserError(f"用户名「{username}」已存在", f"username {username!r} exists")
    return User(int(new_id), username, role, row["display_name"], department, code, True, plan=plan)


def list_users(engine: Engine) -> list[User]:
    return [_user(r) for r in accounts.user_rows(engine)]


def get_user(engine: Engine, user_id: int) -> User | None:
    r = accounts.user_row(engine, user_id=user_id)
    return _user(r) if r else None


def find_user(engine: Engine, username: str) -> User | None:
    r = accounts.user_row(engine, username=username)
    return _user(r) if r else None


def set_active(engine: Engine, username: str, active: bool, now: datetime) -> bool:
    """Disable (or enable again) an account; returns whether it exists. Never deleted: the
    audit log and the values it entered keep naming it."""
    return accounts.update_user(engine, {"active": active, "updated_at": now}, username=username)


def set_password(engine: Engine, username: str, password: str, now: datetime) -> bool:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符", f"password: at least {MIN_PASSWORD_LENGTH} characters")
    return accounts.update_user(engine, {"password_hash": hash_password(password), "updated_at": now,
                                         "sessions_after": now}, username=username)


def end_sessions(engine: Engine, user_id: int, now: datetime) -> None:
    """Void every session of the user issued before `now` (sign-out: a copied cookie stops
    working too, not just the browser's)."""
    accounts.update_user(engine, {"sessions_after": now}, user_id=user_id)


# ---------------------------------------------------------------------------------------
# Passwords


_HASHER = None


def _hasher() -> Any:
    global _HASHER
    if _HASHER is None:
        from argon2 import PasswordHasher

        _HASHER = PasswordHasher()  # argon2id with the library's current recommended costs
    return _HASHER


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(16))
    return _DUMMY_HASH


# ---------------------------------------------------------------------------------------
# Sign-in with rate limits kept in the database: per account and per address, apart


@dataclass(frozen=True)
class LoginLimits:
    """Two throttles that cannot lock others out.

    - An account that failed `max_failures` times (since its last success) within `window`
      waits: even the right password is refused until the oldest of those failures leaves the
      window. Only that account waits.
    - An address that failed `ip_max_failures` times (since its last success) within the
      shorter `ip_window` gets its wrong passwords refused as "limited" until then, but a right
      password for an account that is not itself locked still signs in, and lifts the address's
      lock (failures count from the last success): fifty names sprayed from one office's address
      do not lock its supervisor out.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    ip_max_failures: int = 20
    ip_window: timedelta = timedelta(minutes=5)


def login_limits(web: Any) -> LoginLimits:
    """The limits of the [web] settings (tracker.config.WebSettings)."""
    return LoginLimits(web.login_max_failures, timedelta(minutes=web.login_window_minutes),
                       web.login_ip_max_failures, timedelta(minutes=web.login_ip_window_minutes))


@dataclass(frozen=True)
class SignIn:
    user: User | None
    outcome: str  # ok | failed | limited
    retry_after: int = 0  # seconds until a limited attempt may succeed (the Retry-After header)
    locked: str = ""  # what waits when limited: "account" or "address"

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def _lock_end(failures: list[datetime], limit: int, window: timedelta, now: datetime) -> datetime | None:
    """When a lock made of these failures (oldest first) ends, or None: locked while `limit` of
    them lie within `window`, until the oldest of the latest `limit` leaves it."""
    if limit <= 0 or len(failures) < limit:
        return None
    end = failures[len(failures) - limit] + window
    return end if end > now else None


def _since(start: datetime, last_ok: datetime | None) -> datetime:
    return max(start, last_ok) if last_ok is not None else start


def account_lock(engine: Engine, username: str, now: datetime, limits: LoginLimits = LoginLimits()) -> datetime | None:
    """When this account's lock ends (None: not locked)."""
    since = _since(now - limits.window, accounts.last_sign_in(engine, username))
    return _lock_end(accounts.failed_sign_in_times(engine, since=since, username=username), limits.max_failures,
                     limits.window, now)


def address_lock(engine: Engine, ip: str, now: datetime, limits: LoginLimits = LoginLimits()) -> datetime | None:
    """When this address's lock ends (None: not locked, or no address known)."""
    if not ip:
        return None
    since = _since(now - limits.ip_window, accounts.last_sign_in(engine, ip=ip))
    return _lock_end(accounts.failed_sign_in_times(engine, since=since, ip=ip), limits.ip_max_failures,
                     limits.ip_window, now)


def rate_limited(engine: Engine, username: str, ip: str, now: datetime, limits: LoginLimits = LoginLimits()) -> bool:
    """Whether a wrong password for this name from this address would be refused as limited."""
    return account_lock(engine, username, now, limits) is not None or address_lock(engine, ip, now, limits) is not None


def _seconds(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def sign_in(engine: Engine, username: str, password: str, *, ip: str = "", now: datetime,
            limits: LoginLimits = LoginLimits()) -> SignIn:
    """Check a name and password against both throttles (see LoginLimits); every attempt is
    recorded (a refused one too, so hammering keeps a lock in force) and audited."""
    username = (username or "").strip()[:64]
    user, retry, locked, detail = None, 0, "", ""
    until = account_lock(engine, username, now, limits)
    if until is not None:
        outcome, retry, locked = "limited", _seconds(until, now), "account"
        detail = "该账号登录失败次数过多，暂停登录"
    else:
        row = accounts.user_row(engine, username=username)
        good = verify_password(row.password_hash if row else _dummy_hash(), password or "")
        user = _user(row) if row and good and row.active else None
        outcome = "ok" if user else "failed"
        if user is None and (until := address_lock(engine, ip, now, limits)) is not None:
            outcome, retry, locked = "limited", _seconds(until, now), "address"
            detail = "该地址登录失败次数过多，错误密码暂被拒绝"
    accounts.record_sign_in(engine, username, ip, outcome == "ok", now,
                            _audit_row(username, "login", "", outcome, detail, ip, now))
    return SignIn(user, outcome, retry, locked)


# ---------------------------------------------------------------------------------------
# Sessions and CSRF


@dataclass(frozen=True)
class Session:
    """What the session cookie holds. `user_id` None: not signed in (the cookie still
    carries a CSRF token, for the sign-in form)."""

    csrf: str
    issued: float  # epoch seconds, by the app's clock
    user_id: int | None = None


def new_session(now: datetime, user_id: int | None = None) -> Session:
    """A fresh session with a new CSRF token (a new one at sign-in, so a token seen before
    signing in is worth nothing after)."""
    return Session(secrets.token_urlsafe(32), now.timestamp(), user_id)


class SessionCodec:
    """Signs sessions into cookie values and reads them back, refusing a forged, altered or
    expired one."""

    def __init__(self, secret: str, max_age: timedelta) -> None:
        from itsdangerous import URLSafeSerializer

        self._serializer = URLSafeSerializer(secret, salt="tracker.session")
        self.max_age = max_age

    def dumps(self, session: Session) -> str:
        return self._serializer.dumps({"c": session.csrf, "i": session.issued, "u": session.user_id})

    def loads(self, text: str | None, now: datetime) -> Session | None:
        from itsdangerous import BadSignature

        if not text:
            return None
        try:
            data = self._serializer.loads(text)
            session = Session(str(data["c"]), float(data["i"]), data.get("u"))
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        age = now.timestamp() - session.issued
        if age > self.max_age.total_seconds() or age < -300:  # issued in the future: a clock jump
            return None
        return session


def csrf_ok(session: Session | None, submitted: Any) -> bool:
    return bool(session and isinstance(submitted, str) and submitted
                and hmac.compare_digest(session.csrf.encode(), submitted.encode()))


def secret_note(env_name: str, env_value: str | None) -> str:
    """Where the cookie key comes from, said at start-up (`tracker serve`)."""
    if env_value:
        return f"Cookie 签名密钥取自环境变量 ${env_name} / cookie key: from ${env_name}"
    return (f"未设置 ${env_name}：Cookie 签名密钥为首次启动时生成并保存在数据库中（secret 表），各服务进程共用；"
            f"如需自行管理，请设置 ${env_name} / ${env_name} is not set: the cookie key was generated once and is "
            "kept in the database (table secret), shared by every server process; set it to manage the key yourself")


def session_secret(engine: Engine, env_value: str | None = None, *, now: datetime) -> str:
    """The key that signs cookies: from the environment when set, else one generated once and
    kept in the database, so every server process and restart signs alike."""
    if env_value:
        return env_value
    return accounts.secret(engine, "session") or accounts.put_secret_once(
        engine, "session", secrets.token_urlsafe(48), now)


# ---------------------------------------------------------------------------------------
# Audit


def _audit_row(actor: str, action: str, obj: str, outcome: str, detail: str, ip: str, now: datetime) -> dict[str, Any]:
    return {"at": now, "actor": actor[:200], "action": action, "object": obj[:2000], "outcome": outcome,
            "detail": detail[:4000], "ip": ip}


def audit(engine: Engine, actor: str, action: str, obj: str = "", *, outcome: str = "ok", detail: str = "",
          ip: str = "", now: datetime) -> None:
    """Record one action in the audit log."""
    accounts.insert_audit(engine, _audit_row(actor, action, obj, outcome, detail, ip, now))


def audit_on(conn: Any, actor: str, action: str, obj: str = "", *, outcome: str = "ok", detail: str = "",
             ip: str = "", now: datetime) -> None:
    """Record one action in the audit log, in the caller's write transaction."""
    accounts.insert_audit_on(conn, _audit_row(actor, action, obj, outcome, detail, ip, now))


def list_audit(engine: Engine, limit: int = 200, actor: str | None = None,
               outcome: str | None = None) -> list[dict[str, Any]]:
    return [{**r._asdict(), "at": aware(r.at)} for r in accounts.audit_rows(engine, limit, actor, outcome)]


# ---------------------------------------------------------------------------------------
# Permissions: pure functions of the user, the model and the regions


def writable_regions(user: User, regions: Regions) -> list[Region]:
    """Regions whose cells the user may write: a region's reporter its own region (and, for
    Haikou and Sanya, their districts); a department's reporter and the supervisor all."""
    if not user.can_write:
        return []
    if user.role == "reporter" and user.region:
        return [r for r in regions.all if r.code == user.region or r.parent == user.region]
    return list(regions.all)


def may_write_value(user: User, indicator: Indicator, region_code: str, regions: Regions) -> bool:
    """Whether the user may write (indicator, region) cells."""
    if not user.can_write:
        return False
    if user.is_supervisor:
        return True
    if user.region:
        return any(r.code == region_code for r in writable_regions(user, regions))
    return same_unit(indicator.reporter, user.department)


def writable_indicators(user: User, model: TargetsModel) -> list[Indicator]:
    if not user.can_write:
        return []
    if user.is_supervisor or user.region:
        return list(model.indicators)
    return [i for i in model.indicators if same_unit(i.reporter, user.department)]


def progress_reporter(user: User) -> str:
    """Who a milestone report is from: the department's name or the region's code."""
    return user.department or user.region


def reportable_milestones(user: User, model: TargetsModel) -> list[Milestone]:
    """Milestones the user may report on: a department's, those of tasks it leads or answers
    for jointly (牵头 / 按职责分工负责); a region's, those of tasks local governments carry
    out (各市县政府负责); the supervisor's, all."""
    if not user.can_write:
        return []
    if user.is_supervisor:
        return list(model.milestones)
    def reports(task: Any) -> bool:
        if user.region:
            return any(u.role == "local" for u in task.units)
        return bool(user.department) and any(u.role in MILESTONE_ROLES and same_unit(u.name, user.department)
                                             for u in task.units)

    return model.milestones_of_tasks(reports)


def may_report_progress(user: User, model: TargetsModel, milestone_id: str, reporter: str,
                        regions: Regions) -> bool:
    """Whether the user may report `milestone_id` as `reporter` (a department or region)."""
    if not user.can_write:
        return False
    if not user.is_supervisor:
        own = progress_reporter(user)
        if user.region:
            try:
                reporter = regions.lookup(reporter).code
            except RegionError:
                return False
        if not same_unit(reporter, own):
            return False
    return any(ms.id == milestone_id for ms in reportable_milestones(user, model))


# ---------------------------------------------------------------------------------------
# View scope: what an account may read beyond the published reports (DHIS2 keeps the capture
# scope, what a user enters, apart from the view scope, what it reads). Pure functions of the
# user and the [web] settings (reporter_view, viewer_view).


def sees_everything(user: User, web: Any) -> bool:
    """Supervisors; viewers unless [web] viewer_view = "reports"; reporters when reporter_view = "all"."""
    if user.role == "supervisor":
        return True
    if user.role == "viewer":
        return web.viewer_view == "all"
    return web.reporter_view == "all"


def may_view_cell(user: User, indicator: Indicator, region_code: str, regions: Regions, web: Any) -> bool:
    """Whether the user may read one cell's values and revisions. The plan's whole-area figure is
    in the published report, so everyone reads it; beyond it a reporter reads its own region's
    cells (with its districts), or its own department's indicators, unless it sees everything."""
    if not user.active:
        return False
    if sees_everything(user, web) or region_code == regions.province.code:
        return True
    if user.role != "reporter":
        return False
    if user.region:
        return region_code == user.region or any(r.code == region_code and r.parent == user.region
                                                 for r in regions.all)
    return same_unit(indicator.reporter, user.department)


def visible_regions(user: User, indicator: Indicator, regions: Regions, web: Any) -> list[Region]:
    """The regions whose cells of `indicator` the user may read."""
    return [r for r in regions.all if may_view_cell(user, indicator, r.code, regions, web)]


def may_view_template(user: User, unit: str, regions: Regions, web: Any) -> bool:
    """Whether the user may download the template of `unit` (a department or a region): a
    reporter its own, unless it sees everything; the supervisor any."""
    if not user.can_write:
        return False
    if user.is_supervisor or sees_everything(user, web):
        return True
    if user.department:
        return same_unit(unit, user.department)
    try:
        return regions.lookup(unit).code == user.region
    except RegionError:
        return False
