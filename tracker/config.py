"""Settings: defaults, overridden by a TOML file (tracker.toml, or $TRACKER_CONFIG), and by
environment variables for what differs per machine ($TRACKER_DATABASE_URL).

One loader for every section: each section is a dataclass, and `load_section` checks its keys
and the type of each value against the dataclass, so a misspelt key or a wrong value names the
file, the section, the key and what is accepted. Secrets (SMTP passwords, webhook tokens) are
never read from the file: the file names the environment variable that holds them.
"""

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

DEFAULT_CONFIG_FILE = "tracker.toml"
S = TypeVar("S")


class ConfigError(ValueError):
    pass


def default_data_dir() -> Path:
    """Where the SQLite database lives when nothing says otherwise."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tracker"


@dataclass
class StatusSettings:
    tolerance: float = 0.05  # behind the trajectory by more than this share of the gap: lagging
    due_soon_days: int = 90  # deadline within this many days and not met: 临期
    grace_days: int = 30  # after a period ends, this long to report before 未报送/数据过期
    recent_points: int = 6  # how many latest values the trend projection weighs


@dataclass
class ScheduleConfig:
    """[schedule]: when the monthly report runs (by default the day after monthly figures are
    due, so the report holds them), the reminder before that, and the run's lease."""

    timezone: str = "Asia/Shanghai"
    report_day: int | None = None  # the monthly report: day of month (default: the day after submission_day) …
    report_hour: int = 8  # … and time, in `timezone`
    report_minute: int = 0
    submission_day: int = 10  # monthly figures are due by this day of the following month
    reminder_days_before: int = 3  # remind this many days before the submission day
    reminder_hour: int = 9
    watchdog_minutes: int = 10  # how often the scheduler checks for a month due and alerts to send
    heartbeat_seconds: float = 30.0  # a running run renews its lease this often …
    lease_seconds: float = 75.0  # … and a run that has not renewed it for this long is taken over
    retry_minutes: int = 30  # wait this long after a failure before trying again
    max_attempts: int = 5
    remind_overdue_months: int = 1  # re-alert items that stay overdue every N months; 0: never

    def __post_init__(self) -> None:
        for name in ("report_day", "submission_day"):
            day = getattr(self, name)
            if day is not None and not 1 <= day <= 28:
                raise ValueError(f"{name} = {day}: accepted 1–28 (a day every month has)")
        if not 0 < self.heartbeat_seconds < self.lease_seconds:
            raise ValueError(f"heartbeat_seconds = {self.heartbeat_seconds:g}, lease_seconds = {self.lease_seconds:g}: "
                             "the heartbeat must be positive and shorter than the lease (about half of it)")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def report_day_of_month(self) -> int:
        """The day the monthly report runs: `report_day`, else the day after the figures are due."""
        return self.report_day if self.report_day is not None else min(28, self.submission_day + 1)

    def submission_deadline(self, period_end: date) -> date:
        """When a period's figures are due (the day the reminders name): see
        tracker.domain.periods.submission_deadline."""
        from tracker.domain.periods import submission_deadline

        return submission_deadline(period_end, self.submission_day)


VIEW_SCOPES: tuple[str, ...] = ("own", "all")
VIEWER_SCOPES: tuple[str, ...] = ("all", "reports")


@dataclass
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    session_hours: float = 8.0
    secure_cookies: bool = False  # set on behind HTTPS; cookies are Secure anyway on https:// requests
    max_upload_mb: float = 10.0
    secret_env: str = "TRACKER_WEB_SECRET"  # the variable holding the cookie key, if set
    threads: int = 4  # handler threads per server process (more only fight over the GIL)
    login_max_failures: int = 5  # per user name, since its last success, within the window: that account waits
    login_window_minutes: float = 15.0
    login_ip_max_failures: int = 20  # per address within its (shorter) window: wrong passwords from it wait …
    login_ip_window_minutes: float = 5.0  # … while a right one for an account not locked still signs in
    # What each role may read beyond the published reports (DHIS2's view scope, apart from the
    # capture scope that says what it may write): "own" — a reporter reads the cells, revisions
    # and templates of its own region or department only; "all" — everything. Viewers: "all",
    # or "reports" (the published reports and target statuses only). Supervisors read everything.
    reporter_view: str = "own"
    viewer_view: str = "all"

    def __post_init__(self) -> None:
        for key, accepted in (("reporter_view", VIEW_SCOPES), ("viewer_view", VIEWER_SCOPES)):
            if getattr(self, key) not in accepted:
                raise ConfigError(f"[web] {key} = {getattr(self, key)!r}; accepted: {', '.join(accepted)}")


CHANNELS: tuple[str, ...] = ("email", "webhook", "wecom", "dingtalk")
PLAN_KEYS: tuple[str, ...] = ("supervisors", "recipients", "report_base_url", "wecom", "dingtalk")


@dataclass
class AlertsSettings:
    """[alerts]: the channels, who is copied, and one sub-table per channel ([alerts.email] …)
    and per recipient unit ([alerts.recipients."省民政厅"] email = […])."""

    channels: list[str] | None = None  # default: every channel that has a sub-table
    supervisors: list[str] = field(default_factory=list)  # get the digest of everything
    resend_after_minutes: float = 10.0  # a message claimed but never marked sent (a crash) is sent again after this
    report_base_url: str = ""
    email: dict[str, Any] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    wecom: dict[str, Any] = field(default_factory=dict)
    dingtalk: dict[str, Any] = field(default_factory=dict)
    recipients: dict[str, dict[str, Any]] = field(default_factory=dict)
    # [alerts.plans."zhejiang"]: another plan's own supervisors, recipients, report link and group
    # bots (PLAN_KEYS). The top-level supervisors and recipients are the home plan's (the plan of
    # the province the tracker follows, Hainan's): 省民政厅 in Zhejiang's plan is Zhejiang's, and
    # never gets what the top-level 省民政厅 address gets. See `for_plan`.
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.resend_after_minutes < 1:
            raise ValueError(f"resend_after_minutes = {self.resend_after_minutes:g}: accepted 1 or more (longer than "
                             "one delivery may take, or a message still being sent would be sent twice)")
        for plan_id, table in self.plans.items():
            if not isinstance(table, dict):
                raise ValueError(f"plans.{plan_id} must be a table (of {', '.join(PLAN_KEYS)})")
            for key, value in table.items():
                if key not in PLAN_KEYS:
                    raise ValueError(f"plans.{plan_id} has no setting {key!r}; accepted: {', '.join(PLAN_KEYS)}")
                wanted = list if key == "supervisors" else (str if key == "report_base_url" else dict)
                if not isinstance(value, wanted):
                    raise ValueError(f"plans.{plan_id}.{key} = {value!r}: expected "
                                     f"{ {list: 'a list', str: 'a string', dict: 'a table'}[wanted] }")

    @property
    def enabled(self) -> bool:
        """Whether alerts are configured at all."""
        return bool(self.channels) or any(self.channel(c) for c in CHANNELS)

    def channel(self, name: str) -> dict[str, Any]:
        """The sub-table of one channel ({} when absent or not a channel)."""
        return (getattr(self, name) or {}) if name in CHANNELS else {}

    def emails(self, unit: str) -> list[str]:
        return list((self.recipients.get(unit) or {}).get("email", []))

    def for_plan(self, plan_id: str, home: bool) -> "AlertsSettings":
        """The settings one plan's alerts and reminders go out with. The home plan (`home`:
        one of the plans the tracker follows by default) keeps the top-level supervisors,
        recipients and group bots, with its own [alerts.plans."<id>"] table over them if it
        has one. Another plan has only its own table's supervisors, recipients and bots (none
        when it has no table: nobody of another plan stands in for its units); it shares the
        transports (the SMTP server, the webhook, whose payload names the plan) and the report
        link (`report_base_url` + /plans/<id>, unless its table gives one)."""
        own = self.plans.get(plan_id, {})
        if home:
            base = {"supervisors": self.supervisors, "recipients": self.recipients, "wecom": self.wecom,
                    "dingtalk": self.dingtalk, "report_base_url": self.report_base_url}
        else:
            link = self.report_base_url.rstrip("/")
            base = {"supervisors": [], "recipients": {}, "wecom": {}, "dingtalk": {},
                    "report_base_url": f"{link}/plans/{plan_id}" if link else ""}
        chosen = {**base, **{k: v for k, v in own.items() if k in PLAN_KEYS}}
        def configured(c: str) -> bool:  # a group bot is one plan's chat: the plan's own, or none
            return bool(chosen.get(c)) if c in ("wecom", "dingtalk") else bool(self.channel(c))

        if self.channels is None:
            channels = [c for c in CHANNELS if configured(c)]
        else:  # the home plan keeps the list as written; another plan drops the bots it has none for
            channels = [c for c in self.channels if home or c not in ("wecom", "dingtalk") or configured(c)]
        return dataclasses.replace(self, channels=list(channels), plans={}, **chosen)


@dataclass
class ApprovalSettings:
    """[approval]: review of reported figures (填报 → 审核 → 上报). Off by default: until
    `required` is set, every stored value counts as it always did; submissions, approvals and
    locks work either way."""

    required: bool = False  # statuses and reports count approved figures only
    plans: list[str] = field(default_factory=list)  # … for these plan ids only (empty: every plan)
    expiry_days: int = 0  # a period closes to entry this many days after it ends (0: never)
    supervisors: list[str] = field(default_factory=list)  # who accepts (上报); default: the lead of the plan's last task

    def required_for(self, plan_id: str) -> bool:
        return self.required and (not self.plans or plan_id in self.plans)


@dataclass
class Settings:
    database_url: str = ""
    targets_path: Path = Path("targets.yaml")
    reports_dir: Path = Path("reports")
    timezone: str = "Asia/Shanghai"
    language: str = "zh"
    status: StatusSettings = field(default_factory=StatusSettings)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    web: WebSettings = field(default_factory=WebSettings)
    alerts: AlertsSettings = field(default_factory=AlertsSettings)
    approval: ApprovalSettings = field(default_factory=ApprovalSettings)
    source: Path | None = None  # the file the settings came from


SECTIONS: dict[str, type] = {"status": StatusSettings, "schedule": ScheduleConfig, "web": WebSettings,
                             "alerts": AlertsSettings, "approval": ApprovalSettings}
TOP_LEVEL = ("database_url", "targets_path", "reports_dir", "timezone", "language")


def _accepts(expected: Any, value: Any) -> Any:
    """`value` as the annotation `expected` wants it, or raise TypeError."""
    origin = typing.get_origin(expected)
    if origin in (typing.Union, __import__("types").UnionType):
        options = typing.get_args(expected)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _accepts(option, value)
            except TypeError:
                continue
        raise TypeError
    if origin is list:
        if not isinstance(value, list):
            raise TypeError
        (item,) = typing.get_args(expected) or (Any,)
        return [_accepts(item, v) for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise TypeError
        return dict(value)
    if expected is Any:
        return value
    if expected is bool:
        if not isinstance(value, bool):
            raise TypeError
        return value
    if expected is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if expected is str and isinstance(value, str):
        return value
    if expected is Path and isinstance(value, str):
        return Path(value)
    raise TypeError


_TYPE_WORDS = {int: "a whole number", float: "a number", bool: "true or false", str: "a string", Path: "a path"}


def _describe(expected: Any) -> str:
    origin = typing.get_origin(expected)
    if origin is list:
        return "a list"
    if origin is dict:
        return "a table"
    args = [a for a in typing.get_args(expected) if a is not type(None)]
    if args:
        return " or ".join(_describe(a) for a in args)
    return _TYPE_WORDS.get(expected, str(expected))


def load_section(cls: type[S], data: Any, name: str, source: str = "settings") -> S:
    """The dataclass `cls` filled from one TOML table, every key checked: the one parser every
    section of the configuration goes through (also for settings made in code and tests)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{source}: [{name}] has no setting {key!r}; accepted: {', '.join(sorted(known))}")
        try:
            values[key] = _accepts(hints[key], value)
        except TypeError:
            raise ConfigError(f"{source}: [{name}] {key} = {value!r}: expected {_describe(hints[key])}") from None
    try:
        return cls(**values)
    except ValueError as exc:
        raise ConfigError(f"{source}: [{name}] {exc}") from None


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from the file (if any) and the environment."""
    file = Path(path or os.environ.get("TRACKER_CONFIG") or DEFAULT_CONFIG_FILE)
    raw: dict[str, Any] = {}
    if file.exists():
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: {exc}") from exc
    elif path:
        raise ConfigError(f"{file}: no such configuration file")
    return settings_from_mapping(raw, base=file.parent if file.exists() else Path("."),
                                 source=file if file.exists() else None)


def settings_from_mapping(raw: dict[str, Any], *, base: Path = Path("."), source: Path | None = None,
                          **overrides: Any) -> Settings:
    """Settings from parsed TOML (or the same shape built in code), then the environment, then
    `overrides` (fields of Settings)."""
    where = str(source or "settings")
    unknown = [k for k in raw if k not in ("tracker", *SECTIONS)]
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {', '.join(unknown)}; accepted: "
                          f"{', '.join(('tracker', *SECTIONS))}")
    tracker = raw.get("tracker", {}) or {}
    for key in tracker:
        if key not in TOP_LEVEL:
            raise ConfigError(f"{where}: [tracker] has no setting {key!r}; accepted: {', '.join(TOP_LEVEL)}")
    settings = Settings(source=source, **{name: load_section(cls, raw.get(name), name, where)
                                          for name, cls in SECTIONS.items()})
    for key in ("database_url", "timezone", "language"):
        if key in tracker:
            setattr(settings, key, str(tracker[key]))
    for key in ("targets_path", "reports_dir"):
        if key in tracker:
            setattr(settings, key, base / str(tracker[key]))
    if settings.language not in ("zh", "en"):
        raise ConfigError(f"{where}: [tracker] language = {settings.language!r}; accepted: zh, en")
    if settings.approval.expiry_days < 0:
        raise ConfigError(f"{where}: [approval] expiry_days = {settings.approval.expiry_days}: "
                          "expected 0 (periods never close) or a positive number of days")
    env_url = os.environ.get("TRACKER_DATABASE_URL")
    if env_url:
        settings.database_url = env_url
    for key, value in overrides.items():
        setattr(settings, key, value)
    if not settings.database_url:
        settings.database_url = f"sqlite:///{default_data_dir() / 'tracker.db'}"
    return settings


def schedule_config(section: dict[str, Any]) -> ScheduleConfig:
    """[schedule] from a mapping (tests and callers that build it in code)."""
    return load_section(ScheduleConfig, section, "schedule")


def alerts_settings(section: dict[str, Any] | AlertsSettings) -> AlertsSettings:
    """[alerts] from a mapping, or as it is when it already is one."""
    if isinstance(section, AlertsSettings):
        return section
    return load_section(AlertsSettings, section, "alerts")
