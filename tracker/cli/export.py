"""`tracker export`: stored values out as CSV or Excel, a thin skin over Tracker.export."""

from pathlib import Path

import click

from tracker.cli.options import config_option, lang_of, lang_option, model_of, tracker_from


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="输出文件 Output file, .csv or .xlsx (default: 数据导出.csv).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default=None,
              help="格式 File format (default: from the output's suffix, else csv).")
@click.option("--revisions", is_flag=True, help="包含全部版本 Every revision of each value, not only the latest.")
@click.option("--plan", default=None, help="规划 Only the indicators of this plan's targets (and their components).")
@click.option("--indicator", "indicators", multiple=True, help="指标 Only this indicator (id or name; repeatable).")
@click.option("--region", "regions", multiple=True,
              help="地区 Only this region and the districts under it (repeatable).")
@click.option("--period", default=None, help="期间 Only periods ending within it (2026 takes its months and quarters).")
@click.option("--department", default=None, help="报送部门 Only the indicators this department reports (省民政厅).")
@lang_option
@config_option
@click.pass_context
def export(ctx: click.Context, output: Path | None, fmt: str | None, revisions: bool, plan: str | None,
           indicators: tuple[str, ...], regions: tuple[str, ...], period: str | None, department: str | None,
           lang: str | None) -> None:
    """导出已录入的数值 Export stored values as CSV (UTF-8 with BOM, for Excel) or .xlsx.

    The latest value of each cell (or every revision), with the columns named in Chinese and
    the codes beside them; the file imports back with `tracker import`.

    \b
    tracker export -o 数据导出.xlsx
    tracker export --department 省民政厅 --period 2026 --revisions -o 民政厅-2026.csv
    """
    from tracker.actuals.problems import EntryError

    lang = lang_of(ctx, lang)
    tracker = tracker_from(ctx)
    model_of(tracker)
    output = output or Path(f"数据导出.{fmt or 'csv'}")
    try:
        done = tracker.export(output, fmt=fmt, revisions=revisions, plan=plan, indicators=indicators,
                              regions=regions, period=period, department=department)
    except EntryError as exc:
        click.echo(exc.format(lang), err=True)
        raise SystemExit(1) from None
    click.echo(f"已导出 {done['rows']} 行：{output}" if lang == "zh" else f"exported {done['rows']} rows: {output}")
