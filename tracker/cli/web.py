"""`tracker serve` (the web app) and `tracker users` (accounts): a thin skin over tracker.web.app
and tracker.web.auth."""

import sys
from datetime import UTC, datetime

import click

from tracker.cli.options import config_option, settings_from


@click.command()
@click.option("--host", default=None, help="监听地址 Address to listen on (default: [web] host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="端口 Port (default: [web] port, 8000).")
@click.option("--workers", type=int, default=1, show_default=True, help="进程数 Server processes.")
@config_option
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """启动网页填报系统 Serve the web app (same database as the CLI and the scheduler)."""
    import uvicorn

    from tracker.web.app import create_app

    settings = settings_from(ctx)
    cfg = settings.web
    host, port = host or cfg.host, port or cfg.port
    click.echo(f"http://{host}:{port}/  ({settings.database_url.split('@')[-1]})", err=True)
    if workers > 1:
        import os

        from tracker.web.auth import secret_note

        click.echo(secret_note(cfg.secret_env, os.environ.get(cfg.secret_env)), err=True)
        # Each worker builds its own app from the same settings (the factory reads them again).
        uvicorn.run("tracker.cli.web:app_from_environment", factory=True, host=host, port=port, workers=workers,
                    log_level="warning")
    else:
        app = create_app(settings)
        click.echo(app.state.web.secret_note, err=True)  # where the cookie key comes from
        uvicorn.run(app, host=host, port=port, log_level="warning")


def app_from_environment():  # -> starlette.applications.Starlette
    """The app for uvicorn's --factory: settings from tracker.toml or $TRACKER_CONFIG."""
    from tracker.config import load_settings
    from tracker.web.app import create_app

    return create_app(load_settings())


@click.group()
def users() -> None:
    """用户管理 Web accounts: add, list, disable, enable, passwd."""


def _engine_model(ctx: click.Context):  # -> (Engine, TargetsModel | None)
    from tracker import store as db
    from tracker.targets.file import load_targets

    settings = settings_from(ctx)
    engine = db.get_engine(settings.database_url)
    try:
        model = load_targets(settings.targets_path)
    except FileNotFoundError:
        model = None
    return engine, model


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("密码 Password", hide_input=True, confirmation_prompt=True)


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["supervisor", "reporter", "viewer"]), required=True,
              help="角色 supervisor (发展改革委), reporter (one department or region), viewer.")
@click.option("--department", default="", help="填报部门 The reporter's department, e.g. 省民政厅.")
@click.option("--region", default="", help="填报地区 The reporter's region: 海口, 460100, Haikou.")
@click.option("--name", "display_name", default="", help="姓名 Display name.")
@click.option("--plan", default="", help="所在规划 The plan a reporter works in (guangdong: Guangdong's 省民政厅); "
                                         "default the home plans, or the plan holding its region.")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码 Read the password from stdin.")
@click.pass_context
def add(ctx: click.Context, username: str, role: str, department: str, region: str, display_name: str,
        plan: str, password_stdin: bool) -> None:
    """添加用户 Add an account (the password is asked for, or read from stdin)."""
    from tracker.domain.regions import load_regions
    from tracker.web import auth
    engine, model = _engine_model(ctx)
    regions, name = load_regions(), lambda code: load_regions().get(code).name
    if model is not None and len(model.plans) > 1:  # a region of any loaded plan (广州 in Guangdong's)
        from tracker.service import Tracker
        from tracker.service.plans import region_names

        tracker = Tracker(settings_from(ctx), engine=engine)
        regions, name = tracker.entry_regions(), region_names(tracker)
    try:
        user = auth.add_user(engine, username, _read_password(password_stdin), role, department=department,
                             region=region, display_name=display_name, model=model, regions=regions,
                             now=datetime.now(UTC), plan=plan)
    except auth.UserError as exc:
        raise click.ClickException(f"{exc.zh} / {exc.en}") from exc
    from tracker.web.admin import user_detail

    auth.audit(engine, "cli", "user_add", user.username, now=datetime.now(UTC), detail=user_detail(user, name))
    click.echo(f"已添加 added: {user.username} ({user.role}{' ' + user.department if user.department else ''}"
               f"{' ' + user.region if user.region else ''}{' ' + user.plan if user.plan else ''})")


@users.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """列出用户 List accounts."""
    from tracker.web import auth
    engine, _ = _engine_model(ctx)
    for u in auth.list_users(engine):
        scope = u.department or u.region or "-"
        click.echo(f"{u.username}\t{u.role}\t{scope}\t{'active' if u.active else 'disabled'}\t{u.display_name}")


def _set_active(ctx: click.Context, username: str, active: bool) -> None:
    from tracker.web import auth
    engine, _ = _engine_model(ctx)
    if not auth.set_active(engine, username, active, now=datetime.now(UTC)):
        raise click.ClickException(f"没有用户 no such user: {username}")
    auth.audit(engine, "cli", "user_enable" if active else "user_disable", username, now=datetime.now(UTC))
    click.echo(f"{'已启用 enabled' if active else '已停用 disabled'}: {username}")


@users.command("disable")
@click.argument("username")
@click.pass_context
def disable(ctx: click.Context, username: str) -> None:
    """停用用户 Disable an account (its sessions stop working at once; it is never deleted)."""
    _set_active(ctx, username, False)


@users.command("enable")
@click.argument("username")
@click.pass_context
def enable(ctx: click.Context, username: str) -> None:
    """重新启用用户 Enable a disabled account."""
    _set_active(ctx, username, True)


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码 Read the password from stdin.")
@click.pass_context
def passwd(ctx: click.Context, username: str, password_stdin: bool) -> None:
    """设置密码 Set an account's password."""
    from tracker.web import auth
    engine, _ = _engine_model(ctx)
    try:
        found = auth.set_password(engine, username, _read_password(password_stdin), now=datetime.now(UTC))
    except auth.UserError as exc:
        raise click.ClickException(f"{exc.zh} / {exc.en}") from exc
    if not found:
        raise click.ClickException(f"没有用户 no such user: {username}")
    auth.audit(engine, "cli", "user_passwd", username, now=datetime.now(UTC))
    click.echo(f"已设置密码 password set: {username}")
