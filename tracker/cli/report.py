"""`tracker report` and `tracker demo`: write a month's HTML report (and its JSON) and print
where it is. A thin skin over the service's write_report, which the scheduler calls too."""

from datetime import date
from pathlib import Path

import click

from tracker.cli.options import as_of_option, config_option, lang_option, model_of, tracker_from


@click.command()
@as_of_option("截至日期 Report as known on this date (YYYY-MM-DD; default: today in Asia/Shanghai).")
@lang_option
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="输出目录 Directory for YYYY-MM.html, YYYY-MM.json and index.html (default: reports/, "
                   "and reports/en/ for --lang en).")
@click.option("--targets", "targets_path", default=None, type=click.Path(dir_okay=False),
              help="targets.yaml (default: from the settings).")
@click.option("--preview", is_flag=True, help="预览 Count figures submitted but not yet approved too, into reports/preview/.")
@click.option("--plan", "plan", default=None,
              help="规划 That plan's own report, into reports/plans/<plan>/, with the roll-up of the plans below it "
                   "(e.g. national: every province's own target, latest value and coverage).")
@config_option
@click.pass_context
def report(ctx: click.Context, as_of: date | None, lang: str | None, out_dir: str | None,
           targets_path: str | None, preview: bool, plan: str | None) -> None:
    """生成月度报告。Write the monthly status report: overdue items first, views by unit and
    region, data completeness, changes since the previous report. Prints the HTML path."""
    tracker = tracker_from(ctx, **({"targets_path": Path(targets_path)} if targets_path else {}))
    model = model_of(tracker)
    if plan is not None and plan not in {p.id for p in model.plans}:
        raise click.BadParameter(f"{plan}: unknown plan; accepted: {', '.join(sorted(p.id for p in model.plans))}",
                                 param_hint="--plan")
    if plan is not None and preview:
        raise click.BadParameter("--preview is for the home plan's report; leave out --plan or --preview",
                                 param_hint="--plan")
    try:
        files = tracker.write_report(as_of, lang=lang, reports_dir=out_dir, preview=preview, plan=plan)
    except OSError as exc:
        raise click.ClickException(f"could not write the report: {exc}") from exc
    click.echo(str(Path(files.html)))


@click.command()
@click.option("--database-url", default="sqlite:///sample.db", show_default=True,
              help="示例数据库 The sample's own database: never the real one.")
@click.option("--examples", "examples_dir", default="examples", show_default=True, type=click.Path(file_okay=False),
              help="示例数据目录 Directory with hainan-sample-values.csv and hainan-sample-progress.csv.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="输出目录 Where the sample report goes (default: reports/sample/).")
@config_option
@click.pass_context
def demo(ctx: click.Context, database_url: str, examples_dir: str, out_dir: str | None) -> None:
    """示例：载入示例数据并生成报告。Load the SAMPLE data (示例数据) for the Hainan plan into its
    own database and write this month's report from it; prints the report's path.

    The sample goes into a database of its own (sample.db) and reports/sample/, so made-up
    figures never mix with real ones. Running it again changes nothing but the report.
    """
    from tracker.actuals.problems import EntryError

    tracker = tracker_from(ctx, database_url=database_url)
    model_of(tracker)
    tracker.mark_sample_database()
    for name in ("hainan-sample-values.csv", "hainan-sample-progress.csv"):
        path = Path(examples_dir) / name
        if not path.exists():
            raise click.ClickException(f"{path}: not found; run from the project's folder or give --examples DIR")
        try:
            result = tracker.import_file(path, entered_by="示例数据 sample")
        except EntryError as exc:
            raise click.ClickException(exc.format(tracker.settings.language)) from exc
        click.echo(f"{path}: {result.written + result.progress_written} new, {result.unchanged} already stored")
    files = tracker.write_report(reports_dir=out_dir or Path(tracker.settings.reports_dir) / "sample")
    click.echo(str(Path(files.html)))
