"""Settings: defaults, overridden by a TOML file (tracker.toml, or $TRACKER_CONFIG), and by
environment variables for what differs per machine ($TRACKER_DATABASE_URL).

Secrets (SMTP passwords, webhook tokens) are never read from the file: the file names the
environment variable that holds them.
"""

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_CONFIG_FILE = "tracker.toml"


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
class Settings:
    database_url: str = ""
    targets_path: Path = Path("targets.yaml")
    reports_dir: Path = Path("reports")
    timezone: str = "Asia/Shanghai"
    language: str = "zh"
    status: StatusSettings = field(default_factory=StatusSettings)
    raw: dict[str, Any] = field(default_factory=dict)  # every section, for the modules that own them
    source: Path | None = None

    def section(self, name: str) -> dict[str, Any]:
        value = self.raw.get(name, {})
        return value if isinstance(value, dict) else {}


class ConfigError(ValueError):
    pass


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
    base = file.parent if file.exists() else Path(".")
    settings = Settings(raw=raw, source=file if file.exists() else None)
    tracker = raw.get("tracker", {})
    if "database_url" in tracker:
        settings.database_url = str(tracker["database_url"])
    for key in ("targets_path", "reports_dir"):
        if key in tracker:
            setattr(settings, key, base / str(tracker[key]))
    for key in ("timezone", "language"):
        if key in tracker:
            setattr(settings, key, str(tracker[key]))
    status = raw.get("status", {})
    for key, value in status.items():
        if not hasattr(settings.status, key):
            raise ConfigError(f"{file}: [status] has no setting {key!r}; accepted: "
                              f"{', '.join(StatusSettings.__dataclass_fields__)}")
        setattr(settings.status, key, type(getattr(settings.status, key))(value))
    env_url = os.environ.get("TRACKER_DATABASE_URL")
    if env_url:
        settings.database_url = env_url
    if not settings.database_url:
        settings.database_url = f"sqlite:///{default_data_dir() / 'tracker.db'}"
    return settings


@dataclass
class ScheduleConfig:
    timezone: str = "Asia/Shanghai"
    report_day: int = 1  # the monthly report: day of month …
    report_hour: int = 8  # … and time, in `timezone`
    report_minute: int = 0
    submission_day: int = 10  # monthly figures are due by this day of the following month
    reminder_days_before: int = 3  # remind this many days before the submission day
    reminder_hour: int = 9
    watchdog_minutes: int = 10
    run_timeout_minutes: int = 60  # a 'running' run older than this (no heartbeat) is taken over
    retry_minutes: int = 30  # wait this long after a failure before trying again
    max_attempts: int = 5
    remind_overdue_months: int = 1  # re-alert items that stay overdue every N months; 0: never

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def schedule_config(section: dict[str, Any]) -> ScheduleConfig:
    cfg = ScheduleConfig()
    for key, value in section.items():
        if not hasattr(cfg, key):
            raise ValueError(f"[schedule] has no setting {key!r}; accepted: {', '.join(cfg.__dataclass_fields__)}")
        setattr(cfg, key, type(getattr(cfg, key))(value))
    return cfg
