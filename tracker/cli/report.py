"""`tracker report`: write this month's HTML report (and its JSON) and print where it is.

A thin skin over tracker.report.build.report_from_database, which the scheduler calls too.
"""

from datetime import date
from pathlib import Path

import click

from tracker.cli.main import load_model, settings_from


@click.command()
@click.option("--as-of", "as_of", default=None,
              help="截至日期 Report as known on this date (YYYY-MM-DD; default: today in Asia/Shanghai).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="语言 Language of the report (default: the settings' language, zh).")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="输出目录 Directory for YYYY-MM.html, YYYY-MM.json and index.html (default: reports/, "
                   "and reports/en/ for --lang en).")
@click.option("--targets", "targets_path", default=None, type=click.Path(dir_okay=False),
              help="targets.yaml (default: from the settings).")
@click.pass_context
def report(ctx: click.Context, as_of: str | None, lang: str | None, out_dir: str | None,
           targets_path: str | None) -> None:
    """生成月度报告。Write the monthly status report: overdue items first, views by unit and
    region, data completeness, changes since the previous report. Prints the HTML path."""
    from tracker.domain.periods import today_in_plan_tz
    from tracker.report.build import report_from_database

    settings = settings_from(ctx)
    try:
        day = date.fromisoformat(as_of) if as_of else today_in_plan_tz()
    except ValueError as exc:
        raise click.BadParameter(f"{as_of!r}: write the date as YYYY-MM-DD", param_hint="--as-of") from exc
    model = load_model(ctx, targets_path)
    if out_dir is None and lang and lang != settings.language:
        out_dir = str(Path(settings.reports_dir) / lang)  # reports/en/: never over the Chinese report
    try:
        files = report_from_database(settings, day, model=model, reports_dir=out_dir, lang=lang)
    except OSError as exc:
        raise click.ClickException(f"could not write the report: {exc}") from exc
    except ValueError as exc:  # targets.yaml changed an indicator's unit under stored values
        raise click.ClickException(str(exc)) from exc
    click.echo(str(Path(files.html)))


@click.command()
@click.option("--database-url", default="sqlite:///sample.db", show_default=True,
              help="示例数据库 The sample's own database: never the real one.")
@click.option("--examples", "examples_dir", default="examples", show_default=True, type=click.Path(file_okay=False),
              help="示例数据目录 Directory with hainan-sample-values.csv and hainan-sample-progress.csv.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="输出目录 Where the sample report goes (default: reports/sample/).")
@click.pass_context
def demo(ctx: click.Context, database_url: str, examples_dir: str, out_dir: str | None) -> None:
    """示例：载入示例数据并生成报告。Load the SAMPLE data (示例数据) for the Hainan plan into its
    own database and write this month's report from it; prints the report's path.

    The sample goes into a database of its own (sample.db) and reports/sample/, so made-up
    figures never mix with real ones. Running it again changes nothing but the report.
    """
    from tracker import store as db
    from tracker.actuals.entry import EntryError, import_file
    from tracker.domain.periods import today_in_plan_tz
    from tracker.report.build import report_from_database

    settings = settings_from(ctx)
    model = load_model(ctx)
    engine = db.get_engine(database_url)
    db.sync_targets(engine, model)
    for name in ("hainan-sample-values.csv", "hainan-sample-progress.csv"):
        path = Path(examples_dir) / name
        if not path.exists():
            raise click.ClickException(f"{path}: not found; run from the project's folder or give --examples DIR")
        try:
            result = import_file(engine, path, model, entered_by="示例数据 sample")
        except EntryError as exc:
            raise click.ClickException(exc.format(settings.language)) from exc
        click.echo(f"{path}: {result.written + result.progress_written} new, {result.unchanged} already stored")
    files = report_from_database(settings, today_in_plan_tz(), engine=engine, model=model,
                                 reports_dir=out_dir or Path(settings.reports_dir) / "sample")
    click.echo(str(Path(files.html)))
