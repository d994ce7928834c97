"""Options every command spells the same way (sqlite-utils' `output_options`): --as-of, --lang,
--json and --config, and the one way a command gets its `Tracker`."""

from collections.abc import Callable
from datetime import date
from typing import Any

import click

F = Callable[..., Any]


def _as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: 日期写作 YYYY-MM-DD / write the date as YYYY-MM-DD") from None


def as_of_option(help_text: str = "截至日期 As known on this date (YYYY-MM-DD; default: today in Asia/Shanghai).") -> Callable[[F], F]:
    return click.option("--as-of", "as_of", default=None, callback=_as_of, help=help_text)


def lang_option(f: F) -> F:
    return click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
                        help="语言 Language (default: the settings' language, zh).")(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="输出 JSON Machine-readable output.")(f)


def _remember_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        root = ctx.find_root()
        root.ensure_object(dict)
        root.obj["config_path"] = value
    return value


def config_option(f: F) -> F:
    """--config FILE, accepted before or after the command name."""
    return click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, expose_value=False,
                        is_eager=True, callback=_remember_config,
                        help="配置文件 Configuration file (default: tracker.toml, or $TRACKER_CONFIG).")(f)


def config_path(ctx: click.Context) -> str | None:
    return (ctx.find_root().obj or {}).get("config_path")


def settings_from(ctx: click.Context) -> Any:  # -> tracker.config.Settings
    from tracker.config import ConfigError, load_settings

    try:
        return load_settings(config_path(ctx))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def tracker_from(ctx: click.Context, **overrides: Any) -> Any:  # -> tracker.service.Tracker
    """The command's Tracker on the settings (and `overrides` of their fields)."""
    from tracker.service import Tracker

    settings = settings_from(ctx)
    for key, value in overrides.items():
        setattr(settings, key, value)
    return Tracker(settings)


def lang_of(ctx: click.Context, lang: str | None) -> str:
    return lang or settings_from(ctx).language or "zh"


def model_of(tracker: Any) -> Any:  # -> TargetsModel
    """The tracker's targets model, or a clean error listing targets.yaml's problems (or why it
    cannot be synced into the database)."""
    from tracker.service import TargetsChanged
    from tracker.targets.errors import TargetsFileError

    try:
        return tracker.model
    except (TargetsFileError, TargetsChanged) as exc:
        raise click.ClickException(str(exc)) from exc
