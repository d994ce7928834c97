"""The `tracker` command: a thin skin over the library.

Commands are registered by name and imported only when run, so `tracker --help` does not
pay for sqlmodel, pint or apscheduler. Each area keeps its commands in its own cli_* module.
"""

import importlib

import click

from tracker.cli.options import config_option, settings_from

# name -> "module:attribute" of a click command; help text shown without importing it.
COMMANDS: dict[str, tuple[str, str]] = {
    "extract": ("tracker.cli.targets:extract", "从任务分工表提取目标草稿 Extract a draft targets model from task tables"),
    "targets": ("tracker.cli.targets:targets", "列出任务、目标和里程碑 List tasks, targets and milestones"),
    "check": ("tracker.cli.targets:check", "校验 targets.yaml Validate targets.yaml"),
    "demo": ("tracker.cli.report:demo", "示例数据演示 Load the SAMPLE data into its own database and write a report"),
    "record": ("tracker.cli.actuals:record", "录入一个数值 Record one reported value"),
    "import": ("tracker.cli.actuals:import_", "导入 CSV/Excel 数值 Import values from CSV or Excel (all or nothing)"),
    "template": ("tracker.cli.actuals:template", "生成 Excel 填报模板 Write an Excel form for a unit and period"),
    "history": ("tracker.cli.actuals:history", "查看数值的全部版本 Every revision of one value"),
    "progress": ("tracker.cli.actuals:progress", "里程碑进展 Record or list milestone progress"),
    "db": ("tracker.cli.actuals:db", "数据库结构版本 Database schema revision and upgrade"),
    "export": ("tracker.cli.export:export", "导出数值为 CSV/Excel Export stored values as CSV or Excel"),
    "schedule": ("tracker.cli.schedule:schedule", "在前台运行定时任务 Run the scheduler in the foreground"),
    "run": ("tracker.cli.schedule:run", "立即运行月度报告和告警 Run this month's report and alerts now"),
    "runs": ("tracker.cli.schedule:runs", "运行记录 List scheduled runs"),
    "alerts": ("tracker.cli.schedule:alerts", "告警及投递状态 List alerts; `alerts test` tries each channel"),
    "plans": ("tracker.cli.plans:plans", "规划列表 The plans: level, area, period, successor, targets"),
    "status": ("tracker.cli.status:status", "各目标和里程碑的进展状态 Where every target and milestone stands"),
    "report": ("tracker.cli.report:report", "生成月度报告 Write the monthly HTML status report"),
    "serve": ("tracker.cli.web:serve", "启动网页填报系统 Serve the web app for reporting units"),
    "users": ("tracker.cli.web:users", "网页用户管理 Web accounts: add, list, disable"),
    "submit": ("tracker.cli.approvals:submit", "提交审核 Submit a unit's figures of a period for review"),
    "approve": ("tracker.cli.approvals:approve", "审核通过 Approve submissions (the level above; then the supervisor accepts)"),
    "return": ("tracker.cli.approvals:return_", "退回 Return submissions to their reporters, with a reason"),
    "unlock": ("tracker.cli.approvals:unlock", "解锁 Open an accepted or expired period to entry again"),
    "approvals": ("tracker.cli.approvals:approvals", "审核情况 Submissions and their states; a queue; a history"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, _, attr = COMMANDS[name][0].partition(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@config_option
@click.pass_context
def cli(ctx: click.Context) -> None:
    """一老一小 目标与期限跟踪 — target and deadline compliance tracker."""
    ctx.ensure_object(dict)


def load_model(ctx: click.Context, path: str | None = None):  # -> tracker.domain.model.TargetsModel
    """targets.yaml (the given path, or the settings'), or a clean error listing its problems."""
    from tracker.targets.file import TargetsFileError, load_targets

    try:
        return load_targets(path or settings_from(ctx).targets_path)
    except TargetsFileError as exc:
        raise click.ClickException(str(exc)) from exc


def main() -> None:
    try:
        cli(obj={})
    except OSError as exc:  # a folder or file the user can fix: say which, not a traceback
        click.echo(f"文件错误 file error: {exc}", err=True)
        raise SystemExit(2) from None
    except Exception as exc:  # a database that cannot be opened is the user's to fix, not a traceback
        if not type(exc).__module__.startswith("sqlalchemy"):
            raise
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        click.echo(f"无法使用数据库 cannot use the database: {reason}\n"
                   "请检查 check database_url in tracker.toml or $TRACKER_DATABASE_URL "
                   "(sqlite:///path/tracker.db or postgresql+psycopg://user@host:5432/db)", err=True)
        raise SystemExit(2) from None
