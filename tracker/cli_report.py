"""`tracker report`: write this month's HTML report (and its JSON) and print where it is.

A thin skin over tracker.report.report_from_database, which the scheduler calls too.
"""

from datetime import date
from pathlib import Path

import click

from tracker.cli import settings_from


@click.command()
@click.option("--as-of", "as_of", default=None,
              help="截至日期 Report as known on this date (YYYY-MM-DD; default: today in Asia/Shanghai).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="语言 Language of the report (default: the settings' language, zh).")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="输出目录 Directory for YYYY-MM.html, YYYY-MM.json and index.html (default: reports/).")
@click.option("--targets", "targets_path", default=None, type=click.Path(dir_okay=False),
              help="targets.yaml (default: from the settings).")
@click.pass_context
def report(ctx: click.Context, as_of: str | None, lang: str | None, out_dir: str | None,
           targets_path: str | None) -> None:
    """生成月度报告。Write the monthly status report: overdue items first, views by unit and
    region, data completeness, changes since the previous report. Prints the HTML path."""
    from tracker.periods import today_in_plan_tz
    from tracker.report import report_from_database
    from tracker.targets import TargetsFileError, load_targets

    settings = settings_from(ctx)
    try:
        day = date.fromisoformat(as_of) if as_of else today_in_plan_tz()
    except ValueError as exc:
        raise click.BadParameter(f"{as_of!r}: write the date as YYYY-MM-DD", param_hint="--as-of") from exc
    try:
        model = load_targets(targets_path or settings.targets_path)
    except (TargetsFileError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        files = report_from_database(settings, day, model=model, reports_dir=out_dir, lang=lang)
    except OSError as exc:
        raise click.ClickException(f"could not write the report: {exc}") from exc
    click.echo(str(Path(files.html)))
