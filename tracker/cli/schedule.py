"""Commands for the unattended side: schedule, run, runs, alerts."""

import logging
import sys
from datetime import UTC, datetime

import click

from tracker.cli.options import config_option, model_of, settings_from, tracker_from


def _local(moment) -> str:
    from tracker.domain.periods import PLAN_TZ

    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PLAN_TZ).strftime("%Y-%m-%d %H:%M")


@click.command()
@click.option("-v", "--verbose", is_flag=True, help="详细日志 Log every job run.")
@config_option
@click.pass_context
def schedule(ctx: click.Context, verbose: bool) -> None:
    """在前台运行定时任务。Run the scheduler in the foreground (for systemd or a container).

    Jobs: the monthly report (default: the day after the submission day, the 11th, 08:00
    Asia/Shanghai), the submission reminder, and a watchdog that catches up a missed month
    once, retries failed runs, takes over a run whose process died (once its lease runs out)
    and delivers pending alerts. Stops cleanly on SIGTERM/SIGINT after the run in flight.
    """
    from tracker.jobs.scheduler import serve

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(settings_from(ctx))


def _holder_text(row: dict, now: datetime) -> str:
    """Who holds a run and until when, for a person deciding whether to --force it."""
    from tracker.store.runs import lease_live

    live = lease_live(row, now)
    return (f"{row.get('owner') or '?'}（开始 started {_local(row.get('started_at'))}，心跳 heartbeat "
            f"{_local(row.get('heartbeat_at'))}，租约至 lease until {_local(row.get('lease_until'))}"
            + ("" if live else "，已过期 expired") + "）")


@click.command()
@click.option("--period", help="月份 The month to report, YYYY-MM (default: the latest month due).")
@click.option("--force", is_flag=True,
              help="重新运行 Run the month now whatever its state: again if it succeeded, before the retry delay if "
                   "it failed, and taking over a run in progress (that process then stops without writing "
                   "anything more: no report, no alerts, no finish).")
@config_option
@click.pass_context
def run(ctx: click.Context, period: str | None, force: bool) -> None:
    """立即运行一次月度报告和告警。Run the monthly report and alerts now, once per month."""
    import re

    from tracker.service.runs import NotDue

    if period is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise click.BadParameter(f"{period!r}: write the month as YYYY-MM, e.g. 2026-11", param_hint="--period")
    tracker = tracker_from(ctx)
    model_of(tracker)
    try:
        outcome = tracker.run_month(period, force=force)
    except NotDue as exc:
        raise click.ClickException(str(exc)) from exc
    period = outcome.period
    now = tracker.now()
    if not outcome.ran:
        row = outcome.holder or {}
        if outcome.state == "running":
            click.echo(f"{period}: 未运行 not run — 正在运行 running in {_holder_text(row, now)}; "
                       "--force 将接管：原进程随即停止，不再写入 / --force takes it over: that process then stops "
                       "without writing anything more")
        elif outcome.state == "succeeded":
            click.echo(f"{period}: 未运行 not run — 已完成 already succeeded ({outcome.report_path or '-'}); "
                       "use --force to run it again")
        else:
            click.echo(f"{period}: 未运行 not run — {outcome.state} (attempt {row.get('attempt', '?')}, "
                       f"{row.get('error') or '-'}); retried automatically after the retry delay, "
                       "or now with --force")
        return
    if outcome.taken_over:
        click.echo(f"{period}: 已接管 took over the run of {_holder_text(outcome.taken_over, now)}; "
                   "that process stops without writing anything more", err=True)
    if outcome.state == "lost_lease":
        click.echo(f"{period}: 已停止 stopped — {outcome.error}", err=True)
        sys.exit(1)
    if outcome.state != "succeeded":
        click.echo(f"{period}: 失败 failed — {outcome.error}", err=True)
        sys.exit(1)
    click.echo(f"{period}: 已完成 done — {outcome.report_path}; {outcome.alerts} alert message(s) queued")


@click.command()
@click.option("--limit", default=30, show_default=True)
@config_option
@click.pass_context
def runs(ctx: click.Context, limit: int) -> None:
    """运行记录。List scheduled runs: start, end, outcome, report path, alerts sent."""
    rows = tracker_from(ctx).runs(limit)
    if not rows:
        click.echo("（无运行记录 no runs yet）")
    for r in rows:
        flags = " ".join(f for f, on in (("补发late", r["late"]), ("forced", r["forced"])) if on)
        if r["state"] == "running":
            flags += f" {r['owner']} lease until {_local(r.get('lease_until'))}"
        click.echo(f"{r['job']:<8} {r['period']}  {r['state']:<11} #{r['attempt']}  {_local(r['started_at'])} → "
                   f"{_local(r['finished_at'])}  alerts {r['alerts']}  {r['report_path'] or ''} {flags}"
                   + (f"\n    {r['error'][:200]}" if r["error"] else ""))


@click.group(invoke_without_command=True)
@click.option("--state", type=click.Choice(["pending", "sending", "sent", "dead"]), help="只看此状态 Only this state.")
@click.option("--limit", default=50, show_default=True)
@config_option
@click.pass_context
def alerts(ctx: click.Context, state: str | None, limit: int) -> None:
    """告警及其投递状态。List alerts and their delivery state; `alerts test` tries each channel."""
    if ctx.invoked_subcommand:
        return
    rows = tracker_from(ctx).alerts(limit, state)
    if not rows:
        click.echo("（无告警 no alerts）")
    for r in rows:
        click.echo(f"#{r['id']} {r['period']} {r['channel']:<8} {r['state']:<7} tries {r['attempts']}  "
                   f"{_local(r['created_at'])}  {r['subject']}\n    → {r['recipient']}"
                   + (f"\n    {r['last_error']}" if r["last_error"] else ""))


@alerts.command("test")
@config_option
@click.pass_context
def alerts_test(ctx: click.Context) -> None:
    """向每个已配置通道发送测试消息。Send a test message through each configured channel."""
    from tracker.alerts.outbox import send_test_messages

    config = settings_from(ctx).alerts
    results = send_test_messages(config, now=datetime.now(UTC))
    if not results:
        raise click.ClickException("no alert channels configured: add [alerts] to tracker.toml (see README)")
    failed = False
    for channel, outcome in results:
        click.echo(f"{channel}: {outcome}")
        failed |= outcome != "ok"
    sys.exit(1 if failed else 0)


@alerts.command("deliver")
@config_option
@click.pass_context
def alerts_deliver(ctx: click.Context) -> None:
    """投递待发告警。Deliver pending alerts now (the scheduler does this every few minutes)."""
    counts = tracker_from(ctx).deliver_alerts()
    click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))
