"""`tracker submit`, `approve`, `return`, `unlock` and `approvals`: review of reported figures
(填报 → 审核 → 上报) from the command line. A thin skin over the service's methods; who acts is
`--as UNIT` (a region, a department, or the plan's supervisor unit such as 省发展改革委) and
`--by NAME` (the person, for the history and the audit log).

Exit codes: 0 done; 1 refused (not yours to do, not in a state that allows it, figures that
fail validation, no reason given); 4 someone else acted on it first (the state it is in now is
printed).
"""

import json
from typing import Any

import click

from tracker.cli.actuals import _open, _who
from tracker.cli.options import config_option, json_option, lang_of, lang_option

EXIT_REFUSED, EXIT_CONFLICT = 1, 4


def _acting(f: Any) -> Any:
    f = click.option("--by", "person", default=None,
                     help="操作人 Who acts (default: $TRACKER_USER or the login name).")(f)
    f = click.option("--as", "unit", required=True,
                     help="代表单位 The unit acting: a region (海口), a department (省民政厅) or the supervisor (省发展改革委).")(f)
    return click.option("--plan", default=None, help="规划 Plan id (default: the plan the reports cover).")(f)


def _actor(tracker: Any, person: str | None, unit: str, plan: str | None, lang: str) -> Any:
    from tracker.status.approval import ApprovalError

    try:
        return tracker.actor(_who(person), unit, plan)
    except ApprovalError as exc:
        raise click.ClickException(exc.format(lang)) from None


def _say(done: Any, verb: tuple[str, str], lang: str) -> None:
    zh, en = verb
    click.echo(f"{zh}：{done.unit.name} {done.period}（现为「{done.label('zh')}」）" if lang == "zh"
               else f"{en}: {done.unit.name} {done.period} (now {done.label('en')})")


def _run(tracker: Any, action: str, pairs: list[tuple[str, str]], actor: Any, plan: str | None, reason: str,
         lang: str) -> None:
    """Each (unit, period) in turn; every refusal said, the worst exit code at the end."""
    from tracker.status.approval import ACTION_LABELS, ApprovalError

    code = 0
    for unit, period in pairs:
        try:
            if action == "submit":
                done = tracker.submit(unit, period, actor=actor, plan=plan)
            elif action == "approve":
                done = tracker.approve(unit, period, actor=actor, plan=plan)
            elif action == "return":
                done = tracker.return_(unit, period, actor=actor, reason=reason, plan=plan)
            else:
                done = tracker.unlock(unit, period, actor=actor, reason=reason, plan=plan)
        except ApprovalError as exc:
            click.echo(exc.format(lang), err=True)
            code = max(code, EXIT_CONFLICT if exc.code == "conflict" else EXIT_REFUSED)
            continue
        step = done.last_action or action
        _say(done, ACTION_LABELS.get(step, (step, step)), lang)
    if code:
        raise SystemExit(code)


@click.command()
@click.argument("period")
@_acting
@lang_option
@config_option
@click.pass_context
def submit(ctx: click.Context, period: str, unit: str, person: str | None, plan: str | None,
           lang: str | None) -> None:
    """提交审核 Submit the unit's figures of PERIOD (2026-11, 2026Q3, 2025) for review.

    \b
    tracker submit 2026Q3 --as 秀英区 --by xy
    """
    _act(ctx, "submit", period, (unit,), unit, person, plan, lang)


@click.command()
@click.argument("period")
@click.argument("units", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="全部 Every submission of PERIOD waiting for this unit.")
@_acting
@lang_option
@config_option
@click.pass_context
def approve(ctx: click.Context, period: str, units: tuple[str, ...], everything: bool, unit: str, person: str | None,
            plan: str | None, lang: str | None) -> None:
    """审核通过 Approve the submissions of UNITS for PERIOD: the level above approves (已审核),
    the plan's supervisor then accepts (已上报, locked).

    \b
    tracker approve 2026Q3 龙华区 --as 海口
    """
    lang = lang_of(ctx, lang)
    tracker = _open(ctx)
    actor = _actor(tracker, person, unit, plan, lang)
    if everything == bool(units):
        raise click.UsageError("给出地区或单位，或 --all（二选一） / give UNITS or --all, not both or neither")
    if everything:
        units = tuple(s.unit.key for s in tracker.approvals(plan, waiting_for=actor, period=period))
        if not units:
            click.echo(f"{period} 没有待您审核的数据" if lang == "zh" else f"nothing waits for your review in {period}")
            return
    _run(tracker, "approve", [(u, period) for u in units], actor, plan, "", lang)


def _with_reason(name: str, reason_help: str) -> Any:
    """PERIOD UNITS... --reason TEXT and the acting options: what return and unlock take."""
    def wrap(f: Any) -> Any:
        for deco in reversed([click.command(name), click.argument("period"),
                              click.argument("units", nargs=-1, required=True),
                              click.option("--reason", default="", help=reason_help), _acting, lang_option,
                              config_option, click.pass_context]):
            f = deco(f)
        return f

    return wrap


def _act(ctx: click.Context, action: str, period: str, units: tuple[str, ...], unit: str, person: str | None,
         plan: str | None, lang: str | None, reason: str = "") -> None:
    lang = lang_of(ctx, lang)
    tracker = _open(ctx)
    actor = _actor(tracker, person, unit, plan, lang)
    _run(tracker, action, [(u, period) for u in units], actor, plan, reason, lang)


@_with_reason("return", "退回原因 Why it goes back (required; the reporter is told).")
def return_(ctx: click.Context, period: str, units: tuple[str, ...], reason: str, unit: str, person: str | None,
            plan: str | None, lang: str | None) -> None:
    """退回 Return the submissions of UNITS for PERIOD to their reporters, with a reason.

    \b
    tracker return 2026Q3 龙华区 --as 省发展改革委 --reason "老年大学数与教育局统计不符"
    """
    _act(ctx, "return", period, units, unit, person, plan, lang, reason)


@_with_reason("unlock", "解锁原因 Why the period opens again (required).")
def unlock(ctx: click.Context, period: str, units: tuple[str, ...], reason: str, unit: str, person: str | None,
           plan: str | None, lang: str | None) -> None:
    """解锁 Open an accepted (or expired) PERIOD of UNITS to entry again: the supervisor, with a reason.

    \b
    tracker unlock 2026Q3 琼山区 --as 省发展改革委 --reason "统计局更正了常住人口"
    """
    _act(ctx, "unlock", period, units, unit, person, plan, lang, reason)


@click.command()
@click.option("--period", default=None, help="期间 Only this period.")
@click.option("--unit", default=None, help="报送单位 One unit's submissions, with the periods it is due to submit.")
@click.option("--as", "acting", default=None, help="审核单位 Only those waiting for this unit's decision.")
@click.option("--state", "states", multiple=True,
              type=click.Choice(["draft", "submitted", "approved", "accepted"]), help="状态 Only these states.")
@click.option("--history", "history_of", nargs=2, default=None, metavar="UNIT PERIOD",
              help="历史 Every transition of one submission.")
@click.option("--plan", default=None, help="规划 Plan id (default: the plan the reports cover).")
@json_option
@lang_option
@config_option
@click.pass_context
def approvals(ctx: click.Context, period: str | None, unit: str | None, acting: str | None, states: tuple[str, ...],
              history_of: tuple[str, str] | None, plan: str | None, as_json: bool, lang: str | None) -> None:
    """审核情况 List submissions and their states (填报中 / 已提交 / 已审核 / 已上报): all, one
    unit's, those waiting for a unit's decision, or one submission's history.

    \b
    tracker approvals --as 海口            # the queue waiting for Haikou
    tracker approvals --unit 秀英区         # a unit's own, with the reasons of returns
    tracker approvals --history 秀英区 2026Q3
    """
    from tracker.domain.periods import PLAN_TZ
    from tracker.status.approval import ACTION_LABELS, ApprovalError, state_label

    lang = lang_of(ctx, lang)
    tracker = _open(ctx)
    try:
        if history_of:
            events = tracker.approval_history(*history_of, plan=plan)
            if as_json:
                click.echo(json.dumps([{**e, "at": e["at"].isoformat()} for e in events], ensure_ascii=False, indent=2))
                return
            for e in events:
                when = e["at"].astimezone(PLAN_TZ).strftime("%Y-%m-%d %H:%M")
                verb = ACTION_LABELS.get(e["action"], (e["action"], e["action"]))[0 if lang == "zh" else 1]
                click.echo(f"{when}  {verb}  {state_label(e['from'], lang)} → {state_label(e['to'], lang)}  "
                           f"{e['actor']}{'（' + e['actor_unit'] + '）' if e['actor_unit'] else ''}"
                           + (f"  {e['reason']}" if e["reason"] else ""))
            return
        waiting = _actor(tracker, None, acting, plan, lang) if acting else None
        rows = tracker.approvals(plan, unit=unit, waiting_for=waiting, period=period,
                                 states=list(states) or None, count=True)
    except ApprovalError as exc:
        raise click.ClickException(exc.format(lang)) from None
    if unit and states:
        rows = [s for s in rows if s.state in states]
    if as_json:
        click.echo(json.dumps([{"unit": s.unit.key, "unit_name": s.unit.name, "plan": s.plan, "period": s.period,
                                "state": s.state, "state_label": s.label("zh"), "last_action": s.last_action,
                                "note": s.note, "updated_by": s.updated_by,
                                "updated_at": s.updated_at.isoformat() if s.updated_at else None,
                                "locked": s.locked, "figures": s.figures, "approvers": s.approvers}
                               for s in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("（无）" if lang == "zh" else "(none)")
        return
    for s in rows:
        extra = []
        if s.returned and s.note:
            extra.append(("退回原因：" if lang == "zh" else "returned: ") + s.note)
        if s.locked and s.state != "accepted":
            extra.append("已过填报期限，已锁定" if lang == "zh" else "past its expiry, locked")
        figures = f"{s.figures} 项" if lang == "zh" else f"{s.figures} figures"
        click.echo(f"{s.period}  {s.unit.name}  {s.label(lang)}  {figures}" + "".join(f"  {x}" for x in extra))
