"""Commands for entering and inspecting reported values: record, import, template, history,
progress, db. A thin skin over tracker.actuals.entry and tracker.store; messages in Chinese, or in
English with --lang en.
"""

import getpass
import os
from pathlib import Path
from typing import Any

import click

from tracker.cli.options import config_option, lang_of, lang_option, model_of, settings_from, tracker_from


def by_option(f: Any) -> Any:
    return click.option("--by", "entered_by", default=None,
                        help="填报人 Who enters the values (default: $TRACKER_USER or the login name).")(f)


def _who(entered_by: str | None) -> str:
    return entered_by or os.environ.get("TRACKER_USER") or getpass.getuser()


def _open(ctx: click.Context, need_model: bool = True) -> Any:
    """The command's Tracker; with `need_model`, its targets model loaded and synced first (a
    clean error when targets.yaml has problems)."""
    tracker = tracker_from(ctx)
    if need_model:
        model_of(tracker)
    return tracker


def _fail(exc: Any, lang: str) -> None:
    click.echo(exc.format(lang), err=True)
    raise SystemExit(1)


def _warnings(result: Any, lang: str) -> None:
    if result.warnings:
        click.echo("提示：" if lang == "zh" else "warnings:", err=True)
        for w in result.warnings:
            click.echo(f"  - {w.format(lang)}", err=True)


def sample_option(f: Any) -> Any:
    return click.option("--allow-sample", is_flag=True,
                        help="允许写入示例数据 Allow rows marked 示例数据/SAMPLE into this database (the demo's own "
                             "database takes them without it).")(f)


@click.command()
@click.argument("indicator")
@click.argument("region")
@click.argument("period")
@click.argument("value")
@click.option("--unit", default=None, help="单位 Unit of VALUE, if not the indicator's and not written in VALUE "
                                           "(e.g. 万张, %, 小数).")
@click.option("--note", default="", help="备注 Note.")
@click.option("--source", default="command", help="来源 Where the value comes from (a report, a document).")
@click.option("--correct", is_flag=True, help="更正已有数值（保存为新版本） Correct an existing value (new revision).")
@sample_option
@by_option
@lang_option
@config_option
@click.pass_context
def record(ctx: click.Context, indicator: str, region: str, period: str, value: str, unit: str | None,
           note: str, source: str, correct: bool, allow_sample: bool, entered_by: str | None,
           lang: str | None) -> None:
    """录入一个数值 Record one value: INDICATOR REGION PERIOD VALUE.

    \b
    tracker record 养老床位数 三亚 2026Q4 1.2万张
    tracker record childcare_places_per_1000_residents 460100 2026Q4 "3.2个/千人"
    tracker record 培训养老护理人员人次 儋州 2026-11 1.5万人次
    INDICATOR: an id or name from targets.yaml; REGION: a code, name, short or English name.
    PERIOD: 2026-11, 2026Q3 or 2025, as the indicator is reported; a date (2026-11-15)
    stands for its month, quarter or year (not for a flow).
    VALUE: 1.5万, 15,000, 30%, or with its unit: 1.2万张, 32张/千人, 350个, 1.5万人次.
    """
    from tracker.actuals.problems import EntryError

    lang = lang_of(ctx, lang)
    tracker = _open(ctx)
    try:
        result = tracker.record(indicator, region, period, value, unit, entered_by=_who(entered_by),
                                note=note, source=source, correct=correct, allow_sample=allow_sample)
    except EntryError as exc:
        _fail(exc, lang)
    _warnings(result, lang)
    if result.written:
        stored = _stored_text(tracker, result.recorded[0], lang)
        if lang == "zh":
            click.echo(f"{'已更正（新版本）' if result.corrections else '已录入'} {stored}")
        else:
            click.echo(f"{'corrected (new revision)' if result.corrections else 'recorded'}: {stored}")
    else:
        click.echo("数值未变，无需录入" if lang == "zh" else "same value already stored; nothing to do")


def _stored_text(tracker: Any, accepted: Any, lang: str) -> str:
    """A stored value as people read it: 养老床位数 海口市 2026Q4 = 12,000张 (第2版)."""
    from tracker.domain.format import format_value, region_name

    ind = tracker.model.indicator(accepted.indicator)
    name = ind.name if lang == "zh" else ind.id
    revision = (f"（第{accepted.revision}版）" if lang == "zh" else f" (revision {accepted.revision})") \
        if accepted.revision > 1 else ""
    return (f"{name} {region_name(tracker.regions, accepted.region, lang)} {accepted.period} = "
            f"{format_value(accepted.value, ind.unit, lang)}{revision}")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--correct", is_flag=True, help="允许更正已有数值 Allow corrections of existing values.")
@click.option("--period", default=None, help="表中无期间列时的期间 Period for a sheet without a period column.")
@click.option("--indicator", default=None, help="表中无指标列时的指标 Indicator for a sheet of periods as columns.")
@click.option("--dry-run", is_flag=True, help="只校验，不写入 Check only, write nothing.")
@sample_option
@by_option
@lang_option
@config_option
@click.pass_context
def import_(ctx: click.Context, file: Path, correct: bool, period: str | None, indicator: str | None,
            dry_run: bool, allow_sample: bool, entered_by: str | None, lang: str | None) -> None:
    """导入 CSV 或 Excel 文件 Import values from a CSV or .xlsx FILE (all or nothing).

    Long shape (指标, 地区, 期间, 数值[, 单位, 备注]) or wide (地区 rows, indicators or months as
    columns); GBK, GB18030 and UTF-8 (with or without BOM) CSV; filled templates; a file
    `tracker export` wrote. Rows marked 示例数据/SAMPLE are refused (see --allow-sample).

    \b
    tracker import 民政厅-2026Q4.xlsx
    tracker import 更正.csv --correct
    """
    from tracker.actuals.problems import EntryError

    lang = lang_of(ctx, lang)
    tracker = _open(ctx)
    try:
        result = tracker.import_file(file, entered_by=_who(entered_by), correct=correct, period=period,
                                     indicator=indicator, dry_run=dry_run, allow_sample=allow_sample)
    except EntryError as exc:
        _fail(exc, lang)
    _warnings(result, lang)
    if lang == "zh":
        verb = "校验通过，可写入" if dry_run else "已导入"
        click.echo(f"{verb} {result.written} 个数值（更正 {result.corrections} 个，未变 {result.unchanged} 个），"
                   f"里程碑进展 {result.progress_written} 条：{file}")
    else:
        verb = "checked, would write" if dry_run else "imported"
        click.echo(f"{verb} {result.written} values ({result.corrections} corrections, {result.unchanged} "
                   f"unchanged), {result.progress_written} milestone reports: {file}")


@click.command()
@click.option("--unit", "unit_name", required=True,
              help="责任单位或地区 Responsible unit (省民政厅, matched exactly or by a synonym) or region (海口).")
@click.option("--period", required=True, help="期间 Period, e.g. 2026-11, 2026Q3, 2025.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="输出文件 Output .xlsx (default: 填报_<unit>_<period>.xlsx).")
@click.option("--plan", "plan_id", default=None,
              help="规划 Plan id (`tracker plans`): whose unit it is (default: the home plan's unit, "
                   "or the plan holding the region).")
@lang_option
@config_option
@click.pass_context
def template(ctx: click.Context, unit_name: str, period: str, output: Path | None, plan_id: str | None,
             lang: str | None) -> None:
    """生成 Excel 填报模板 Write an Excel form for one unit and period; import it back when filled."""
    from tracker.actuals.problems import EntryError
    from tracker.domain.periods import PeriodError, parse_period

    lang = lang_of(ctx, lang)
    tracker = _open(ctx)
    try:
        label = parse_period(period).label
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from exc
    output = output or Path(f"填报_{unit_name}_{label}.xlsx")
    try:
        counts = tracker.write_template(output, unit_name, period, plan=plan_id)
    except EntryError as exc:
        _fail(exc, lang)
    except KeyError:
        known = ", ".join(p.id for p in tracker.model.plans)
        raise click.BadParameter(f"没有规划「{plan_id}」；可选：{known} / no plan {plan_id!r}; accepted: {known}",
                                 param_hint="--plan") from None
    click.echo(f"已生成 {output}：{counts['indicators']} 个指标，{counts['milestones']} 个里程碑，{counts['regions']} 个地区"
               if lang == "zh" else f"wrote {output}: {counts['indicators']} indicators, "
               f"{counts['milestones']} milestones, {counts['regions']} regions")


@click.command()
@click.argument("indicator")
@click.argument("region")
@click.argument("period")
@lang_option
@config_option
@click.pass_context
def history(ctx: click.Context, indicator: str, region: str, period: str, lang: str | None) -> None:
    """查看一个单元格的全部版本 Every revision of one cell: who, when, from where, note.

    PERIOD as for `tracker record` (a date stands for its period).
    """
    from tracker.actuals.problems import EntryError

    lang = lang_of(ctx, lang)
    tracker = _open(ctx)
    try:
        ind, reg, label = tracker.cell(indicator, region, period)
    except EntryError as exc:
        _fail(exc, lang)
    rows = tracker.history(ind.id, reg.code, label)
    if not rows:
        click.echo(f"{ind.name} {reg.name} {label}：没有数值" if lang == "zh" else
                   f"{ind.id} {reg.name_en} {label}: no values")
        return
    from tracker.domain.format import format_number
    from tracker.domain.periods import PLAN_TZ
    from tracker.domain.units import label as unit_label

    click.echo(f"{ind.name}（{unit_label(ind.unit, lang)}） {reg.name} {label}")
    for r in rows:
        when = r["entered_at"].astimezone(PLAN_TZ).strftime("%Y-%m-%d %H:%M:%S %z")  # the officials' clock
        head = f"第{r['revision']}版" if lang == "zh" else f"rev {r['revision']}"
        click.echo(f"  {head}  {format_number(r['value'])}  {r['entered_by']}  {when}  {r['source']}"
                   + (f"  {r['note']}" if r["note"] else ""))


@click.command()
@click.argument("milestone", required=False)
@click.argument("state", required=False)
@click.option("--reporter", default=None, help="报告单位或地区 The responsible unit (省民政厅) or region (海口) reporting.")
@click.option("--note", default="", help="说明 Note.")
@click.option("--evidence", default="", help="依据：文件文号或链接 Evidence: document number or link.")
@click.option("--date", "reported_on", default=None, help="报告日期 Date of the report (default: today).")
@sample_option
@by_option
@lang_option
@config_option
@click.pass_context
def progress(ctx: click.Context, milestone: str | None, state: str | None, reporter: str | None, note: str,
             evidence: str, reported_on: str | None, allow_sample: bool, entered_by: str | None,
             lang: str | None) -> None:
    """里程碑进展 Record a milestone's state (未启动/推进中/已完成), or list the latest reports.

    \b
    tracker progress hainan-19-m 已完成 --reporter 省民政厅 --evidence 琼府〔2022〕12号
    tracker progress            # list the latest report per milestone and reporter
    """
    from tracker.actuals.problems import EntryError
    from tracker.domain.model import MILESTONE_STATE_LABELS

    lang = lang_of(ctx, lang)
    if milestone is None:
        for p in _open(ctx, need_model=False).progress():
            state_text = MILESTONE_STATE_LABELS.get(p.state, p.state) if lang == "zh" else p.state
            click.echo(f"{p.milestone}  {p.reporter}  {state_text}  {p.reported_on}  {p.evidence}  {p.note}".rstrip())
        return
    if state is None:
        raise click.UsageError("需要状态 STATE: 未启动 / 推进中 / 已完成")
    if not reporter:
        raise click.UsageError("需要 --reporter：报告的责任单位（如 省民政厅）或市县 / the reporting unit or region")
    tracker = _open(ctx)
    try:
        result = tracker.record_progress(milestone, state, reporter=reporter, entered_by=_who(entered_by),
                                         note=note, evidence=evidence, reported_on=reported_on,
                                         allow_sample=allow_sample)
    except EntryError as exc:
        _fail(exc, lang)
    _warnings(result, lang)
    click.echo(f"已记录 {milestone}：{state}" if lang == "zh" else f"recorded {milestone}: {state}")


@click.group()
def db() -> None:
    """数据库结构版本 Database schema: current revision and upgrades."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """升级到最新结构 Apply pending migrations (also done whenever the database is opened)."""
    from tracker import store as storage
    engine = storage.get_engine(settings_from(ctx).database_url)
    storage.migrate(engine)
    click.echo(f"schema at {storage.schema_revision(engine)}")


@db.command()
@click.pass_context
def current(ctx: click.Context) -> None:
    """显示当前结构版本 Show the database URL (without password) and its schema revision."""
    from sqlalchemy.engine import make_url

    from tracker import store as storage
    url = settings_from(ctx).database_url
    engine = storage.get_engine(url)
    revision = storage.schema_revision(engine)
    head = storage.head_revision()
    click.echo(f"{make_url(url).render_as_string(hide_password=True)}\n"
               f"revision {revision}{' (head)' if revision == head else f' (head is {head})'}")
